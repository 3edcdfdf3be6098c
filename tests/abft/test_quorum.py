"""Weighted-quorum safety condition, WHEAT/AWARE weights and the clamp on weight updates."""

from __future__ import annotations

import itertools
import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from control.abft.errors import ConfigurationError, UnsafeWeightsError
from control.abft.quorum import (
    QuorumConfig,
    check_safety,
    clamp_update,
    condition_holds,
    to_units,
    wheat_weights,
)


def _brute_force_unsafe(weights: list[int], f: int) -> bool:
    """Unsafe iff two quorums (weight >= Q = W - F_max) overlap only inside <= f nodes, or the
    nodes outside some f-set cannot reach a quorum (no liveness)."""
    n = len(weights)
    total = sum(weights)
    f_max = sum(sorted(weights, reverse=True)[:f])
    quorum = total - f_max
    masks = range(1 << n)
    weight = [sum(weights[i] for i in range(n) if m >> i & 1) for m in masks]
    quorums = [m for m in masks if weight[m] >= quorum]
    for a, b in itertools.combinations_with_replacement(quorums, 2):
        if bin(a & b).count("1") <= f:
            return True
    return False


def test_classic_pbft_counts_are_safe_and_quorum_is_2f_plus_1():
    # Castro & Liskov: n = 3f + 1 replicas, quorums of 2f + 1.
    for f in range(1, 6):
        n = 3 * f + 1
        report = check_safety([1] * n, f)
        assert report.safe
        assert report.quorum_weight == 2 * f + 1
        assert condition_holds(report.total_weight, report.f_max_weight, report.quorum_weight)


def test_more_faults_than_the_bound_is_reported_unsafe():
    report = check_safety([1] * 6, 2)  # n = 6 < 3f + 1 = 7
    assert not report.safe
    assert "unsafe" in report.reason and "F_max=2" in report.reason
    with pytest.raises(UnsafeWeightsError, match="F_max"):
        QuorumConfig.from_weights([1] * 6, 2)


@pytest.mark.parametrize(("f", "delta"), [(1, 0), (1, 1), (1, 2), (2, 1), (2, 3), (3, 2)])
def test_wheat_weights_meet_the_condition(f, delta):
    # WHEAT (Sousa & Bessani 2015) / AWARE (Berger et al. 2019): n = 3f + 1 + delta, 2f nodes
    # at 1 + delta/f, the rest at 1; quorum weight 2 f (1 + delta/f) + 1 in units of V_min.
    weights, n = wheat_weights(f, delta)
    assert n == 3 * f + 1 + delta and len(weights) == n
    v_max = 1 + delta / f
    total = 2 * f * v_max + (n - 2 * f)
    f_max = f * v_max
    q = 2 * f * v_max + 1
    assert condition_holds(total, f_max, q)
    assert check_safety(to_units(weights), f).safe


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    weights=st.lists(st.integers(1, 12), min_size=2, max_size=7),
    f=st.integers(0, 3),
)
def test_check_safety_agrees_with_brute_force(weights, f):
    if f >= len(weights):
        return
    assert check_safety(weights, f).safe == (not _brute_force_unsafe(weights, f))


def test_bad_weight_vectors_raise_clear_errors():
    with pytest.raises(ConfigurationError, match="positive"):
        check_safety([1, 0, 1, 1], 1)
    with pytest.raises(ConfigurationError, match="0 <= f < n"):
        check_safety([1, 1], 2)
    with pytest.raises(ConfigurationError, match="finite and positive"):
        to_units([1.0, float("nan")])


def test_clamp_passes_safe_updates_through():
    old = to_units([1.0] * 7)
    new = to_units([1, 1, 1, 1, 1, 0.8, 0.9])
    result = clamp_update(old, new, 2)
    assert not result.clamped and result.fraction_applied == 1.0 and result.weights == new


def test_clamp_cuts_an_unsafe_update_and_logs_why(caplog):
    old = to_units([1.0] * 7)
    new = to_units([1, 1, 1, 1, 1, 0.05, 0.05])  # 2 + 5 * ... : 3 * F_max = 6 >= W = 5.1
    with caplog.at_level(logging.INFO, logger="control.abft.quorum"):
        result = clamp_update(old, new, 2)
    assert result.clamped and 0.0 < result.fraction_applied < 1.0
    assert check_safety(result.weights, 2).safe
    assert "clamped" in caplog.text and "unsafe" in caplog.text
    # it went as far as possible: one more unit off any node that was cut is unsafe
    for node in (5, 6):
        if result.weights[node] != new[node]:
            further = list(result.weights)
            further[node] -= 1
            assert not check_safety(further, 2).safe


def test_clamp_spends_the_safety_budget_on_the_worst_offender_first():
    old = to_units([1.0] * 7)  # n = 7, f = 2: W may drop by less than one node's weight
    new = to_units([1, 1, 1, 1, 1, 0.3, 0.3])
    result = clamp_update(old, new, 2, priority=[0, 0, 0, 0, 0, 0.2, 0.9])
    assert result.weights[6] == new[6]  # the node with the larger error gets its full penalty
    assert new[5] < result.weights[5] < old[5]  # the other gets what is left
    assert check_safety(result.weights, 2).safe


def test_clamp_refuses_when_no_step_is_safe():
    with pytest.raises(UnsafeWeightsError):  # the current weights must already be safe
        clamp_update((3, 1, 1, 1), (1, 1, 1, 1), 1)
    # n = 4, f = 1 with one node already at the bottom: lowering a second node by any amount
    # makes 3 * F_max >= W, so the whole update is refused and the weights stay as they were.
    old = (65536, 65536, 65536, 1)
    result = clamp_update(old, (65536, 65536, 1, 1), 1)
    assert result.clamped and result.fraction_applied == 0.0 and result.weights == old
    assert "refused" in result.reason
