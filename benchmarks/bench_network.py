"""Wall time per simulated second of the QKD network model, 6 -> 50 -> 100 -> 200 trusted nodes,
with the "no ABFT" baseline and with the ABFT consensus (its messages ns-3 packets).

One run measures, for each network size, a scenario that exercises everything per step: qchannel
physics for every link, frames sampled in ns-3, post-processing over the classical network,
key demands relayed hop by hop, and a Byzantine fraction of 0.2 (intercept-resend + tampering
from t = 0). Sizes: the built-in SECOQC network (6 nodes, 8 links; `--six-node waxman` for a
6-node Waxman graph instead) and Waxman graphs of 50 to 200 nodes (mean degree 4, in a square
of min(20 sqrt(n), 100) km so links stay within a QKD link's reach). Demands: n/5 random node
pairs at 10 kbit/s each.

Printed per size: build time (ns-3 objects and routing; the topology is read before), wall seconds
per simulated second for each control plane, ABFT / baseline measured in the same run, the
consensus messages and bytes per decision, the fraction of decisions every honest node reached
inside their step, and the share of steps that needed a decision (while trust stands still ABFT
decides every `control.quiet_interval_steps` steps, at once when a report alarms;
`--quiet-interval-steps 1` measures a decision every step). A fit of bytes per decision against n
says how the traffic grows (the design target is <= n^2). `--time-budget-s` caps each measurement's
wall time (fewer steps are then measured, and said). Peak RSS is reported once (it only grows).
Each size is measured `--rounds` times (baseline, then ABFT, adjacent in time); the table prints
medians and the range of the rounds' ABFT / baseline ratios, since one 10-step measurement on a
small shared machine moves by tens of per cent.

Run: .venv/bin/python benchmarks/bench_network.py [--sizes 6 50 100 200] [--sim-seconds 1.0]
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
from tqdm import tqdm

from bridge.scenario.config import ControlConfig, ScenarioConfig, parse_scenario

DEFAULT_QUIET = ControlConfig.model_fields["quiet_interval_steps"].default


def scenario_for(
    n: int,
    mode: str,
    step_s: float,
    seed: int,
    routing: str = "global",
    six_node: str = "secoqc-vienna",
    quiet_interval_steps: int = DEFAULT_QUIET,
) -> ScenarioConfig:
    """The measured scenario; at 6 nodes the SECOQC network unless `six_node="waxman"`."""
    if n == 6 and six_node == "secoqc-vienna":
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
                "fraction": 0.2,
                "behaviour": {"intercept_resend": 0.3, "tamper": 0.2},
            },
            "control": {"mode": mode, "quiet_interval_steps": quiet_interval_steps},
        },
        source=f"bench {n} nodes",
    )


def measure(
    n: int,
    mode: str,
    sim_seconds: float,
    step_s: float,
    seed: int,
    routing: str,
    budget_s: float,
    six_node: str = "secoqc-vienna",
    quiet_interval_steps: int = DEFAULT_QUIET,
) -> dict[str, float]:
    from bridge.ns3_runtime import load_ns
    from bridge.scenario import QkdScenario, load_plan
    from control.plane import ControlPlane

    load_ns()  # loading ns-3 and the module once is not part of any size's build time
    config = scenario_for(n, mode, step_s, seed, routing, six_node, quiet_interval_steps)
    plan = load_plan(config)
    started = time.perf_counter()
    messages, sent_bytes, in_time, fresh = [], [], [], []
    with QkdScenario(config, plan=plan) as sim:
        plane = ControlPlane(config, plan, sim)
        sim.attach_control(plane)
        built = time.perf_counter() - started
        sim.step()  # the first step optimises every link's intensity once; not steady state
        sim.step()  # the first consensus (nothing to agree on before the first reports)
        steps = max(1, round(sim_seconds / step_s))
        started = time.perf_counter()
        done = 0
        for _ in tqdm(range(steps), desc=f"{n} nodes, {mode}", leave=False):
            result = sim.step()
            done += 1
            stats = plane.stats()
            if stats:
                # all consensus traffic counts (a decision's checkpoints may end in the next,
                # quiet step); it is divided by the decisions made
                messages.append(stats["messages"])
                sent_bytes.append(stats["bytes"])
                fresh.append(bool(stats["fresh"]))
            if stats and stats["fresh"]:  # a step that needed a decision
                latency = plane.last.stats.latency_s if plane.last is not None else None
                in_time.append(bool(stats["decided"]) and latency is not None and latency < step_s)
            if time.perf_counter() - started > budget_s:
                break
        wall = time.perf_counter() - started
    return {
        "links": len(plan.links),
        "demands": len(plan.demands),
        "build_s": built,
        "steps": done,
        "wall_per_sim_s": wall / (done * step_s),
        "delivered_bits": float(result.demand("delivered_bits").sum()),
        "messages": float(np.sum(messages)) / max(1, sum(fresh)) if messages else 0.0,
        "bytes": float(np.sum(sent_bytes)) / max(1, sum(fresh)) if sent_bytes else 0.0,
        "in_time": float(np.mean(in_time)) if in_time else float("nan"),
        "decided_share": float(np.mean(fresh)) if fresh else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[6, 50, 100, 200])
    parser.add_argument("--sim-seconds", type=float, default=1.0)
    parser.add_argument("--step-s", type=float, default=0.1)
    parser.add_argument("--abft-max-nodes", type=int, default=200)
    parser.add_argument(
        "--time-budget-s", type=float, default=120.0, help="wall-time cap per measurement"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="baseline-then-ABFT measurements per size; medians are printed (a 10-step "
        "measurement on a 2-core machine moves by +-30%% between runs)",
    )
    parser.add_argument(
        "--routing",
        choices=("global", "nix-vector"),
        default="nix-vector",
        help="IP routing of the classical network (nix-vector builds large networks faster)",
    )
    parser.add_argument(
        "--six-node",
        choices=("secoqc-vienna", "waxman"),
        default="secoqc-vienna",
        help="the 6-node network: the SECOQC Vienna network (8 links) or a 6-node Waxman graph "
        "like the larger sizes (6 links: less simulation per step, so ABFT weighs more)",
    )
    parser.add_argument(
        "--quiet-interval-steps",
        type=int,
        default=DEFAULT_QUIET,
        help="control.quiet_interval_steps of the measured scenarios (default: the scenario "
        "default; 1 decides every step)",
    )
    args = parser.parse_args()

    rows = []
    for n in args.sizes:
        modes = ["baseline"] + (["abft"] if n <= args.abft_max_nodes else [])
        rounds: dict[str, list[dict[str, float]]] = {mode: [] for mode in modes}
        for _ in range(max(1, args.rounds)):
            for mode in modes:  # adjacent in time, so a round's ratio sees one machine state
                rounds[mode].append(
                    measure(
                        n,
                        mode,
                        args.sim_seconds,
                        args.step_s,
                        args.seed,
                        args.routing,
                        args.time_budget_s,
                        args.six_node,
                        args.quiet_interval_steps,
                    )
                )
        for mode in modes:
            row = dict(rounds[mode][-1])
            row["wall_per_sim_s"] = float(np.median([r["wall_per_sim_s"] for r in rounds[mode]]))
            row["in_time"] = float(np.mean([r["in_time"] for r in rounds[mode]]))
            row["decided_share"] = float(np.mean([r["decided_share"] for r in rounds[mode]]))
            ratios = [
                a["wall_per_sim_s"] / b["wall_per_sim_s"]
                for a, b in zip(rounds[mode], rounds["baseline"], strict=True)
            ]
            row["ratio"] = float(np.median(ratios))
            row["ratio_range"] = f"{min(ratios):.2f}-{max(ratios):.2f}"
            rows.append({"nodes": n, "control": mode, **row})
    print(
        f"classical routing: {args.routing}; Byzantine fraction 0.2; step {args.step_s} s; "
        f"6 nodes: {args.six_node}"
    )
    print(
        f"{'nodes':>5} {'links':>5} {'control':>8} {'steps':>5} {'build s':>8} "
        f"{'wall s/sim s':>12} {'abft/base':>9} {'range':>9} {'msgs/dec':>8} {'bytes/dec':>10} "
        f"{'in time':>7} {'decisions':>9} {'delivered bits':>14}"
    )
    for r in rows:
        print(
            f"{r['nodes']:>5} {r['links']:>5} {r['control']:>8} {r['steps']:>5} "
            f"{r['build_s']:>8.2f} {r['wall_per_sim_s']:>12.3f} {r['ratio']:>9.2f} "
            f"{r['ratio_range']:>9} {r['messages']:>8.0f} {r['bytes']:>10.0f} "
            f"{r['in_time']:>7.2f} {r['decided_share']:>9.2f} {r['delivered_bits']:>14.0f}"
        )
    print(
        f"wall s/sim s: median of {args.rounds} rounds; abft/base: median of the rounds' ratios "
        "(range: their min-max); msgs/dec, bytes/dec: all consensus traffic over the decisions "
        "made; in time: of those decisions; decisions: their share of the measured steps (the "
        f"cadence decides every {args.quiet_interval_steps} steps while trust stands still, and "
        "at once on an alarm)"
    )
    for mode in ("baseline", "abft"):
        sizes = np.array([r["nodes"] for r in rows if r["control"] == mode], dtype=float)
        costs = np.array([r["wall_per_sim_s"] for r in rows if r["control"] == mode])
        if len(sizes) > 1:
            slope = np.polyfit(np.log(sizes), np.log(costs), 1)[0]
            print(f"{mode} wall time grows as nodes^{slope:.2f} over these sizes")
    abft = [r for r in rows if r["control"] == "abft" and r["bytes"] > 0]
    if len(abft) > 1:
        x = np.log([r["nodes"] for r in abft])
        slope_b = np.polyfit(x, np.log([r["bytes"] for r in abft]), 1)[0]
        slope_m = np.polyfit(x, np.log([r["messages"] for r in abft]), 1)[0]
        print(
            f"ABFT bytes per decision grow as nodes^{slope_b:.2f}, messages as nodes^{slope_m:.2f}"
        )
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
