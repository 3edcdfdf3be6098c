"""Evaluation: the per-step Parquet schema, the per-episode summary with Student-t intervals,
resuming after Ctrl-C, and the policies (trained DQN, random, env-described baselines)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dra_helpers import SigintAfter, cartpole, cartpole_with_info, choice_env, tiny_config

from control.dra.errors import BaselineUnavailableError, DraError, RunDirectoryError
from control.dra.evaluator import evaluate
from control.dra.policies import DqnPolicy, EnvBaselinePolicy, RandomPolicy, make_policy
from control.dra.stats import summarise
from control.dra.trainer import train


@pytest.fixture(autouse=True)
def _disarm_sigint() -> None:
    SigintAfter.remaining = None
    yield
    SigintAfter.remaining = None


def test_parquet_schema_rows_and_info_metrics(tmp_path: Path) -> None:
    out = tmp_path / "steps.parquet"
    result = evaluate(cartpole_with_info, RandomPolicy(), 5, out, seed=3, progress=False)
    table = pq.read_table(out)
    expected = {
        "episode": pa.int64(),
        "step": pa.int64(),
        "seed": pa.int64(),
        "action": pa.int64(),
        "reward": pa.float64(),
        "terminated": pa.bool_(),
        "truncated": pa.bool_(),
        "angle_abs": pa.float64(),
        "upright": pa.float64(),  # bools become 0/1 so their mean is a fraction
    }
    assert {f.name: f.type for f in table.schema} == expected  # the array entry is left out
    frame = table.to_pandas()
    assert sorted(frame.episode.unique()) == [0, 1, 2, 3, 4]
    for _, steps in frame.groupby("episode"):
        assert steps.step.tolist() == list(range(len(steps)))
        assert steps.seed.nunique() == 1
        assert steps.terminated.iloc[-1] or steps.truncated.iloc[-1]
        assert not (steps.terminated.iloc[:-1] | steps.truncated.iloc[:-1]).any()
    assert result.per_episode["return"].sum() == frame.reward.sum()
    assert result.per_episode["length"].tolist() == frame.groupby("episode").size().tolist()
    angle = frame.groupby("episode").angle_abs.mean().to_numpy()
    assert result.summaries["angle_abs"] == summarise("angle_abs", angle)
    assert not (tmp_path / "steps.parquet.partial").exists()


def test_t_interval_matches_the_table_value() -> None:
    # 1..5: mean 3, s = sqrt(2.5), t_{0.975, 4} = 2.776445 (Student-t table)
    summary = summarise("x", np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    assert summary.mean == 3.0 and summary.episodes == 5
    assert summary.half_width == pytest.approx(2.776445 * np.sqrt(2.5 / 5), rel=1e-6)
    single = summarise("x", np.array([4.0]))
    assert single.mean == 4.0 and np.isnan(single.ci_low)


def test_same_seed_same_steps_and_random_policy_is_seeded(tmp_path: Path) -> None:
    a = evaluate(cartpole, RandomPolicy(), 3, tmp_path / "a.parquet", seed=1, progress=False)
    b = evaluate(cartpole, RandomPolicy(), 3, tmp_path / "b.parquet", seed=1, progress=False)
    c = evaluate(cartpole, RandomPolicy(), 3, tmp_path / "c.parquet", seed=2, progress=False)
    assert pq.read_table(a.out_path).equals(pq.read_table(b.out_path))
    assert not pq.read_table(a.out_path).equals(pq.read_table(c.out_path))


def test_ctrl_c_keeps_whole_episodes_and_resume_completes_the_same_file(tmp_path: Path) -> None:
    def factory(seed: int):
        return SigintAfter(cartpole_with_info(seed))

    whole = evaluate(factory, RandomPolicy(), 6, tmp_path / "whole.parquet", progress=False)
    out = tmp_path / "cut.parquet"
    SigintAfter.remaining = 70
    cut = evaluate(factory, RandomPolicy(), 6, out, progress=False)
    assert cut.interrupted and not out.exists()
    kept = pq.read_table(cut.out_path).to_pandas()
    assert 0 < kept.episode.nunique() < 6 and len(kept) < 70  # the cut episode was dropped
    with pytest.raises(RunDirectoryError, match="already exists"):
        evaluate(factory, RandomPolicy(), 6, out, progress=False)
    done = evaluate(factory, RandomPolicy(), 6, out, resume=True, progress=False)
    assert done.out_path == out and not done.interrupted
    assert pq.read_table(out).equals(pq.read_table(whole.out_path))


def test_resume_refuses_another_evaluations_file(tmp_path: Path) -> None:
    out = tmp_path / "e.parquet"
    evaluate(cartpole, RandomPolicy(), 2, out, seed=1, progress=False)
    with pytest.raises(DraError, match="another evaluation"):
        evaluate(cartpole, RandomPolicy(), 4, out, seed=2, resume=True, progress=False)


def test_trained_dqn_policy_runs_from_a_run_directory(tmp_path: Path) -> None:
    run = train(cartpole, tiny_config(), tmp_path / "run", 4)
    policy = make_policy("dqn", tmp_path / "run")
    assert isinstance(policy, DqnPolicy)
    result = evaluate(cartpole, policy, 3, tmp_path / "dqn.parquet", progress=False)
    assert result.episodes == 3
    direct = DqnPolicy.from_checkpoint(run.checkpoint)
    obs = np.array([0.01, 0.2, -0.03, 0.1], dtype=np.float32)
    assert direct.act(obs, {}) == policy.act(obs, {}) in (0, 1)


def test_env_baselines_use_the_envs_own_description(tmp_path: Path) -> None:
    static = evaluate(choice_env, EnvBaselinePolicy("static"), 2, tmp_path / "s.parquet")
    greedy = evaluate(choice_env, EnvBaselinePolicy("greedy"), 2, tmp_path / "g.parquet")
    assert set(pq.read_table(static.out_path).column("action").to_pylist()) == {0}
    assert greedy.summaries["return"].mean == 10.0
    assert greedy.summaries["served"].mean == 1.0


def test_baselines_on_an_env_without_the_interface_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(BaselineUnavailableError, match="baseline_action"):
        evaluate(cartpole, EnvBaselinePolicy("greedy"), 1, tmp_path / "x.parquet")
    assert not list(tmp_path.iterdir())


def test_policy_names_are_checked() -> None:
    with pytest.raises(DraError, match="needs --checkpoint"):
        make_policy("dqn")
    with pytest.raises(DraError, match="only applies"):
        make_policy("random", "somewhere")
    with pytest.raises(DraError, match="unknown agent"):
        make_policy("clever")
