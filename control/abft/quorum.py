"""Weighted quorums and the safety condition that every weight vector must satisfy.

Fault assumption (count-based): at most `f` of the `n` key-management nodes are Byzantine, and
nothing is assumed about *which* ones or about their weights. We use it, rather than a bound on
the Byzantine *weight*, because the weights here are adaptive and computed from behaviour the
adversary partly controls; a weight-based assumption would be circular. Under the count-based
assumption the heaviest weight a Byzantine set can hold is F_max = the sum of the f largest
weights, whoever holds them.

With total weight W and quorum weight Q, weighted PBFT is safe and live when

    W + F_max < 2Q <= 2(W - F_max)

(two quorums overlap in more than F_max, so in an honest node; the honest nodes alone reach Q).
We take the largest admissible quorum, Q = W - F_max, which turns the condition into the single
integer test 3 * F_max < W, possible only while F_max < W/3. WHEAT (Sousa & Bessani 2015) and
AWARE (Berger et al. 2019) satisfy it with 2f nodes of weight 1 + delta/f and the rest 1 in
n = 3f + 1 + delta nodes (`wheat_weights`).

Weights are integers (units of 1/WEIGHT_SCALE) inside consensus, so quorum sums are exact and all
replicas agree on every comparison bit for bit.

Why clamping by binary search is sound: g(w) = 3 * F_max(w) - W(w) is convex (F_max is a sum of
the f largest entries, a convex function; W is linear), so the safe set {g < 0} is convex and,
moving one node's weight from a safe vector towards its proposed value, the safe part of that
segment is an interval starting at the current value: a binary search on the integer weight finds
its end exactly.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from control.abft.errors import ConfigurationError, UnsafeWeightsError

log = logging.getLogger(__name__)

WEIGHT_SCALE = 1 << 16


def default_fault_bound(n_nodes: int) -> int:
    """The largest f with n >= 3f + 1 (classic PBFT)."""
    return max(0, (n_nodes - 1) // 3)


@dataclass(frozen=True)
class SafetyReport:
    """Outcome of the safety check for one weight vector and fault bound."""

    safe: bool
    f: int
    total_weight: int
    f_max_weight: int
    quorum_weight: int
    reason: str


def check_safety(weights: Sequence[int], f: int) -> SafetyReport:
    """Is `weights` (positive integers) safe against any f Byzantine nodes?"""
    w = [int(x) for x in weights]
    n = len(w)
    if n == 0:
        raise ConfigurationError("weight vector is empty")
    if any(x <= 0 for x in w):
        raise ConfigurationError(f"weights must be positive integers, got {w}")
    if not 0 <= f < n:
        raise ConfigurationError(f"fault bound f={f} must satisfy 0 <= f < n={n}")
    total = sum(w)
    f_max = sum(sorted(w, reverse=True)[:f])
    quorum = total - f_max
    safe = 3 * f_max < total
    if safe:
        reason = (
            f"safe: F_max={f_max} < W/3 (W={total}); quorum Q={quorum}, "
            f"W + F_max={total + f_max} < 2Q={2 * quorum} <= 2(W - F_max)={2 * (total - f_max)}"
        )
    else:
        reason = (
            f"unsafe: the {f} heaviest nodes hold F_max={f_max} >= W/3 (W={total}), so two "
            f"quorums of weight {quorum} need not share an honest node "
            f"(W + F_max={total + f_max} >= 2Q={2 * quorum})"
        )
    return SafetyReport(safe, f, total, f_max, quorum, reason)


def condition_holds(total: float, f_max: float, quorum: float) -> bool:
    """The general condition W + F_max < 2Q <= 2(W - F_max), for any choice of Q."""
    return total + f_max < 2 * quorum <= 2 * (total - f_max)


@dataclass(frozen=True)
class QuorumConfig:
    """The weights in force for a window of sequence numbers, with their quorum."""

    weights: tuple[int, ...]
    f: int
    total: int
    f_max: int
    quorum: int

    @classmethod
    def from_weights(cls, weights: Sequence[int], f: int) -> QuorumConfig:
        report = check_safety(weights, f)
        if not report.safe:
            raise UnsafeWeightsError(report.reason)
        return cls(
            tuple(int(x) for x in weights),
            f,
            report.total_weight,
            report.f_max_weight,
            report.quorum_weight,
        )

    def weight_of(self, nodes: Iterable[int]) -> int:
        return sum(self.weights[i] for i in set(nodes))

    def is_quorum(self, nodes: Iterable[int]) -> bool:
        return self.weight_of(nodes) >= self.quorum


def to_units(weights: Sequence[float] | np.ndarray) -> tuple[int, ...]:
    """Float weights in (0, 1] -> integer consensus units (at least 1 unit each)."""
    arr = np.asarray(weights, dtype=np.float64)
    if arr.ndim != 1 or not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ConfigurationError(f"weights must be finite and positive, got {arr.tolist()}")
    return tuple(int(x) for x in np.maximum(1, np.rint(arr * WEIGHT_SCALE)).astype(np.int64))


def from_units(units: Sequence[int]) -> np.ndarray:
    return np.asarray(units, dtype=np.float64) / WEIGHT_SCALE


@dataclass(frozen=True)
class ClampResult:
    """What became of a proposed weight update."""

    weights: tuple[int, ...]
    fraction_applied: float  # share of the proposed total change applied: 1 all, 0 refused
    clamped: bool
    reason: str


def _largest_safe_move(current: list[int], node: int, target: int, f: int) -> int:
    """Value of weights[node] closest to `target` (moving from its current, safe value) that
    keeps the vector safe. Safety along one coordinate is an interval (convexity), so an
    integer binary search finds the boundary exactly."""
    start = current[node]
    trial = list(current)
    trial[node] = target
    if check_safety(trial, f).safe:
        return target
    lo, hi = 0, abs(target - start)  # lo steps are safe, hi steps are not
    step_sign = 1 if target > start else -1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        trial[node] = start + step_sign * mid
        if check_safety(trial, f).safe:
            lo = mid
        else:
            hi = mid
    return start + step_sign * lo


def clamp_update(
    old: Sequence[int],
    proposed: Sequence[int],
    f: int,
    priority: Sequence[float] | None = None,
) -> ClampResult:
    """Apply as much of old -> proposed as keeps 3 * F_max < W; log the reason when cut.

    When the whole update is unsafe it is applied node by node: first every increase (by node
    id), then the decreases in order of `priority` (e.g. the nodes' errors, highest first; by
    size of the decrease when None), each as far as safety allows. So the safety budget goes to
    punishing the worst offenders first, and one node's legitimate penalty cannot freeze all the
    others. `old` must be safe (it was accepted before). Deterministic integer arithmetic.
    """
    old_t = tuple(int(x) for x in old)
    new_t = tuple(int(x) for x in proposed)
    if len(old_t) != len(new_t):
        raise ConfigurationError(f"weight vectors differ in length: {len(old_t)} vs {len(new_t)}")
    current_report = check_safety(old_t, f)
    if not current_report.safe:
        raise UnsafeWeightsError("current weights are already unsafe: " + current_report.reason)
    full = check_safety(new_t, f)
    if full.safe:
        return ClampResult(new_t, 1.0, False, full.reason)
    n = len(old_t)
    prio = list(priority) if priority is not None else [old_t[i] - new_t[i] for i in range(n)]
    ups = [i for i in range(n) if new_t[i] > old_t[i]]
    downs = sorted((i for i in range(n) if new_t[i] < old_t[i]), key=lambda i: (-prio[i], i))
    current = list(old_t)
    cut = []
    for i in ups + downs:
        current[i] = _largest_safe_move(current, i, new_t[i], f)
        if current[i] != new_t[i]:
            cut.append(i)
    total_change = sum(abs(a - b) for a, b in zip(old_t, new_t, strict=True))
    applied = sum(abs(a - b) for a, b in zip(old_t, current, strict=True))
    fraction = applied / total_change if total_change else 1.0
    chosen = tuple(current)
    action = "refused" if chosen == old_t else f"clamped ({fraction:.4f} of the change applied)"
    reason = f"weight update {action} for nodes {cut}: proposed weights are {full.reason}"
    log.info(reason)  # every replica computes this; the coordinator warns once per step
    return ClampResult(chosen, fraction if chosen != old_t else 0.0, True, reason)


def wheat_weights(f: int, delta: int) -> tuple[list[float], int]:
    """WHEAT/AWARE weights for n = 3f + 1 + delta: 2f nodes at 1 + delta/f, the rest at 1.

    Returned normalised to the heaviest node (so they lie in (0, 1]), with n.
    """
    if f < 1 or delta < 0:
        raise ConfigurationError(f"WHEAT needs f >= 1 and delta >= 0, got f={f}, delta={delta}")
    n = 3 * f + 1 + delta
    v_max = 1.0 + delta / f
    raw = [v_max] * (2 * f) + [1.0] * (n - 2 * f)
    return [x / v_max for x in raw], n
