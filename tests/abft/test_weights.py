"""Adaptive weights: penalty, floor, probation-gated recovery, and never a Byzantine quorum."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from control.abft.errors import ConfigurationError
from control.abft.quorum import check_safety, clamp_update, from_units, to_units
from control.abft.weights import WeightRule


def _run(rule: WeightRule, errors_per_step: list[np.ndarray]) -> list[np.ndarray]:
    n = len(errors_per_step[0])
    w, streaks = np.ones(n), np.zeros(n, dtype=np.int64)
    out = []
    for err in errors_per_step:
        w, streaks = rule.apply(w, err, np.ones(n, dtype=bool), streaks)
        out.append(w)
    return out


def test_penalty_is_the_papers_multiplicative_rule():
    rule = WeightRule(alpha=0.3, floor=0.05)
    w, _ = rule.apply(np.array([1.0, 0.5]), np.array([0.5, 1.0]), np.ones(2, bool), np.zeros(2))
    np.testing.assert_allclose(w, [1.0 * (1 - 0.3 * 0.5), 0.5 * (1 - 0.3 * 1.0)])


def test_liar_falls_to_the_floor_while_honest_nodes_hold():
    rule = WeightRule()
    history = _run(rule, [np.array([0.0, 0.0, 0.0, 0.8])] * 30)
    assert history[-1][3] == pytest.approx(rule.floor)
    assert all(h[3] <= prev[3] for prev, h in zip(history, history[1:], strict=False))
    np.testing.assert_array_equal(history[-1][:3], 1.0)


def test_recovery_only_after_probation_and_then_slowly():
    rule = WeightRule(probation_steps=5, recovery_rate=0.02)
    bad = [np.array([0.0, 1.0])] * 20
    good = [np.array([0.0, 0.0])] * 300
    history = _run(rule, bad + good)
    low = history[19][1]
    assert history[20 + 4][1] == low  # still on probation
    assert history[20 + 5][1] > low  # first recovery step
    assert history[20 + 5][1] - low == pytest.approx(0.02 * (1 - low))
    assert history[-1][1] > 0.99  # the repaired node is back near full weight


def test_on_off_attacker_never_regains_weight():
    rule = WeightRule(probation_steps=5)
    pattern = [np.array([0.0, 0.0])] * 4 + [np.array([0.0, 0.6])]
    history = _run(rule, pattern * 20)
    assert history[-1][1] == pytest.approx(rule.floor)


def test_silent_step_neither_recovers_nor_penalises():
    rule = WeightRule(probation_steps=0)
    w, s = rule.apply(np.array([0.5]), np.array([0.0]), np.array([False]), np.zeros(1))
    assert w[0] == 0.5 and s[0] == 0


@pytest.mark.parametrize(
    "kwargs",
    [{"alpha": 0.0}, {"alpha": 1.0}, {"floor": 0.0}, {"recovery_rate": 1.0}, {"clean_error": 1.5}],
)
def test_out_of_range_parameters_are_refused(kwargs):
    with pytest.raises(ConfigurationError):
        WeightRule(**kwargs)


@settings(max_examples=80, deadline=None, derandomize=True)
@given(
    n_f=st.sampled_from([(4, 1), (7, 2), (10, 3), (13, 4)]),
    data=st.data(),
)
def test_adaptive_weights_never_hand_a_quorum_to_the_byzantine_set(n_f, data):
    """Whatever the errors (the adversary chooses its own and can frame honest nodes), after the
    rule and the safety clamp no set of at most f nodes - in particular the Byzantine one -
    reaches a quorum, and the honest nodes together still do."""
    n, f = n_f
    byzantine = data.draw(st.lists(st.integers(0, n - 1), max_size=f, unique=True))
    rule = WeightRule(
        alpha=data.draw(st.floats(0.05, 0.95)),
        floor=data.draw(st.floats(0.001, 0.5)),
        recovery_rate=data.draw(st.floats(0.0, 0.5)),
        probation_steps=data.draw(st.integers(0, 5)),
    )
    units = to_units(np.ones(n))
    streaks = np.zeros(n, dtype=np.int64)
    for _ in range(data.draw(st.integers(1, 25))):
        errors = np.array(data.draw(st.lists(st.floats(0, 1), min_size=n, max_size=n)))
        proposed, streaks = rule.apply(from_units(units), errors, np.ones(n, bool), streaks)
        units = clamp_update(units, to_units(proposed), f).weights
        report = check_safety(units, f)
        assert report.safe
        byz_weight = sum(units[i] for i in byzantine)
        honest_weight = sum(units) - byz_weight
        assert byz_weight < report.quorum_weight
        assert honest_weight >= report.quorum_weight
        assert all(0 < u <= 65536 for u in units)
