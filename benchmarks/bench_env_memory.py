"""Resident memory (RSS) of one env over many steps: does it stay flat? (issue 14)

Runs `QkdNetworkEnv` on a scenario for `--steps` env steps, `--episode` steps per episode (so
resets are included, as in training), and prints RSS every `--every` steps, then the growth per
step over the second half of the run (after warm-up: allocator pools, caches, first episode).
A leak shows as a steady KB/step; flat memory as ~0 KB/step.

    .venv/bin/python benchmarks/bench_env_memory.py [--scenario experiments/configs/six-node.yaml]
        [--steps 10000] [--episode 100] [--every 1000]

The slow test tests/lifecycle/test_env_memory.py runs the same loop and asserts the growth
stays under a bound.
"""

from __future__ import annotations

import argparse
import resource
import sys
from pathlib import Path

from bridge.env import DEFAULT_SCENARIO, QkdNetworkEnv


def rss_kb() -> float:
    """Current resident set size in KB (from /proc; ru_maxrss is the peak, not the current)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return float(line.split()[1])
    except OSError:
        pass
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def measure(scenario: str | Path, steps: int, episode: int, every: int, echo=print) -> list:
    """[(step, rss_kb)] sampled every `every` steps of a run of `steps` env steps."""
    env = QkdNetworkEnv(scenario, max_steps=episode)
    samples = []
    try:
        env.reset(seed=0)
        for step in range(1, steps + 1):
            _, _, terminated, truncated, _ = env.step(0)
            if terminated or truncated:
                env.reset()
            if step % every == 0:
                samples.append((step, rss_kb()))
                echo(f"step {step:>7}: RSS {samples[-1][1] / 1024:8.1f} MB")
    finally:
        env.close()
    return samples


def growth_kb_per_step(samples: list) -> float:
    """Slope of RSS over the second half of the samples (KB per step)."""
    half = samples[len(samples) // 2 :]
    if len(half) < 2:
        return 0.0
    (s0, r0), (s1, r1) = half[0], half[-1]
    return (r1 - r0) / (s1 - s0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=str(DEFAULT_SCENARIO))
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--episode", type=int, default=100)
    parser.add_argument("--every", type=int, default=1000)
    args = parser.parse_args(argv)
    samples = measure(args.scenario, args.steps, args.episode, args.every)
    slope = growth_kb_per_step(samples)
    print(f"RSS growth over the second half: {slope:.3f} KB/step ({args.scenario})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
