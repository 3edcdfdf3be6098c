"""`qkdnet run SCENARIO.yaml`: run one scenario and write its metrics (Parquet) as it goes.

Top-level imports stay light (typer only); ns-3 and pandas load inside the command.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import typer

from cli.errors import user_errors


def run(
    scenario: Path = typer.Argument(..., help="scenario YAML"),
    topology: str | None = typer.Option(
        None, "--topology", help="topology name or file, replacing the scenario's"
    ),
    seed: int | None = typer.Option(None, "--seed", min=0, help="replace the scenario's seed"),
    steps: int | None = typer.Option(None, "--steps", min=1, help="replace the scenario's steps"),
    out: Path | None = typer.Option(
        None, "--out", help="run directory (default runs/<scenario name>-seed<seed>)"
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace a complete run in --out"),
    control: str | None = typer.Option(
        None, "--control", help="abft or baseline, replacing the scenario's control.mode"
    ),
    allow_expensive: bool = typer.Option(
        False,
        "--allow-expensive",
        help="run even if the cost estimate says hours (same as allow_expensive: true)",
    ),
    watchdog_s: float | None = typer.Option(
        None,
        "--watchdog-s",
        help="stop if a step makes no simulated progress for this many wall seconds "
        "(default $QKDNET_WATCHDOG_S or 300; 0 = off)",
    ),
) -> None:
    """Run a scenario (topology, links, demands, Byzantine nodes) and record every step."""
    from rich.console import Console
    from rich.table import Table

    from bridge.scenario import load_plan
    from bridge.scenario.config import load_scenario
    from bridge.scenario.metrics import read_run
    from bridge.scenario.watchdog import check_stall_s
    from experiments.run import (
        attacked_link_report,
        demand_report,
        run_scenario,
        sharing_report,
    )

    with user_errors():
        if topology and topology.strip() and Path(topology).exists():
            topology = str(Path(topology).resolve())  # relative to where the user stands
        if watchdog_s is not None:
            check_stall_s(watchdog_s, "--watchdog-s")
        expensive = True if allow_expensive else None
        config = load_scenario(
            scenario, topology=topology, seed=seed, steps=steps, allow_expensive=expensive
        )
        if control is not None:
            if control not in ("abft", "baseline"):
                raise ValueError(f"--control must be abft or baseline, not {control!r}")
            config = config.model_copy(
                update={"control": config.control.model_copy(update={"mode": control})}
            )
        out_dir = out or Path("runs") / f"{config.name}-seed{config.seed}"
        summary = run_scenario(config, out_dir, overwrite=overwrite, watchdog_s=watchdog_s)

    console = Console()
    span = f"{summary.steps} steps, {summary.simulated_s:g} s"
    table = Table(title=f"{config.name}: {span}, control {config.control.mode}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in summary.as_dict().items():
        table.add_row(name, f"{value:,.4g}" if isinstance(value, float) else str(value))
    console.print(table)
    tables = read_run(out_dir)
    onset = config.byzantine.behaviour.onset_s
    plan = load_plan(config)
    names = [n.label for n in plan.nodes]

    def demand_labels(indices: Iterable[int]) -> list[str]:
        return [f"{names[plan.demands[i].src]}->{names[plan.demands[i].dst]}" for i in indices]

    if config.byzantine.nodes or config.byzantine.fraction:
        byzantine = ", ".join(names[i] for i in sorted(plan.byzantine))
        console.print(f"Byzantine from {onset:g} s: {byzantine}")
        protocol = config.byzantine.protocol
        if protocol.strategy != "none":
            effective = config.control.mode == "abft"
            where = "in the ABFT consensus" if effective else "(ignored: no consensus in baseline)"
            console.print(f"their protocol-level strategy {where}: {protocol.strategy}")
        report = attacked_link_report(tables, onset)
        report.index = [f"{names[plan.links[i].a]}-{names[plan.links[i].b]}" for i in report.index]
        report.index.name = "link"
        changed = report[(report.qber_after - report.qber_before).abs() > 0.005]
        if not changed.empty:
            console.print(f"links whose QBER changed after the Byzantine onset ({onset:g} s):")
            console.print(changed.round(4).to_string())
        console.print(f"key delivered per demand before and after the onset ({onset:g} s):")
        delivered = demand_report(tables, onset)
        delivered.index = demand_labels(delivered.index)
        delivered.index.name = "demand"
        console.print(delivered.round(1).to_string())
    sharing = sharing_report(tables, plan)
    sharing.index = demand_labels(sharing.index)
    sharing.index.name = "demand"
    console.print("key sharing per demand (t of n node-disjoint routes; see sharing_report):")
    console.print(sharing.to_string())
    console.print(f"metrics: {out_dir}/ (links, demands, nodes, control_* as Parquet)")
