"""Wall time per frame, per post-processing block and per key request, measured in this run, next
to the rates bridge/scenario/cost.py assumes when it refuses expensive scenarios.

Each row runs the six-node SECOQC topology (no control plane, so only the counted work differs)
for a few steps with one kind of work made dominant: many short frames (frame_pulses 1e4), many
small blocks (block_size_bits 1000), many key requests (demand_interval_s 1e-4). The wall time
per step divided by the estimate's count of that work gives the measured rate. The assumed rates
only need the right order of magnitude: they separate "seconds" from "hours".

    .venv/bin/python benchmarks/bench_scenario_cost.py [--steps 5]
"""

from __future__ import annotations

import argparse
import time

from bridge.scenario import QkdScenario
from bridge.scenario import cost as scenario_cost
from bridge.scenario.config import parse_scenario

BASE = {
    "topology": "secoqc-vienna",
    "step_s": 0.1,
    "control": {"mode": "baseline"},
    "link": {"frame_pulses": 1_000_000, "block_size_bits": 20_000},
}
ROWS = {
    "frame": ({"link": {"frame_pulses": 10_000, "block_size_bits": 10**7}}, "frames_per_step"),
    "block": ({"link": {"frame_pulses": 100_000, "block_size_bits": 1000}}, "blocks_per_step"),
    "request": (
        {
            "demand_interval_s": 1e-4,
            "demands": [{"src": "SIE", "dst": "BREIT", "rate_bps": 100}],
        },
        "requests_per_step",
    ),
}
ASSUMED = {
    "frame": scenario_cost.WALL_S_PER_FRAME,
    "block": scenario_cost.WALL_S_PER_BLOCK,
    "request": scenario_cost.WALL_S_PER_REQUEST,
}


def wall_per_step(data: dict, steps: int) -> tuple[float, object]:
    config = parse_scenario({**BASE, **data, "steps": steps}, source="bench")
    with QkdScenario(config, watchdog_s=0) as scenario:
        estimate = scenario_cost.estimate_cost(config, scenario.plan, scenario.physics)
        scenario.step()  # warm-up
        start = time.perf_counter()
        for _ in range(steps):
            scenario.step()
        return (time.perf_counter() - start) / steps, estimate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    base_s, _ = wall_per_step({}, args.steps)
    print(f"baseline step: {base_s * 1e3:.1f} ms")
    print(f"{'work':>8} {'count/step':>12} {'wall/step':>10} {'measured':>12} {'assumed':>10}")
    for name, (override, field) in ROWS.items():
        data = {
            k: ({**BASE[k], **v} if isinstance(v, dict) and k in BASE else v)
            for k, v in override.items()
        }
        step_s, estimate = wall_per_step(data, args.steps)
        count = getattr(estimate, field)
        rate = max(step_s - base_s, 0.0) / count
        print(
            f"{name:>8} {count:12.3g} {step_s * 1e3:8.1f} ms {rate * 1e6:9.2f} us "
            f"{ASSUMED[name] * 1e6:7.1f} us"
        )


if __name__ == "__main__":
    main()
