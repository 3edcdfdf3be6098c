"""The sweep's tidy table: one row per task, the grid's fields as columns, then the metrics.

Built from the result files alone (never from what a process happened to hold in memory), so a
resumed sweep, or one whose tasks ran on Ray, gives the same table. The wall time of each task is
left out of the table (it depends on the machine and its load); it stays in the result files.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.metrics import add_retention
from experiments.sweep.spec import SweepTask
from experiments.sweep.task import result_path

TABLE = "results.parquet"
FRACTION_FIELD = "byzantine.fraction"


def _cell_value(value: Any) -> Any:
    """Grid values as table cells: lists and mappings become their JSON text (hashable)."""
    if isinstance(value, list | dict):
        return json.dumps(value, sort_keys=True)
    return value


def result_row(result: dict[str, Any], task: SweepTask) -> dict[str, Any]:
    """One row: the task's cell as the current spec names it (a result found by its content id
    may have been written under another path to the same checkpoint), then the result."""
    row: dict[str, Any] = {"task_id": task.task_id, "cell": task.cell}
    row.update({k: _cell_value(v) for k, v in task.fields.items()})
    row["seed"] = task.seed
    for key in ("nodes", "trusted_nodes", "links", "demands", "steps", "byzantine_count"):
        row[key] = result[key]
    row["byzantine_nodes"] = ",".join(result["byzantine_nodes"])
    row.update(result["metrics"])
    row["run_dir"] = result["run_dir"]
    return row


def build_table(tasks: list[SweepTask], out_dir: Path) -> pd.DataFrame:
    """The table of the finished tasks among `tasks`, in task order; retention is added when the
    Byzantine fraction is a grid field (reference: same cell with fraction 0, same seed)."""
    rows = []
    for task in tasks:
        path = result_path(out_dir, task.task_id)
        if path.is_file():
            rows.append(result_row(json.loads(path.read_text()), task))
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    fields = list(tasks[0].fields)
    if FRACTION_FIELD in fields:
        table = add_retention(table, fields, FRACTION_FIELD)
    return table


def write_table(table: pd.DataFrame, out_dir: Path) -> Path:
    """Write the table as Parquet through a temporary file and a rename."""
    path = out_dir / TABLE
    tmp = out_dir / f".{TABLE}.{os.getpid()}.tmp"
    table.to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return path
