"""Where an ABFT step's CPU goes, next to the same scenario without ABFT, in the same run.

bench_network.py says how much ABFT costs; this says where: each step of bench_network's
scenario (`scenario_for`) is split into the control plane's phases - `begin` (each node's report
built, signed and sent), the consensus run (the protocol's Python handling of each delivery, and
the rest: the ns-3 events of the consensus packets), `finish` (the decision read and applied) -
and the network's own step, as process CPU per step. Signatures made per step are counted.
Baseline and ABFT alternate for `--rounds` rounds in fresh processes; medians are printed, since
one process's speed moves by tens of per cent on a small shared machine.

Run: .venv/bin/python benchmarks/bench_abft_step.py [--nodes 6] [--six-node waxman]
     [--quiet-interval-steps 1] [--steps 300] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

PHASES = ("begin", "consensus: protocol (Python)", "consensus: rest (ns-3)", "finish", "network")


def _timed(counter: Counter, key: str, owner: Any, name: str) -> None:
    """Wrap owner.name so that its process CPU adds to counter[key]."""
    original = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            counter[key] += time.process_time() - started

    setattr(owner, name, wrapper)


def measure(mode: str, nodes: int, six_node: str, quiet: int, steps: int) -> dict[str, float]:
    """One process: CPU per step of each phase (ms) and signatures per step."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_network import scenario_for

    from bridge.abft_transport import Ns3Transport
    from bridge.ns3_runtime import load_ns
    from bridge.scenario import QkdScenario, load_plan
    from bridge.scenario.runtime import NetworkRuntime
    from control.abft.crypto import Signer
    from control.plane import ControlPlane

    load_ns()
    spent: Counter = Counter()
    _timed(spent, "begin", ControlPlane, "begin")
    _timed(spent, "consensus", ControlPlane, "run_consensus")
    _timed(spent, "consensus: protocol (Python)", Ns3Transport, "dispatch_pending")
    _timed(spent, "finish", ControlPlane, "finish")
    _timed(spent, "network", NetworkRuntime, "step")
    _timed(spent, "signatures", Signer, "sign")
    signed = Counter()
    sign = Signer.sign

    def counting_sign(self: Signer, body: bytes) -> bytes:
        signed["n"] += 1
        return sign(self, body)

    Signer.sign = counting_sign  # type: ignore[method-assign]
    config = scenario_for(nodes, mode, 0.1, 1, "nix-vector", six_node, quiet)
    plan = load_plan(config)
    with QkdScenario(config, plan=plan) as sim:
        plane = ControlPlane(config, plan, sim)
        sim.attach_control(plane)
        sim.step()
        sim.step()  # the first consensus has nothing to agree on: not measured
        spent.clear()
        signed.clear()
        started = time.process_time()
        for _ in range(steps):
            sim.step()
        total = time.process_time() - started
    out = {key: 1e3 * value / steps for key, value in spent.items()}
    out["consensus: rest (ns-3)"] = out.pop("consensus", 0.0) - out.get(
        "consensus: protocol (Python)", 0.0
    )
    out["total"] = 1e3 * total / steps
    out["signatures per step"] = signed["n"] / steps
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=6)
    parser.add_argument("--six-node", choices=("secoqc-vienna", "waxman"), default="waxman")
    parser.add_argument("--quiet-interval-steps", type=int, default=1)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = measure(
            args.child, args.nodes, args.six_node, args.quiet_interval_steps, args.steps
        )
        print(json.dumps(result))
        return
    rounds: dict[str, list[dict[str, float]]] = {"baseline": [], "abft": []}
    for _ in range(args.rounds):
        for mode in rounds:  # fresh processes, alternating: each round sees one machine state
            done = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    mode,
                    "--nodes",
                    str(args.nodes),
                    "--six-node",
                    args.six_node,
                    "--quiet-interval-steps",
                    str(args.quiet_interval_steps),
                    "--steps",
                    str(args.steps),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            rounds[mode].append(json.loads(done.stdout.strip().splitlines()[-1]))
    network = args.six_node if args.nodes == 6 else "waxman"
    print(
        f"{args.nodes} nodes ({network}), quiet_interval_steps {args.quiet_interval_steps}, "
        f"{args.steps} steps, medians of {args.rounds} rounds (process CPU, ms per step)"
    )
    print(f"{'':32} {'baseline':>9} {'abft':>9}")
    for key in (*PHASES, "total", "signatures", "signatures per step"):
        values = [np.median([r.get(key, 0.0) for r in rounds[mode]]) for mode in rounds]
        print(f"{key:32} {values[0]:>9.2f} {values[1]:>9.2f}")
    ratios = [
        a["total"] / b["total"] for a, b in zip(rounds["abft"], rounds["baseline"], strict=True)
    ]
    print(f"ABFT / baseline per round: {', '.join(f'{r:.2f}' for r in ratios)}")


if __name__ == "__main__":
    main()
