"""The DRA agent on the QKD env: the small scenario where its choices matter, the comparison
command end to end, and a trained DQN beating the random policy.

experiments/configs/dra-small.yaml is a four-node diamond whose A->D demand's shortest route runs
through a node that is Byzantine from the start (it tampers with every relayed key), while the
longer route is honest. Episodes are 20 steps of ~7 ms, so a whole training run takes seconds.
ns-3 is one simulation per process: the trainer and the evaluator close every env they open.
"""

from __future__ import annotations

import csv
import subprocess
from functools import partial
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.conftest import qkdnet_command

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "experiments" / "configs" / "dra-small.yaml"
SMALL_TRAINING = ROOT / "experiments" / "configs" / "training" / "dra-small.yaml"
EVAL_SEED = 100  # evaluation episodes use their own seeds, disjoint from training's
STEPS = 20  # dra-small.yaml's episode length

pytestmark = pytest.mark.timeout(300)


def _factory():
    from bridge.env_factory import make_env

    return partial(make_env, str(SMALL))


class _FixedAction:
    """Always the same action (the evaluator's policy protocol)."""

    def __init__(self, action: int, name: str) -> None:
        self.action, self.name = action, name

    def reset(self, env, seed: int) -> None:
        del env, seed

    def act(self, obs, info) -> int:
        return self.action


def _mean_return(policy, episodes: int, out: Path) -> float:
    from control.dra.evaluator import evaluate

    result = evaluate(_factory(), policy, episodes, out, seed=EVAL_SEED, progress=False)
    assert result.episodes == episodes
    return result.summaries["return"].mean


def test_small_scenario_rewards_moving_the_demand_off_the_byzantine_route(tmp_path: Path) -> None:
    from bridge.env_factory import make_env
    from control.dra.policies import EnvBaselinePolicy

    env = make_env(SMALL)
    try:
        inner = env.unwrapped
        demand = inner.plan.demands[0]
        byzantine = {inner.plan.nodes[i].label for i in inner.plan.byzantine}
        labels = [[inner.plan.nodes[n].label for n in r] for r in demand.candidate_routes]
        honest = next(k for k, r in enumerate(labels) if "B" not in r)
        action = next(
            a
            for a in range(env.action_space.n)
            if inner.action_meaning(a) == f"route demand 0 over candidate route {honest}"
        )
    finally:
        env.close()
    assert labels[0] == ["A", "B", "D"], "the shortest route must run through the Byzantine node"
    assert byzantine == {"B"}
    static = _mean_return(EnvBaselinePolicy("static"), 2, tmp_path / "static.parquet")
    honest_route = _mean_return(_FixedAction(action, "honest"), 2, tmp_path / "honest.parquet")
    greedy = _mean_return(EnvBaselinePolicy("greedy"), 2, tmp_path / "greedy.parquet")
    # static keeps the Byzantine route: nothing delivered, every request unserved (-0.5 a step)
    assert static == pytest.approx(-0.5 * STEPS)
    # the honest route serves the demand almost every step (reward ~1 a step)
    assert honest_route > 0.8 * STEPS
    assert greedy > static + 0.5 * STEPS


def test_compare_command_runs_every_agent_on_the_small_scenario(tmp_path: Path) -> None:
    def qkdnet(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*qkdnet_command(), *args], cwd=tmp_path, capture_output=True, text=True, timeout=240
        )

    trained = qkdnet(
        "train", str(SMALL), "--config", str(SMALL_TRAINING), "--episodes", "2", "--out", "run"
    )
    assert trained.returncode == 0, trained.stderr
    assert "2 episodes, 40 env steps" in trained.stdout
    compared = qkdnet(
        "evaluate", str(SMALL), "--agent", "dqn", "--agent", "static,greedy", "--agent", "random",
        "--checkpoint", "run", "--episodes", "2", "--out", "eval",
    )  # fmt: skip
    assert compared.returncode == 0, compared.stderr
    table = compared.stdout
    for heading in ("return", "key rate (delivered bit/s)", "QBER", "availability", "95%"):
        assert heading in table
    rows = [line for line in table.splitlines() if line.startswith("│")]
    assert [row.split("│")[1].strip() for row in rows] == ["dqn", "static", "greedy", "random"]
    for agent in ("dqn", "static", "greedy", "random"):
        steps = pq.read_table(tmp_path / "eval" / f"dra-small-{agent}-seed0.parquet").to_pandas()
        assert len(steps) == 2 * STEPS
        assert {"delivered_bps", "qber", "availability", "key_rate_bps"} <= set(steps.columns)
    with (tmp_path / "eval" / "comparison.csv").open() as handle:
        summary = list(csv.DictReader(handle))
    assert len(summary) == 4 * 4  # four agents x (return, delivered, QBER, availability)
    static = next(r for r in summary if r["agent"] == "static" and r["metric"] == "delivered_bps")
    assert float(static["mean"]) == 0.0  # shortest route through the Byzantine node


def test_trained_dqn_beats_random_on_the_small_scenario(tmp_path: Path) -> None:
    from control.dra.config import load_training_config, parse_training_config
    from control.dra.policies import DqnPolicy, EnvBaselinePolicy, RandomPolicy
    from control.dra.trainer import train

    settings = load_training_config(SMALL_TRAINING).model_dump(mode="json")
    settings["trainer"].update(seed=0, progress=False, tensorboard=False)
    config = parse_training_config(settings)
    result = train(_factory(), config, tmp_path / "run", episodes=60)
    assert result.env_steps == 60 * STEPS and not result.interrupted

    episodes = 5
    dqn = _mean_return(DqnPolicy.from_checkpoint(result.checkpoint), episodes, tmp_path / "d.pq")
    rand = _mean_return(RandomPolicy(), episodes, tmp_path / "r.pq")
    static = _mean_return(EnvBaselinePolicy("static"), episodes, tmp_path / "s.pq")
    # the optimum is ~0.9 * STEPS (route away from B on the first step); random ~0.25 * STEPS
    assert dqn >= rand + 0.25 * STEPS, (dqn, rand)
    assert dqn > static + 0.5 * STEPS, (dqn, static)
