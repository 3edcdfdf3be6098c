"""Per-episode training log: a CSV appended as episodes finish, and TensorBoard when installed.

Why truncate on open: rows written after the checkpoint a run resumes from would otherwise appear
twice; the checkpoint records how many episodes it covers and the CSV is cut back to that many rows
(rewritten atomically), so a resumed run's CSV is byte-identical to an uninterrupted one.
Floats are written with Python's shortest round-trip repr, so the CSV is exact, not rounded.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

from control.dra.errors import CheckpointError

EPISODE_COLUMNS = (
    "episode",
    "seed",
    "return",
    "length",
    "env_steps",
    "grad_steps",
    "epsilon",
    "beta",
    "loss_mean",
    "q_mean",
)


class EpisodeCsv:
    """Append-only CSV of one row per finished episode."""

    def __init__(self, path: Path, keep_rows: int) -> None:
        self.path = path
        header = ",".join(EPISODE_COLUMNS)
        if path.exists():
            lines = path.read_text().splitlines(keepends=True)
            if not lines or lines[0].rstrip("\r\n") != header:
                raise CheckpointError(f"{path}: not this trainer's episode log (header differs)")
            if len(lines) - 1 < keep_rows:
                raise CheckpointError(
                    f"{path}: has {len(lines) - 1} episode rows, "
                    f"but the checkpoint covers {keep_rows}"
                )
            temporary = path.with_name(path.name + ".tmp")
            temporary.write_text("".join(lines[: keep_rows + 1]))
            os.replace(temporary, path)
        else:
            if keep_rows:
                raise CheckpointError(f"{path}: missing, but the checkpoint covers {keep_rows}")
            path.write_text(header + "\n")
        self._file = path.open("a", newline="")
        self._writer = csv.writer(self._file, lineterminator="\n")

    def write(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self._writer.writerow([_plain(row[column]) for column in EPISODE_COLUMNS])
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def _plain(value: Any) -> Any:
    """numpy scalars as Python numbers (their str() is the round-trip repr)."""
    return value.item() if hasattr(value, "item") else value


class TensorBoardLog:
    """Scalars per episode under `log_dir`; a no-op object when TensorBoard is not installed."""

    def __init__(self, log_dir: Path, first_episode: int, enabled: bool) -> None:
        self._writer = None
        if not enabled:
            return
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # tensorboard is optional
            return
        # purge_step drops events a previous, interrupted process wrote after its checkpoint
        self._writer = SummaryWriter(log_dir=str(log_dir), purge_step=first_episode)

    @property
    def active(self) -> bool:
        return self._writer is not None

    def write(self, rows: list[dict[str, Any]]) -> None:
        if self._writer is None:
            return
        for row in rows:
            step = int(row["episode"])
            for name in ("return", "length", "epsilon", "beta", "loss_mean", "q_mean"):
                self._writer.add_scalar(f"episode/{name}", float(row[name]), step)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
