"""DQN training throughput, ours against Stable-Baselines3's DQN, measured in one run.

    .venv/bin/python benchmarks/bench_dqn.py                      # CartPole-v1, 3 x 20k steps
    .venv/bin/python benchmarks/bench_dqn.py --env-id Acrobot-v1 --steps 10000
    .venv/bin/python benchmarks/bench_dqn.py --scenario experiments/configs/six-node.yaml \
        --steps 2000 --repeats 1 --max-episodes 150 --eval-every 25 --greedy-episodes 5

What is timed: environment steps per second of *training* (acting, storing, learning, target
syncs) over the same number of env steps with matched hyper-parameters — network size, buffer
size, batch size, learning rate, gamma, train frequency, gradient steps, learning start, target
update interval, exploration schedule, gradient clipping — and one torch thread for both.
Three learners run back to back on the same env, `--repeats` times interleaved (median kept):
  * ours, as configured by default: prioritized replay (sum-tree) and double-DQN targets;
  * ours with uniform replay and plain DQN targets: the same algorithm as SB3's DQN (SB3 has no
    PER and no double DQN), so this row is the like-for-like comparison and the first shows what
    PER + double DQN cost;
  * SB3 DQN.
Ratios > 1 mean ours is faster. Ours also writes its per-episode CSV and final checkpoint inside
the timed region (SB3 writes nothing), so the comparison does not flatter ours.

On the QKD env (`--scenario`) an env step runs ns-3 and the ABFT coordinator (tens of ms), so the
env dominates both learners' time and the ratio tends to 1; it says what our learner costs on top of
the env there. Only one ns-3 scenario can run per process, so every learner closes its env before
the next one starts.

For an env that describes its baselines (the QKD env of `--scenario`; see control.dra.policies)
it also reports how many training episodes our DQN needs before
its greedy policy's mean return (evaluated every `--eval-every` episodes on the same seeds as the
baseline) reaches the greedy baseline's mean return.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--env-id", default=None, help="Gymnasium env id (default CartPole-v1)")
    source.add_argument("--scenario", type=Path, default=None, help="QKD scenario YAML")
    parser.add_argument("--steps", type=int, default=20_000, help="env steps per learner")
    parser.add_argument("--hidden", default="64,64", help="hidden layer sizes")
    parser.add_argument("--buffer", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--learning-starts", type=int, default=1_000)
    parser.add_argument("--train-freq", type=int, default=1)
    parser.add_argument("--gradient-steps", type=int, default=1)
    parser.add_argument("--target-update", type=int, default=500)
    parser.add_argument("--exploration-steps", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3, help="interleaved runs (median kept)")
    parser.add_argument("--greedy-episodes", type=int, default=20, help="greedy baseline episodes")
    parser.add_argument("--max-episodes", type=int, default=500, help="DQN episode budget")
    parser.add_argument("--eval-every", type=int, default=10, help="episodes between checks")
    return parser.parse_args()


def training_config(args: argparse.Namespace, prioritized: bool, double: bool):
    from control.dra.config import parse_training_config

    return parse_training_config(
        {
            "dqn": {
                "network": {"hidden_sizes": [int(h) for h in args.hidden.split(",")]},
                "replay": {
                    "capacity": args.buffer,
                    "batch_size": args.batch,
                    "prioritized": prioritized,
                    "beta_anneal_steps": args.steps,
                },
                "exploration": {
                    "epsilon_start": 1.0,
                    "epsilon_end": 0.05,
                    "decay_steps": args.exploration_steps,
                },
                "learning_rate": 1e-3,
                "gamma": 0.99,
                "double_dqn": double,
                "max_grad_norm": 10.0,
                "learning_starts": args.learning_starts,
                "train_freq": args.train_freq,
                "gradient_steps": args.gradient_steps,
                "target_update_interval": args.target_update,
            },
            "trainer": {
                "seed": args.seed,
                "torch_threads": 1,
                "tensorboard": False,
                "progress": False,
                "checkpoint_every": 10**9,
            },
        },
        source="benchmark settings",
    )


def time_ours(env_factory, args, prioritized: bool, double: bool) -> tuple[float, int, int]:
    """Seconds, env steps and gradient steps of our trainer for ~args.steps env steps."""
    from control.dra.trainer import train

    config = training_config(args, prioritized, double)
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        result = train(env_factory, config, out, episodes=10**9, max_env_steps=args.steps)
        elapsed = time.perf_counter() - start
    return elapsed, result.env_steps, result.grad_steps


def time_sb3(env_factory, args, total_steps: int) -> tuple[float, int, int]:
    """Seconds, env steps and gradient steps of SB3's DQN for `total_steps` env steps."""
    import torch
    from stable_baselines3 import DQN

    torch.set_num_threads(1)
    model = DQN(
        "MlpPolicy",
        env_factory(args.seed),
        learning_rate=1e-3,
        buffer_size=args.buffer,
        learning_starts=args.learning_starts,
        batch_size=args.batch,
        tau=1.0,
        gamma=0.99,
        train_freq=(args.train_freq, "step"),
        gradient_steps=args.gradient_steps,
        target_update_interval=args.target_update,
        exploration_fraction=args.exploration_steps / total_steps,
        exploration_initial_eps=1.0,
        exploration_final_eps=0.05,
        max_grad_norm=10.0,
        policy_kwargs={"net_arch": [int(h) for h in args.hidden.split(",")]},
        seed=args.seed,
        device="cpu",
        verbose=0,
    )
    start = time.perf_counter()
    try:
        model.learn(total_timesteps=total_steps, progress_bar=False)
        elapsed = time.perf_counter() - start
    finally:
        model.get_env().close()  # one ns-3 scenario per process: free it for the next learner
    return elapsed, model.num_timesteps, model._n_updates


def episodes_to_greedy(env_factory, args) -> None:
    """Training episodes until our greedy DQN policy's mean return reaches the greedy baseline's.

    Both are evaluated the same way (same evaluation seeds, `--greedy-episodes` episodes, no
    exploration); the DQN is trained in chunks of `--eval-every` episodes through `resume`, which
    gives the same run as training straight through.
    """
    from control.dra.evaluator import evaluate
    from control.dra.policies import DqnPolicy, EnvBaselinePolicy
    from control.dra.trainer import train

    def mean_return(policy, path: Path) -> float:
        result = evaluate(
            env_factory, policy, args.greedy_episodes, path, seed=args.seed, progress=False
        )
        return result.summaries["return"]

    config = training_config(args, prioritized=True, double=True)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        greedy = mean_return(EnvBaselinePolicy("greedy"), Path(out) / "greedy.parquet")
        print(
            f"greedy baseline: mean return {greedy.mean:.4g} (95% CI {greedy.ci_low:.4g} .. "
            f"{greedy.ci_high:.4g}, {args.greedy_episodes} episodes)",
            flush=True,
        )
        for episodes in range(args.eval_every, args.max_episodes + 1, args.eval_every):
            run = train(env_factory, config, Path(out) / "dqn", episodes, resume=True)
            ours = mean_return(
                DqnPolicy.from_checkpoint(run.checkpoint), Path(out) / f"dqn-{episodes}.parquet"
            )
            print(
                f"  after {run.episodes_done} training episodes: DQN mean return {ours.mean:.4g} "
                f"({time.perf_counter() - start:.0f} s so far)",
                flush=True,
            )
            if ours.mean >= greedy.mean:
                print(
                    f"episodes to reach it: {run.episodes_done} ({run.env_steps} env steps; "
                    f"greedy DQN mean return {ours.mean:.4g}, checked every {args.eval_every})"
                )
                return
    print(f"not reached within {args.max_episodes} training episodes")


def main() -> None:
    args = parse_args()
    import gymnasium as gym

    from bridge.env_factory import make_gym_env

    if args.scenario is not None:
        try:
            from bridge.env_factory import make_env
        except ImportError as exc:
            sys.exit(f"bench_dqn: error: scenario environments are not available ({exc})")
        env_factory = partial(make_env, str(args.scenario))
        name = str(args.scenario)
    else:
        env_id = args.env_id or "CartPole-v1"
        gym.spec(env_id)
        env_factory = partial(make_gym_env, env_id)
        name = env_id

    print(
        f"env: {name}; {args.steps} env steps per learner, {args.repeats} interleaved runs each; "
        f"net {args.hidden}; 1 torch thread"
    )
    print(
        f"buffer {args.buffer}, batch {args.batch}, lr 1e-3, gamma 0.99, learning_starts "
        f"{args.learning_starts}, train_freq {args.train_freq}, gradient_steps "
        f"{args.gradient_steps}, target_update {args.target_update}"
    )
    learners = {
        "ours (PER + double DQN)": lambda: time_ours(env_factory, args, True, True),
        "ours (uniform, plain DQN)": lambda: time_ours(env_factory, args, False, False),
        "stable-baselines3 DQN": None,  # runs for as many env steps as the uniform run took
    }
    runs: dict[str, list[tuple[float, int, int]]] = {label: [] for label in learners}
    for _ in range(args.repeats):  # interleaved, so drifting machine load hits all alike
        for label, run in learners.items():
            if run is None:
                run = partial(time_sb3, env_factory, args, runs["ours (uniform, plain DQN)"][-1][1])
            runs[label].append(run())
    print(f"{'learner':28s} {'env steps':>9s} {'grad steps':>10s} {'seconds':>8s} {'steps/s':>9s}")
    rates = {}
    for label, results in runs.items():
        per_run = [steps / seconds for seconds, steps, _ in results]
        rates[label] = float(np.median(per_run))
        seconds, steps, updates = results[-1]
        spread = f"  (runs: {', '.join(f'{r:.0f}' for r in per_run)})" if args.repeats > 1 else ""
        print(f"{label:28s} {steps:9d} {updates:10d} {seconds:8.2f} {rates[label]:9.0f}{spread}")
    sb3_rate = rates["stable-baselines3 DQN"]
    for label in list(rates)[:2]:
        print(f"ratio {label} / SB3 (median steps/s): {rates[label] / sb3_rate:.2f}x")
    from control.dra.policies import BaselineActionProvider

    probe = env_factory(args.seed)
    has_baselines = isinstance(probe.unwrapped, BaselineActionProvider)
    probe.close()
    if has_baselines:
        episodes_to_greedy(env_factory, args)
    else:
        print(f"episodes to reach the greedy baseline: skipped, {name} has no baseline_action")


if __name__ == "__main__":
    main()
