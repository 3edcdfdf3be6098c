"""`AbftCoordinator`: the facade the environment calls once per simulation step.

Input per step: each node's report (per-link quantities such as reported QBER and buffer levels,
plus per-link trust votes) and the public measured inputs (measured and expected QBER per link).
The coordinator has every key-management node sign and broadcast its report, the PBFT replicas
order one batch of reports for the step, and every honest node's `TrustLedger` executes it.
Output (`StepDecision`): agreed values, per-link trust decisions (weighted vote), updated trust
weights and the consensus (quorum) weights derived from them, per-node error, and statistics
(messages, bytes, decision latency in simulated time).

Two ways to drive it:
* `run_step(...)` submits the step and advances the transport until every honest node has
  decided (or `step_deadline_s` of simulated time passed) - for the in-memory transport, tests and
  benchmarks;
* `begin_step(...)` then, after the caller has advanced the transport's clock (e.g. the ns-3
  simulator ran a step), `decision(step)` - for a transport whose clock the environment owns.

`BaselineCoordinator` is the "no ABFT" comparison: every report trusted at face value (plain
mean, unweighted majority vote, weights fixed at 1), no consensus traffic.

Everything is deterministic given the seed (keys, network delays, and the protocol itself).

Example (in-memory transport; one node lies about QBER)::

    config = AbftConfig(n_nodes=7, link_endpoints=((0, 1), (1, 2), ...))
    co = AbftCoordinator(config, byzantine={3: FalseReport(bias=0.1)})
    reports = honest_reports(step, {"qber": q, "buffer_bits": b}, observers, trust_qber_max=0.11)
    decision = co.run_step(step, reports, MeasuredInputs(measured_qber=q, expected_qber=e))
    decision.trusted, decision.weights, decision.errors, decision.stats.messages
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from control.abft.byzantine import Strategy
from control.abft.crypto import derive_signers, verifier_for
from control.abft.errors import ConfigurationError, UnsafeWeightsError
from control.abft.ledger import (
    LedgerParams,
    MeasuredInputs,
    QuantitySpec,
    SharedWork,
    StepInputsStore,
    StepOutcome,
    TrustLedger,
)
from control.abft.pbft import PbftParams, Replica
from control.abft.quorum import (
    SafetyReport,
    check_safety,
    default_fault_bound,
    from_units,
    to_units,
)
from control.abft.reports import NodeReport
from control.abft.transport import InMemoryTransport, PartialSynchrony, Transport, TransportStats
from control.abft.weights import WeightRule

log = logging.getLogger(__name__)

KEEP_STEPS = 256  # per-step bookkeeping (start times, traffic marks, inputs) kept


class QuantityConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str = Field(min_length=1)
    tolerance_abs: float = Field(ge=0.0, allow_inf_nan=False)
    tolerance_rel: float = Field(0.0, ge=0.0, allow_inf_nan=False)
    worse: Literal["higher", "lower"] = "higher"


class AbftConfig(BaseModel):
    """Parameters of the ABFT coordinator (validated: bad values fail before anything runs)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    n_nodes: int = Field(ge=1, le=65535)
    f: int | None = Field(None, ge=0, description="fault bound; default (n - 1) // 3")
    link_endpoints: tuple[tuple[int, int], ...]
    quantities: tuple[QuantityConfig, ...] = (
        QuantityConfig(name="qber", tolerance_abs=0.01),
        QuantityConfig(name="buffer_bits", tolerance_abs=1000.0, tolerance_rel=0.1, worse="lower"),
    )
    alpha: float = Field(0.3, gt=0.0, lt=1.0)
    weight_floor: float = Field(0.05, gt=0.0, le=1.0)
    recovery_rate: float = Field(0.02, ge=0.0, lt=1.0)
    probation_steps: int = Field(5, ge=0)
    clean_error: float = Field(0.05, ge=0.0, lt=1.0)
    observation: Literal["endpoints", "any"] = Field(
        "endpoints",
        description="who observes a link: its two endpoints only (what a QKD network has), or "
        "any node that reports on it (test harnesses where every node sees every link)",
    )
    censorship_grace_s: float = Field(
        0.01,
        ge=0.0,
        description="a report held this long before a batch that omits it is owed (>= 2 "
        "message delays, so an honest primary always has it)",
    )
    trust_threshold: float = Field(0.0, ge=-1.0, lt=1.0)
    initial_weights: tuple[float, ...] | None = None
    checkpoint_interval: int = Field(1, ge=1)
    quiet_interval_steps: int = Field(
        1,
        ge=1,
        le=10_000,
        description="steps between decisions while trust stands still (1: decide every step); "
        "a report that votes against a trusted link is decided in its own step regardless",
    )
    progress_timeout_s: float = Field(0.2, gt=0.0)
    view_change_timeout_s: float = Field(0.2, gt=0.0)
    report_wait_s: float = Field(0.01, ge=0.0)
    step_deadline_s: float = Field(5.0, gt=0.0)
    seed: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _consistent(self) -> AbftConfig:
        for k, (a, b) in enumerate(self.link_endpoints):
            if not (0 <= a < self.n_nodes and 0 <= b < self.n_nodes) or a == b:
                raise ValueError(f"link {k} has endpoints ({a}, {b}) outside 0..{self.n_nodes - 1}")
        if self.initial_weights is not None:
            if len(self.initial_weights) != self.n_nodes:
                raise ValueError(
                    f"initial_weights has {len(self.initial_weights)} entries for "
                    f"{self.n_nodes} nodes"
                )
            if any(not 0.0 < w <= 1.0 for w in self.initial_weights):
                raise ValueError("initial_weights must lie in (0, 1]")
        names = [q.name for q in self.quantities]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate quantity names in {names}")
        return self

    @property
    def fault_bound(self) -> int:
        return default_fault_bound(self.n_nodes) if self.f is None else self.f

    @property
    def n_links(self) -> int:
        return len(self.link_endpoints)

    def ledger_params(self) -> LedgerParams:
        return LedgerParams(
            n_nodes=self.n_nodes,
            f=self.fault_bound,
            link_endpoints=self.link_endpoints,
            quantities=tuple(
                QuantitySpec(q.name, q.tolerance_abs, q.tolerance_rel, q.worse)
                for q in self.quantities
            ),
            rule=WeightRule(
                self.alpha,
                self.weight_floor,
                self.recovery_rate,
                self.probation_steps,
                self.clean_error,
            ),
            trust_threshold=self.trust_threshold,
            report_wait_s=self.report_wait_s,
            observation=self.observation,
            censorship_grace_s=self.censorship_grace_s,
            quiet_interval_steps=self.quiet_interval_steps,
        )


@dataclass(frozen=True, eq=False)
class StepStats:
    messages: int
    bytes: int
    latency_s: float | None  # from step start until every honest node decided
    first_decision_s: float | None  # from step start until the first honest node decided
    honest_decided: int
    honest_disagreements: int  # honest nodes whose decision differs from the reference (0!)
    view: int


@dataclass(frozen=True, eq=False)
class StepDecision:
    """What the coordinator hands the environment for one step."""

    step: int
    decided: bool
    agreed: dict[str, np.ndarray]
    trusted: np.ndarray
    vote: np.ndarray
    disputed: np.ndarray  # links distrusted on one endpoint's word while the other vouches
    faulty: np.ndarray  # nodes the step's reports proved faulty
    weights: np.ndarray  # trust weights (the adaptive rule), used by the vote
    consensus_weights: np.ndarray  # quorum weights (the safe projection of the trust weights)
    errors: np.ndarray
    clamp_reason: str | None
    safety: SafetyReport
    stats: StepStats
    # False on a quiet step: no report needed a decision, so the last one stands (its `step`
    # says when it was made) and nothing was agreed in this step
    fresh: bool = True


def honest_reports(
    step: int,
    values: Mapping[str, np.ndarray],
    observers: np.ndarray,
    trust_qber_max: float,
    qber_quantity: str = "qber",
) -> dict[int, NodeReport]:
    """Reports of nodes telling the truth: node i reports `values` on the links it observes
    (`observers[i, k]`), and votes to trust link k iff its QBER is at most `trust_qber_max`."""
    observers = np.asarray(observers, dtype=bool)
    qber = np.asarray(values[qber_quantity], dtype=np.float64)
    vote_row = np.where(qber <= trust_qber_max, 1, -1)
    out = {}
    for node in range(observers.shape[0]):
        seen = observers[node]
        node_values = {
            name: np.where(seen, np.asarray(v, dtype=np.float64), np.nan)
            for name, v in values.items()
        }
        out[node] = NodeReport(node, step, node_values, np.where(seen, vote_row, 0))
    return out


class AbftCoordinator:
    """Weighted-PBFT trust agreement among the key-management nodes of one scenario."""

    def __init__(
        self,
        config: AbftConfig,
        transport: Transport | None = None,
        byzantine: Mapping[int, Strategy] | None = None,
    ) -> None:
        self.config = config
        n, f = config.n_nodes, config.fault_bound
        if f >= n:
            raise ConfigurationError(f"fault bound f={f} must be below n={n}")
        weights = to_units(config.initial_weights or [1.0] * n)
        self.initial_safety = check_safety(weights, f)
        if not self.initial_safety.safe:
            raise UnsafeWeightsError(
                f"cannot tolerate f={f} Byzantine of n={n} nodes: {self.initial_safety.reason}"
            )
        self.byzantine = dict(byzantine or {})
        for node in self.byzantine:
            if not 0 <= node < n:
                raise ConfigurationError(f"Byzantine node {node} is not one of 0..{n - 1}")
        self.honest_ids = [i for i in range(n) if i not in self.byzantine]
        self.transport = transport or InMemoryTransport(
            PartialSynchrony(base_delay_s=1e-3, jitter_s=1e-3), seed=config.seed
        )
        self.inputs = StepInputsStore()
        signers = derive_signers(n, config.seed)
        verifier = verifier_for(signers)
        ledger_params = config.ledger_params()
        pbft = PbftParams(
            checkpoint_interval=config.checkpoint_interval,
            progress_timeout_s=config.progress_timeout_s,
            view_change_timeout_s=config.view_change_timeout_s,
        )
        shared = SharedWork()  # pure work shared among the simulated nodes (ledger.py)
        self.ledgers: list[TrustLedger] = []
        self.replicas: list[Replica] = []
        self._decided_at: dict[int, dict[int, float]] = {}
        for i in range(n):
            ledger = TrustLedger(
                i, ledger_params, weights, verifier, self.inputs, self._record, shared
            )
            replica = Replica(
                i, n, f, signers[i], verifier, self.transport, ledger, pbft, self.byzantine.get(i)
            )
            ledger.replica = replica
            self.ledgers.append(ledger)
            self.replicas.append(replica)
        for strategy in self.byzantine.values():
            strategy.bind(n, self.byzantine)
        self._started_at: dict[int, float] = {}
        self._stats_at_start: dict[int, TransportStats] = {}
        self._last_decided: StepDecision | None = None
        self._last_step: int | None = None
        self._warned_clamp: set[int] = set()

    def _forget_before(self, step: int) -> None:
        """Bounded memory over long runs: per-step bookkeeping older than KEEP_STEPS goes."""
        for table in (self._started_at, self._stats_at_start, self._decided_at):
            for old in [s for s in table if s < step]:
                del table[old]
        self._warned_clamp = {s for s in self._warned_clamp if s >= step}
        self.inputs.forget_before(step)

    def _record(self, node: int, outcome: StepOutcome, now_s: float) -> None:
        self._decided_at.setdefault(outcome.step, {})[node] = now_s

    # driving --------------------------------------------------------------------------------------
    def begin_step(
        self, step: int, reports: Mapping[int, NodeReport], measured: MeasuredInputs
    ) -> None:
        """Start agreement on `step`: each node signs and broadcasts its (possibly false) report."""
        if self._last_step is not None and step <= self._last_step:
            raise ConfigurationError(f"step {step} does not follow step {self._last_step}")
        self._check_inputs(step, reports, measured)
        self._last_step = step
        self._forget_before(step - KEEP_STEPS)
        self.inputs.put(step, measured)
        self._started_at[step] = self.transport.now_s()
        self._stats_at_start[step] = self.transport.stats.snapshot()
        for node in range(self.config.n_nodes):
            report = reports.get(node)
            strategy = self.byzantine.get(node)
            if report is not None and strategy is not None:
                report = strategy.report(step, report)
            self.ledgers[node].start_step(step, report)

    def _check_inputs(
        self, step: int, reports: Mapping[int, NodeReport], measured: MeasuredInputs
    ) -> None:
        L = self.config.n_links
        for node, r in reports.items():
            if r.node != node or r.step != step:
                raise ConfigurationError(
                    f"report for node {node} step {step} says node {r.node} step {r.step}"
                )
            if len(r.votes) != L or any(len(v) != L for v in r.values.values()):
                raise ConfigurationError(f"report of node {node} does not cover {L} links")
        for name in ("measured_qber", "expected_qber"):
            if np.shape(getattr(measured, name)) != (L,):
                raise ConfigurationError(f"{name} must have one entry per link ({L})")

    def all_honest_decided(self, step: int) -> bool:
        """Every honest node executed the step or holds the state after it (state transfer)."""
        return all(self.ledgers[i].next_step > step for i in self.honest_ids)

    def decision_needed(self, step: int) -> bool:
        """Some honest node sent its report for the step (scheduled, or an alarm) or already
        decided it. False on a quiet step: nobody waits for a decision there."""
        return any(self.ledgers[i].wants_decision(step) for i in self.honest_ids)

    def step_settled(self, step: int) -> bool:
        """Nothing left to wait for in this step: every honest node decided it, or it is quiet."""
        return self.all_honest_decided(step) or not self.decision_needed(step)

    def run_step(
        self, step: int, reports: Mapping[int, NodeReport], measured: MeasuredInputs
    ) -> StepDecision:
        """begin_step, then advance the transport until all honest nodes decided or the deadline."""
        self.begin_step(step, reports, measured)
        deadline = self._started_at[step] + self.config.step_deadline_s
        self.transport.run_until(deadline, stop=lambda: self.step_settled(step))
        return self.decision(step)

    # results --------------------------------------------------------------------------------------
    def decision(self, step: int) -> StepDecision:
        """The step's decision as an honest node sees it (or the previous one if none yet)."""
        outcomes = [
            (i, self.ledgers[i].history[step])
            for i in self.honest_ids
            if step in self.ledgers[i].history
        ]
        start = self._started_at.get(step, self.transport.now_s())
        traffic = self.transport.stats.minus(self._stats_at_start.get(step, TransportStats()))
        times = [self._decided_at.get(step, {}).get(i) for i, _ in outcomes]
        times = [t for t in times if t is not None]
        view = max(self.replicas[i].view for i in self.honest_ids) if self.honest_ids else 0
        if not outcomes:
            stats = StepStats(traffic.messages_sent, traffic.bytes_sent, None, None, 0, 0, view)
            standing = self._standing(step) if not self.decision_needed(step) else None
            if standing is not None:
                return dataclasses.replace(standing, stats=stats, fresh=False)
            return self._undecided(step, stats)
        ref = outcomes[0][1]
        disagreements = sum(o.fingerprint() != ref.fingerprint() for _, o in outcomes)
        done = sum(self.ledgers[i].next_step > step for i in self.honest_ids)
        all_done = done == len(self.honest_ids)
        stats = StepStats(
            messages=traffic.messages_sent,
            bytes=traffic.bytes_sent,
            latency_s=(max(times) - start) if all_done and times else None,
            first_decision_s=(min(times) - start) if times else None,
            honest_decided=done,
            honest_disagreements=disagreements,
            view=view,
        )
        decision = StepDecision(
            step=step,
            decided=True,
            agreed=ref.agreed,
            trusted=ref.trusted,
            vote=ref.vote,
            disputed=ref.disputed,
            faulty=ref.faulty,
            weights=ref.weights_after,
            consensus_weights=ref.consensus_weights,
            errors=ref.errors,
            clamp_reason=ref.clamp_reason,
            safety=ref.safety,
            stats=stats,
        )
        self._last_decided = decision
        if ref.clamp_reason is not None and step not in self._warned_clamp:
            self._warned_clamp.add(step)
            log.warning("step %d: %s", step, ref.clamp_reason)
        return decision

    def _standing(self, step: int) -> StepDecision | None:
        """The latest decision before `step` that honest nodes executed (None: none yet); the
        one in force on a quiet step, even if it completed after its own step ended."""
        ledgers = [self.ledgers[i] for i in self.honest_ids]
        latest = max((ledger.next_step for ledger in ledgers), default=0) - 1  # (executed last)
        if not (0 <= latest < step and any(latest in ledger.history for ledger in ledgers)):
            # (after a state transfer the newest step may not be in any history): search them
            latest = max((s for ledger in ledgers for s in ledger.history if s < step), default=-1)
        if latest < 0:
            return None
        last = self._last_decided
        return last if last is not None and last.step == latest else self.decision(latest)

    def _undecided(self, step: int, stats: StepStats) -> StepDecision:
        """No honest node decided in time: keep the last decision's trust and weights."""
        L = self.config.n_links
        last = self._last_decided
        weights = self.current_weights()
        consensus = self.current_weights(consensus=True)
        return StepDecision(
            step=step,
            decided=False,
            agreed={q.name: np.full(L, np.nan) for q in self.config.quantities},
            trusted=last.trusted if last is not None else np.zeros(L, dtype=bool),
            vote=np.full(L, np.nan),
            disputed=np.zeros(L, dtype=bool),
            faulty=np.zeros(self.config.n_nodes, dtype=bool),
            weights=weights,
            consensus_weights=consensus,
            errors=np.zeros(self.config.n_nodes),
            clamp_reason=None,
            safety=check_safety(to_units(consensus), self.config.fault_bound),
            stats=stats,
        )

    def current_weights(self, consensus: bool = False) -> np.ndarray:
        """Trust (or consensus) weights as the most advanced honest node holds them."""
        best = self.ledgers[max(self.honest_ids, key=lambda i: self.ledgers[i].next_step)]
        return from_units(best.weights if consensus else best.trust)

    def safety_report(self, f: int | None = None) -> SafetyReport:
        """Safety of the consensus weights against f Byzantine nodes (default: configured f)."""
        units = to_units(self.current_weights(consensus=True))
        return check_safety(units, self.config.fault_bound if f is None else f)


class BaselineCoordinator:
    """ "No ABFT": every report trusted as sent, no weights, no consensus traffic."""

    def __init__(self, config: AbftConfig, byzantine: Mapping[int, Strategy] | None = None):
        self.config = config
        self.byzantine = dict(byzantine or {})
        for strategy in self.byzantine.values():
            strategy.bind(config.n_nodes, self.byzantine)
        # the weights never move here, so neither does their safety: checked once, not per step
        self._safety = check_safety(to_units(np.ones(config.n_nodes)), config.fault_bound)

    def run_step(
        self, step: int, reports: Mapping[int, NodeReport], measured: MeasuredInputs
    ) -> StepDecision:
        n, L = self.config.n_nodes, self.config.n_links
        sent = []
        for node in range(n):
            r = reports.get(node)
            if r is not None and node in self.byzantine:
                r = self.byzantine[node].report(step, r)
            if r is not None:
                sent.append(r)
        agreed = {}
        for q in self.config.quantities:
            stack = np.array([r.values[q.name] for r in sent]) if sent else np.full((1, L), np.nan)
            # np.nanmean's arithmetic (NaN -> 0, sum / count), without the warnings filter it
            # needs for all-NaN columns (costly every step): 0 / 0 is NaN, as nanmean gives
            missing = np.isnan(stack)
            total = np.where(missing, 0.0, stack).sum(axis=0)
            with np.errstate(invalid="ignore"):
                agreed[q.name] = total / (~missing).sum(axis=0, dtype=np.intp)
        votes = np.array([r.votes for r in sent]) if sent else np.zeros((1, L), dtype=np.int64)
        vote_sum = votes.sum(axis=0)
        voters = (votes != 0).sum(axis=0)
        ones = np.ones(n)
        return StepDecision(
            step=step,
            decided=True,
            agreed=agreed,
            trusted=(voters > 0) & (vote_sum > self.config.trust_threshold * voters),
            vote=np.where(voters > 0, vote_sum / np.maximum(voters, 1), np.nan),
            disputed=np.zeros(L, dtype=bool),
            faulty=np.zeros(n, dtype=bool),
            weights=ones,
            consensus_weights=ones,
            errors=np.zeros(n),
            clamp_reason=None,
            safety=self._safety,
            stats=StepStats(0, 0, 0.0, 0.0, n - len(self.byzantine), 0, 0),
        )
