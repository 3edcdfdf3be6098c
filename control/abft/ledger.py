"""The replicated trust ledger: what every key-management node computes from an agreed batch.

Each replica runs one `TrustLedger` as its PBFT application. Consensus orders batches of signed
step reports; executing a batch is a deterministic function of the batch, the ledger state
(weights, clean streaks, next step) and the step's public inputs (the physics' expected QBER and
the bound the votes use). So every honest node ends with the same agreed values, trust decisions
and weights, and the weights for the next window of sequence numbers are known to all of them.

Fault assumption (see diagnosis.py for why it is sound): at most f of the n nodes are Byzantine,
and honest observers of one link agree within each quantity's tolerance. Observation is what the
scenario really has: a link is seen by its two endpoints only (`observation="endpoints"`); tests
may let every node observe every link (`observation="any"`).

Per step, with trust weights w (integers in units of 2^-16, so sums are exact everywhere):
* diagnosis: nodes *proved* faulty by the batch (disagreeing with more than f - |proved| others,
  or voting against their own report) - diagnosis.py;
* agreed value of a quantity on a link: the worst report (highest QBER, lowest buffer) among its
  observers not proved faulty. A liar can make a value look worse, never better;
* fail-safe trust: link k is trusted iff both endpoints' reports are in the batch, both vote +1,
  neither reports a QBER above the public bound, and the weighted vote of the observers not proved
  faulty, V_k = sum_i w_i v_ik, exceeds trust_threshold * their weight. So a link either end
  measures as bad is never trusted (a liar can make links distrusted - recorded as `disputed`, a
  cost in key rate - but never make a bad link trusted), and a 1-vs-1 tie is never resolved
  against either end;
* node error err_i = 1 if proved faulty, else 0; trust weights follow the paper's rule
  w <- w (1 - alpha err) (`WeightRule`, with slow recovery), so a weight falls only on evidence
  that implicates its node - an invariant checked on every update (`check_trust_update`) exactly
  as the quorum weights' safety condition is;
* consensus weights move towards the trust weights as far as quorum safety allows
  (quorum.clamp_update, worst offenders first, reason logged).

Cadence (`quiet_interval_steps` = E; E = 1 decides every step): a step is decided when it is
scheduled - the step after a decision that moved trust (a link became trusted or distrusted, the
set of nodes proved faulty changed, a weight fell), else E steps after the last decision - or when
a report *alarms*: it votes -1 on a link the standing decision trusts. The schedule and the
standing trusted links are replicated state (in the snapshot), so honest nodes agree on them. A
node keeps its report for an unscheduled step and sends it only on an alarm, its own or one
received; an alarm goes to the primary, which relays it to every node once, so all honest nodes
report even if the alarm's author told only some of them (a primary that does not relay is replaced
by the progress timeout, and a new primary is sent the alarm when its view is installed). Why it is
safe: the only event that makes a trusted link unsafe is an honest endpoint measuring it bad, and
that endpoint's report alarms in that very step, so no step's decision - fresh or standing - trusts
a link an honest end sees as bad (tests/abft/test_decision_cadence.py). What waits for the schedule
is good news (a link becoming trusted again, weights recovering) and lies that alarm nobody: they
are caught at the next scheduled step, after which every step is decided while the liar's weight
falls (at the floor the standing decision excludes it). Meanwhile a liar's relay can still cost key
- tampered shares are rejected, never accepted - which deciding every step might have spared
(README, decision cadence). A Byzantine node can raise false alarms: that costs one decision per
step, as with E = 1, and distrusts its own link, as a -1 vote always could.

Censorship: reports go to the primary (the linear normal case, pbft.py). A report a replica held
before a batch reached it, but which the committed batch left out, is "owed": the replica forwards
it to the primary and refuses to prepare any later batch that does not carry it (as a late
report) once `censorship_grace_s` (>= 2 message delays) passed since that forward. A node whose
own report was left out shares it with every node (a complaint), so all honest nodes hold it and
refuse. A primary that censors is therefore replaced by a view change within one step, while a
Byzantine reporter that withholds its report from the primary only gets it included one step
late: an honest primary always has the forwarded copy in time, so it cannot force view changes.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np

from control.abft.crypto import Verifier, digest
from control.abft.diagnosis import (
    Tolerance,
    check_trust_update,
    diagnose,
    find_disagreements,
    observers_of,
    self_inconsistent_votes,
)
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
    """A reported per-link quantity: how far apart honest reports may be (noise), and which
    direction is the pessimistic one (`worse`: "higher" for QBER, "lower" for key in a buffer)."""

    name: str
    tolerance_abs: float
    tolerance_rel: float = 0.0
    worse: str = "higher"

    def __post_init__(self) -> None:
        if self.tolerance_abs < 0 or self.tolerance_rel < 0:
            raise ConfigurationError(f"tolerances of {self.name!r} must be >= 0")
        if self.tolerance_abs == 0 and self.tolerance_rel == 0:
            raise ConfigurationError(f"quantity {self.name!r} needs a positive tolerance")
        if self.worse not in ("higher", "lower"):
            raise ConfigurationError(f"quantity {self.name!r}: worse must be 'higher' or 'lower'")

    @property
    def tolerance(self) -> Tolerance:
        return Tolerance(self.tolerance_abs, self.tolerance_rel)


@dataclass(frozen=True)
class MeasuredInputs:
    """Public per-link inputs for one step, identical at every node.

    `expected_qber` is the physics' expectation for the link's current parameters and
    `trust_qber_max` the public bound a vote uses (a node votes +1 iff its QBER is at most it);
    both are computed from the scenario, which every node knows. `measured_qber` is the ground
    truth of the simulation, kept for analysis only: no decision reads it, because nobody but a
    link's two endpoints observes a link (their reports are the evidence).
    """

    measured_qber: np.ndarray
    expected_qber: np.ndarray
    trust_qber_max: np.ndarray | None = None


@dataclass(frozen=True)
class LedgerParams:
    n_nodes: int
    f: int
    link_endpoints: tuple[tuple[int, int], ...]
    quantities: tuple[QuantitySpec, ...]
    rule: WeightRule = WeightRule()
    trust_threshold: float = 0.0
    report_wait_s: float = 0.01
    observation: str = "endpoints"
    censorship_grace_s: float = 0.01
    quiet_interval_steps: int = 1

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
    disputed: np.ndarray  # links distrusted on one endpoint's word while the other vouches
    errors: np.ndarray
    faulty: np.ndarray  # nodes the step's reports proved faulty (diagnosis.py)
    weights_before: np.ndarray  # trust weights in force for this step
    weights_after: np.ndarray  # trust weights after the update
    consensus_weights: np.ndarray  # quorum weights from the next window on (safe)
    safety: SafetyReport
    clamp_reason: str | None
    late_reporters: tuple[tuple[int, int], ...] = ()  # (step, node) of owed reports carried

    def fingerprint(self) -> bytes:
        """Digest of the decision, to check that honest nodes agree bit for bit."""
        parts = [self.step.to_bytes(8, "big"), bytes(str(self.reporters), "ascii")]
        for name in sorted(self.agreed):
            parts.append(self.agreed[name].tobytes())
        parts += [self.trusted.tobytes(), self.errors.tobytes(), self.weights_after.tobytes()]
        parts += [self.consensus_weights.tobytes(), self.faulty.tobytes()]
        return digest(b"|".join(parts))


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
    received_s: dict[int, float] = field(default_factory=dict)
    quorum_since_s: float | None = None
    wait_over: bool = False  # the report-wait timer fired (never re-derived from float sums)


@dataclass
class _Owed:
    """A report this node held in time that its step's committed batch left out."""

    env: Signed
    since_s: float  # when it was last forwarded to the primary below
    forwarded_to: int


LATE_WINDOW_STEPS = 16  # owed reports older than this are dropped (bounded memory)


@dataclass
class SharedWork:
    """Results of pure functions that every node of one coordinator would compute alike.

    All simulated nodes run in one process. Parsing a signed report, decoding a batch and
    executing a batch from an identical ledger state are pure functions of their inputs (bytes,
    the coordinator's parameters, the state), so one node's result serves the others: decisions
    stay bit for bit what each node would compute, and n nodes cost about what one does. The
    key of an execution includes the whole ledger state, so a node whose state differed (e.g.
    after a state transfer) computes its own."""

    parsed: dict[bytes, NodeReport | None] = field(default_factory=dict)
    batches: dict[bytes, _Decoded | None] = field(default_factory=dict)
    decisions: dict[tuple, tuple] = field(default_factory=dict)
    limit: int = 4096

    def bound(self) -> None:
        for table in (self.parsed, self.batches, self.decisions):
            if len(table) > self.limit:
                table.clear()


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
        shared: SharedWork | None = None,
    ) -> None:
        self.node_id = node_id
        self.shared = shared if shared is not None else SharedWork()
        self.params = params
        self.verifier = verifier
        self.inputs = inputs
        self.on_outcome = on_outcome
        self.weights: tuple[int, ...] = tuple(int(x) for x in initial_weights)  # consensus
        self.trust: tuple[int, ...] = self.weights
        self.streaks = np.zeros(params.n_nodes, dtype=np.int64)
        self.next_step = 0
        # The decision cadence (replicated state, in the snapshot): the trusted links and the
        # proved-faulty nodes of the standing decision, and the next step that is decided even
        # if no report alarms.
        self.standing_trusted = np.zeros(params.n_links, dtype=bool)
        self.standing_faulty = np.zeros(params.n_nodes, dtype=bool)
        self.next_scheduled_step = 0
        self.replica: Replica | None = None
        self.history: dict[int, StepOutcome] = {}
        self.refused_censoring_batches = 0
        self._collecting: dict[int, _Collecting] = {}
        self._started: set[int] = set()
        self._proposed: dict[int, int] = {}
        self._wait_timer_for: set[int] = set()
        self._owed: dict[tuple[int, int], _Owed] = {}
        self._own: dict[int, NodeReport | None] = {}  # this node's report per step, sent or not
        self._alarms: dict[int, Signed] = {}  # per off-schedule step: the report that alarmed
        self._relayed: set[int] = set()  # off-schedule steps whose alarm we relayed as primary
        self._validated_at: dict[bytes, float] = {}
        self._parsed = self.shared.parsed  # by signature: parse each report once
        self._batches = self.shared.batches  # by value digest
        adjacency = np.zeros((params.n_nodes, params.n_links), dtype=bool)
        for k, (a, b) in enumerate(params.link_endpoints):
            adjacency[a, k] = adjacency[b, k] = True
        self._adjacency = adjacency
        self._ends = np.asarray(params.link_endpoints, dtype=np.int64).reshape(-1, 2)

    def _now(self) -> float:
        assert self.replica is not None
        return self.replica.transport.now_s()

    # reports --------------------------------------------------------------------------------------
    def start_step(self, step: int, own_report: NodeReport | None) -> None:
        """This node's report for `step` (None: it has none). It is signed and sent to the
        primary if the step is to be decided: a scheduled step (`next_scheduled_step`), or one
        whose report - this node's or another's - alarms (`alarming`). Otherwise it is kept,
        and sent if an alarm for the step arrives later."""
        self._own[step] = own_report
        horizon = step - LATE_WINDOW_STEPS
        for table in (self._own, self._alarms):
            for old in [s for s in table if s < min(horizon, self.next_step)]:
                del table[old]
        self._relayed = {s for s in self._relayed if s >= horizon}
        if (
            step >= self.next_scheduled_step
            or step in self._alarms
            or (own_report is not None and self.alarming(own_report))
        ):
            self._start(step)

    def wants_decision(self, step: int) -> bool:
        """This node sent its report for `step` (so it waits for a decision) or decided it."""
        return step in self._started or step in self.history

    def alarming(self, report: NodeReport) -> bool:
        """The report votes -1 on a link the standing decision trusts: new evidence that needs a
        decision now, not at the next scheduled step. Anyone can check it from the report and
        the replicated state, so an alarm cannot be faked to hold a decision back; a false
        alarm (a Byzantine node voting against a good link) only costs a decision."""
        votes = np.asarray(report.votes)
        return bool(np.any((votes < 0) & self.standing_trusted))

    def _start(self, step: int) -> None:
        """Send this node's report for `step` to the primary; if the step is off schedule, see
        that every node hears why (`_relay_alarm`)."""
        if step in self._started or step < self.next_step:
            return
        self._started.add(step)
        own = self._own.get(step)
        if own is not None and self.replica is not None:
            env = self.replica.submit_app(report_message(own.encode()))
            if step < self.next_scheduled_step and self.alarming(own):
                self._alarms.setdefault(step, env)
        if self.replica is not None:
            self._relay_alarm(step)
            self._forward_owed()
            self.replica.poke()

    def _relay_alarm(self, step: int) -> None:
        """The alarm behind an off-schedule step goes to the primary, which relays it to every
        node once: so all honest nodes send their reports for the step, even when the alarm's
        author told only some of them. A primary that does not relay leaves honest nodes with
        pending reports: the progress timeout replaces it (`on_view_installed` re-sends)."""
        alarm = self._alarms.get(step)
        if alarm is None or self.replica is None or self.replica.in_view_change:
            return
        if self.replica.primary() != self.node_id:
            if alarm.sender != self.node_id:  # our own went to the primary with submit_app
                self.replica.send_app(self.replica.primary(), alarm)
        elif step not in self._relayed:
            self._relayed.add(step)
            self.replica.share_app(alarm)

    def _parse_report(self, env: Signed) -> NodeReport | None:
        if env.signature in self._parsed:
            return self._parsed[env.signature]
        self.shared.bound()
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
        if report is None:
            return
        if report.step < self.next_step:
            self._maybe_owed(report.step, env)  # forwarded to us as primary, or arriving late
            return
        box = self._collecting.setdefault(report.step, _Collecting())
        if sender not in box.reports:
            box.reports[sender] = env
            box.received_s[sender] = self._now()
        if box.quorum_since_s is None and len(box.reports) >= self._min_reports():
            box.quorum_since_s = self._now()
        if report.step < self.next_scheduled_step and self.alarming(report):
            first = report.step not in self._alarms
            self._alarms.setdefault(report.step, env)
            if report.step in self._started:
                if first:
                    self._relay_alarm(report.step)
            elif report.step in self._own:
                self._start(report.step)
        self.replica.poke()

    def _maybe_owed(self, step: int, env: Signed) -> None:
        """A report of an executed step: keep it if that step's batch left it out."""
        outcome = self.history.get(step)
        key = (step, env.sender)
        if (
            outcome is None
            or env.sender in outcome.reporters
            or key in self._owed
            or step < self.next_step - LATE_WINDOW_STEPS
        ):
            return
        # A complaint (its author's own report, left out and shared with everyone), or a report
        # forwarded to us as primary: owed from now on; the primary has it `grace` from now.
        self._owed[key] = _Owed(env, -1.0, -1)
        self._forward_owed()

    def on_view_installed(self, view: int) -> None:
        """A new primary knows only what was sent to it: re-send our pending reports to it."""
        if self.replica is None:
            return
        primary = self.replica.primary()
        for step, box in self._collecting.items():
            own = box.reports.get(self.node_id)
            if step >= self.next_step and own is not None and primary != self.node_id:
                self.replica.send_app(primary, own)
        for step in sorted(self._alarms):
            if step >= self.next_step and step in self._started:
                self._relay_alarm(step)
        self._forward_owed()

    def _forward_owed(self) -> None:
        """Send owed reports to the current primary (again, after a view change)."""
        if self.replica is None or self.replica.in_view_change:
            return
        primary = self.replica.primary()
        for owed in self._owed.values():
            if owed.forwarded_to != primary and owed.since_s != float("inf"):
                owed.forwarded_to = primary
                owed.since_s = self._now()
                if primary != self.node_id:
                    self.replica.send_app(primary, owed.env)

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
            if len(box.reports) < self.params.n_nodes and not box.wait_over:
                if step not in self._wait_timer_for:
                    self._wait_timer_for.add(step)
                    self.replica.set_app_timer(self.params.report_wait_s, ("wait", step))
                return None
            self._proposed[step] = seq
            reports = tuple(box.reports[s] for s in sorted(box.reports))
            late = tuple(self._owed[key].env for key in sorted(self._owed) if key[0] < step)
            return ReportBatch(step, reports, late).encode()
        return None

    def on_app_timer(self, token: Hashable) -> None:
        if isinstance(token, tuple) and token[0] == "wait":
            box = self._collecting.get(token[1])
            if box is not None:
                box.wait_over = True
        if self.replica is not None:
            self.replica.poke()

    def _decode_batch(self, value: bytes, key: bytes) -> _Decoded | None:
        """`key` is digest(value), computed once by the caller (it keys other tables too)."""
        if key not in self._batches:
            self.shared.bound()
            self._batches[key] = self._decode_batch_uncached(value)
        return self._batches[key]

    def _decode_batch_uncached(self, value: bytes) -> _Decoded | None:
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
        late = []
        for env in batch.late:
            report = self._parse_report(env) if env.valid(self.verifier) else None
            if report is None or report.step >= batch.step:
                return None
            late.append((report.step, report.node))
        if len(set(late)) != len(late):
            return None
        return _Decoded(batch.step, reports, tuple(late))

    def validate(self, seq: int, value: bytes) -> bool:
        value_digest = digest(value)
        decoded = self._decode_batch(value, value_digest)
        if decoded is None or decoded.step < self.next_step:
            return False
        if self.replica is not None:
            now = self._now()
            self._validated_at.setdefault(value_digest, now)
            if len(self._validated_at) > 64:
                self._validated_at = dict(list(self._validated_at.items())[-32:])
            self._forward_owed()  # a new primary first gets what it could not have known
            carried = set(decoded.late)
            grace = self.params.censorship_grace_s
            for key, owed in self._owed.items():
                if key[0] < decoded.step and key not in carried and owed.since_s <= now - grace:
                    self.refused_censoring_batches += 1
                    if owed.forwarded_to != self.node_id:  # again: the first copy may be lost
                        self.replica.send_app(owed.forwarded_to, owed.env)
                    return False  # it omits a report we forwarded in time: no prepare from us
        return True

    def equivocation_variant(self, seq: int, value: bytes) -> bytes:
        """A different batch a Byzantine primary could send instead (drops one report)."""
        batch = ReportBatch.decode(value)
        if len(batch.reports) > self._min_reports():
            return ReportBatch(batch.step, batch.reports[1:], batch.late).encode()
        return value + b"\x00"  # no valid variant exists: an invalid one (honest nodes reject it)

    def execute(self, seq: int, value: bytes) -> None:
        if value == NULL_VALUE:
            return
        value_digest = digest(value)
        decoded = self._decode_batch(value, value_digest)
        if decoded is None or decoded.step < self.next_step:
            return
        step, reports = decoded.step, decoded.reports
        key = (seq, value_digest, self.trust, self.weights, self.streaks.tobytes())
        done = self.shared.decisions.get(key)
        if done is None:
            outcome, trust, weights = self._decide(seq, step, reports, decoded.late)
            self.shared.decisions[key] = (outcome, trust, weights, self.streaks.copy())
            self.shared.bound()
        else:
            outcome, trust, weights, streaks = done
            self.streaks = streaks.copy()
        self.trust, self.weights = trust, weights
        self.next_step = step + 1
        self._schedule_after(step, outcome)
        self.history[step] = outcome
        if len(self.history) > HISTORY_STEPS:
            del self.history[min(self.history)]
        self._settle_owed(step, outcome, value_digest, decoded.late)
        self._collecting = {s: b for s, b in self._collecting.items() if s >= self.next_step}
        self._started = {s for s in self._started if s >= self.next_step}
        self._wait_timer_for = {s for s in self._wait_timer_for if s >= self.next_step}
        self._own = {s: r for s, r in self._own.items() if s >= self.next_step}
        self._alarms = {s: a for s, a in self._alarms.items() if s >= self.next_step}
        if self.on_outcome is not None and self.replica is not None:
            self.on_outcome(self.node_id, outcome, self._now())

    def _schedule_after(self, step: int, outcome: StepOutcome) -> None:
        """The next step decided without an alarm: the very next one while trust is moving
        (links became trusted or distrusted, the set of nodes proved faulty changed, a weight
        fell), else `quiet_interval_steps` on. A liar proved faulty step after step keeps trust
        moving until its weight reaches the floor; from then on the standing decision excludes
        it, and the schedule catches it again. A deterministic function of the replicated
        state and the executed batch, so every honest node keeps the same schedule."""
        moved = (
            not np.array_equal(outcome.trusted, self.standing_trusted)
            or not np.array_equal(outcome.faulty, self.standing_faulty)
            or bool(np.any(outcome.weights_after < outcome.weights_before))
        )
        self.standing_trusted = np.array(outcome.trusted, dtype=bool)
        self.standing_faulty = np.array(outcome.faulty, dtype=bool)
        self.next_scheduled_step = step + (1 if moved else self.params.quiet_interval_steps)

    def _settle_owed(
        self, step: int, outcome: StepOutcome, value_digest: bytes, carried: tuple
    ) -> None:
        """Drop what the batch carried; add what it left out that we held in time."""
        for key in carried:
            self._owed.pop(key, None)
        horizon = step - LATE_WINDOW_STEPS
        self._owed = {k: o for k, o in self._owed.items() if k[0] >= horizon}
        box = self._collecting.get(step)
        if box is None or self.replica is None:
            return
        # Held before the batch reached us: the primary could have had it (or gets it now, from
        # us, and must carry it in its next batch - the claim waits `censorship_grace_s` after
        # our forward, so an honest primary always can).
        seen_at = self._validated_at.get(value_digest, self._now())
        for node, env in box.reports.items():
            if node in outcome.reporters or (step, node) in self._owed:
                continue
            in_time = box.received_s[node] <= seen_at
            self._owed[(step, node)] = _Owed(env, float("inf") if not in_time else -1.0, -1)
            if node == self.node_id:
                self.replica.share_app(env)  # complain: now every node holds it and claims it
        self._forward_owed()

    def _decide(
        self,
        seq: int,
        step: int,
        reports: list[NodeReport],
        late: tuple[tuple[int, int], ...] = (),
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
        malformed = np.zeros(n, dtype=bool)
        if p.observation == "endpoints":
            # Only a link's endpoints observe it: a claim about another link is itself a fault.
            outside = ~self._adjacency
            claims = votes != 0
            for v in values.values():
                claims = claims | ~np.isnan(v)
            malformed = (claims & outside).any(axis=1)
            votes = np.where(outside, 0, votes)
            for name in values:
                values[name] = np.where(outside, np.nan, values[name])
            observers = self._adjacency
        else:
            observers = observers_of(values, votes, p.link_endpoints)

        measured = self.inputs.get(step)
        bound = None if measured is None else measured.trust_qber_max
        qber = values.get("qber")
        self_bad = malformed.copy()
        if qber is not None:
            self_bad |= self_inconsistent_votes(qber, votes, bound)
        tolerances = {q.name: q.tolerance for q in p.quantities}
        disagreements = find_disagreements(values, tolerances, reported, observers)
        diagnosis = diagnose(n, p.f, disagreements, self_bad)
        credible = reported & ~diagnosis.faulty

        agreed = {}
        for spec in p.quantities:
            v = values[spec.name]
            agreed[spec.name] = _worst(v, credible, reported, spec.worse)

        cred_votes = np.where(credible[:, None], votes, 0)
        vote_sum = (units[:, None] * cred_votes).sum(axis=0)
        voting_weight = (units[:, None] * (cred_votes != 0)).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            vote = np.where(voting_weight > 0, vote_sum / np.maximum(voting_weight, 1), np.nan)
        end_ok, end_bad = self._endpoint_verdicts(reported, votes, qber, bound)
        weighted_ok = (voting_weight > 0) & (vote_sum > p.trust_threshold * voting_weight)
        trusted = end_ok.all(axis=1) & weighted_ok
        disputed = end_ok.any(axis=1) & end_bad.any(axis=1)

        errors = diagnosis.faulty.astype(np.float64)
        before = from_units(self.trust)
        late_nodes = np.zeros(n, dtype=bool)
        for _, node in late:
            late_nodes[node] = True
        proposed, self.streaks = p.rule.apply(before, errors, reported | late_nodes, self.streaks)
        trust_after = to_units(proposed)
        check = check_trust_update(self.trust, trust_after, diagnosis.faulty)
        reasons = []
        if not check.ok:  # cannot happen with WeightRule; guards any future rule
            log.error("step %d: %s; kept their weights", step, check.reason)
            keep = np.zeros(n, dtype=bool)
            keep[list(check.unattributed)] = True
            trust_after = tuple(
                int(b) if k else int(a)
                for a, b, k in zip(trust_after, self.trust, keep, strict=True)
            )
            reasons.append(check.reason)
        clamp = clamp_update(self.weights, trust_after, p.f, priority=errors)
        if clamp.clamped:
            reasons.append(clamp.reason)
        outcome = StepOutcome(
            step=step,
            seq=seq,
            reporters=tuple(r.node for r in reports),
            agreed=agreed,
            vote=vote,
            trusted=trusted,
            disputed=disputed,
            errors=errors,
            faulty=diagnosis.faulty,
            weights_before=before,
            weights_after=from_units(trust_after),
            consensus_weights=from_units(clamp.weights),
            safety=check_safety(clamp.weights, p.f),
            clamp_reason="; ".join(reasons) if reasons else None,
            late_reporters=late,
        )
        return outcome, tuple(int(x) for x in trust_after), clamp.weights

    def _endpoint_verdicts(
        self,
        reported: np.ndarray,
        votes: np.ndarray,
        qber: np.ndarray | None,
        bound: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(L, 2) each: endpoint vouches for the link / endpoint says it is bad.

        Vouching needs the endpoint's report in the batch, a +1 vote and (with a public bound) a
        QBER at most the bound; a missing report vouches for nothing (fail safe)."""
        ends = self._ends
        links = np.arange(len(ends))
        present = reported[ends]
        end_votes = np.stack([votes[ends[:, 0], links], votes[ends[:, 1], links]], axis=1)
        ok = present & (end_votes == 1)
        bad = present & (end_votes == -1)
        if qber is not None and bound is not None:
            end_qber = np.stack([qber[ends[:, 0], links], qber[ends[:, 1], links]], axis=1)
            with np.errstate(invalid="ignore"):
                above = end_qber > np.asarray(bound, dtype=np.float64)[:, None]
            ok &= ~above
            bad |= present & above
        return ok, bad

    # state ----------------------------------------------------------------------------------------
    def snapshot(self) -> bytes:
        state = {
            "next_step": self.next_step,
            "next_scheduled_step": self.next_scheduled_step,
            "standing_trusted": [int(x) for x in self.standing_trusted],
            "standing_faulty": [int(x) for x in self.standing_faulty],
            "streaks": [int(x) for x in self.streaks],
            "trust": list(self.trust),
            "weights": list(self.weights),
        }
        return json.dumps(state, sort_keys=True).encode()

    def restore(self, snapshot: bytes) -> None:
        state = json.loads(snapshot)
        self.next_step = int(state["next_step"])
        self.next_scheduled_step = int(state["next_scheduled_step"])
        self.standing_trusted = np.asarray(state["standing_trusted"], dtype=bool)
        self.standing_faulty = np.asarray(state["standing_faulty"], dtype=bool)
        self.streaks = np.asarray(state["streaks"], dtype=np.int64)
        self.weights = tuple(int(x) for x in state["weights"])
        self.trust = tuple(int(x) for x in state["trust"])
        self._collecting = {s: b for s, b in self._collecting.items() if s >= self.next_step}
        self._started = {s for s in self._started if s >= self.next_step}

    def consensus_weights(self) -> tuple[int, ...]:
        return self.weights


@dataclass(frozen=True)
class _Decoded:
    step: int
    reports: list[NodeReport]
    late: tuple[tuple[int, int], ...]


def _worst(
    values: np.ndarray, credible: np.ndarray, reported: np.ndarray, worse: str
) -> np.ndarray:
    """Per link, the most pessimistic report among credible reporters (all reporters where no
    credible one reported the link; NaN where nobody did)."""

    def pick(mask: np.ndarray) -> np.ndarray:
        v = np.where(mask[:, None], values, np.nan)
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns give NaN
            return np.nanmax(v, axis=0) if worse == "higher" else np.nanmin(v, axis=0)

    first = pick(credible)
    return np.where(np.isnan(first), pick(reported), first)
