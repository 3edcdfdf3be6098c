"""Per-step metrics of a run, written to Parquet as the run goes.

Why parts instead of one file: a Parquet file is readable only once its footer is written, so a
run interrupted after an hour would leave nothing. Rows are buffered and flushed every
`flush_every` steps as `TABLE/part-NNNNN.parquet`; `manifest.json` records how many steps are on
disk and, at the end, that the run is complete. `read_run()` concatenates the parts.

A directory holding a complete run is never overwritten unless the caller says so (`overwrite`),
and an incomplete one is cleared before a rerun (the same seed regenerates it bit for bit).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

MANIFEST = "manifest.json"


class RunDirectoryError(ValueError):
    """The output directory holds results that must not be overwritten."""


class MetricsRecorder:
    """Collects DataFrames per table and step, flushes them as Parquet parts."""

    def __init__(
        self,
        out_dir: str | Path,
        *,
        metadata: Mapping[str, Any],
        flush_every: int = 50,
        overwrite: bool = False,
    ) -> None:
        self.out_dir = Path(out_dir)
        self.flush_every = max(1, flush_every)
        self._pending: dict[str, list[pd.DataFrame]] = {}
        self._parts: dict[str, int] = {}
        self._steps_buffered = 0
        self._steps_written = 0
        self._prepare(overwrite)
        self._manifest: dict[str, Any] = {
            "metadata": dict(metadata),
            "steps_written": 0,
            "complete": False,
        }
        self._write_manifest()

    def _prepare(self, overwrite: bool) -> None:
        manifest = self.out_dir / MANIFEST
        if manifest.exists():
            complete = json.loads(manifest.read_text()).get("complete", False)
            if complete and not overwrite:
                raise RunDirectoryError(
                    f"{self.out_dir}: holds a complete run; "
                    "choose another --out or pass --overwrite"
                )
        elif self.out_dir.exists() and any(self.out_dir.iterdir()):
            raise RunDirectoryError(
                f"{self.out_dir}: exists and is not a qkdnet run directory; choose another --out"
            )
        if self.out_dir.exists():
            shutil.rmtree(self.out_dir)
        self.out_dir.mkdir(parents=True)

    def record(self, step: int, tables: Mapping[str, pd.DataFrame]) -> None:
        """Add one step's rows (each table gets a `step` column) and flush when due."""
        for name, frame in tables.items():
            frame = frame.reset_index()
            frame.insert(0, "step", step)
            self._pending.setdefault(name, []).append(frame)
        self._steps_buffered += 1
        if self._steps_buffered >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        for name, frames in self._pending.items():
            if not frames:
                continue
            table_dir = self.out_dir / name
            table_dir.mkdir(exist_ok=True)
            part = self._parts.get(name, 0)
            data = pd.concat(frames, ignore_index=True)
            tmp = table_dir / f".part-{part:05d}.parquet.tmp"
            data.to_parquet(tmp, index=False)
            tmp.replace(table_dir / f"part-{part:05d}.parquet")
            self._parts[name] = part + 1
            frames.clear()
        self._steps_written += self._steps_buffered
        self._steps_buffered = 0
        self._manifest["steps_written"] = self._steps_written
        self._write_manifest()

    def close(self, *, complete: bool, summary: Mapping[str, Any] | None = None) -> None:
        self.flush()
        self._manifest["complete"] = complete
        if summary is not None:
            self._manifest["summary"] = dict(summary)
        self._write_manifest()

    def _write_manifest(self) -> None:
        tmp = self.out_dir / (MANIFEST + ".tmp")
        tmp.write_text(json.dumps(self._manifest, indent=2, default=str))
        tmp.replace(self.out_dir / MANIFEST)


def read_run(out_dir: str | Path) -> dict[str, pd.DataFrame]:
    """All tables of a run directory (complete or not), each as one DataFrame."""
    out_dir = Path(out_dir)
    if not (out_dir / MANIFEST).exists():
        raise RunDirectoryError(f"{out_dir}: not a qkdnet run directory (no {MANIFEST})")
    tables = {}
    for table_dir in sorted(p for p in out_dir.iterdir() if p.is_dir()):
        parts = sorted(table_dir.glob("part-*.parquet"))
        if parts:
            tables[table_dir.name] = pd.concat(
                [pd.read_parquet(p) for p in parts], ignore_index=True
            )
    return tables


def read_manifest(out_dir: str | Path) -> dict[str, Any]:
    return json.loads((Path(out_dir) / MANIFEST).read_text())
