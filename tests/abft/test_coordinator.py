"""AbftCoordinator end to end on the in-memory transport, and the "no ABFT" baseline."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from pydantic import ValidationError

from control.abft.byzantine import Collusion, Equivocate, FalseReport, Silent
from control.abft.coordinator import (
    AbftConfig,
    AbftCoordinator,
    BaselineCoordinator,
    honest_reports,
)
from control.abft.errors import ConfigurationError, UnsafeWeightsError
from control.abft.ledger import MeasuredInputs, weighted_median
from control.abft.transport import InMemoryTransport, PartialSynchrony

TRUST_QBER_MAX = 0.11


def ring(n: int) -> tuple[tuple[int, int], ...]:
    return tuple((i, (i + 1) % n) for i in range(n))


def step_inputs(n: int, links, step: int, rng: np.random.Generator, bad_links=()):
    L = len(links)
    qber = np.full(L, 0.02) + rng.normal(0.0, 0.001, L)
    qber[list(bad_links)] = 0.15
    buffers = np.full(L, 1e6) + rng.normal(0.0, 1e3, L)
    reports = honest_reports(
        step, {"qber": qber, "buffer_bits": buffers}, np.ones((n, L), bool), TRUST_QBER_MAX
    )
    return reports, MeasuredInputs(qber, np.full(L, 0.02))


def run(coordinator, n, links, steps, seed=0, bad_links=()):
    rng = np.random.default_rng(seed)
    out = []
    for step in range(steps):
        reports, measured = step_inputs(n, links, step, rng, bad_links)
        out.append(coordinator.run_step(step, reports, measured))
    return out


def test_false_reporter_weight_falls_while_honest_weights_hold():
    n, links = 7, ring(7)
    co = AbftCoordinator(AbftConfig(n_nodes=n, link_endpoints=links), byzantine={3: FalseReport()})
    decisions = run(co, n, links, 15)
    assert all(d.decided and d.stats.honest_disagreements == 0 for d in decisions)
    liar = [d.weights[3] for d in decisions]
    assert liar[0] < 1.0 and liar[-1] == pytest.approx(0.05, abs=1e-4)  # the floor
    assert all(b <= a for a, b in zip(liar, liar[1:], strict=False))
    for d in decisions:
        np.testing.assert_array_equal(np.delete(d.weights, 3), 1.0)
        assert d.errors[3] > 0.5 and np.all(np.delete(d.errors, 3) == 0.0)


def test_colluding_liars_within_the_bound_cannot_move_values_or_trust_but_fool_the_baseline():
    n, links = 7, ring(7)
    config = AbftConfig(n_nodes=n, link_endpoints=links)
    group = Collusion(members=[0, 5], value=0.3, quantities=["qber"])  # includes the primary
    abft = run(AbftCoordinator(config, byzantine=group.strategies()), n, links, 6, bad_links=[2])
    base = run(
        BaselineCoordinator(config, byzantine=group.strategies()), n, links, 6, bad_links=[2]
    )
    rng = np.random.default_rng(0)
    truth = [step_inputs(n, links, s, rng, [2])[1].measured_qber for s in range(6)]
    expected_trust = np.ones(len(links), bool)
    expected_trust[2] = False
    for d, q in zip(abft, truth, strict=True):
        assert d.decided and d.stats.honest_disagreements == 0
        np.testing.assert_allclose(d.agreed["qber"], q)
        np.testing.assert_array_equal(d.trusted, expected_trust)
    # the baseline averages the lie in: every link's QBER is pulled towards 0.3
    for d, q in zip(base, truth, strict=True):
        assert np.all(d.agreed["qber"] > q + 0.04)
    assert abft[-1].weights[5] < 0.3  # member 5 reported every step; 0 may be left out as primary
    assert abft[-1].safety.safe


@pytest.mark.parametrize("strategy", [Silent(), Equivocate()], ids=["silent", "equivocating"])
def test_byzantine_primary_costs_a_view_change_not_a_decision(strategy):
    n, links = 4, ring(4)
    co = AbftCoordinator(AbftConfig(n_nodes=n, link_endpoints=links), byzantine={0: strategy})
    decisions = run(co, n, links, 4)
    assert all(d.decided and d.stats.honest_disagreements == 0 for d in decisions)
    assert decisions[0].stats.view >= 1
    assert decisions[0].stats.latency_s > 0.2  # waited for the progress timeout (simulated s)
    assert decisions[-1].stats.latency_s < 0.1  # then the new primary decides promptly


def test_statistics_are_in_simulated_time_and_bytes():
    n, links = 4, ring(4)
    d = run(AbftCoordinator(AbftConfig(n_nodes=n, link_endpoints=links)), n, links, 1)[0]
    # reports n(n-1), pre-prepare n-1, prepares (n-1)(n-1), commits n(n-1), checkpoints n(n-1)
    assert d.stats.messages == 3 * n * (n - 1) + (n - 1) + (n - 1) ** 2
    assert d.stats.bytes > d.stats.messages * 100
    assert 0 < d.stats.first_decision_s <= d.stats.latency_s < 0.05


def test_same_seed_gives_identical_decisions():
    def trace(seed):
        n, links = 7, ring(7)
        policy = PartialSynchrony(gst_s=0.3, drop_probability=0.2, max_delay_before_gst_s=0.05)
        config = AbftConfig(n_nodes=n, link_endpoints=links, seed=seed)
        co = AbftCoordinator(
            config,
            transport=InMemoryTransport(policy, seed=seed),
            byzantine={1: Equivocate(), 4: FalseReport()},
        )
        return [
            (d.weights.tobytes(), d.trusted.tobytes(), d.stats.messages, d.stats.latency_s)
            for d in run(co, n, links, 5)
        ]

    assert trace(3) == trace(3)
    assert trace(3) != trace(4)


def test_lossy_network_still_decides_every_step():
    n, links = 7, ring(7)
    policy = PartialSynchrony(gst_s=0.5, drop_probability=0.3, max_delay_before_gst_s=0.1)
    config = AbftConfig(n_nodes=n, link_endpoints=links, step_deadline_s=60.0)
    co = AbftCoordinator(config, transport=InMemoryTransport(policy, seed=2))
    decisions = run(co, n, links, 6)
    assert all(d.decided and d.stats.honest_disagreements == 0 for d in decisions)
    assert all(d.stats.honest_decided == n for d in decisions)


def test_links_with_excess_measured_qber_raise_their_endpoints_error():
    n, links = 4, ring(4)
    config = AbftConfig(
        n_nodes=n, link_endpoints=links, report_error_weight=0.0, qber_blame="shared"
    )
    co = AbftCoordinator(config)
    rng = np.random.default_rng(0)
    reports, measured = step_inputs(n, links, 0, rng)
    measured = MeasuredInputs(measured.measured_qber + np.array([0.05, 0, 0, 0]), np.full(4, 0.02))
    d = co.run_step(0, reports, measured)
    # link 0 joins nodes 0 and 1, each also has one clean link: error = 0.5 * mean(1, 0)
    np.testing.assert_allclose(d.errors, [0.25, 0.25, 0.0, 0.0])


def test_attributed_blame_falls_on_the_common_end_of_anomalous_links():
    n, links = 4, ring(4)  # links (0,1), (1,2), (2,3), (3,0)
    config = AbftConfig(n_nodes=n, link_endpoints=links, report_error_weight=0.0)
    rng = np.random.default_rng(0)
    reports, measured = step_inputs(n, links, 0, rng)
    # Node 1 eavesdrops on both its links; its neighbours 0 and 2 have a clean link each.
    excess = MeasuredInputs(measured.measured_qber + np.array([0.05, 0.05, 0, 0]), np.full(4, 0.02))
    d = AbftCoordinator(config).run_step(0, reports, excess)
    np.testing.assert_allclose(d.errors, [0.0, 0.5, 0.0, 0.0])
    # One anomalous link between two otherwise clean ends: no evidence, the blame is split.
    lone = MeasuredInputs(measured.measured_qber + np.array([0.05, 0, 0, 0]), np.full(4, 0.02))
    d = AbftCoordinator(config).run_step(0, reports, lone)
    np.testing.assert_allclose(d.errors, [0.125, 0.125, 0.0, 0.0])


def test_more_liars_than_the_bound_get_weights_clamped_and_safety_is_kept(caplog):
    n, links = 4, ring(4)  # f = 1, but two liars (about QBER; their votes are honest)
    liars = {2: FalseReport(invert_votes=False), 3: FalseReport(invert_votes=False)}
    co = AbftCoordinator(AbftConfig(n_nodes=n, link_endpoints=links), byzantine=liars)
    with caplog.at_level(logging.WARNING, logger="control.abft.coordinator"):
        decisions = run(co, n, links, 30)
    assert all(d.safety.safe for d in decisions)
    assert "unsafe" in caplog.text  # the reason is logged, once per step
    clamped = [d for d in decisions if d.clamp_reason is not None]
    assert clamped and "unsafe" in clamped[0].clamp_reason
    # the liars' consensus weights stop where 3 F_max < W still holds: 3 * 1 < 2 + w2 + w3 ...
    final = decisions[-1].consensus_weights
    assert final[2] + final[3] > 1.0 and final[2] < 0.6 and final[3] < 0.6
    np.testing.assert_array_equal(final[:2], 1.0)
    # ... while their trust weights (the vote) follow the adaptive rule down to the floor
    np.testing.assert_allclose(decisions[-1].weights, [1, 1, 0.05, 0.05], atol=1e-4)
    assert co.safety_report().safe
    assert not co.safety_report(f=2).safe  # the check says two faults are beyond it


def test_configurations_that_cannot_be_safe_are_refused():
    with pytest.raises(UnsafeWeightsError, match="cannot tolerate f=2 Byzantine of n=6"):
        AbftCoordinator(AbftConfig(n_nodes=6, f=2, link_endpoints=ring(6)))
    with pytest.raises(ValidationError, match="outside 0..3"):
        AbftConfig(n_nodes=4, link_endpoints=((0, 9),))
    with pytest.raises(ValidationError, match="initial_weights"):
        AbftConfig(n_nodes=4, link_endpoints=ring(4), initial_weights=(1.0, 1.0))
    with pytest.raises(ValidationError):
        AbftConfig(n_nodes=4, link_endpoints=ring(4), alpha=1.5)


def test_malformed_step_inputs_are_refused_with_a_named_problem():
    n, links = 4, ring(4)
    co = AbftCoordinator(AbftConfig(n_nodes=n, link_endpoints=links))
    reports, measured = step_inputs(n, links, 0, np.random.default_rng(0))
    with pytest.raises(ConfigurationError, match="measured_qber"):
        co.begin_step(0, reports, MeasuredInputs(np.zeros(2), np.zeros(4)))
    with pytest.raises(ConfigurationError, match="says node 1 step 0"):
        co.begin_step(0, {0: reports[1]}, measured)
    co.run_step(0, reports, measured)
    with pytest.raises(ConfigurationError, match="does not follow"):
        co.begin_step(0, reports, measured)


def test_weighted_median_ignores_missing_reports_and_follows_weight():
    values = np.array([[1.0, np.nan], [2.0, 5.0], [10.0, np.nan]])
    np.testing.assert_array_equal(weighted_median(values, np.array([1, 1, 1])), [2.0, 5.0])
    np.testing.assert_array_equal(weighted_median(values, np.array([1, 1, 5])), [10.0, 5.0])
    assert np.isnan(weighted_median(np.full((2, 1), np.nan), np.array([1, 1]))[0])
