"""The replicated trust ledger: what every key-management node computes from an agreed batch.

Each replica runs one `TrustLedger` as its PBFT application. Consensus orders batches of signed
step reports; executing a batch is a deterministic function of the batch, the ledger state
(weights, clean streaks, next step) and the step's *measured* inputs. So every honest node ends
with the same agreed values, trust decisions and weights, and the weights for the next window of
sequence numbers are known to all of them (see pbft.py).

Two weight vectors, both integers in units of 2^-16 (so sums are exact and identical everywhere):
* trust weights follow the paper's adaptive rule (`WeightRule`) freely in [floor, 1] and weigh
  the reports and votes below;
* consensus weights weigh PBFT's quorums. After every step they move towards the trust weights as
  far as the safety condition allows (quorum.clamp_update, worst offenders first, reason logged).
They are separate because under the count-based fault assumption the total weight that may be
taken away is small (W must stay above 3 F_max: less than one full node's weight when n = 3f + 1),
while the vote needs no such limit - it is not a quorum. So two colluders can both fall to the
floor in the vote even where quorum safety keeps their consensus weight higher.

Per step, with trust weights w:
* agreed value of quantity q on link k: the weighted median of the reports (robust: a set of
  nodes holding less than half of the reporting weight cannot move it outside the honest range);
* trust vote V_k = sum_i w_i * v_ik over nodes voting on k (v in {-1, +1}); link k is trusted iff
  V_k > trust_threshold * (voting weight), strict, so a tie or no vote means not trusted;
* node error err_i in [0, 1]: `report_error_weight` times the mean over its reported entries of
  clip(|r - agreed| / tol - 1, 0, 1) (deviations within the quantity's tolerance are noise) and
  of its votes disagreeing with the decision, plus `qber_error_weight` times the mean over its
  links of its share of clip((measured - expected) / qber_tolerance - 1, 0, 1) - the share set
  by `attributed_blame` (the end whose other links are anomalous too takes the blame), or the
  whole excess for both ends with qber_blame="shared";
* trust weights updated by `WeightRule`; consensus weights clamped towards them.

Measured inputs are public per-link quantities (QBER estimates announced over the authenticated
classical channel during post-processing, and the physics expectation), identical at every node,
so they enter each replica as step inputs rather than through votes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np

from control.abft.crypto import Verifier, digest
from control.abft.errors import ConfigurationError, MessageDecodeError
from control.abft.messages import AppMessage, Signed
from control.abft.pbft import NULL_VALUE, Replica
from control.abft.quorum import SafetyReport, check_safety, clamp_update, from_units, to_units
from control.abft.reports import NodeReport, ReportBatch, report_message, report_payload
from control.abft.weights import WeightRule

log = logging.getLogger(__name__)

HISTORY_STEPS = 256  # decided steps each ledger keeps for the coordinator to read


@dataclass(frozen=True)
class QuantitySpec:
    """A reported per-link quantity and how far apart honest reports may be (noise)."""

    name: str
    tolerance_abs: float
    tolerance_rel: float = 0.0

    def __post_init__(self) -> None:
        if self.tolerance_abs < 0 or self.tolerance_rel < 0:
            raise ConfigurationError(f"tolerances of {self.name!r} must be >= 0")
        if self.tolerance_abs == 0 and self.tolerance_rel == 0:
            raise ConfigurationError(f"quantity {self.name!r} needs a positive tolerance")


@dataclass(frozen=True)
class MeasuredInputs:
    """Public per-link measurements for one step (NaN where unknown)."""

    measured_qber: np.ndarray
    expected_qber: np.ndarray


@dataclass(frozen=True)
class LedgerParams:
    n_nodes: int
    f: int
    link_endpoints: tuple[tuple[int, int], ...]
    quantities: tuple[QuantitySpec, ...]
    rule: WeightRule = WeightRule()
    qber_tolerance: float = 0.01
    report_error_weight: float = 1.0
    qber_error_weight: float = 0.5
    qber_blame: str = "attributed"
    trust_threshold: float = 0.0
    report_wait_s: float = 0.01

    @property
    def n_links(self) -> int:
        return len(self.link_endpoints)

    @property
    def quantity_names(self) -> tuple[str, ...]:
        return tuple(q.name for q in self.quantities)


@dataclass(frozen=True, eq=False)
class StepOutcome:
    """Everything one executed step decided (identical at every honest node)."""

    step: int
    seq: int
    reporters: tuple[int, ...]
    agreed: dict[str, np.ndarray]
    vote: np.ndarray  # normalised weighted vote in [-1, 1] per link (NaN: nobody voted)
    trusted: np.ndarray
    errors: np.ndarray
    weights_before: np.ndarray  # trust weights in force for this step
    weights_after: np.ndarray  # trust weights after the update
    consensus_weights: np.ndarray  # quorum weights from the next window on (safe)
    safety: SafetyReport
    clamp_reason: str | None

    def fingerprint(self) -> bytes:
        """Digest of the decision, to check that honest nodes agree bit for bit."""
        parts = [self.step.to_bytes(8, "big"), bytes(self.reporters)]
        for name in sorted(self.agreed):
            parts.append(self.agreed[name].tobytes())
        parts += [self.trusted.tobytes(), self.errors.tobytes(), self.weights_after.tobytes()]
        parts.append(self.consensus_weights.tobytes())
        return digest(b"|".join(parts))


def weighted_median(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Lower weighted median along axis 0 of (nodes, links); NaN entries are not reports."""
    present = ~np.isnan(values)
    w = np.where(present, weights[:, None], 0).astype(np.int64)
    order = np.argsort(np.where(present, values, np.inf), axis=0, kind="stable")
    sorted_values = np.take_along_axis(values, order, axis=0)
    cum = np.cumsum(np.take_along_axis(w, order, axis=0), axis=0)
    total = cum[-1] if len(cum) else np.zeros(values.shape[1], dtype=np.int64)
    idx = np.argmax(2 * cum >= total[None, :], axis=0)
    result = sorted_values[idx, np.arange(values.shape[1])]
    return np.where(total > 0, result, np.nan)


class StepInputsStore:
    """Measured inputs by step, shared read-only by all ledgers of one scenario."""

    def __init__(self) -> None:
        self._by_step: dict[int, MeasuredInputs] = {}

    def put(self, step: int, inputs: MeasuredInputs) -> None:
        self._by_step[step] = inputs

    def get(self, step: int) -> MeasuredInputs | None:
        return self._by_step.get(step)

    def forget_before(self, step: int) -> None:
        for old in [s for s in self._by_step if s < step]:
            del self._by_step[old]


@dataclass
class _Collecting:
    reports: dict[int, Signed] = field(default_factory=dict)
    quorum_since_s: float | None = None


class TrustLedger:
    """PBFT application of one node: collects reports, proposes batches, executes them."""

    def __init__(
        self,
        node_id: int,
        params: LedgerParams,
        initial_weights: Sequence[int],
        verifier: Verifier,
        inputs: StepInputsStore,
        on_outcome: Callable[[int, StepOutcome, float], None] | None = None,
    ) -> None:
        self.node_id = node_id
        self.params = params
        self.verifier = verifier
        self.inputs = inputs
        self.on_outcome = on_outcome
        self.weights: tuple[int, ...] = tuple(int(x) for x in initial_weights)  # consensus
        self.trust: tuple[int, ...] = self.weights
        self.streaks = np.zeros(params.n_nodes, dtype=np.int64)
        self.next_step = 0
        self.replica: Replica | None = None
        self.history: dict[int, StepOutcome] = {}
        self._collecting: dict[int, _Collecting] = {}
        self._started: set[int] = set()
        self._proposed: dict[int, int] = {}
        self._wait_timer_for: set[int] = set()
        self._parsed: dict[bytes, NodeReport | None] = {}  # by signature: parse each report once
        self._batches: dict[bytes, tuple[int, list[NodeReport]] | None] = {}  # by value digest
        adjacency = np.zeros((params.n_nodes, params.n_links), dtype=bool)
        for k, (a, b) in enumerate(params.link_endpoints):
            adjacency[a, k] = adjacency[b, k] = True
        self._adjacency = adjacency

    # reports --------------------------------------------------------------------------------------
    def start_step(self, step: int, own_report: NodeReport | None) -> None:
        """This node's report for `step` (None: it sends none) is signed and broadcast."""
        self._started.add(step)
        if own_report is not None and self.replica is not None:
            self.replica.broadcast_app(report_message(own_report.encode()))
        if self.replica is not None:
            self.replica.poke()

    def _parse_report(self, env: Signed) -> NodeReport | None:
        if env.signature in self._parsed:
            return self._parsed[env.signature]
        if len(self._parsed) > 8 * self.params.n_nodes:
            self._parsed.clear()
        report = self._parse_report_uncached(env)
        self._parsed[env.signature] = report
        return report

    def _parse_report_uncached(self, env: Signed) -> NodeReport | None:
        if not isinstance(env.message, AppMessage):
            return None
        payload = report_payload(env.message.payload)
        if payload is None:
            return None
        try:
            report = NodeReport.decode(payload, self.params.quantity_names, self.params.n_links)
        except MessageDecodeError:
            return None
        return report if report.node == env.sender else None

    def on_app_message(self, env: Signed) -> None:
        if self.replica is None:
            return
        sender = env.sender
        report = self._parse_report(env)
        if report is None or report.step < self.next_step:
            return
        box = self._collecting.setdefault(report.step, _Collecting())
        box.reports.setdefault(sender, env)
        if box.quorum_since_s is None and len(box.reports) >= self._min_reports():
            box.quorum_since_s = self.replica.transport.now_s()
        self.replica.poke()

    def _min_reports(self) -> int:
        return self.params.n_nodes - self.params.f

    # PBFT application -----------------------------------------------------------------------------
    def has_pending(self) -> bool:
        return any(s >= self.next_step for s in self._started)

    def proposal(self, seq: int) -> bytes | None:
        if self.replica is None:
            return None
        ready = [
            s
            for s, box in self._collecting.items()
            if s >= self.next_step and len(box.reports) >= self._min_reports()
        ]
        for step in sorted(ready, reverse=True):
            in_flight = self._proposed.get(step)
            if in_flight is not None and in_flight > self.replica.last_executed:
                return None
            box = self._collecting[step]
            now = self.replica.transport.now_s()
            waited = now - (box.quorum_since_s if box.quorum_since_s is not None else now)
            if len(box.reports) < self.params.n_nodes and waited < self.params.report_wait_s:
                if step not in self._wait_timer_for:
                    self._wait_timer_for.add(step)
                    self.replica.set_app_timer(self.params.report_wait_s - waited, ("wait", step))
                return None
            self._proposed[step] = seq
            reports = tuple(box.reports[s] for s in sorted(box.reports))
            return ReportBatch(step, reports).encode()
        return None

    def on_app_timer(self, token: Hashable) -> None:
        if self.replica is not None:
            self.replica.poke()

    def _decode_batch(self, value: bytes) -> tuple[int, list[NodeReport]] | None:
        key = digest(value)
        if key not in self._batches:
            if len(self._batches) > 16:
                self._batches.clear()
            self._batches[key] = self._decode_batch_uncached(value)
        return self._batches[key]

    def _decode_batch_uncached(self, value: bytes) -> tuple[int, list[NodeReport]] | None:
        try:
            batch = ReportBatch.decode(value)
        except MessageDecodeError:
            return None
        senders = [env.sender for env in batch.reports]
        if senders != sorted(set(senders)) or len(senders) < self._min_reports():
            return None
        reports = []
        for env in batch.reports:
            if not env.valid(self.verifier):
                return None
            report = self._parse_report(env)
            if report is None or report.step != batch.step:
                return None
            reports.append(report)
        return batch.step, reports

    def validate(self, seq: int, value: bytes) -> bool:
        decoded = self._decode_batch(value)
        return decoded is not None and decoded[0] >= self.next_step

    def equivocation_variant(self, seq: int, value: bytes) -> bytes:
        """A different batch a Byzantine primary could send instead (drops one report)."""
        batch = ReportBatch.decode(value)
        if len(batch.reports) > self._min_reports():
            return ReportBatch(batch.step, batch.reports[1:]).encode()
        return value + b"\x00"  # no valid variant exists: an invalid one (honest nodes reject it)

    def execute(self, seq: int, value: bytes) -> None:
        if value == NULL_VALUE:
            return
        decoded = self._decode_batch(value)
        if decoded is None or decoded[0] < self.next_step:
            return
        step, reports = decoded
        outcome, self.trust, self.weights = self._decide(seq, step, reports)
        self.next_step = step + 1
        self.history[step] = outcome
        if len(self.history) > HISTORY_STEPS:
            del self.history[min(self.history)]
        self._collecting = {s: b for s, b in self._collecting.items() if s >= self.next_step}
        self._started = {s for s in self._started if s >= self.next_step}
        if self.on_outcome is not None and self.replica is not None:
            self.on_outcome(self.node_id, outcome, self.replica.transport.now_s())

    def _decide(
        self, seq: int, step: int, reports: list[NodeReport]
    ) -> tuple[StepOutcome, tuple[int, ...], tuple[int, ...]]:
        p = self.params
        n, n_links = p.n_nodes, p.n_links
        units = np.asarray(self.trust, dtype=np.int64)
        reported = np.zeros(n, dtype=bool)
        votes = np.zeros((n, n_links), dtype=np.int64)
        values = {q.name: np.full((n, n_links), np.nan) for q in p.quantities}
        for r in reports:
            reported[r.node] = True
            votes[r.node] = r.votes
            for name in values:
                values[name][r.node] = r.values[name]
        agreed = {name: weighted_median(v, units) for name, v in values.items()}

        vote_sum = (units[:, None] * votes).sum(axis=0)
        voting_weight = (units[:, None] * (votes != 0)).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            vote = np.where(voting_weight > 0, vote_sum / np.maximum(voting_weight, 1), np.nan)
        trusted = (voting_weight > 0) & (vote_sum > p.trust_threshold * voting_weight)

        err_sum = np.zeros(n)
        err_count = np.zeros(n)
        for spec in p.quantities:
            v = values[spec.name]
            a = agreed[spec.name][None, :]
            scale = spec.tolerance_abs + spec.tolerance_rel * np.abs(a)
            with np.errstate(invalid="ignore", divide="ignore"):
                e = np.clip(np.abs(v - a) / scale - 1.0, 0.0, 1.0)
            mask = ~np.isnan(v) & ~np.isnan(a)
            err_sum += np.where(mask, e, 0.0).sum(axis=1)
            err_count += mask.sum(axis=1)
        decision_sign = np.where(trusted, 1, -1)[None, :]
        voted = votes != 0
        err_sum += np.where(voted, np.abs(votes - decision_sign) / 2.0, 0.0).sum(axis=1)
        err_count += voted.sum(axis=1)
        report_err = np.where(err_count > 0, err_sum / np.maximum(err_count, 1), 0.0)

        qber_err = np.zeros(n)
        measured = self.inputs.get(step)
        if measured is not None and p.qber_error_weight > 0:
            excess = (measured.measured_qber - measured.expected_qber) / p.qber_tolerance - 1.0
            link_err = np.clip(excess, 0.0, 1.0)
            known = ~np.isnan(link_err) & self._adjacency
            blame = (
                attributed_blame(link_err, known, p.link_endpoints)
                if p.qber_blame == "attributed"
                else np.where(known, np.nan_to_num(link_err)[None, :], 0.0)
            )
            qber_err = np.where(
                known.any(axis=1), blame.sum(axis=1) / np.maximum(known.sum(axis=1), 1), 0
            )
        errors = np.clip(p.report_error_weight * report_err + p.qber_error_weight * qber_err, 0, 1)

        before = from_units(self.trust)
        proposed, self.streaks = p.rule.apply(before, errors, reported, self.streaks)
        trust_after = to_units(proposed)
        clamp = clamp_update(self.weights, trust_after, p.f, priority=errors)
        outcome = StepOutcome(
            step=step,
            seq=seq,
            reporters=tuple(r.node for r in reports),
            agreed=agreed,
            vote=vote,
            trusted=trusted,
            errors=errors,
            weights_before=before,
            weights_after=from_units(trust_after),
            consensus_weights=from_units(clamp.weights),
            safety=check_safety(clamp.weights, p.f),
            clamp_reason=clamp.reason if clamp.clamped else None,
        )
        return outcome, trust_after, clamp.weights

    # state ----------------------------------------------------------------------------------------
    def snapshot(self) -> bytes:
        state = {
            "next_step": self.next_step,
            "streaks": [int(x) for x in self.streaks],
            "trust": list(self.trust),
            "weights": list(self.weights),
        }
        return json.dumps(state, sort_keys=True).encode()

    def restore(self, snapshot: bytes) -> None:
        state = json.loads(snapshot)
        self.next_step = int(state["next_step"])
        self.streaks = np.asarray(state["streaks"], dtype=np.int64)
        self.weights = tuple(int(x) for x in state["weights"])
        self.trust = tuple(int(x) for x in state["trust"])
        self._collecting = {s: b for s, b in self._collecting.items() if s >= self.next_step}
        self._started = {s for s in self._started if s >= self.next_step}

    def consensus_weights(self) -> tuple[int, ...]:
        return self.weights


def attributed_blame(
    link_err: np.ndarray, known: np.ndarray, endpoints: Sequence[tuple[int, int]]
) -> np.ndarray:
    """Share each link's QBER excess between its two ends by how anomalous their other links are.

    An eavesdropping (or eavesdropped-on) node is the common factor of its anomalous links; an
    honest neighbour usually has clean links elsewhere. So link k = (a, b) blames end a in
    proportion to the mean excess over a's *other* measured links (and b likewise); with no
    evidence either way (both zero, or no other links) the blame is split evenly. Returns an
    (n_nodes, n_links) array whose column k sums to link_err[k] (0 where unmeasured).
    """
    n, n_links = known.shape
    err = np.where(np.isnan(link_err), 0.0, link_err)
    totals = np.where(known, err[None, :], 0.0).sum(axis=1)
    counts = known.sum(axis=1)
    blame = np.zeros((n, n_links))
    for k, (a, b) in enumerate(endpoints):
        if not (known[a, k] or known[b, k]) or err[k] == 0.0:
            continue
        others = []
        for end in (a, b):
            rest = counts[end] - 1
            others.append((totals[end] - err[k]) / rest if rest > 0 else 0.0)
        total = others[0] + others[1]
        share_a = 0.5 if total <= 0.0 else others[0] / total
        blame[a, k] = err[k] * share_a
        blame[b, k] = err[k] * (1.0 - share_a)
    return blame
