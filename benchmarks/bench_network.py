"""Wall time per simulated second of the QKD network model, 6 -> 50 -> 200 trusted nodes.

One run measures, for each network size, a scenario that exercises everything per step: qchannel
physics for every link, frames sampled in ns-3, post-processing over the classical network,
key demands relayed hop by hop, and a Byzantine fraction of 0.1 (intercept-resend + tampering
from t = 0). Sizes: the built-in SECOQC network (6 nodes, 8 links) and Waxman graphs of 50 and
200 nodes (mean degree 4, in a square of min(20 sqrt(n), 100) km so links stay within a QKD
link's reach). Demands: n/5 random node pairs at 10 kbit/s each.

Printed per size: build time (ns-3 objects and routing; the topology is read before), wall
seconds per simulated second with the "no ABFT" baseline control plane and (up to
--abft-max-nodes, because PBFT's all-to-all rounds grow as n^2) with the ABFT coordinator whose
messages are ns-3 packets, and the ratio of each to the smallest size measured in the same run.
Peak RSS is reported once (it only grows).

Run: .venv/bin/python benchmarks/bench_network.py [--sizes 6 16 50 200] [--sim-seconds 1.0]
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
from tqdm import tqdm

from bridge.scenario_config import ScenarioConfig, parse_scenario


def scenario_for(
    n: int, mode: str, step_s: float, seed: int, routing: str = "global"
) -> ScenarioConfig:
    if n == 6:
        topology = "secoqc-vienna"
    else:
        side_km = min(20.0 * np.sqrt(n), 100.0)
        topology = f"waxman:n={n},seed={seed},side_km={side_km:.0f}"
    rng = np.random.default_rng(seed)
    demands = []
    for _ in range(max(2, n // 5)):
        src, dst = rng.choice(n, size=2, replace=False)
        demands.append({"src": int(src), "dst": int(dst), "rate_bps": 10_000})
    return parse_scenario(
        {
            "name": f"bench-{n}",
            "seed": seed,
            "topology": topology,
            "step_s": step_s,
            "steps": 1,
            "link": {"frame_pulses": 1_000_000, "block_size_bits": 20_000},
            "classical": {"routing": routing},
            "demands": demands,
            "byzantine": {
                "fraction": 0.1,
                "behaviour": {"intercept_resend": 0.3, "tamper": 0.2},
            },
            "control": {"mode": mode},
        },
        source=f"bench {n} nodes",
    )


def measure(
    n: int, mode: str, sim_seconds: float, step_s: float, seed: int, routing: str
) -> dict[str, float]:
    from bridge.ns3_runtime import load_ns
    from bridge.scenario import QkdScenario, load_plan
    from control.plane import ControlPlane

    load_ns()  # loading ns-3 and the module once is not part of any size's build time
    config = scenario_for(n, mode, step_s, seed, routing)
    plan = load_plan(config)
    started = time.perf_counter()
    with QkdScenario(config, plan=plan) as sim:
        sim.attach_control(ControlPlane(config, plan, sim))
        built = time.perf_counter() - started
        sim.step()  # the first step optimises every link's intensity once; not steady state
        steps = max(1, round(sim_seconds / step_s))
        started = time.perf_counter()
        for _ in tqdm(range(steps), desc=f"{n} nodes, {mode}", leave=False):
            result = sim.step()
        wall = time.perf_counter() - started
    return {
        "links": len(plan.links),
        "demands": len(plan.demands),
        "build_s": built,
        "wall_per_sim_s": wall / (steps * step_s),
        "delivered_bits": float(result.demand("delivered_bits").sum()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[6, 16, 50, 200])
    parser.add_argument("--sim-seconds", type=float, default=1.0)
    parser.add_argument("--step-s", type=float, default=0.1)
    parser.add_argument("--abft-max-nodes", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--routing",
        choices=("global", "nix-vector"),
        default="global",
        help="IP routing of the classical network (nix-vector builds large networks faster)",
    )
    args = parser.parse_args()

    rows = []
    for n in args.sizes:
        modes = ["baseline"] + (["abft"] if n <= args.abft_max_nodes else [])
        for mode in modes:
            row = measure(n, mode, args.sim_seconds, args.step_s, args.seed, args.routing)
            rows.append({"nodes": n, "control": mode, **row})
    reference = {
        mode: next((r["wall_per_sim_s"] for r in rows if r["control"] == mode), None)
        for mode in ("baseline", "abft")
    }
    print(f"classical routing: {args.routing}")
    print(
        f"{'nodes':>5} {'links':>5} {'demands':>7} {'control':>8} {'build s':>8} "
        f"{'wall s / sim s':>14} {'x first size':>12} {'delivered bits':>14}"
    )
    for r in rows:
        ratio = r["wall_per_sim_s"] / reference[r["control"]]
        print(
            f"{r['nodes']:>5} {r['links']:>5} {r['demands']:>7} {r['control']:>8} "
            f"{r['build_s']:>8.2f} {r['wall_per_sim_s']:>14.3f} {ratio:>12.1f} "
            f"{r['delivered_bits']:>14.0f}"
        )
    sizes = np.array([r["nodes"] for r in rows if r["control"] == "baseline"], dtype=float)
    costs = np.array([r["wall_per_sim_s"] for r in rows if r["control"] == "baseline"])
    if len(sizes) > 1:
        slope = np.polyfit(np.log(sizes), np.log(costs), 1)[0]
        print(f"baseline cost grows as nodes^{slope:.2f} over these sizes")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
