"""Run a sweep: expand the spec, skip finished tasks, run the rest, write the table.

The output folder remembers its sweep (`sweep.json`: the tasks' ids); a folder holding another
sweep's results is refused rather than mixed, except that tasks added to a spec are allowed
(growing a sweep by seeds or grid values reuses what is done).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from experiments.sweep.executors import executor
from experiments.sweep.spec import SweepTask
from experiments.sweep.table import build_table, write_table
from experiments.sweep.task import is_finished, write_json_atomic

SWEEP_FILE = "sweep.json"


@dataclass(frozen=True)
class SweepOutcome:
    table: pd.DataFrame
    table_path: Path
    ran: int
    skipped: int


def prepare_out_dir(out_dir: Path, name: str, tasks: list[SweepTask]) -> None:
    """Create the folder, or check that it holds this sweep (by name)."""
    marker = out_dir / SWEEP_FILE
    if marker.is_file():
        previous = json.loads(marker.read_text())
        if previous.get("name") != name:
            raise ValueError(
                f"{out_dir}: holds sweep {previous.get('name')!r}, not {name!r}; "
                "choose another --out"
            )
    elif out_dir.exists() and any(out_dir.iterdir()):
        raise ValueError(
            f"{out_dir}: exists and is not a qkdnet sweep folder; choose another --out"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(
        marker,
        {
            "name": name,
            "tasks": [
                {"task_id": t.task_id, "cell": t.cell, "seed": t.seed, "fields": t.fields}
                for t in tasks
            ],
        },
    )


def run_sweep(
    name: str,
    tasks: list[SweepTask],
    out_dir: Path,
    *,
    workers: int = 1,
    executor_name: str = "local",
    address: str | None = None,
    progress: bool = True,
) -> SweepOutcome:
    """Run every unfinished task of `tasks` into `out_dir` and write the sweep's table."""
    out_dir = Path(out_dir)
    prepare_out_dir(out_dir, name, tasks)
    ran, skipped = execute(
        tasks,
        out_dir,
        workers=workers,
        executor_name=executor_name,
        address=address,
        desc=name,
        progress=progress,
    )
    table = build_table(tasks, out_dir)
    return SweepOutcome(table, write_table(table, out_dir), ran, skipped)


def execute(
    tasks: list[SweepTask],
    out_dir: Path,
    *,
    workers: int = 1,
    executor_name: str = "local",
    address: str | None = None,
    desc: str = "sweep",
    progress: bool = True,
) -> tuple[int, int]:
    """Run the unfinished tasks with a progress bar (ETA); returns (run, already done)."""
    from tqdm import tqdm

    todo = [t for t in tasks if not is_finished(out_dir, t.task_id)]
    run = executor(executor_name, workers, address)
    with tqdm(
        total=len(tasks),
        initial=len(tasks) - len(todo),
        desc=desc,
        unit="task",
        disable=not progress,
        smoothing=0.0,  # ETA from the mean task time so far: tasks are alike, the load is not
    ) as bar:
        for _ in run([t.as_dict() for t in todo], str(Path(out_dir).resolve())):
            bar.update(1)
    return len(todo), len(tasks) - len(todo)
