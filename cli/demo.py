"""`qkdnet demo` and `qkdnet build-module`: the foundation's two commands.

Top-level imports stay light (typer only): ns-3 is loaded inside the command bodies.
"""

from __future__ import annotations

import typer

from cli.errors import user_errors


def build_module(
    tests: bool = typer.Option(False, "--tests", help="also build the ns-3 test runner"),
    examples: bool = typer.Option(False, "--examples", help="also build the example programs"),
) -> None:
    """Compile ns3-scratch against the ns3 wheel (cached by source hash) and print where it is."""
    import time

    from rich.progress import Progress

    from bridge.module_build import build_module as build

    with user_errors(), Progress(transient=True) as bar:
        task = bar.add_task("compiling ns3-scratch", total=None)

        def progress(label: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=f"compiled {label}")

        start = time.perf_counter()
        artifacts = build(with_tests=tests, with_examples=examples, progress=progress)
        elapsed = time.perf_counter() - start
    print(f"library: {artifacts.library}")
    if artifacts.test_runner:
        print(f"test runner: {artifacts.test_runner}")
    for name, path in artifacts.examples.items():
        print(f"example {name}: {path}")
    print(f"took {elapsed:.2f} s (0 compiles when the sources are unchanged)")


def demo(
    steps: int = typer.Option(20, min=1, help="number of steps to run"),
    step_s: float = typer.Option(0.1, "--step-s", min=1e-6, help="simulated seconds per step"),
    length_km: float = typer.Option(25.0, "--length-km", help="fibre length of the link"),
    seed: int = typer.Option(1, min=0, help="ns-3 run number"),
) -> None:
    """Run the built-in two-node scenario and print key bits and QBER per step."""
    from rich.console import Console
    from rich.table import Table
    from tqdm import tqdm

    from bridge.two_node import TwoNodeConfig, TwoNodeScenario
    from experiments.default_link import default_operating_point

    with user_errors():
        point = default_operating_point(length_km)
        config = TwoNodeConfig(
            length_km=length_km, step_s=step_s, seed=seed, **point.as_link_inputs()
        )
        with (
            TwoNodeScenario(config) as scenario,
            tqdm(total=steps, desc="simulating", unit="step", leave=False) as bar,
        ):
            frame = scenario.run(steps, on_step=lambda _record: bar.update())

    table = Table(title=f"two-node QKD link, {length_km:g} km ({point.describe()})")
    for column in ("time [s]", "key bits (A)", "sifted bits", "errors", "QBER"):
        table.add_column(column, justify="right")
    for row in frame.itertuples():
        table.add_row(
            f"{row.time_s:.2f}",
            f"{row.key_bits_a:,}",
            f"{row.sifted_bits:,}",
            f"{row.error_bits:,}",
            f"{row.qber_measured:.4f}",
        )
    Console().print(table)
    rate = frame.key_bits_a.iloc[-1] / frame.time_s.iloc[-1]
    print(f"secret key rate: {rate:,.0f} bit/s; expected QBER {point.qber:.4f}")
