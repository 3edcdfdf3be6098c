"""Messages and wall time per ABFT decision for n = 4, 7, 16, 31 key-management nodes.

Each decision is one full coordinator step on the in-memory transport: every node signs and
broadcasts its report, weighted PBFT orders the batch (pre-prepare, prepare, commit), every node
executes it and exchanges a checkpoint. One node lies in its reports (so weights move and the
safety check runs every step). Ratios are against n = 4 measured in the same run, and against
the "no ABFT" baseline (no messages) for wall time. Growth is summarised by the slope of
log(cost) against log(n): PBFT's all-to-all phases predict messages ~ n^2.

Run: .venv/bin/python benchmarks/bench_abft.py [--steps 20] [--sizes 4 7 16 31]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from tqdm import tqdm

from control.abft.byzantine import FalseReport
from control.abft.coordinator import (
    AbftConfig,
    AbftCoordinator,
    BaselineCoordinator,
    honest_reports,
)
from control.abft.ledger import MeasuredInputs


def _inputs(n: int, links, step: int, rng: np.random.Generator):
    L = len(links)
    qber = 0.02 + rng.normal(0.0, 0.001, L)
    buffers = 1e6 + rng.normal(0.0, 1e3, L)
    reports = honest_reports(
        step, {"qber": qber, "buffer_bits": buffers}, np.ones((n, L), bool), 0.11
    )
    return reports, MeasuredInputs(qber, np.full(L, 0.02))


def measure(n: int, steps: int, baseline: bool) -> dict[str, float]:
    links = tuple((i, (i + 1) % n) for i in range(n))
    config = AbftConfig(n_nodes=n, link_endpoints=links, seed=1)
    byz = {n - 1: FalseReport()}
    co = BaselineCoordinator(config, byz) if baseline else AbftCoordinator(config, byzantine=byz)
    rng = np.random.default_rng(1)
    prepared = [_inputs(n, links, s, rng) for s in range(steps + 1)]
    co.run_step(0, *prepared[0])  # warm-up (first-call costs), not timed
    messages = bytes_ = 0
    latency = []
    start = time.perf_counter()
    for step in range(1, steps + 1):
        d = co.run_step(step, *prepared[step])
        if not d.decided:
            raise RuntimeError(f"n={n}: step {step} was not decided")
        messages += d.stats.messages
        bytes_ += d.stats.bytes
        latency.append(d.stats.latency_s or 0.0)
    wall = time.perf_counter() - start
    return {
        "n": n,
        "messages": messages / steps,
        "bytes": bytes_ / steps,
        "wall_ms": 1e3 * wall / steps,
        "latency_ms": 1e3 * float(np.mean(latency)),
    }


def slope(xs: list[float], ys: list[float]) -> float:
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="timed decisions per size")
    parser.add_argument("--sizes", type=int, nargs="+", default=[4, 7, 16, 31])
    args = parser.parse_args()
    if args.steps < 1 or any(n < 4 for n in args.sizes):
        parser.error("--steps must be >= 1 and every size >= 4 (n >= 3f + 1 with f >= 1)")
    rows, base = [], []
    for n in tqdm(args.sizes, desc="sizes", leave=False):
        rows.append(measure(n, args.steps, baseline=False))
        base.append(measure(n, args.steps, baseline=True))
    ref = rows[0]
    print(f"ABFT cost per decision ({args.steps} timed decisions per size, in-memory transport)")
    header = (
        f"{'n':>4} {'msgs':>8} {'x n=4':>7} {'kB':>9} {'x n=4':>7} {'wall ms':>9} {'x n=4':>7} "
        f"{'x no-ABFT':>10} {'sim latency ms':>15}"
    )
    print(header)
    for r, b in zip(rows, base, strict=True):
        print(
            f"{r['n']:>4} {r['messages']:>8.0f} {r['messages'] / ref['messages']:>7.2f} "
            f"{r['bytes'] / 1e3:>9.1f} {r['bytes'] / ref['bytes']:>7.2f} {r['wall_ms']:>9.2f} "
            f"{r['wall_ms'] / ref['wall_ms']:>7.2f} {r['wall_ms'] / b['wall_ms']:>10.0f} "
            f"{r['latency_ms']:>15.2f}"
        )
    ns = [r["n"] for r in rows]
    print(
        "growth exponents (cost ~ n^k): "
        f"messages k={slope(ns, [r['messages'] for r in rows]):.2f}, "
        f"bytes k={slope(ns, [r['bytes'] for r in rows]):.2f}, "
        f"wall time k={slope(ns, [r['wall_ms'] for r in rows]):.2f}"
    )


if __name__ == "__main__":
    main()
