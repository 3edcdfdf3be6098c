"""Property tests of the trust layer with the observers a QKD network really has.

Every link is observed by its two endpoints only. Up to f nodes are Byzantine and lie in their
reports in random ways (per link: shifted or replaced QBER, inverted or arbitrary votes, scaled
buffers, no report at all). Asserted, per the fault assumption of control/abft/diagnosis.py:
* no honest, truthful node ends below any Byzantine node in weight (honest weights never fall);
* no link whose QBER as measured at an honest endpoint exceeds the bound is ever trusted;
* a censoring primary either gets the censored reports into a batch or is replaced by a view
  change within a bounded number of steps;
* with f crashed nodes (and a synchronous network) no view change happens and every step is
  decided within report_wait_s plus a few message delays.
`ABFT_TRUST_EXAMPLES` raises the number of examples (`make test-slow` runs a longer search).
"""

from __future__ import annotations

import os

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from control.abft.byzantine import Censor, Crash, Strategy
from control.abft.coordinator import AbftConfig, AbftCoordinator, honest_reports
from control.abft.ledger import MeasuredInputs
from control.abft.reports import NodeReport
from control.abft.transport import InMemoryTransport, PartialSynchrony

from .test_coordinator import TRUST_QBER_MAX, endpoint_observers

EXAMPLES = int(os.environ.get("ABFT_TRUST_EXAMPLES", "15"))
SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)


class RandomLiar(Strategy):
    """Follows the protocol; each step lies on a random subset of its links in a random way."""

    name = "random-liar"

    def __init__(self, seed: int, lie_probability: float, silent_probability: float) -> None:
        super().__init__()
        self.rng = np.random.default_rng(seed)
        self.lie_probability = lie_probability
        self.silent_probability = silent_probability

    def report(self, step: int, report: NodeReport) -> NodeReport | None:
        rng = self.rng
        if rng.random() < self.silent_probability:
            return None
        qber = report.values["qber"].copy()
        buffers = report.values["buffer_bits"].copy()
        votes = report.votes.copy()
        mine = np.flatnonzero(votes != 0)
        for k in mine:
            if rng.random() >= self.lie_probability:
                continue
            kind = rng.integers(4)
            if kind == 0:  # hide (or invent) an eavesdropper, with a consistent vote
                qber[k] = rng.uniform(0.0, 0.3)
                votes[k] = 1 if qber[k] <= TRUST_QBER_MAX else -1
            elif kind == 1:  # vote against its own report
                votes[k] = -votes[k]
            elif kind == 2:  # claim an empty or bloated buffer
                buffers[k] *= rng.choice([0.0, 0.5, 3.0])
            else:  # vouch for the link whatever it measured
                votes[k] = 1
        values = {"qber": qber, "buffer_bits": buffers}
        return NodeReport(report.node, report.step, values, votes)


def connected_graph(n: int, extra: int, seed: int) -> tuple[tuple[int, int], ...]:
    rng = np.random.default_rng(seed)
    graph = nx.random_labeled_tree(n, seed=seed) if hasattr(nx, "random_labeled_tree") else None
    if graph is None:  # pragma: no cover - older networkx
        graph = nx.random_tree(n, seed=seed)
    nodes = list(range(n))
    for _ in range(extra):
        a, b = rng.choice(nodes, 2, replace=False)
        graph.add_edge(int(a), int(b))
    return tuple(sorted((min(a, b), max(a, b)) for a, b in graph.edges))


def step_reports(n, links, step, rng, bad_links):
    L = len(links)
    qber = np.full(L, 0.03)
    qber[bad_links] = rng.uniform(0.12, 0.3, len(bad_links))
    buffers = rng.uniform(1e5, 1e7, L)
    reports = honest_reports(
        step, {"qber": qber, "buffer_bits": buffers}, endpoint_observers(n, links), TRUST_QBER_MAX
    )
    return reports, MeasuredInputs(qber, np.full(L, 0.03), np.full(L, TRUST_QBER_MAX))


@st.composite
def graphs_with_liars(draw, max_nodes: int = 10):
    """A random connected graph of 4..max_nodes nodes and up to f of them as liars."""
    n = draw(st.integers(4, max_nodes))
    f = (n - 1) // 3
    links = connected_graph(n, draw(st.integers(0, 2 * n)), draw(st.integers(0, 2**16)))
    liars = draw(st.lists(st.integers(0, n - 1), max_size=f, unique=True))
    return n, links, liars


@st.composite
def liar_scenarios(draw):
    n, links, liars = draw(graphs_with_liars())
    bad = draw(st.lists(st.integers(0, len(links) - 1), max_size=len(links) // 2, unique=True))
    lie_p = draw(st.floats(0.0, 1.0))
    silent_p = draw(st.sampled_from([0.0, 0.0, 0.3]))
    return n, links, liars, sorted(bad), lie_p, silent_p, draw(st.integers(0, 2**16))


@SETTINGS
@given(liar_scenarios())
def test_liars_never_outweigh_honest_nodes_nor_make_a_bad_link_trusted(scenario):
    n, links, liars, bad, lie_p, silent_p, seed = scenario
    byzantine = {i: RandomLiar(seed + i, lie_p, silent_p) for i in liars}
    co = AbftCoordinator(
        AbftConfig(n_nodes=n, link_endpoints=links, seed=seed), byzantine=byzantine
    )
    honest = [i for i in range(n) if i not in byzantine]
    rng = np.random.default_rng(seed)
    for step in range(4):
        reports, measured = step_reports(n, links, step, rng, bad)
        d = co.run_step(step, reports, measured)
        assert d.decided and d.stats.honest_disagreements == 0
        np.testing.assert_array_equal(d.weights[honest], 1.0)
        assert not d.faulty[honest].any()
        if liars:
            assert d.weights[honest].min() >= d.weights[liars].max()
        for k, (a, b) in enumerate(links):
            honest_end_sees_bad = measured.measured_qber[k] > TRUST_QBER_MAX and (
                a in honest or b in honest
            )
            assert not (honest_end_sees_bad and d.trusted[k]), f"bad link {k} trusted"
        assert d.safety.safe


@st.composite
def censor_scenarios(draw):
    n = draw(st.integers(4, 10))
    links = connected_graph(n, draw(st.integers(n, 3 * n)), draw(st.integers(0, 2**16)))
    victims = draw(st.lists(st.integers(1, n - 1), min_size=1, max_size=n - 1, unique=True))
    return n, links, victims, draw(st.integers(0, 2**16))


@SETTINGS
@given(censor_scenarios())
def test_a_censoring_primary_is_replaced_and_the_censored_reports_get_in(scenario):
    n, links, victims, seed = scenario
    censor = Censor(victims)
    policy = PartialSynchrony(base_delay_s=1e-3, jitter_s=1e-3)
    config = AbftConfig(n_nodes=n, link_endpoints=links, seed=seed, step_deadline_s=5.0)
    co = AbftCoordinator(
        config, transport=InMemoryTransport(policy, seed=seed), byzantine={0: censor}
    )
    rng = np.random.default_rng(seed)
    decisions = []
    for step in range(5):
        reports, measured = step_reports(n, links, step, rng, [])
        decisions.append(co.run_step(step, reports, measured))
    assert all(d.decided and d.stats.honest_disagreements == 0 for d in decisions)
    if censor.censored == 0:
        return  # n - f reports leave it nothing to drop
    # Within two steps the censor is no longer primary, and from then on every honest report
    # is in its step's batch.
    assert decisions[2].stats.view >= 1
    outcome = co.ledgers[1].history
    for step in range(2, 5):
        assert set(outcome[step].reporters) >= set(range(1, n)), step
    # the censored reports were carried late (or the step re-proposed by the new primary)
    carried = {node for s in range(5) for _, node in outcome[s].late_reporters}
    in_batches = {node for s in range(2) for node in outcome[s].reporters}
    assert set(victims) <= carried | in_batches


@st.composite
def crash_scenarios(draw):
    n = draw(st.integers(4, 10))
    f = (n - 1) // 3
    links = connected_graph(n, draw(st.integers(0, 2 * n)), draw(st.integers(0, 2**16)))
    crashed = draw(st.lists(st.integers(1, n - 1), min_size=f, max_size=f, unique=True))
    jitter = draw(st.floats(0.0, 2e-3))
    return n, links, crashed, jitter, draw(st.integers(0, 2**16))


@SETTINGS
@given(crash_scenarios())
def test_f_crashed_nodes_cause_no_view_change_and_no_late_step(scenario):
    n, links, crashed, jitter, seed = scenario
    policy = PartialSynchrony(base_delay_s=1e-3, jitter_s=jitter)
    config = AbftConfig(n_nodes=n, link_endpoints=links, seed=seed, report_wait_s=0.01)
    co = AbftCoordinator(
        config,
        transport=InMemoryTransport(policy, seed=seed),
        byzantine={i: Crash(at_s=0.0) for i in crashed},
    )
    rng = np.random.default_rng(seed)
    max_delay = 1e-3 + jitter
    for step in range(8):
        reports, measured = step_reports(n, links, step, rng, [])
        d = co.run_step(step, reports, measured)
        assert d.decided and d.stats.view == 0
        # report, wait, pre-prepare, prepare and its certificate, commit and its certificate
        # (the linear normal case): wait + 6 message delays (+ float slack)
        assert d.stats.latency_s <= config.report_wait_s + 6 * max_delay + 1e-6


def test_the_timer_that_ends_the_report_wait_proposes_even_when_it_fires_a_hair_early():
    """Regression (issue: one crashed node caused view changes): the proposal no longer
    re-derives `waited` from floats when the wait timer fires; the firing is the fact."""
    n = 4
    links = ((0, 1), (1, 2), (2, 3), (3, 0))
    for start in (0.1, 0.29999900000000007, 1.0000001):
        policy = PartialSynchrony(base_delay_s=1e-3, jitter_s=0.0)
        transport = InMemoryTransport(policy, seed=1)
        transport.run_until(start)
        co = AbftCoordinator(
            AbftConfig(n_nodes=n, link_endpoints=links),
            transport=transport,
            byzantine={3: Crash(at_s=0.0)},
        )
        rng = np.random.default_rng(0)
        for step in range(20):
            reports, measured = step_reports(n, links, step, rng, [])
            d = co.run_step(step, reports, measured)
            assert d.decided and d.stats.view == 0 and d.stats.latency_s < 0.02


@pytest.mark.slow
def test_trust_layer_properties_long_run():
    """The three property searches above with many more examples (`make test-slow`)."""
    import subprocess
    import sys

    env = dict(os.environ, ABFT_TRUST_EXAMPLES="300")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            __file__,
            "-m",
            "not slow",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=3000,
    )
    assert done.returncode == 0, done.stdout[-3000:]
