"""Sum-tree (and min-tree) over replay priorities, the data structure of proportional PER.

Schaul et al. 2015 ("Prioritized Experience Replay", sec. 3.3 and appendix B.2.1) sample
transition i with probability P(i) = p_i / sum_k p_k. A binary tree whose leaves hold p_i and whose
inner nodes hold the sum of their children gives both an O(log N) update and an O(log N) lookup of
the leaf whose cumulative-sum interval contains a value drawn in [0, total). The same tree shape
holding minima gives min_i p_i in O(1), which the importance-sampling weights are normalised by.

Why vectorised numpy and not a Python loop per sample: a batch of 64 lookups walks the tree level by
level as whole arrays, so the cost is ~depth numpy calls instead of 64 * depth Python iterations.
The leaf count is padded to a power of two so that node k's children are 2k and 2k+1 at every level.
"""

from __future__ import annotations

import numpy as np

_SCALAR_UPDATE_MAX = 8  # below this many slots, update in a Python loop


class SumTree:
    """Priorities of `capacity` slots with O(log N) batched update, prefix-sum lookup and minimum.

    Empty slots hold priority 0 in the sum tree and +inf in the min tree, so they are never
    sampled and never the minimum.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"SumTree capacity must be >= 1, got {capacity}")
        self.capacity = capacity
        self._depth = max(0, (capacity - 1).bit_length())
        self._base = 1 << self._depth  # index of leaf 0; leaves are base .. base + capacity - 1
        self._sum = np.zeros(2 * self._base, dtype=np.float64)
        self._min = np.full(2 * self._base, np.inf, dtype=np.float64)

    @property
    def total(self) -> float:
        """Sum of all priorities."""
        return float(self._sum[1])

    @property
    def min(self) -> float:
        """Smallest priority of a filled slot (+inf when the tree is empty)."""
        return float(self._min[1])

    def get(self, indices: np.ndarray) -> np.ndarray:
        """Priorities stored at slot `indices`."""
        return self._sum[self._base + np.asarray(indices, dtype=np.int64)]

    def update(self, indices: np.ndarray, priorities: np.ndarray) -> None:
        """Set slot priorities and refresh their ancestors.

        A slot named twice gets its last priority (duplicates occur when a batch sampled the same
        transition twice). Priorities must be finite and > 0: a zero would make a filled slot
        unreachable, which PER avoids by adding a small epsilon to |TD error|.
        """
        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        priorities = np.asarray(priorities, dtype=np.float64).reshape(-1)
        if indices.shape != priorities.shape:
            raise ValueError(f"{indices.size} indices but {priorities.size} priorities")
        if indices.size == 0:
            return
        if indices.min() < 0 or indices.max() >= self.capacity:
            raise IndexError(f"slot index out of range [0, {self.capacity})")
        if not np.all(np.isfinite(priorities)) or priorities.min() <= 0.0:
            raise ValueError("priorities must be finite and > 0")
        if indices.size <= _SCALAR_UPDATE_MAX:
            # one transition per env step is the common case: a plain loop over the levels is
            # ~10x faster than numpy calls on length-1 arrays; processing in order = last wins
            for slot, priority in zip(indices.tolist(), priorities.tolist(), strict=True):
                self._set_leaf(slot, priority)
            return
        # keep the last occurrence of each slot: unique over the reversed array
        reversed_slots = indices[::-1]
        slots, first_in_reversed = np.unique(reversed_slots, return_index=True)
        nodes = slots + self._base
        self._sum[nodes] = priorities[::-1][first_in_reversed]
        self._min[nodes] = self._sum[nodes]
        for _ in range(self._depth):
            # siblings share a parent: writing the same value twice is harmless and cheaper
            # than de-duplicating at every level
            nodes = nodes >> 1
            left = 2 * nodes
            self._sum[nodes] = self._sum[left] + self._sum[left + 1]
            self._min[nodes] = np.minimum(self._min[left], self._min[left + 1])

    def _set_leaf(self, slot: int, priority: float) -> None:
        sums, mins = self._sum, self._min
        node = slot + self._base
        sums[node] = mins[node] = priority
        for _ in range(self._depth):
            node >>= 1
            left = 2 * node
            sums[node] = sums[left] + sums[left + 1]
            mins[node] = min(mins[left], mins[left + 1])

    def find(self, values: np.ndarray) -> np.ndarray:
        """Slot whose cumulative interval [c_{i-1}, c_i) contains each value (values in [0, total)).

        Values at or beyond `total` (possible only through rounding) land on the last slot of the
        path they take; callers clip to the filled range.
        """
        values = np.asarray(values, dtype=np.float64).copy()
        nodes = np.ones(values.shape, dtype=np.int64)
        for _ in range(self._depth):
            left = 2 * nodes
            left_sum = self._sum[left]
            go_right = values >= left_sum
            values = np.where(go_right, values - left_sum, values)
            nodes = np.where(go_right, left + 1, left)
        return nodes - self._base

    def state_dict(self) -> dict[str, np.ndarray]:
        """The leaves (inner nodes are rebuilt on load), for checkpoints."""
        return {"leaves": self._sum[self._base : self._base + self.capacity].copy()}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        leaves = np.asarray(state["leaves"], dtype=np.float64)
        if leaves.shape != (self.capacity,):
            raise ValueError(f"sum-tree state has {leaves.size} leaves, expected {self.capacity}")
        self._sum[:] = 0.0
        self._min[:] = np.inf
        filled = leaves > 0.0
        self._sum[self._base : self._base + self.capacity] = leaves
        self._min[self._base : self._base + self.capacity] = np.where(filled, leaves, np.inf)
        for level in range(self._depth - 1, -1, -1):
            nodes = np.arange(1 << level, 2 << level)
            self._sum[nodes] = self._sum[2 * nodes] + self._sum[2 * nodes + 1]
            self._min[nodes] = np.minimum(self._min[2 * nodes], self._min[2 * nodes + 1])
