"""Per-step metrics of a run, written to Parquet as the run goes.

Why parts instead of one file: a Parquet file is readable only once its footer is written, so a
run interrupted after an hour would leave nothing. Rows are buffered and flushed every
`flush_every` steps as `TABLE/part-NNNNN.parquet`; `manifest.json` records how many steps are on
disk and, at the end, that the run is complete. `read_run()` concatenates the parts.

Why columns in preallocated arrays: a step's tables arrive as numpy columns (`StepResult.columns`)
and are copied into one array per column sized for a whole chunk; a flush hands those arrays to
pyarrow as they are. Building, concatenating and converting pandas frames every step cost more
than the six-node simulation itself. DataFrames are still accepted (converted to columns).

A directory holding a complete run is never overwritten unless the caller says so (`overwrite`),
and an incomplete one is cleared before a rerun (the same seed regenerates it bit for bit).
Clearing removes only the files the manifest lists (`files`: every part the run wrote, relative
to the directory) and the manifest itself: whatever else a user keeps in that directory stays.
A manifest that cannot be read (truncated, not an object, no file list) is never guessed at: the
run stops with one line naming it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

MANIFEST = "manifest.json"

#: One step's rows of one table: a DataFrame (its index becomes the first column) or columns of
#: equal length, in order.
TableRows = pd.DataFrame | Mapping[str, np.ndarray]


def _as_columns(rows: TableRows) -> Mapping[str, np.ndarray]:
    if isinstance(rows, pd.DataFrame):
        frame = rows.reset_index()
        return {str(name): frame[name].to_numpy() for name in frame.columns}
    return rows


class _ColumnBuffer:
    """The rows of one table for up to one chunk of steps, one preallocated array per column."""

    def __init__(self, columns: Mapping[str, np.ndarray], steps: int) -> None:
        n = len(next(iter(columns.values())))
        self.names = ("step", *columns)
        self.rows = 0
        self.arrays = {"step": np.empty(steps * n, dtype=np.int64)}
        for name, values in columns.items():
            self.arrays[name] = np.empty(steps * n, dtype=np.asarray(values).dtype)
        self.dtypes = [self.arrays[name].dtype for name in columns]

    def accepts(self, columns: Mapping[str, np.ndarray]) -> bool:
        """Same columns in the same order, and values that fit the arrays' dtypes unchanged."""
        if tuple(columns) != self.names[1:]:
            return False
        dtypes = [np.asarray(values).dtype for values in columns.values()]
        if dtypes == self.dtypes:  # every step of a run: no promotion rules to apply
            return True
        return all(
            np.result_type(have, dtype) == have
            for have, dtype in zip(self.dtypes, dtypes, strict=True)
        )

    def append(self, step: int, columns: Mapping[str, np.ndarray]) -> None:
        n = len(next(iter(columns.values())))
        end = self.rows + n
        if end > len(self.arrays["step"]):
            for name, array in self.arrays.items():
                grown = np.empty(max(end, 2 * len(array)), dtype=array.dtype)
                grown[: self.rows] = array[: self.rows]
                self.arrays[name] = grown
        self.arrays["step"][self.rows : end] = step
        for name, values in columns.items():
            self.arrays[name][self.rows : end] = values
        self.rows = end

    def table(self) -> pa.Table:
        return pa.table({name: self.arrays[name][: self.rows] for name in self.names})


class RunDirectoryError(ValueError):
    """The output directory holds results that must not be overwritten."""


def check_run_directory(out_dir: Path, *, overwrite: bool) -> dict[str, Any] | None:
    """Check that `out_dir` may receive a run (without touching it); return the manifest of the
    earlier run there, if any. Every refusal is one RunDirectoryError naming the path."""
    if out_dir.exists() and not out_dir.is_dir():
        raise RunDirectoryError(f"{out_dir}: is a file, not a directory; choose another --out")
    manifest_path = out_dir / MANIFEST
    if manifest_path.exists() or manifest_path.is_symlink():
        manifest = read_manifest(out_dir)
        if manifest["complete"] and not overwrite:
            raise RunDirectoryError(
                f"{out_dir}: holds a complete run; choose another --out or pass --overwrite"
            )
        return manifest
    if out_dir.exists() and any(out_dir.iterdir()):
        raise RunDirectoryError(
            f"{out_dir}: exists and is not a qkdnet run directory; choose another --out"
        )
    return None


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
        self._pending: dict[str, list[_ColumnBuffer]] = {}
        self._parts: dict[str, int] = {}
        self._steps_buffered = 0
        self._steps_written = 0
        self._files: list[str] = []
        self._prepare(overwrite)
        self._manifest: dict[str, Any] = {
            "metadata": dict(metadata),
            "steps_written": 0,
            "complete": False,
            "files": self._files,
        }
        self._write_manifest()

    def _prepare(self, overwrite: bool) -> None:
        manifest = check_run_directory(self.out_dir, overwrite=overwrite)
        if manifest is not None:
            _remove_listed(self.out_dir, manifest["files"])
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunDirectoryError(f"{self.out_dir}: cannot create: {exc.strerror}") from None

    def record(self, step: int, tables: Mapping[str, TableRows]) -> None:
        """Add one step's rows (each table gets a `step` column) and flush when due."""
        for name, rows in tables.items():
            columns = _as_columns(rows)
            if not columns:
                continue
            buffers = self._pending.setdefault(name, [])
            if not buffers or not buffers[-1].accepts(columns):
                # a new layout (columns or dtypes changed) starts a new buffer; the chunk's
                # Parquet part holds both, as pandas would have concatenated them
                buffers.append(_ColumnBuffer(columns, self.flush_every))
            buffers[-1].append(step, columns)
        self._steps_buffered += 1
        if self._steps_buffered >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        for name, buffers in self._pending.items():
            if not buffers:
                continue
            table_dir = self.out_dir / name
            table_dir.mkdir(exist_ok=True)
            part = self._parts.get(name, 0)
            tables = [buffer.table() for buffer in buffers]
            data = tables[0] if len(tables) == 1 else _concat(tables)
            tmp = table_dir / f".part-{part:05d}.parquet.tmp"
            pq.write_table(data, tmp)
            tmp.replace(table_dir / f"part-{part:05d}.parquet")
            self._files.append(f"{name}/part-{part:05d}.parquet")
            self._parts[name] = part + 1
            buffers.clear()
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


def _concat(tables: list[pa.Table]) -> pa.Table:
    """Tables of different layouts as one (missing columns null, types widened), like pd.concat."""
    frame = pd.concat([t.to_pandas() for t in tables], ignore_index=True)
    return pa.Table.from_pandas(frame, preserve_index=False)


def read_run(out_dir: str | Path) -> dict[str, pd.DataFrame]:
    """All tables of a run directory (complete or not), each as one DataFrame: exactly the parts
    its manifest lists, so files a user keeps beside them are never mixed in."""
    out_dir = Path(out_dir)
    parts: dict[str, list[Path]] = {}
    for name in read_manifest(out_dir)["files"]:
        relative = PurePosixPath(name)
        parts.setdefault(relative.parts[0], []).append(out_dir.joinpath(*relative.parts))
    return {
        table: pd.concat([pd.read_parquet(p) for p in sorted(files)], ignore_index=True)
        for table, files in sorted(parts.items())
    }


def read_manifest(out_dir: str | Path) -> dict[str, Any]:
    """The run's manifest, checked: a dict with `complete` (bool) and `files` (relative paths
    inside the directory). Anything else is one RunDirectoryError naming the file."""
    path = Path(out_dir) / MANIFEST
    if not path.exists():
        raise RunDirectoryError(f"{out_dir}: not a qkdnet run directory (no {MANIFEST})")
    if not path.is_file():
        raise RunDirectoryError(f"{path}: is not a regular file; choose another --out")
    try:
        manifest = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise RunDirectoryError(
            f"{path}: not UTF-8 text; move it away or choose another --out"
        ) from None
    except json.JSONDecodeError as exc:
        raise RunDirectoryError(
            f"{path}: not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg}; "
            "truncated?); move it away or choose another --out"
        ) from None
    except OSError as exc:
        raise RunDirectoryError(f"{path}: cannot read: {exc.strerror}") from None
    if not isinstance(manifest, dict):
        raise RunDirectoryError(
            f"{path}: holds a JSON {type(manifest).__name__}, not a qkdnet run manifest; "
            "move it away or choose another --out"
        )
    files = manifest.get("files")
    if not isinstance(manifest.get("complete"), bool) or not isinstance(files, list):
        raise RunDirectoryError(
            f"{path}: not a qkdnet run manifest (needs 'complete' and a 'files' list; an older "
            "qkdnet's manifest lists no files); move it away or choose another --out"
        )
    for name in files:
        if not _is_inside(name):
            raise RunDirectoryError(f"{path}: lists {name!r}, which is not a file of this run")
    return manifest


def _is_inside(name: object) -> bool:
    """A relative `table/part-NNNNN.parquet` path that stays inside the run directory."""
    if not isinstance(name, str) or not name or "\\" in name:
        return False
    relative = PurePosixPath(name)
    return (
        not relative.is_absolute()
        and len(relative.parts) == 2
        and ".." not in relative.parts
        and relative.parts[1].startswith("part-")
        and relative.suffix == ".parquet"
    )


def _remove_listed(out_dir: Path, files: list[str]) -> None:
    """Remove the files a previous run listed and its manifest; then the table folders it made,
    only where they are left empty. Nothing the manifest does not name is touched."""
    folders = set()
    for name in files:
        path = out_dir.joinpath(*PurePosixPath(name).parts)
        folders.add(path.parent)
        if path.parent.is_symlink() or path.is_symlink():
            continue  # a link may point at the user's files elsewhere: never follow it
        if path.is_file():
            path.unlink()
    for folder in folders:
        if folder.is_dir() and not folder.is_symlink() and not any(folder.iterdir()):
            folder.rmdir()
    (out_dir / MANIFEST).unlink()
