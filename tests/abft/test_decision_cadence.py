"""The decision cadence: decide every step while trust moves, every `quiet_interval_steps` while
it stands still, and at once when a report alarms (votes -1 on a link the standing decision
trusts).

Fault assumption (as for the trust layer, control/abft/diagnosis.py): at most f nodes are
Byzantine; a link is observed by its two endpoints only. What the cadence must not change:
* no step's decision - fresh or standing - trusts a link that an honest endpoint measures as bad
  in that step (an honest endpoint's alarm is decided in its own step);
* an alarm told to one honest node only reaches every honest node (the primary relays it), and
  a primary that does not relay is replaced (crashed primary below).
What it may change: quiet steps send no consensus traffic, and good news (a link recovering,
weights recovering) waits for the next scheduled step.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from control.abft.byzantine import Censor, Crash
from control.abft.coordinator import AbftConfig, AbftCoordinator
from control.abft.messages import AppMessage, encode_envelope, sign
from control.abft.reports import NodeReport, report_message

from .test_coordinator import TRUST_QBER_MAX, ring
from .test_trust_layer_properties import SETTINGS, RandomLiar, graphs_with_liars, step_reports

QUIET = 4


def coordinator(n, links, quiet=QUIET, **kwargs) -> AbftCoordinator:
    return AbftCoordinator(
        AbftConfig(n_nodes=n, link_endpoints=links, quiet_interval_steps=quiet, seed=1),
        **kwargs,
    )


def test_quiet_steps_send_nothing_and_keep_the_standing_decision():
    n, links = 6, ring(6)
    co = coordinator(n, links)
    rng = np.random.default_rng(0)
    fresh, sent = [], []
    for step in range(14):
        reports, measured = step_reports(n, links, step, rng, [])
        before = co.transport.stats.messages_sent
        d = co.run_step(step, reports, measured)
        assert d.decided and d.trusted.all()
        fresh.append(d.fresh)
        sent.append(co.transport.stats.messages_sent - before)
        if not d.fresh:
            assert d.step < step  # the standing decision says when it was made
    # step 0 moves trust (nothing was trusted before it), so step 1 is decided too; from then
    # on every QUIET-th step
    assert [s for s, f in enumerate(fresh) if f] == [0, 1, 5, 9, 13]
    # a quiet step carries at most the checkpoint of the decision before it, never a report
    assert all(sent[s] < sent[1] / 2 for s, f in enumerate(fresh) if not f)


def test_a_link_turning_bad_in_a_quiet_step_is_distrusted_in_that_step():
    n, links = 6, ring(6)
    co = coordinator(n, links)
    rng = np.random.default_rng(0)
    for step in range(3):  # step 2 is quiet
        co.run_step(step, *step_reports(n, links, step, rng, []))
    d = co.run_step(3, *step_reports(n, links, 3, rng, [2]))
    assert d.fresh and d.step == 3 and not d.trusted[2] and d.trusted[np.arange(6) != 2].all()
    # trust moved, so the next step is decided too
    assert co.run_step(4, *step_reports(n, links, 4, rng, [2])).fresh


def _alarm_from(co: AbftCoordinator, node: int, step: int, link: int) -> bytes:
    """A signed report of `node` for `step` voting -1 on `link` (one of its own)."""
    L = co.config.n_links
    qber, buffers, votes = np.full(L, np.nan), np.full(L, np.nan), np.zeros(L, dtype=np.int64)
    for k, (a, b) in enumerate(co.config.link_endpoints):
        if node in (a, b):
            qber[k], buffers[k], votes[k] = 0.03, 1e6, 1
    qber[link], votes[link] = 0.2, -1
    report = NodeReport(node, step, {"qber": qber, "buffer_bits": buffers}, votes)
    env = sign(co.replicas[node].signer, AppMessage(report_message(report.encode())))
    return encode_envelope(env)


def test_an_alarm_told_to_one_honest_node_reaches_every_honest_node():
    """A Byzantine author sends its alarm to one backup only (not the primary): that backup
    passes it to the primary, which relays it, so the step is decided by everyone."""
    n, links = 6, ring(6)
    liar = 4  # Byzantine, silent in the normal way (no report of its own at quiet steps)
    co = coordinator(n, links, byzantine={liar: RandomLiar(0, 0.0, 0.0)})
    rng = np.random.default_rng(0)
    for step in range(3):
        co.run_step(step, *step_reports(n, links, step, rng, []))
    reports, measured = step_reports(n, links, 3, rng, [])
    co.begin_step(3, reports, measured)
    assert not co.decision_needed(3)  # a quiet step so far
    co.transport.send(liar, 2, _alarm_from(co, liar, 3, link=3))  # link 3 joins nodes 3 and 4
    co.transport.run_until(co.transport.now_s() + 5.0, stop=lambda: co.all_honest_decided(3))
    d = co.decision(3)
    assert d.fresh and d.step == 3 and not d.trusted[3]
    assert d.stats.view == 0  # the honest primary relayed it: no view change was needed
    assert all(3 in co.ledgers[i].history for i in co.honest_ids)


def test_an_alarm_is_decided_when_the_primary_has_crashed():
    """The crashed primary relays nothing: the alarming node's report stays pending, the
    progress timeout changes the view, and the new primary relays the alarm."""
    n, links = 6, ring(6)
    crash = Crash(at_s=float("inf"))
    co = coordinator(n, links, byzantine={0: crash})  # node 0: primary of view 0
    rng = np.random.default_rng(0)
    for step in range(3):  # step 2 is quiet
        co.run_step(step, *step_reports(n, links, step, rng, []))
    crash.at_s = co.transport.now_s()
    d = co.run_step(3, *step_reports(n, links, 3, rng, [2]))  # link 2 joins nodes 2 and 3
    assert d.fresh and d.step == 3 and not d.trusted[2] and d.stats.view >= 1


@st.composite
def onset_scenarios(draw):
    n, links, liars = draw(graphs_with_liars(max_nodes=9))
    # each link may turn bad at some step and (maybe) good again later
    onsets = draw(st.lists(st.integers(1, 11), min_size=len(links), max_size=len(links)))
    lengths = draw(st.lists(st.integers(0, 6), min_size=len(links), max_size=len(links)))
    lie_p = draw(st.floats(0.0, 1.0))
    return n, links, liars, onsets, lengths, lie_p, draw(st.integers(0, 2**16))


@SETTINGS
@given(onset_scenarios(), st.sampled_from([2, 3, 5]), st.booleans())
def test_no_decision_trusts_a_link_an_honest_end_sees_bad_whatever_the_cadence(
    scenario, quiet, censoring_primary
):
    """With random liars, and (if there is room in f) a primary that leaves every honest report
    it can out of its batches - an alarm's author among them - until a view change replaces it."""
    n, links, liars, onsets, lengths, lie_p, seed = scenario
    byzantine: dict = {i: RandomLiar(seed + i, lie_p, 0.0) for i in liars if i != 0}
    if censoring_primary and len(byzantine) < (n - 1) // 3:
        byzantine[0] = Censor(None)  # node 0: primary of view 0
    co = coordinator(n, links, quiet=quiet, byzantine=byzantine)
    honest = [i for i in range(n) if i not in byzantine]
    rng = np.random.default_rng(seed)
    for step in range(14):
        bad = [k for k in range(len(links)) if onsets[k] <= step < onsets[k] + lengths[k]]
        reports, measured = step_reports(n, links, step, rng, bad)
        d = co.run_step(step, reports, measured)
        assert d.decided and d.stats.honest_disagreements == 0
        np.testing.assert_array_equal(d.weights[honest], 1.0)
        for k, (a, b) in enumerate(links):
            sees_bad = measured.measured_qber[k] > TRUST_QBER_MAX and (a in honest or b in honest)
            assert not (sees_bad and d.trusted[k]), f"step {step}: bad link {k} trusted"
