"""The simulation side of bench_floor's wire measurement: `qkdnet gym-sim` with a stopwatch.

It builds the env as `qkdnet gym-sim SCENARIO` does (`bridge.env_factory.make_env`) and serves
it with the same `bridge.ns3gym.sim_server.serve`, but records the CPU and wall time of every
`env.step` call and writes them to --report (JSON) when the agent stops it. Why: the same C++
step costs ±10 % more or less from one fresh process to the next on the 2-core machine, so
comparing an in-process env with a wire env in another process measures that lottery as much
as the wire. With the env's own step timed inside the simulation process, the wire's cost
(everything that process and the agent do besides `env.step`) is measured on one pair of
processes.

    python benchmarks/timed_gym_sim.py --scenario S.yaml --report R.json --openGymPort P
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import gymnasium as gym

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bridge.env_factory import make_env  # noqa: E402
from bridge.ns3gym.sim_server import serve  # noqa: E402


class StepStopwatch(gym.Wrapper):
    """Passes every call through; keeps each `step`'s CPU and wall seconds, and the process's
    CPU clock (all threads) after each step, so that the serve loop's share between two steps
    is known too."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.cpu_s: list[float] = []
        self.wall_s: list[float] = []
        self.cpu_after_s: list[float] = []

    def step(self, action: Any) -> Any:
        wall0, cpu0 = time.perf_counter(), time.process_time()
        result = self.env.step(action)
        cpu1 = time.process_time()
        self.cpu_s.append(cpu1 - cpu0)
        self.wall_s.append(time.perf_counter() - wall0)
        self.cpu_after_s.append(cpu1)
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", type=Path, required=True)
    parser.add_argument("--report", type=Path, required=True)
    parser.add_argument("--openGymPort", type=int, required=True)  # noqa: N815 - ns3-gym's name
    parser.add_argument("--simSeed", type=int, default=None)  # noqa: N815 - ns3-gym's name
    args = parser.parse_args()
    env = StepStopwatch(make_env(args.scenario, args.simSeed))
    try:
        serve(env, args.openGymPort, args.simSeed, timeout_s=600.0)
    finally:
        env.close()
    timings = {"cpu_s": env.cpu_s, "wall_s": env.wall_s, "cpu_after_s": env.cpu_after_s}
    args.report.write_text(json.dumps(timings))


if __name__ == "__main__":
    main()
