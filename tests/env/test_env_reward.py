"""The reward is the documented formula of info's raw metrics, and a seed fixes a trajectory bit
for bit (ns-3's run number, the channel processes and the control plane all follow it)."""

from __future__ import annotations

import numpy as np
import pytest

from bridge.env import QkdNetworkEnv
from bridge.scenario.config import load_scenario

from .conftest import SMALL, rollout, same_info

pytestmark = pytest.mark.timeout(120)


def documented_reward(env: QkdNetworkEnv, info: dict) -> float:
    """bridge.env's docstring: key_weight * delivered / scale - insecure_penalty * (key made on
    links measuring QBER above insecure_qber) / scale - unserved_penalty * sum(unserved)."""
    r = env.config.reward
    qber = np.nan_to_num(info["link_qber"], nan=0.0)
    insecure = info["link_key_rate_bps"][qber > r.insecure_qber].sum()
    delivered = info["demand_delivered_bps"].sum()
    served = np.nan_to_num(info["demand_served_fraction"], nan=1.0)
    unserved = np.clip(1.0 - served, 0.0, None).sum()
    assert info["delivered_bps"] == pytest.approx(delivered)
    assert info["insecure_bps"] == pytest.approx(insecure)
    assert info["unserved"] == pytest.approx(unserved)
    return (
        r.key_weight * delivered / r.key_scale_bps
        - r.insecure_penalty * insecure / r.key_scale_bps
        - r.unserved_penalty * unserved
    )


@pytest.mark.parametrize(
    "weights",
    [
        {},  # the scenario's reward section
        # every term non-zero: honest links (QBER ~3.3 %) count as insecure here
        {
            "key_weight": 2.0,
            "insecure_penalty": 0.7,
            "unserved_penalty": 1.5,
            "insecure_qber": 0.033,
        },
    ],
)
def test_reward_is_the_documented_formula_of_info(weights: dict) -> None:
    config = load_scenario(SMALL)
    config = config.model_copy(update={"reward": config.reward.model_copy(update=weights)})
    env = QkdNetworkEnv(config)
    try:
        env.action_space.seed(0)
        actions = [int(env.action_space.sample()) for _ in range(25)]
        steps = rollout(env, actions, seed=1)[1:]
    finally:
        env.close()
    terms = {"delivered": 0.0, "insecure": 0.0, "unserved": 0.0}
    for _, reward, _, _, info in steps:
        assert reward == pytest.approx(documented_reward(env, info), rel=1e-12, abs=1e-12)
        terms["delivered"] += info["delivered_bps"]
        terms["insecure"] += info["insecure_bps"]
        terms["unserved"] += info["unserved"]
    assert terms["delivered"] > 0.0
    if weights:  # the formula was checked with every term at work
        assert terms["insecure"] > 0.0 and terms["unserved"] > 0.0


def test_same_seed_same_trajectory_bit_for_bit(small_env: QkdNetworkEnv) -> None:
    env = small_env
    env.action_space.seed(3)
    actions = [int(env.action_space.sample()) for _ in range(12)]
    first = rollout(env, actions, seed=11)
    second = rollout(env, actions, seed=11)  # a fresh ns-3 scenario, same seed
    for (o1, r1, te1, tr1, i1), (o2, r2, te2, tr2, i2) in zip(first, second, strict=True):
        assert o1.tobytes() == o2.tobytes()
        assert r1 == r2 and te1 == te2 and tr1 == tr2
        assert same_info(i1, i2)

    other = rollout(env, actions, seed=12)
    differs = [
        o1.tobytes() != o2.tobytes() for (o1, *_), (o2, *_) in zip(first, other, strict=True)
    ]
    assert sum(differs[1:]) >= len(actions) // 2  # the stepped observations differ
    assert not all(same_info(i1, i2) for (*_, i1), (*_, i2) in zip(first, other, strict=True))


def test_unseeded_env_runs_the_scenario_seed() -> None:
    """First reset() without a seed = the scenario's seed (what `qkdnet gym-sim` without --seed
    and env_factory.make_env(path, seed) rely on)."""
    from bridge.env_factory import make_env

    env = make_env(SMALL, seed=21)
    try:
        unseeded = rollout(env, [0, 0, 0], seed=None)
        seeded = rollout(env, [0, 0, 0], seed=21)
    finally:
        env.close()
    for (o1, r1, *_), (o2, r2, *_) in zip(unseeded, seeded, strict=True):
        assert o1.tobytes() == o2.tobytes() and r1 == r2
