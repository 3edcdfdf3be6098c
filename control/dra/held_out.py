"""The learning curve on held-out seeds: the greedy agent's return on evaluation episodes.

Why held-out seeds: training returns mix exploration with learning and are measured on the
episodes the agent trains on; the question an operator asks is how the *greedy* policy does on
episodes it has never seen. Every K training episodes the trainer runs the greedy policy
(epsilon 0, no learning) on the first M evaluation-stream seeds of the run
(`seeding.episode_seed(run seed, i, evaluation=True)`), which are exactly the episodes
`qkdnet evaluate --seed <run seed> --episodes M` runs for the baselines, so the curve and the
baselines' intervals compare the same episodes. The evaluation stream is disjoint from the
training stream (checked: `disjoint_seeds`).

The curve goes to `curve.csv` (one row per evaluation, appended as it happens; cut back to the
checkpoint on resume like the episode log), and `crossing_episode` reads it against the best
deployable baseline of a `qkdnet evaluate` comparison.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from control.dra import seeding
from control.dra.errors import DraError
from control.dra.stats import summarise

CURVE_NAME = "curve.csv"
CURVE_COLUMNS = ("episode", "env_steps", "return_mean", "ci_low", "ci_high", "returns")
# agents of a comparison that are not deployable baselines: the learned agents and the oracle
NOT_DEPLOYABLE = frozenset({"dqn", "sb3", "oracle"})


def held_out_seeds(run_seed: int, episodes: int) -> list[int]:
    return [seeding.episode_seed(run_seed, i, evaluation=True) for i in range(episodes)]


def disjoint_seeds(run_seed: int, train_episodes: int, eval_episodes: int) -> bool:
    """True when no held-out seed is also a training episode's seed."""
    train = {seeding.episode_seed(run_seed, i) for i in range(train_episodes)}
    return not train.intersection(held_out_seeds(run_seed, eval_episodes))


def run_held_out(vec, agent, layout, seeds: list[int]) -> np.ndarray:
    """Returns of the greedy agent on one episode per seed, `vec.num_envs` at a time."""
    n = vec.num_envs
    returns: list[float] = []
    for start in range(0, len(seeds), n):
        chunk = seeds[start : start + n]
        padded = chunk + [chunk[-1]] * (n - len(chunk))  # idle copies, discarded
        obs, _ = vec.reset(seed=padded)
        total = np.zeros(n)
        active = np.ones(n, dtype=bool)
        while active.any():
            actions = agent.greedy_actions(layout.flatten(obs, batched=True))
            obs, rewards, terminated, truncated, _ = vec.step(layout.to_env_action(actions))
            total[active] += rewards[active]
            active &= ~(terminated | truncated)
        returns.extend(total[: len(chunk)].tolist())
    return np.asarray(returns)


class CurveCsv:
    """Append-only `curve.csv`; rows after the resumed checkpoint's episode are dropped."""

    def __init__(self, path: Path, keep_up_to_episode: int) -> None:
        self.path = path
        rows = []
        if path.exists():
            with path.open(newline="") as handle:
                rows = [
                    r for r in csv.DictReader(handle) if int(r["episode"]) <= keep_up_to_episode
                ]
        temporary = path.with_name(path.name + ".tmp")
        with temporary.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=CURVE_COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        os.replace(temporary, path)

    def write(self, episode: int, env_steps: int, returns: np.ndarray) -> dict:
        summary = summarise("return", returns)
        row = {
            "episode": episode,
            "env_steps": env_steps,
            "return_mean": repr(float(summary.mean)),
            "ci_low": repr(float(summary.ci_low)),
            "ci_high": repr(float(summary.ci_high)),
            "returns": " ".join(repr(float(r)) for r in returns),
        }
        with self.path.open("a", newline="") as handle:
            csv.DictWriter(handle, fieldnames=CURVE_COLUMNS, lineterminator="\n").writerow(row)
        return row


@dataclass(frozen=True)
class BestBaseline:
    agent: str
    mean: float
    ci_low: float
    ci_high: float


def best_baseline(comparison_csv: Path) -> BestBaseline:
    """The deployable agent with the highest mean return in a `qkdnet evaluate` comparison."""
    if not comparison_csv.is_file():
        raise DraError(f"comparison file not found: {comparison_csv}")
    with comparison_csv.open(newline="") as handle:
        rows = [
            r
            for r in csv.DictReader(handle)
            if r.get("metric") == "return" and r.get("agent") not in NOT_DEPLOYABLE
        ]
    if not rows:
        raise DraError(f"{comparison_csv}: no deployable baseline's return in it")
    best = max(rows, key=lambda r: float(r["mean"]))
    return BestBaseline(
        best["agent"], float(best["mean"]), float(best["ci_low"]), float(best["ci_high"])
    )


def read_curve(path: Path) -> list[dict]:
    if not path.is_file():
        raise DraError(f"learning curve not found: {path} (train with trainer.eval_every set)")
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def crossing_episode(curve: list[dict], threshold: float) -> int | None:
    """First evaluated episode from which the held-out mean return stays >= `threshold` (the
    best baseline's lower 95 % bound) at every later evaluation; None if it never does."""
    crossing = None
    for row in curve:
        if float(row["return_mean"]) >= threshold:
            if crossing is None:
                crossing = int(row["episode"])
        else:
            crossing = None
    return crossing
