"""Issue 16: the held-out learning curve, its crossing point, and run-length schedules."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml
from dra_helpers import cartpole, tiny_config

from control.dra.config import TrainingConfig, parse_training_config
from control.dra.held_out import best_baseline, crossing_episode
from control.dra.trainer import train


def _unset_schedules(**trainer) -> TrainingConfig:
    data = tiny_config(**trainer).model_dump(mode="json")
    data["dqn"]["exploration"]["decay_steps"] = None
    data["dqn"]["replay"]["beta_anneal_steps"] = None
    return parse_training_config(data)


def test_unset_schedules_scale_with_the_run_and_set_ones_are_kept() -> None:
    resolved = _unset_schedules().with_run_length(10_000)
    assert resolved.dqn.exploration.decay_steps == 5_000
    assert resolved.dqn.replay.beta_anneal_steps == 10_000
    kept = tiny_config().with_run_length(10_000)
    assert kept.dqn.exploration.decay_steps == 200
    assert kept.dqn.replay.beta_anneal_steps == 400


def test_training_logs_a_held_out_curve_and_resumes_with_its_schedules(tmp_path: Path) -> None:
    config = _unset_schedules(eval_every=2, eval_episodes=2)
    train(cartpole, config, tmp_path, episodes=2)
    recorded = yaml.safe_load((tmp_path / "config.yaml").read_text())
    # CartPole-v1 episodes are at most 500 steps: 2 episodes -> a 1000-step run
    assert recorded["dqn"]["exploration"]["decay_steps"] == 500
    assert recorded["dqn"]["replay"]["beta_anneal_steps"] == 1000
    # extended to 4 episodes, the resumed run keeps the schedules it started with
    train(cartpole, config, tmp_path, episodes=4, resume=True)
    recorded = yaml.safe_load((tmp_path / "config.yaml").read_text())
    assert recorded["dqn"]["exploration"]["decay_steps"] == 500
    with (tmp_path / "curve.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["episode"]) for r in rows] == [2, 4]
    for row in rows:
        returns = [float(x) for x in row["returns"].split()]
        assert len(returns) == 2 and all(r >= 1.0 for r in returns)
        assert float(row["ci_low"]) <= float(row["return_mean"]) <= float(row["ci_high"])


def test_crossing_is_the_first_point_from_which_the_curve_stays_above() -> None:
    curve = [
        {"episode": e, "return_mean": r}
        for e, r in [(25, 1), (50, 9), (75, 4), (100, 8), (125, 10)]
    ]
    assert crossing_episode(curve, 8.0) == 100
    assert crossing_episode(curve, 11.0) is None
    assert crossing_episode(curve, 0.0) == 25


def test_best_baseline_ignores_the_oracle_and_the_learned_agents(tmp_path: Path) -> None:
    path = tmp_path / "comparison.csv"
    rows = [("static", 10.0), ("abft", 20.0), ("oracle", 40.0), ("dqn", 30.0), ("sb3", 35.0)]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["agent", "metric", "mean", "ci_low", "ci_high", "episodes"])
        for agent, mean in rows:
            writer.writerow([agent, "return", mean, mean - 1, mean + 1, 5])
            writer.writerow([agent, "qber", 0.03, 0.02, 0.04, 5])
    best = best_baseline(path)
    assert (best.agent, best.ci_low) == ("abft", 19.0)


def test_held_out_curve_with_several_env_processes_feeding_one_learner(tmp_path: Path) -> None:
    """Two async sub-environments (one process each); 3 held-out episodes need two batches."""
    config = _unset_schedules(eval_every=2, eval_episodes=3, num_envs=2, vectorization="async")
    train(cartpole, config, tmp_path, episodes=4)
    recorded = yaml.safe_load((tmp_path / "config.yaml").read_text())
    assert recorded["dqn"]["exploration"]["decay_steps"] == 1000  # read from the workers' envs
    with (tmp_path / "curve.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["episode"]) for r in rows] == [2, 4]
    assert all(len(r["returns"].split()) == 3 for r in rows)


def test_sb3_model_is_trained_on_our_seeds_and_evaluated_like_our_agents(tmp_path: Path) -> None:
    pytest.importorskip("stable_baselines3")
    from control.dra.evaluator import evaluate
    from control.dra.policies import make_policy
    from control.dra.sb3_baseline import train_sb3

    model = train_sb3(cartpole, episodes=2, out_path=tmp_path / "sb3.zip", seed=1)
    result = evaluate(
        cartpole, make_policy("sb3", model), 2, tmp_path / "e.parquet", progress=False
    )
    assert result.episodes == 2 and result.summaries["return"].mean >= 1.0
