"""Attributable blame: which key-management nodes the step's reports *prove* faulty.

Fault assumption (count-based, the same as the quorums'): at most `f` of the `n` key-management
nodes are Byzantine, and any two honest nodes that report on the same link agree within each
quantity's tolerance (both ends of a QKD link estimate its QBER from the same sifted bits during
post-processing, and see the same key buffer up to keys in flight). Nothing else is assumed: not
which nodes are faulty, not their weights, not that anyone but a link's two endpoints observes it.

Evidence is comparison-based, as in system-level diagnosis (Preparata, Metze & Chien 1967; the
comparison model of Maeng & Malek 1981): two observers of the same link whose reports differ by
more than the tolerance form a *disagreement*, and at least one of the two is faulty - but a
1-vs-1 disagreement says nothing about *which*. So a node is diagnosed faulty only when

    |D(x) u B| > f                                                             (*)

where D(x) is the set of nodes x disagrees with and B the nodes already diagnosed. Why (*) is
sound: if x were honest, every node in D(x) would be faulty (honest nodes agree), and so is every
node of B (induction), so |D(x) u B| <= f. Applied until nothing changes, (*) never diagnoses an
honest node under the assumption; a liar that contradicts f + 1 or more distinct neighbours is
caught, one that lies to fewer is not (its lies then only make its own links distrusted: see
the fail-safe trust rule in ledger.py). A node whose trust vote contradicts its own reported QBER
under the public bound is self-inconsistent: that implicates it alone, whatever the others say.

Measured QBER excess is *not* blame: an eavesdropper on a fibre raises the QBER both ends see, and
nothing in the reports says whether an endpoint or an outsider is tapping it. Such links are made
untrusted (by the honest end's report) instead of costing an endpoint its weight.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tolerance:
    """How far apart two honest reports of one quantity may be: abs + rel * max(|a|, |b|)."""

    absolute: float
    relative: float = 0.0


@dataclass(frozen=True, eq=False)
class Diagnosis:
    """One step's verdict, identical at every honest node (a pure function of the batch)."""

    faulty: np.ndarray  # bool per node: proved faulty this step
    disagreements: tuple[tuple[int, int], ...]  # pairs (i < j) whose reports conflict
    self_inconsistent: np.ndarray  # bool per node: vote contradicts own report


def observers_of(
    values: dict[str, np.ndarray], votes: np.ndarray, endpoints: Sequence[tuple[int, int]]
) -> np.ndarray:
    """(n, L) bool: who reported anything on each link (its endpoints always count)."""
    seen = votes != 0
    for v in values.values():
        seen = seen | ~np.isnan(v)
    for k, (a, b) in enumerate(endpoints):
        seen[a, k] = seen[b, k] = True
    return seen


def find_disagreements(
    values: dict[str, np.ndarray],
    tolerances: dict[str, Tolerance],
    reported: np.ndarray,
    observers: np.ndarray,
) -> set[tuple[int, int]]:
    """Pairs of reporting observers of a common link whose values conflict.

    A value against a NaN (one end claims a measurement, the other none) conflicts too: honest
    ends of a link see the same sifted bits, so they agree on whether there was any."""
    pairs: set[tuple[int, int]] = set()
    n, n_links = observers.shape
    active = observers & reported[:, None]
    counts = active.sum(axis=0)
    two = np.flatnonzero(counts == 2)
    if two.size:  # the common case (endpoint-only observation): vectorised
        order = np.argsort(~active[:, two], axis=0, kind="stable")
        first, second = order[0], order[1]
        conflict = np.zeros(two.size, dtype=bool)
        for name, v in values.items():
            conflict |= _conflicts(v[first, two], v[second, two], tolerances[name])
        for i, j in zip(first[conflict], second[conflict], strict=True):
            pairs.add((int(min(i, j)), int(max(i, j))))
    for k in np.flatnonzero(counts > 2):
        who = np.flatnonzero(active[:, k])
        for name, v in values.items():
            col = v[who, k]
            conflict = _conflicts(col[:, None], col[None, :], tolerances[name])
            for a, b in zip(*np.nonzero(np.triu(conflict, 1)), strict=True):
                pairs.add((int(who[a]), int(who[b])))
    return pairs


def _conflicts(a: np.ndarray, b: np.ndarray, tol: Tolerance) -> np.ndarray:
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    with np.errstate(invalid="ignore"):
        scale = tol.absolute + tol.relative * np.maximum(np.abs(a), np.abs(b))
        apart = np.abs(a - b) > scale
    return (nan_a != nan_b) | (~nan_a & ~nan_b & apart)


def self_inconsistent_votes(
    qber: np.ndarray, votes: np.ndarray, trust_qber_max: np.ndarray | None
) -> np.ndarray:
    """Nodes whose vote on some link contradicts their own QBER report under the public bound."""
    n = qber.shape[0]
    if trust_qber_max is None:
        return np.zeros(n, dtype=bool)
    bound = np.asarray(trust_qber_max, dtype=np.float64)[None, :]
    known = ~np.isnan(qber) & ~np.isnan(bound) & (votes != 0)
    with np.errstate(invalid="ignore"):
        should = np.where(qber <= bound, 1, -1)
    return (known & (votes != should)).any(axis=1)


def diagnose(
    n_nodes: int,
    f: int,
    disagreements: set[tuple[int, int]],
    self_inconsistent: np.ndarray,
) -> Diagnosis:
    """Apply rule (*) of the module docstring to a fixpoint."""
    partners: list[set[int]] = [set() for _ in range(n_nodes)]
    for i, j in disagreements:
        partners[i].add(j)
        partners[j].add(i)
    faulty = np.asarray(self_inconsistent, dtype=bool).copy()
    changed = True
    while changed:
        changed = False
        known = set(np.flatnonzero(faulty).tolist())
        for x in range(n_nodes):
            if faulty[x]:
                continue
            implicated = (partners[x] | known) - {x}
            if len(implicated) > f:
                faulty[x] = True
                known.add(x)
                changed = True
    return Diagnosis(
        faulty=faulty,
        disagreements=tuple(sorted(disagreements)),
        self_inconsistent=np.asarray(self_inconsistent, dtype=bool),
    )


@dataclass(frozen=True)
class TrustUpdateCheck:
    """The vote-weight invariant: a trust weight falls only where the step's diagnosis proved
    its node faulty. Checked on every update, like the quorum weights' safety condition."""

    ok: bool
    unattributed: tuple[int, ...]  # nodes whose weight fell without a diagnosis

    @property
    def reason(self) -> str:
        if self.ok:
            return "every weight decrease is backed by a diagnosis"
        return f"weights of nodes {list(self.unattributed)} fell without evidence implicating them"


def check_trust_update(
    before: Sequence[int], after: Sequence[int], faulty: np.ndarray
) -> TrustUpdateCheck:
    """Integer trust weights before/after one step against that step's diagnosis."""
    b = np.asarray(before, dtype=np.int64)
    a = np.asarray(after, dtype=np.int64)
    fell = np.flatnonzero((a < b) & ~np.asarray(faulty, dtype=bool))
    return TrustUpdateCheck(ok=fell.size == 0, unattributed=tuple(int(i) for i in fell))
