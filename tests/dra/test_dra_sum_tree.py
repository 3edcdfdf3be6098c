"""The sum-tree of proportional prioritized replay (Schaul et al. 2015, appendix B.2.1): exact
lookups, exact sampling proportions on a grid, the minimum, and rebuilding from a checkpoint."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from control.dra.sum_tree import SumTree


@pytest.mark.parametrize("capacity", [4, 5, 7])
def test_grid_of_values_hits_each_slot_in_proportion_to_its_priority(capacity: int) -> None:
    # priorities 1, 2, 3, 4 (total 10): 1000 evenly spaced values fall 100/200/300/400 times
    tree = SumTree(capacity)
    tree.update(np.arange(4), np.array([1.0, 2.0, 3.0, 4.0]))
    assert tree.total == 10.0
    values = (np.arange(1000) + 0.5) / 1000 * tree.total
    counts = np.bincount(tree.find(values), minlength=capacity)
    assert counts.tolist() == [100, 200, 300, 400] + [0] * (capacity - 4)


def test_interval_boundaries_belong_to_the_slot_on_the_right() -> None:
    # slot i owns [c_{i-1}, c_i): cumulative sums of 1, 2, 3, 4 are 1, 3, 6, 10
    tree = SumTree(4)
    tree.update(np.arange(4), np.array([1.0, 2.0, 3.0, 4.0]))
    values = np.array([0.0, 0.999, 1.0, 2.999, 3.0, 5.999, 6.0, 9.999])
    assert tree.find(values).tolist() == [0, 0, 1, 1, 2, 2, 3, 3]


def test_empty_slots_are_never_found_and_never_the_minimum() -> None:
    tree = SumTree(8)
    tree.update(np.array([0, 1, 2]), np.array([0.5, 0.25, 0.25]))
    values = np.linspace(0.0, tree.total, 999, endpoint=False)
    assert set(tree.find(values).tolist()) == {0, 1, 2}
    assert tree.min == 0.25


def test_update_overwrites_and_a_repeated_slot_takes_its_last_priority() -> None:
    tree = SumTree(6)
    tree.update(np.arange(6), np.ones(6))
    many = np.array([1, 3, 1, 5, 1, 0, 2, 4, 3, 5])  # > 8 slots: the vectorised path
    tree.update(many, np.arange(1.0, 11.0))
    assert tree.get(np.arange(6)).tolist() == [6.0, 5.0, 7.0, 9.0, 8.0, 10.0]
    assert tree.total == 45.0 and tree.min == 5.0
    tree.update(np.array([2, 2]), np.array([0.5, 0.125]))  # the scalar path
    assert tree.get(np.array([2]))[0] == 0.125
    assert tree.total == 45.0 - 7.0 + 0.125 and tree.min == 0.125


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(1, 1000), min_size=1, max_size=40),
    st.lists(st.floats(0.0, 1.0, exclude_max=True), min_size=1, max_size=30),
)
def test_lookup_equals_a_cumulative_sum_search(priorities: list[int], fractions: list[float]):
    # integer priorities keep every partial sum exact, so the tree must agree exactly
    p = np.array(priorities, dtype=np.float64)
    tree = SumTree(len(p) + 3)
    tree.update(np.arange(len(p)), p)
    values = np.array(fractions) * p.sum()
    expected = np.searchsorted(np.cumsum(p), values, side="right")
    assert tree.find(values).tolist() == expected.tolist()
    assert tree.total == p.sum() and tree.min == p.min()


def test_state_round_trip_rebuilds_the_same_tree_bit_for_bit() -> None:
    rng = np.random.default_rng(3)
    tree = SumTree(37)
    for _ in range(20):
        slots = rng.integers(0, 37, size=rng.integers(1, 20))
        tree.update(slots, rng.random(slots.size) + 1e-3)
    copy = SumTree(37)
    copy.load_state_dict(tree.state_dict())
    values = rng.random(500) * tree.total
    assert copy.total == tree.total and copy.min == tree.min
    assert np.array_equal(copy.find(values), tree.find(values))


def test_bad_priorities_and_slots_are_refused() -> None:
    tree = SumTree(4)
    with pytest.raises(ValueError, match="> 0"):
        tree.update(np.array([0]), np.array([0.0]))
    with pytest.raises(ValueError, match="finite"):
        tree.update(np.array([0]), np.array([np.nan]))
    with pytest.raises(IndexError):
        tree.update(np.array([4]), np.array([1.0]))
    with pytest.raises(ValueError, match="capacity"):
        SumTree(0)
