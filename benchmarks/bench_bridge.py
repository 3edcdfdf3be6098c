"""Steps per second of the Gymnasium bridge against the bare ns-3 simulation it drives.

All rows run the same scenario (default: the six-node SECOQC scenario) from the same seed for the
same number of steps of `step_s` simulated seconds, measured in this run:

  (a)  ns-3 alone: the same scenario built as a QkdScenario, advanced by
       `scenario.runtime.step(step_s)` only, fed the very link inputs (gain, QBER, ... per step)
       that the env's steps in (b) used, so ns-3 does the same work; no physics, no control
       plane, no Python per step beyond copying the inputs and the one call into C++;
  (b)  the in-process env, `env.step(0)` (no-op), with the scenario's control plane - ABFT runs
       its weighted PBFT over ns-3 packets plus the Python coordinator inside every step - and
       again with `control.mode: baseline`, so the env's own cost shows apart from ABFT's;
       "env own" is the env's time outside `QkdScenario.step` (action, observation, reward,
       info); the rest of "over (a)" is spent inside `QkdScenario.step` on top of ns-3: channel
       processes and qchannel operating points, the control plane, the per-step counters;
  (c)  the same env over the ns3-gym wire protocol on loopback: `bridge.ns3gym.Ns3GymEnv` (agent)
       and `python -m bridge.ns3gym SCENARIO` (= `qkdnet gym-sim`, simulation) in a subprocess.

Overheads are per step in microseconds over (a). The clock covers only the timed steps (after
`warmup` steps; process start-up, ns-3 loading and reset are not timed). With `--repeat k` every
row is measured k times, in rounds, and the fastest is shown (the machine may be shared).

    .venv/bin/python benchmarks/bench_bridge.py [--scenario experiments/configs/six-node.yaml]
        [--steps 200] [--warmup 10] [--repeat 1] [--no-wire]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

from bridge.env import DEFAULT_SCENARIO, QkdNetworkEnv
from bridge.scenario import QkdScenario
from bridge.scenario.config import ScenarioConfig, load_scenario


def _config(path: Path, steps: int, mode: str | None) -> ScenarioConfig:
    config = load_scenario(path, steps=steps)
    if mode is not None:
        control = config.control.model_copy(update={"mode": mode})
        config = config.model_copy(update={"control": control})
    return config


def _seeded(config: ScenarioConfig, seed: int) -> ScenarioConfig:
    return config.model_copy(update={"seed": seed})


def time_ns3_alone(config: ScenarioConfig, inputs: list[np.ndarray], warmup: int) -> float:
    """`runtime.step(dt)` only, fed the link inputs the env's steps used (a numpy copy each)."""
    with QkdScenario(config) as scenario:
        runtime, dt = scenario.runtime, config.step_s
        for row in inputs[:warmup]:
            runtime.inputs[:] = row
            runtime.step(dt)
        start = time.perf_counter()
        for row in inputs[warmup:]:
            runtime.inputs[:] = row
            runtime.step(dt)
        return time.perf_counter() - start


def time_env(
    config: ScenarioConfig, steps: int, warmup: int, seed: int
) -> tuple[float, float, list[np.ndarray]]:
    """(seconds of env.step, seconds of that inside QkdScenario.step, every step's link inputs)."""
    env = QkdNetworkEnv(config)
    try:
        env.reset(seed=seed)
        scenario = env.scenario
        inner = [0.0]
        inputs: list[np.ndarray] = []
        step = scenario.step

        def timed_step():
            t0 = time.perf_counter()
            result = step()
            inner[0] += time.perf_counter() - t0
            inputs.append(scenario.runtime.inputs.copy())
            return result

        scenario.step = timed_step
        for _ in range(warmup):
            env.step(0)
        inner[0] = 0.0
        start = time.perf_counter()
        for _ in range(steps):
            env.step(0)
        return time.perf_counter() - start, inner[0], inputs
    finally:
        env.close()


def time_wire(config: ScenarioConfig, steps: int, warmup: int, seed: int) -> float:
    from bridge.ns3gym import Ns3GymEnv

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scenario.yaml"
        path.write_text(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False))
        env = Ns3GymEnv(scenario=path, seed=seed, timeout_s=120.0)
        try:
            env.reset(seed=seed)
            for _ in range(warmup):
                env.step(0)
            start = time.perf_counter()
            for _ in range(steps):
                env.step(0)
            return time.perf_counter() - start
        finally:
            env.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=DEFAULT_SCENARIO)
    parser.add_argument("--steps", type=int, default=200, help="timed steps per row")
    parser.add_argument("--warmup", type=int, default=10, help="untimed steps before the clock")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-wire", action="store_true", help="skip the ns3-gym rows (c)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds; each row's best is shown")
    args = parser.parse_args()
    if args.steps < 1 or args.warmup < 0 or args.repeat < 1:
        parser.error("--steps and --repeat must be >= 1, --warmup >= 0")

    total = args.steps + args.warmup + 1
    own = _config(args.scenario, total, None)
    base = _config(args.scenario, total, "baseline")
    n = args.steps
    best: dict[str, tuple[float, float | None]] = {}  # label -> (seconds, env's own seconds)

    def keep(label: str, seconds: float, env_own: float | None = None) -> None:
        if label not in best or seconds < best[label][0]:
            best[label] = (seconds, env_own)

    modes = [own] if own.control.mode == "baseline" else [own, base]
    for _ in range(args.repeat):  # every row once per round, so load drifts hit all rows alike
        inputs = None
        for config in modes:
            t_env, inner, recorded = time_env(config, n, args.warmup, args.seed)
            inputs = inputs if inputs is not None else recorded
            keep(f"(b)  env in-process, control {config.control.mode}", t_env, t_env - inner)
        seconds = time_ns3_alone(_seeded(own, args.seed), inputs, args.warmup)
        keep("(a)  ns-3 alone, runtime.step(dt)", seconds)
        if not args.no_wire:
            for config in modes:
                seconds = time_wire(config, n, args.warmup, args.seed)
                keep(f"(c)  env over ns3-gym wire, control {config.control.mode}", seconds)
    rows = [(label, *best[label]) for label in sorted(best)]

    ref = rows[0][1] / n
    print(f"scenario {args.scenario} ({own.name}): {n} steps of {own.step_s} s, seed {args.seed}")
    print(
        f"  {'':44s} {'steps/s':>9s} {'us/step':>9s} {'over (a)':>10s} {'x (a)':>7s} "
        f"{'env own':>9s}"
    )
    for label, seconds, env_own in rows:
        per = seconds / n
        own_text = f"{env_own / n * 1e6:9.0f}" if env_own is not None else f"{'':9s}"
        print(
            f"  {label:44s} {n / seconds:9.1f} {per * 1e6:9.0f} {(per - ref) * 1e6:+10.0f} "
            f"{per / ref:7.2f} {own_text}"
        )
    print("  over (a): extra microseconds per step; env own: env.step outside QkdScenario.step")


if __name__ == "__main__":
    main()
