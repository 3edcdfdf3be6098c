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
from control.abft.ledger import MeasuredInputs
from control.abft.transport import InMemoryTransport, PartialSynchrony

TRUST_QBER_MAX = 0.11


def ring(n: int) -> tuple[tuple[int, int], ...]:
    return tuple((i, (i + 1) % n) for i in range(n))


def circulant(n: int) -> tuple[tuple[int, int], ...]:
    """Links i-(i+1) and i-(i+2): every node has degree 4, more than f = 2 of n = 7."""
    return ring(n) + tuple((i, (i + 2) % n) for i in range(n))


def endpoint_observers(n: int, links) -> np.ndarray:
    """What a QKD network really has: a link is observed by its two endpoints only."""
    observers = np.zeros((n, len(links)), dtype=bool)
    for k, (a, b) in enumerate(links):
        observers[a, k] = observers[b, k] = True
    return observers


def step_inputs(n: int, links, step: int, rng: np.random.Generator, bad_links=()):
    L = len(links)
    qber = np.full(L, 0.02) + rng.normal(0.0, 0.001, L)
    qber[list(bad_links)] = 0.15
    buffers = np.full(L, 1e6) + rng.normal(0.0, 1e3, L)
    reports = honest_reports(
        step, {"qber": qber, "buffer_bits": buffers}, endpoint_observers(n, links), TRUST_QBER_MAX
    )
    return reports, MeasuredInputs(qber, np.full(L, 0.02), np.full(L, TRUST_QBER_MAX))


def run(coordinator, n, links, steps, seed=0, bad_links=()):
    rng = np.random.default_rng(seed)
    out = []
    for step in range(steps):
        reports, measured = step_inputs(n, links, step, rng, bad_links)
        out.append(coordinator.run_step(step, reports, measured))
    return out


def touching(links, nodes) -> np.ndarray:
    return np.array([a in nodes or b in nodes for a, b in links])


def test_false_reporter_weight_falls_while_honest_weights_hold():
    n, links = 7, circulant(7)
    co = AbftCoordinator(AbftConfig(n_nodes=n, link_endpoints=links), byzantine={3: FalseReport()})
    decisions = run(co, n, links, 15)
    assert all(d.decided and d.stats.honest_disagreements == 0 for d in decisions)
    liar = [d.weights[3] for d in decisions]
    assert liar[0] < 1.0 and liar[-1] == pytest.approx(0.05, abs=1e-4)  # the floor
    assert all(b <= a for a, b in zip(liar, liar[1:], strict=False))
    for d in decisions:
        np.testing.assert_array_equal(np.delete(d.weights, 3), 1.0)
        assert d.faulty[3] and not np.delete(d.faulty, 3).any()
        assert d.errors[3] == 1.0 and np.all(np.delete(d.errors, 3) == 0.0)
        # its (inverted) votes cost its own links, and nothing else
        np.testing.assert_array_equal(d.trusted, ~touching(links, {3}))


def test_colluding_liars_within_the_bound_cannot_make_a_bad_link_trusted_but_fool_the_baseline():
    n, links = 7, circulant(7)
    config = AbftConfig(n_nodes=n, link_endpoints=links)
    group = Collusion(members=[0, 5], value=0.3, quantities=["qber"])  # includes the primary
    bad = [2]  # joins nodes 2 and 3, both honest
    abft = run(AbftCoordinator(config, byzantine=group.strategies()), n, links, 6, bad_links=bad)
    base = run(
        BaselineCoordinator(config, byzantine=group.strategies()), n, links, 6, bad_links=bad
    )
    rng = np.random.default_rng(0)
    truth = [step_inputs(n, links, s, rng, bad)[1].measured_qber for s in range(6)]
    liars_link = touching(links, {0}) & touching(links, {5})
    expected_trust = ~touching(links, {0, 5})
    expected_trust[2] = False
    for d, q in zip(abft, truth, strict=True):
        assert d.decided and d.stats.honest_disagreements == 0
        np.testing.assert_allclose(d.agreed["qber"][~liars_link], q[~liars_link])
        np.testing.assert_array_equal(d.trusted, expected_trust)
    # the baseline averages the lie in: the links the liars observe look worse than they are
    for d, q in zip(base, truth, strict=True):
        assert np.all(d.agreed["qber"][touching(links, {0, 5})] > q[touching(links, {0, 5})] + 0.1)
    assert abft[-1].weights[5] < 0.3 and abft[-1].weights[0] < 0.3
    np.testing.assert_array_equal(np.delete(abft[-1].weights, [0, 5]), 1.0)
    assert abft[-1].safety.safe


def test_an_eavesdropped_link_is_distrusted_and_costs_no_endpoint_its_weight():
    n, links = 4, ring(4)
    decisions = run(
        AbftCoordinator(AbftConfig(n_nodes=n, link_endpoints=links)), n, links, 3, bad_links=[0]
    )
    for d in decisions:
        np.testing.assert_array_equal(d.trusted, [False, True, True, True])
        assert not d.disputed.any() and not d.faulty.any()
        np.testing.assert_array_equal(d.weights, 1.0)


def test_a_liar_hiding_an_eavesdropper_cannot_make_the_link_trusted_nor_frame_its_neighbour():
    # ring(4): f = 1 and every node has two neighbours. Node 1 claims its eavesdropped link 0
    # (to node 0) is clean and lies on nothing else: a 1-vs-1 disagreement, so nobody is blamed,
    # and the honest end's report keeps the link distrusted.
    n, links = 4, ring(4)
    liar = FalseReport(value=0.02, quantities=["qber"], invert_votes=False)

    class OnlyLink0(FalseReport):
        def report(self, step, report):
            lied = liar.report(step, report)
            votes = report.votes.copy()
            votes[0] = 1  # and vouches for it
            qber = report.values["qber"].copy()
            qber[0] = lied.values["qber"][0]
            return type(report)(report.node, report.step, {**report.values, "qber": qber}, votes)

    co = AbftCoordinator(AbftConfig(n_nodes=n, link_endpoints=links), byzantine={1: OnlyLink0()})
    for d in run(co, n, links, 5, bad_links=[0]):
        assert not d.trusted[0]
        assert d.agreed["qber"][0] >= 0.15  # the worst credible report
        assert not d.faulty.any()
        np.testing.assert_array_equal(d.weights, 1.0)


def test_a_liar_framing_all_its_neighbours_is_the_one_diagnosed():
    # The liar reports every link it has as eavesdropped: its links are distrusted (a cost, and
    # marked disputed), and it is the node proved faulty - not the neighbours it contradicts.
    n, links = 7, circulant(7)
    co = AbftCoordinator(
        AbftConfig(n_nodes=n, link_endpoints=links),
        byzantine={4: FalseReport(value=0.3, quantities=["qber"], invert_votes=False)},
    )
    for d in run(co, n, links, 4):
        mine = touching(links, {4})
        np.testing.assert_array_equal(d.trusted, ~mine)
        np.testing.assert_array_equal(d.disputed, mine)
        np.testing.assert_array_equal(d.faulty, np.arange(n) == 4)
        assert d.weights[4] < 1.0 and np.all(np.delete(d.weights, 4) == 1.0)


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
    # Linear normal case, all through the primary: reports, pre-prepare, prepares, the prepare
    # certificate, commits, the commit certificate, checkpoints - n - 1 messages each (the
    # checkpoint certificate leaves after the decision). All-to-all PBFT would send ~4 n^2.
    assert d.stats.messages == 7 * (n - 1)
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


def test_more_liars_than_the_bound_keep_the_quorum_weights_safe(caplog):
    # Beyond f the diagnosis' assumption is gone (two liars on K4 can out-vote an honest node's
    # comparisons), so trust weights may fall anywhere; the quorum weights must still stay safe.
    n = 4
    links = tuple((i, j) for i in range(n) for j in range(i + 1, n))
    liars = {2: FalseReport(invert_votes=False), 3: FalseReport(invert_votes=False)}
    co = AbftCoordinator(AbftConfig(n_nodes=n, link_endpoints=links), byzantine=liars)
    with caplog.at_level(logging.WARNING, logger="control.abft.coordinator"):
        decisions = run(co, n, links, 30)
    assert all(d.decided and d.safety.safe for d in decisions)
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
