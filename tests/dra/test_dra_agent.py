"""The DQN learning step against a hand computation: double-DQN target (van Hasselt et al. 2016),
termination masking, Huber loss weighted by importance weights, gradient clipping, target sync."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from control.dra.agent import DqnAgent
from control.dra.config import DqnConfig
from control.dra.replay import ReplayBatch


def _agent(**fields) -> DqnAgent:
    config = DqnConfig.model_validate({"network": {"hidden_sizes": [8]}, **fields})
    agent = DqnAgent(3, 4, config, np.random.SeedSequence(11))
    with torch.no_grad():  # make the target net differ from the online one
        for parameter in agent.target.parameters():
            parameter.add_(
                0.3 * torch.randn(parameter.shape, generator=torch.Generator().manual_seed(2))
            )
    return agent


def _batch(size: int = 32) -> ReplayBatch:
    rng = np.random.default_rng(4)
    return ReplayBatch(
        obs=rng.normal(size=(size, 3)).astype(np.float32),
        actions=rng.integers(0, 4, size=size),
        rewards=(rng.normal(size=size) * 3).astype(np.float32),
        next_obs=rng.normal(size=(size, 3)).astype(np.float32),
        terminated=(rng.random(size) < 0.3).astype(np.float32),
        weights=rng.uniform(0.2, 1.0, size=size).astype(np.float32),
        indices=np.arange(size),
    )


def _expected(agent: DqnAgent, batch: ReplayBatch, double: bool, gamma: float, delta: float):
    with torch.no_grad():
        q = agent.online(torch.from_numpy(batch.obs)).numpy().astype(np.float64)
        q_next_online = agent.online(torch.from_numpy(batch.next_obs)).numpy()
        q_next_target = agent.target(torch.from_numpy(batch.next_obs)).numpy().astype(np.float64)
    rows = np.arange(len(batch.actions))
    if double:
        next_q = q_next_target[rows, q_next_online.argmax(axis=1)]
    else:
        next_q = q_next_target.max(axis=1)
    target = batch.rewards + gamma * (1.0 - batch.terminated) * next_q
    diff = q[rows, batch.actions] - target
    huber = np.where(np.abs(diff) < delta, 0.5 * diff**2, delta * (np.abs(diff) - 0.5 * delta))
    return float(np.mean(batch.weights * huber)), np.abs(diff)


@pytest.mark.parametrize("double", [True, False])
def test_learn_minimises_the_documented_loss(double: bool) -> None:
    agent = _agent(double_dqn=double, gamma=0.9, huber_delta=1.0)
    batch = _batch()
    loss, td = _expected(agent, batch, double, gamma=0.9, delta=1.0)
    before = [p.detach().clone() for p in agent.online.parameters()]
    stats = agent.learn(batch)
    assert stats.loss == pytest.approx(loss, rel=1e-5)
    np.testing.assert_allclose(stats.td_errors, td, rtol=1e-5, atol=1e-6)
    assert any(
        not torch.equal(a, b) for a, b in zip(before, agent.online.parameters(), strict=True)
    )


def test_double_and_plain_targets_differ_when_the_networks_disagree() -> None:
    batch = _batch()
    double_loss, _ = _expected(_agent(), batch, True, 0.99, 1.0)
    plain_loss, _ = _expected(_agent(), batch, False, 0.99, 1.0)
    assert double_loss != plain_loss  # otherwise the test above could not tell them apart


def test_gradients_are_clipped_to_the_configured_norm() -> None:
    agent = _agent(max_grad_norm=1e-3)
    agent.learn(_batch())
    norm = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in agent.online.parameters()]))
    assert float(norm) <= 1e-3 * (1 + 1e-4)


def test_target_sync_hard_and_polyak() -> None:
    agent = _agent()
    agent.sync_target()
    for online, target in zip(agent.online.parameters(), agent.target.parameters(), strict=True):
        assert torch.equal(online, target)
    soft = _agent(tau=0.25)
    old = [p.clone() for p in soft.target.parameters()]
    soft.sync_target()
    pairs = zip(soft.online.parameters(), soft.target.parameters(), old, strict=True)
    for online, target, previous in pairs:
        torch.testing.assert_close(target, 0.75 * previous + 0.25 * online)


def test_epsilon_greedy_acts_greedily_at_zero_and_uniformly_at_one() -> None:
    agent = _agent()
    obs = np.random.default_rng(0).normal(size=(4000, 3)).astype(np.float32)
    assert np.array_equal(agent.act(obs, 0.0), agent.greedy_actions(obs))
    counts = np.bincount(agent.act(obs, 1.0), minlength=4)
    assert np.all(np.abs(counts - 1000) < 150)


def test_same_seed_same_networks_and_state_round_trip() -> None:
    a, b = _agent(), _agent()
    for x, y in zip(a.online.parameters(), b.online.parameters(), strict=True):
        assert torch.equal(x, y)
    a.learn(_batch())
    b.load_state_dict(a.state_dict())
    obs = _batch().obs
    assert np.array_equal(a.act(obs, 0.5), b.act(obs, 0.5))
    sa, sb = a.learn(_batch()), b.learn(_batch())
    assert sa.loss == sb.loss
