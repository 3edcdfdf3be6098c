"""Property-based tests of the whole coordinator: random Byzantine mixes and network schedules.

Per step, every honest node that decided holds the same decision (agreed values, trust, weights
bit for bit), the consensus weights stay safe and never give the Byzantine set a quorum, and
the Byzantine trust weights never exceed what their lies allow (a liar never gains weight).
"""

from __future__ import annotations

import os

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from control.abft.byzantine import Collusion, Delay, Equivocate, FalseReport, Silent
from control.abft.coordinator import AbftConfig, AbftCoordinator
from control.abft.quorum import check_safety, to_units
from control.abft.transport import InMemoryTransport, PartialSynchrony

from .test_coordinator import ring, step_inputs

EXAMPLES = int(os.environ.get("ABFT_COORD_EXAMPLES", "25"))


@st.composite
def coordinator_scenarios(draw):
    n = draw(st.sampled_from([4, 5, 7]))
    f = (n - 1) // 3
    byz_ids = draw(st.lists(st.integers(0, n - 1), max_size=f, unique=True))
    if len(byz_ids) >= 2 and draw(st.booleans()):
        byzantine = Collusion(byz_ids, value=draw(st.floats(0.0, 0.5))).strategies()
    else:
        options = [Silent, Equivocate, lambda: Delay(0.3), lambda: FalseReport(bias=0.05)]
        byzantine = {i: draw(st.sampled_from(options))() for i in byz_ids}
    policy = PartialSynchrony(
        base_delay_s=1e-3,
        jitter_s=draw(st.floats(0.0, 5e-3)),
        gst_s=draw(st.floats(0.0, 0.5)),
        drop_probability=draw(st.floats(0.0, 0.3)),
        max_delay_before_gst_s=draw(st.floats(0.0, 0.1)),
    )
    return n, f, byzantine, policy, draw(st.integers(0, 2**16))


@settings(
    max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
@given(coordinator_scenarios())
def test_honest_nodes_agree_and_weights_stay_safe(scenario):
    n, f, byzantine, policy, seed = scenario
    links = ring(n)
    config = AbftConfig(n_nodes=n, link_endpoints=links, seed=seed, step_deadline_s=60.0)
    co = AbftCoordinator(
        config, transport=InMemoryTransport(policy, seed=seed), byzantine=byzantine
    )
    rng = np.random.default_rng(seed)
    for step in range(4):
        reports, measured = step_inputs(n, links, step, rng)
        d = co.run_step(step, reports, measured)
        assert d.decided, "the step was not decided within 60 s of simulated time"
        assert d.stats.honest_disagreements == 0
        units = to_units(d.consensus_weights)
        report = check_safety(units, f)
        assert report.safe
        assert sum(units[i] for i in byzantine) < report.quorum_weight
        honest = [i for i in range(n) if i not in byzantine]
        np.testing.assert_array_equal(d.weights[honest], 1.0)  # honest nodes hold
