"""Property-based tests of weighted PBFT (hypothesis): randomized message order, delay and drops.

Partial synchrony: before the global stabilisation time (GST) messages are dropped or delayed at
random; afterwards they arrive within a bound. Up to f of n >= 3f + 1 nodes follow a random
Byzantine strategy (or collude). Properties, from PBFT (Castro & Liskov 2002):
  safety   no two honest nodes execute different values at the same sequence number;
  liveness after GST every honest node executes every wanted decision.
Weighted variants use WHEAT weights or weights that change after every decision (taking
effect at the next checkpoint; checkpoint intervals 1 to 3).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from control.abft.byzantine import Collusion, Crash, Delay, Equivocate, InvalidProposal, Silent
from control.abft.pbft import PbftParams
from control.abft.quorum import WEIGHT_SCALE, to_units, wheat_weights
from control.abft.transport import PartialSynchrony

from ._harness import Cluster

FAST_EXAMPLES = int(os.environ.get("ABFT_PROPERTY_EXAMPLES", "100"))


@st.composite
def scenarios(draw, sizes=(4, 5, 7)):
    n = draw(st.sampled_from(sizes))
    f = (n - 1) // 3
    weight_mode = draw(st.sampled_from(["equal", "wheat", "adaptive"]))
    if weight_mode == "wheat" and n - (3 * f + 1) >= 1:
        weights = to_units(wheat_weights(f, n - (3 * f + 1))[0])
    else:
        weights = tuple([WEIGHT_SCALE] * n)
    n_byz = draw(st.integers(0, f))
    byz_ids = draw(st.lists(st.integers(0, n - 1), min_size=n_byz, max_size=n_byz, unique=True))
    byzantine = {}
    if n_byz >= 2 and draw(st.booleans()):
        byzantine = Collusion(byz_ids).strategies()
    else:
        for node in byz_ids:
            kind = draw(st.sampled_from(["silent", "crash", "delay", "equivocate", "invalid"]))
            if kind == "silent":
                byzantine[node] = Silent()
            elif kind == "crash":
                byzantine[node] = Crash(at_s=draw(st.floats(0.0, 0.5)))
            elif kind == "delay":
                byzantine[node] = Delay(delay_s=draw(st.floats(0.01, 1.0)))
            elif kind == "equivocate":
                byzantine[node] = Equivocate()
            else:
                byzantine[node] = InvalidProposal()
    policy = PartialSynchrony(
        base_delay_s=draw(st.floats(1e-4, 5e-3)),
        jitter_s=draw(st.floats(0.0, 2e-2)),
        gst_s=draw(st.floats(0.0, 1.5)),
        drop_probability=draw(st.floats(0.0, 0.35)),
        max_delay_before_gst_s=draw(st.floats(0.0, 0.5)),
    )
    return {
        "n": n,
        "f": f,
        "weights": weights,
        "adaptive": weight_mode == "adaptive",
        "byzantine": byzantine,
        "policy": policy,
        "seed": draw(st.integers(0, 2**31 - 1)),
        "wanted": draw(st.integers(1, 6)),
        "checkpoint_interval": draw(st.integers(1, 3)),
    }


def _check(scenario: dict) -> None:
    c = Cluster(
        scenario["n"],
        scenario["f"],
        wanted=scenario["wanted"],
        weights=scenario["weights"],
        adaptive=scenario["adaptive"],
        byzantine=scenario["byzantine"],
        policy=scenario["policy"],
        seed=scenario["seed"],
        params=PbftParams(checkpoint_interval=scenario["checkpoint_interval"]),
    )
    c.start()
    c.run(scenario["policy"].gst_s + 120.0)
    assert not c.conflicts(), "two honest nodes executed different values at one sequence number"
    undone = {r.id: c.apps[r.id].decided for r in c.honest if not c.apps[r.id].decided}
    assert c.all_honest_done(), f"no progress after GST at honest nodes {undone}"


@settings(
    max_examples=FAST_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(scenarios())
def test_safety_and_liveness_under_random_schedules(scenario):
    _check(scenario)


@pytest.mark.slow
@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(sizes=(4, 5, 7, 8, 10, 13)))
def test_safety_and_liveness_under_random_schedules_long(scenario):
    _check(scenario)
