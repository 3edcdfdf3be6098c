"""Checkpoint files: one torch file per checkpoint, written atomically, loadable without pickle.

Why `torch.load(weights_only=True)`: a checkpoint is a file a user may be handed; the restricted
unpickler refuses arbitrary objects, so numpy arrays are stored as tensors (with their dtype) and
everything else as plain ints, floats, strings, lists, tuples and dicts.
Why write-then-rename: a crash or Ctrl-C while saving leaves the previous checkpoint intact.
File names carry the episode count and env-step count; the latest is the one with most env steps.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

from control.dra.errors import CheckpointError

CHECKPOINT_FORMAT = 1
_NAME = re.compile(r"^ckpt-ep(\d+)-step(\d+)\.pt$")


def checkpoint_name(episodes: int, env_steps: int) -> str:
    return f"ckpt-ep{episodes:08d}-step{env_steps:012d}.pt"


def list_checkpoints(directory: Path) -> list[Path]:
    """Checkpoint files in `directory`, oldest (fewest env steps) first."""
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        match = _NAME.match(path.name)
        if match:
            found.append((int(match.group(2)), int(match.group(1)), path))
    return [path for _, _, path in sorted(found)]


def latest_checkpoint(directory: Path) -> Path | None:
    checkpoints = list_checkpoints(directory)
    return checkpoints[-1] if checkpoints else None


def prune_checkpoints(directory: Path, keep: int) -> None:
    """Delete all but the `keep` newest checkpoints."""
    for path in list_checkpoints(directory)[:-keep]:
        path.unlink(missing_ok=True)


def save_checkpoint(path: Path, payload: dict[str, Any]) -> Path:
    """Write `payload` (numpy arrays allowed anywhere) to `path` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    torch.save({"format": CHECKPOINT_FORMAT, "payload": _encode(payload)}, temporary)
    os.replace(temporary, path)
    return path


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a checkpoint written by `save_checkpoint`; `CheckpointError` names what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        stored = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as exc:  # torch raises several types for a corrupt or foreign file
        raise CheckpointError(f"{path}: not a readable qkdnet checkpoint ({exc})") from None
    if not isinstance(stored, dict) or stored.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path}: not a qkdnet DQN checkpoint (format {CHECKPOINT_FORMAT})")
    return _decode(stored["payload"])


def _encode(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        storable = value.astype(np.int64) if value.dtype == np.uint32 else value
        tensor = torch.from_numpy(np.ascontiguousarray(storable))
        return {"__ndarray__": tensor, "dtype": value.dtype.str}
    if isinstance(value, dict):
        return {key: _encode(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_encode(item) for item in value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "__ndarray__" in value:
            return value["__ndarray__"].numpy().astype(np.dtype(value["dtype"]), copy=True)
        return {key: _decode(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_decode(item) for item in value)
    return value
