"""`qkdnet reproduce [--profile quick|paper] --out DIR`: the paper's experiment in one command.

Top-level imports stay light (typer only); the pipeline loads inside the command.
"""

from __future__ import annotations

from pathlib import Path

import typer

from cli.errors import user_errors


def reproduce(
    out: Path = typer.Option(Path("runs/repro"), "--out", help="output folder (rerun to resume)"),
    profile: str = typer.Option("quick", "--profile", help="quick (<= 15 min, 2 cores) or paper"),
    workers: int = typer.Option(2, "--workers", min=1, help="tasks run at once (one ns-3 each)"),
    checkpoint: Path | None = typer.Option(
        None,
        "--checkpoint",
        help="trained DQN (file or `qkdnet train` run folder); default: train briefly here",
    ),
    executor_name: str = typer.Option("local", "--executor", help="local or ray"),
    address: str | None = typer.Option(None, "--address", help="Ray cluster address"),
) -> None:
    """Baseline vs ABFT vs ABFT + agent over Byzantine fractions: claims.md and figures."""
    import sys

    from experiments.reproduce.pipeline import reproduce as run_reproduction
    from experiments.reproduce.profiles import PROFILES

    with user_errors():
        if profile not in PROFILES:
            raise ValueError(f"--profile must be one of {', '.join(PROFILES)}, not {profile}")
        if checkpoint is not None and not checkpoint.exists():
            raise FileNotFoundError(f"--checkpoint {checkpoint}: no such file or folder")
        command = (
            "qkdnet " + " ".join(sys.argv[1:])
            if sys.argv[1:2] == ["reproduce"]
            else (f"qkdnet reproduce --profile {profile} --out {out}")
        )
        outcome = run_reproduction(
            PROFILES[profile],
            out,
            workers=workers,
            checkpoint=checkpoint.resolve() if checkpoint else None,
            executor_name=executor_name,
            address=address,
            command=command,
        )
    print(f"ran {outcome.ran} of {outcome.total} tasks (the others were already done)")
    print(f"claims: {outcome.claims_path}")
    print(f"table: {out / 'results.parquet'} ({len(outcome.table)} tasks)")
    for path in outcome.figures:
        if path.suffix == ".png":
            print(f"figure: {path}")
