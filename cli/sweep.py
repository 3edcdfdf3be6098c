"""`qkdnet sweep SPEC.yaml --out DIR`: a grid of scenarios x seeds, resumable, one tidy table.

Top-level imports stay light (typer only): pandas and the executors load inside the command.
"""

from __future__ import annotations

from pathlib import Path

import typer

from cli.errors import user_errors


def sweep(
    spec: Path = typer.Argument(..., help="sweep YAML (base scenario, set, grid, seeds)"),
    out: Path = typer.Option(..., "--out", help="output folder (reused to resume)"),
    workers: int = typer.Option(1, "--workers", min=1, help="tasks run at once (one ns-3 each)"),
    executor_name: str = typer.Option(
        "local", "--executor", help="local (process pool) or ray (pip install 'qkdnet[ray]')"
    ),
    address: str | None = typer.Option(
        None, "--address", help="Ray cluster address (default: a private local Ray)"
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="list the tasks and exit"),
) -> None:
    """Run every (cell, seed) of a sweep; finished tasks are skipped on a rerun."""
    from experiments.sweep.executors import EXECUTORS
    from experiments.sweep.runner import run_sweep
    from experiments.sweep.spec import expand, load_spec
    from experiments.sweep.task import is_finished

    with user_errors():
        if executor_name not in EXECUTORS:
            raise ValueError(
                f"--executor must be one of {', '.join(EXECUTORS)}, not {executor_name}"
            )
        parsed, base = load_spec(spec)
        tasks = expand(parsed, base)
        if dry_run:
            for task in tasks:
                state = "done" if is_finished(out, task.task_id) else "todo"
                label = ", ".join(f"{k}={v}" for k, v in task.fields.items())
                print(f"{task.task_id} cell {task.cell} seed {task.seed} [{state}] {label}")
            return
        outcome = run_sweep(
            parsed.name, tasks, out, workers=workers, executor_name=executor_name, address=address
        )
    print(f"{outcome.ran} tasks run, {outcome.skipped} already done; table: {outcome.table_path}")
