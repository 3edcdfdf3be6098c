"""QkdNetworkEnv as a Gymnasium env: the checker, registration, observation layout, actions."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from bridge.env import (
    DEFAULT_SCENARIO,
    DEMAND_FEATURES,
    ENV_ID,
    LINK_FEATURES,
    NODE_FEATURES,
    OBS_HIGH,
    ROUTE_CHOICES,
    QkdNetworkEnv,
)

pytestmark = pytest.mark.timeout(120)


def test_gymnasium_env_checker_passes(small_env: QkdNetworkEnv) -> None:
    # reset/step types, spaces, seeding determinism of reset and step, close twice
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a checker warning is a failure too
        check_env(small_env, skip_render_check=True)


def test_gym_make_gives_the_default_six_node_scenario() -> None:
    env = gym.make(ENV_ID)
    try:
        inner = env.unwrapped
        assert isinstance(inner, QkdNetworkEnv)
        assert inner.config.name == "six-node-secoqc"
        assert DEFAULT_SCENARIO.is_file()
        # six trusted nodes, eight links, two demands
        assert len(inner.plan.links) == 8 and len(inner.plan.demands) == 2
        assert env.observation_space.shape == (9 * 8 + 3 * 2 + 2 * 6,)
        obs, info = env.reset(seed=1)
        assert env.observation_space.contains(obs)
        obs, reward, terminated, truncated, info = env.step(0)
        assert env.observation_space.contains(obs)
        assert np.isfinite(reward) and not terminated and not truncated
        assert info["time_s"] == pytest.approx(inner.config.step_s)
        assert info["key_rate_bps"] > 0.0  # GYS links of a few km make key in 0.1 s
    finally:
        env.close()


def test_observation_layout_matches_observation_names(small_env: QkdNetworkEnv) -> None:
    env = small_env
    names = env.observation_names()
    n_links, n_demands, n_members = len(env.plan.links), len(env.plan.demands), len(env.members)
    assert len(names) == env.observation_space.shape[0] == len(set(names))
    assert n_members == 4  # A, B, C, D; the relay R is no member
    expected = [f"link{k}.{f}" for k in range(n_links) for f in LINK_FEATURES]
    expected += [f"demand{d}.{f}" for d in range(n_demands) for f in DEMAND_FEATURES]
    expected += [f"node{i}.{f}" for i in env.members for f in NODE_FEATURES]
    assert names == expected

    obs, _ = env.reset(seed=2)
    at = {name: float(value) for name, value in zip(names, obs, strict=True)}
    physics = env.scenario.physics
    for k in range(n_links):
        assert at[f"link{k}.mu"] == np.float32(physics.fixed_mu[k])
        assert at[f"link{k}.pulse_rate_ghz"] == np.float32(1.0)
        assert at[f"link{k}.protocol"] == 0.0
        assert at[f"link{k}.qber"] == 0.5  # nothing sifted yet
        assert at[f"link{k}.trusted"] == 1.0
        assert at[f"link{k}.loss_db/100"] == np.float32(physics.loss_db[k] / 100)
    # demand 0 asks for two paths: it starts as shares over node-disjoint routes
    assert at["demand0.route_choice"] == np.float32((ROUTE_CHOICES - 1) / ROUTE_CHOICES)
    assert at["demand1.route_choice"] == 0.0

    cfg = env.config
    for _ in range(8):  # past the Byzantine onset (0.5 s): QBER, trust and weights move
        obs, _, _, _, info = env.step(0)
    at = {name: float(value) for name, value in zip(names, obs, strict=True)}
    for k in range(n_links):
        assert at[f"link{k}.qber"] == np.float32(np.nan_to_num(info["link_qber"][k], nan=0.5))
        rate = info["link_key_rate_bps"][k] / cfg.reward.key_scale_bps
        assert at[f"link{k}.key_rate/scale"] == np.float32(min(rate, OBS_HIGH))
        assert at[f"link{k}.trusted"] == float(info["link_trusted"][k])
        assert at[f"link{k}.mu"] == np.float32(info["link_mu"][k])
    for d, spec in enumerate(env.plan.demands):
        delivered = info["demand_delivered_bps"][d] / spec.rate_bps
        assert at[f"demand{d}.delivered/requested"] == np.float32(min(delivered, OBS_HIGH))
        served = np.nan_to_num(info["demand_served_fraction"][d], nan=1.0)
        assert at[f"demand{d}.served_fraction"] == np.float32(served)
    for i, node in enumerate(env.members):
        assert at[f"node{node}.weight"] == np.float32(info["node_weight"][i])
    # the Byzantine node D intercepts from 0.5 s: its links measure high QBER and lose trust
    d_node = next(node.index for node in env.plan.nodes if node.label == "D")
    d_links = [link.index for link in env.plan.links if d_node in (link.a, link.b)]
    assert all(at[f"link{k}.qber"] > 0.1 for k in d_links)
    assert not any(info["link_trusted"][k] for k in d_links)
    # D reports truthfully: high QBER on its fibres is not evidence against D itself (an outside
    # eavesdropper looks the same), so its links lose trust but its weight does not fall
    assert at[f"node{d_node}.weight"] == 1.0


def test_action_meaning_names_every_action(small_env: QkdNetworkEnv) -> None:
    env = small_env
    n = env.action_space.n
    n_links, n_demands = len(env.plan.links), len(env.plan.demands)
    assert env.relay_links == [4]  # A-B through the untrusted relay R
    assert n == 1 + 2 * n_links + len(env.relay_links) + ROUTE_CHOICES * n_demands
    meanings = [env.action_meaning(a) for a in range(n)]
    assert len(set(meanings)) == n  # every action means something different
    assert meanings[0] == "no-op"
    for k in range(n_links):
        assert meanings[1 + 2 * k] == f"raise signal intensity of link {k}"
        assert meanings[2 + 2 * k] == f"lower signal intensity of link {k}"
    base = 1 + 2 * n_links
    assert meanings[base] == "switch link 4 between BB84-decoy and MDI-QKD"
    base += 1
    for d in range(n_demands):
        for k in range(ROUTE_CHOICES - 1):
            assert (
                meanings[base + ROUTE_CHOICES * d + k]
                == f"route demand {d} over candidate route {k}"
            )
        assert "shares over node-disjoint routes" in meanings[base + ROUTE_CHOICES * d + 4]
    for bad in (-1, n):
        with pytest.raises(ValueError, match="outside Discrete"):
            env.action_meaning(bad)
