"""Weighted PBFT (Castro & Liskov 1999/2002) with weighted quorums (WHEAT/AWARE style).

One `Replica` per key-management node. It is event-driven: `on_message` and `on_timer` are its
only entry points and it acts through the transport, so the same code runs on the in-memory
transport and on the simulated classical network.

Protocol, as in PBFT with signatures: the primary of view v (node v mod n) sends PRE-PREPARE;
backups send PREPARE; a value is *prepared* when the pre-prepare and prepares come from a weighted
quorum, then COMMIT, and *committed* when commits come from a weighted quorum. Every K executed
sequence numbers a CHECKPOINT is exchanged; a timer on pending work triggers first a STATUS
(so a lagging node can be sent what it missed) and then a VIEW-CHANGE; the new primary's NEW-VIEW
carries the view changes it used and the pre-prepares they force.

Linear normal case (`PbftParams.linear`, the default): backups send PREPARE, COMMIT and
CHECKPOINT to the primary only, and the primary forwards a quorum of them, signed by their
authors, as one bundle (the "collector" of SBFT, Gueta et al. 2019; HotStuff's leader-aggregated
votes without threshold signatures). A replica cannot tell a forwarded signed vote from a direct
one, so quorum intersection and view changes are unchanged; a primary that withholds bundles is
just a slow primary and is replaced by the progress timeout. It costs two message delays per
phase more and cuts the normal case from ~4 n^2 messages to ~8 n; view changes stay all-to-all.

Where weights and counts are used, and why:
* Prepare and commit quorums are *weighted* (total weight >= Q = W - F_max of the window's
  weights); that is where weights speed up or slow down agreement.
* Checkpoint and view-change certificates are *count-based* (n - f distinct nodes). The
  complement of such a set is at most f nodes, whose weight is at most F_max under any weight
  vector, so it meets every weighted quorum Q > 2 F_max in an honest node. A view change therefore
  never depends on which weights were in force when a value committed.
* Weights change only at checkpoints: the weights for sequence numbers (h, h + K] are those of the
  application state after executing h, and the watermark window is exactly K. So every node that
  accepts a message for seq k knows the same weights, and state transfer carries them along.
* A checkpoint signed by f + 1 distinct nodes contains an honest one, so it may be adopted (and the
  state fetched and checked against its digest) even by a node that did not execute it.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from control.abft.crypto import Signer, Verifier, digest
from control.abft.errors import ConfigurationError, MessageDecodeError, UnsafeWeightsError
from control.abft.messages import (
    AppMessage,
    Checkpoint,
    Commit,
    FetchState,
    Forward,
    Message,
    NewView,
    Prepare,
    PreparedProof,
    PrePrepare,
    Signed,
    StateReply,
    Status,
    ViewChange,
    decode_envelope,
    encode_envelope,
    sign,
)
from control.abft.quorum import QuorumConfig
from control.abft.transport import Transport

log = logging.getLogger(__name__)

NULL_VALUE = b""
KEEP_HISTORY_SEQS = 1024  # checkpoints' weights and executed digests kept behind the window


@dataclass(frozen=True)
class PbftParams:
    """Protocol timing and sizes (simulated seconds)."""

    checkpoint_interval: int = 1
    progress_timeout_s: float = 0.2
    view_change_timeout_s: float = 0.2
    max_buffered: int = 20_000
    linear: bool = True  # normal case through the primary as collector (see the module doc)

    def __post_init__(self) -> None:
        if self.checkpoint_interval < 1:
            raise ConfigurationError(
                f"checkpoint_interval must be >= 1, got {self.checkpoint_interval}"
            )
        if self.progress_timeout_s <= 0 or self.view_change_timeout_s <= 0:
            raise ConfigurationError("PBFT timeouts must be positive")


class Application(Protocol):
    """The replicated state machine a replica orders values for."""

    def proposal(self, seq: int) -> bytes | None:
        """As primary: the value to assign to seq, or None if there is nothing to propose yet."""

    def validate(self, seq: int, value: bytes) -> bool:
        """As backup: may this (non-null) proposed value be ordered at all?"""

    def execute(self, seq: int, value: bytes) -> None:
        """Apply a committed value (NULL_VALUE for a null request) in sequence order."""

    def snapshot(self) -> bytes:
        """Deterministic serialisation of the state (its digest goes into checkpoints)."""

    def restore(self, snapshot: bytes) -> None:
        """Replace the state by a snapshot fetched from peers (digest already checked)."""

    def consensus_weights(self) -> tuple[int, ...]:
        """Integer weights for the next window (must be safe for the replica's f)."""

    def has_pending(self) -> bool:
        """Is there work the replicas are expected to order (arms the progress timer)?"""

    def on_app_message(self, env: Signed) -> None:
        """A signed application message (`env.message` is an AppMessage, e.g. a step report)."""

    def on_app_timer(self, token: Hashable) -> None:
        """A timer the application set through `Replica.set_app_timer` fired."""


class Behaviour(Protocol):
    """Hook for Byzantine strategies: rewrites what a node sends (see `byzantine.py`)."""

    def outgoing(self, replica: Replica, dst: int, message: Message) -> list[tuple[float, Message]]:
        """Messages actually sent to dst instead of `message`, each with an extra delay (s)."""

    def alive(self, replica: Replica) -> bool:
        """False once the node has crashed: it neither sends nor processes anything."""


@dataclass
class ReplicaStats:
    sent_by_type: dict[str, int] = field(default_factory=dict)
    malformed: int = 0
    bad_signatures: int = 0
    invalid_proposals: int = 0
    conflicting_preprepares: int = 0
    view_changes_started: int = 0
    new_views_installed: int = 0
    rejected_new_views: int = 0
    state_transfers: int = 0
    executed: int = 0


@dataclass
class _Slot:
    preprepare: Signed | None = None
    prepares: dict[bytes, dict[int, Signed]] = field(default_factory=dict)
    commits: dict[bytes, dict[int, Signed]] = field(default_factory=dict)
    prepared: bool = False
    committed: bool = False


class Replica:
    """One node running weighted PBFT for an `Application`."""

    def __init__(
        self,
        node_id: int,
        n_nodes: int,
        f: int,
        signer: Signer,
        verifier: Verifier,
        transport: Transport,
        app: Application,
        params: PbftParams | None = None,
        behaviour: Behaviour | None = None,
    ) -> None:
        if not 0 <= node_id < n_nodes:
            raise ConfigurationError(f"node id {node_id} outside 0..{n_nodes - 1}")
        if signer.node_id != node_id:
            raise ConfigurationError(f"node {node_id} got the signing key of node {signer.node_id}")
        self.id = node_id
        self.n = n_nodes
        self.f = f
        self.signer = signer
        self.verifier = verifier
        self.transport = transport
        self.app = app
        self.params = params or PbftParams()
        self.behaviour = behaviour
        self.K = self.params.checkpoint_interval
        self.stats = ReplicaStats()

        self.view = 0
        self.in_view_change = False
        self.low = 0
        self.last_executed = 0
        self.next_seq = 1
        genesis = app.snapshot()
        self.genesis_digest = digest(genesis)
        self.low_digest = self.genesis_digest
        self.stable_proof: tuple[Signed, ...] = ()
        self.configs: dict[int, QuorumConfig] = {
            0: QuorumConfig.from_weights(app.consensus_weights(), f)
        }
        self.my_checkpoints: dict[int, tuple[bytes, bytes]] = {0: (self.genesis_digest, genesis)}
        self.executed_digests: dict[int, bytes] = {}
        self.execution_times_s: dict[int, float] = {}

        self._slots: dict[tuple[int, int], _Slot] = {}
        self._committed_values: dict[int, bytes] = {}
        self._ckpt_msgs: dict[int, dict[bytes, dict[int, Signed]]] = {}
        self._ckpt_seqs_by_sender: dict[int, list[int]] = {}
        self._view_changes: dict[int, dict[int, Signed]] = {}
        self._sent_new_view: set[int] = set()
        self._current_new_view: Signed | None = None
        self._pending_new_view: Signed | None = None
        self._future: list[Signed] = []
        self._state_target: tuple[int, bytes, tuple[int, ...]] | None = None
        self._helped: set[tuple[int, int, int]] = set()
        self._progress_timer: int | None = None
        self._progress_epoch = 0
        self._status_sent = False
        self._vc_timer: int | None = None
        self._vc_attempts = 0
        self._vc_quorum_since_s: float | None = None
        self._last_put: tuple[Signed | None, bytes] = (None, b"")
        self._deferred_checks: set[tuple[int, int]] | None = None
        transport.register(node_id, self)

    # public helpers -------------------------------------------------------------------------------
    def primary(self, view: int | None = None) -> int:
        return (self.view if view is None else view) % self.n

    @property
    def is_primary(self) -> bool:
        return self.primary() == self.id and not self.in_view_change

    def poke(self) -> None:
        """The application has new work: propose if primary, arm the progress timer."""
        if not self._alive():
            return
        self._try_propose()
        self._arm_progress_timer()

    def submit_app(self, payload: bytes) -> Signed:
        """Sign an application message for the primary (every node with `linear=False`); this
        node handles it too. Returns the signed envelope (to re-send after a view change)."""
        env = self._sign(AppMessage(payload))
        for dst in [self.primary()] if self.params.linear else range(self.n):
            if dst != self.id:
                self._send(dst, env.message, env)
        self._handle(env)
        return env

    def share_app(self, env: Signed) -> None:
        """Pass an already signed application message to every other node."""
        for dst in range(self.n):
            self.send_app(dst, env)

    def send_app(self, dst: int, env: Signed) -> None:
        """Pass an already signed application message (e.g. another node's report) to dst."""
        if self._alive() and dst != self.id:
            self._put(dst, env, 0.0)

    def set_app_timer(self, delay_s: float, token: Hashable) -> int:
        return self.transport.set_timer(self.id, delay_s, ("app", token))

    def config_for(self, seq: int) -> QuorumConfig | None:
        """Weights in force for sequence number seq, if this node knows them yet."""
        return self.configs.get(((seq - 1) // self.K) * self.K)

    # transport entry points -----------------------------------------------------------------------
    def on_message(self, src: int, payload: bytes) -> None:
        if not self._alive():
            return
        try:
            env = decode_envelope(payload)
        except MessageDecodeError:
            self.stats.malformed += 1
            return
        if not env.valid(self.verifier):
            self.stats.bad_signatures += 1
            return
        self._handle(env)

    def on_timer(self, token: Hashable) -> None:
        if not self._alive():
            return
        kind = token[0] if isinstance(token, tuple) else token
        if kind == "send":
            _, dst, payload = token
            self.transport.send(self.id, dst, payload)
        elif kind == "progress":
            self._on_progress_timeout(token[1])
        elif kind == "vc":
            if self.in_view_change and self.view == token[1]:
                self._on_view_change_timer()
        elif kind == "fetch":
            self._request_state(retry=True)
        elif kind == "app":
            self.app.on_app_timer(token[1])

    # sending --------------------------------------------------------------------------------------
    def _alive(self) -> bool:
        return self.behaviour is None or self.behaviour.alive(self)

    def _sign(self, m: Message) -> Signed:
        return sign(self.signer, m)

    def _send(self, dst: int, m: Message, signed: Signed | None = None) -> None:
        if self.behaviour is None:
            env = signed or self._sign(m)
            self._put(dst, env, 0.0)
            return
        for delay_s, out in self.behaviour.outgoing(self, dst, m):
            env = signed if (out is m and signed is not None) else self._sign(out)
            self._put(dst, env, delay_s)

    def _put(self, dst: int, env: Signed, delay_s: float) -> None:
        name = type(env.message).__name__
        self.stats.sent_by_type[name] = self.stats.sent_by_type.get(name, 0) + 1
        if self._last_put[0] is not env:  # a broadcast encodes once, not once per destination
            self._last_put = (env, encode_envelope(env))
        payload = self._last_put[1]
        if delay_s > 0:
            self.transport.set_timer(self.id, delay_s, ("send", dst, payload))
        else:
            self.transport.send(self.id, dst, payload)

    def _vote(self, m: Message, view: int) -> None:
        """A PREPARE/COMMIT/CHECKPOINT: to every node, or (linear) to the collecting primary,
        which forwards a quorum of them as one bundle (`_collect`)."""
        if not self.params.linear:
            self._broadcast(m)
            return
        env = self._sign(m)
        collector = self.primary(view)
        if collector != self.id:
            self._send(collector, m, env)
        self._handle(env)

    def _collect(self, envs: list[Signed]) -> None:
        """As primary (linear mode): hand a quorum certificate to every other node at once."""
        if not (self.params.linear and envs):
            return
        bundle = Forward(tuple(envs))
        env = self._sign(bundle)
        for dst in range(self.n):
            if dst != self.id:
                self._send(dst, bundle, env)

    def _broadcast(self, m: Message, include_self: bool = True) -> None:
        env = self._sign(m)
        for dst in range(self.n):
            if dst != self.id:
                self._send(dst, m, env)
        if include_self:
            self._handle(env)

    # dispatch -------------------------------------------------------------------------------------
    def _handle(self, env: Signed, forwarded: bool = False) -> None:
        try:
            m = env.message
        except MessageDecodeError:
            self.stats.malformed += 1
            return
        match m:
            case PrePrepare():
                self._on_preprepare(env, m)
            case Prepare():
                self._on_prepare(env, m)
            case Commit():
                self._on_commit(env, m)
            case Checkpoint():
                self._on_checkpoint(env, m)
            case ViewChange():
                self._on_view_change(env, m)
            case NewView():
                self._on_new_view(env, m)
            case Status() if not forwarded:
                self._on_status(env, m)
            case FetchState() if not forwarded:
                self._on_fetch_state(env, m)
            case StateReply() if not forwarded:
                self._on_state_reply(m)
            case Forward() if not forwarded:
                self._on_forward(m)
            case AppMessage() if not forwarded:
                self.app.on_app_message(env)

    def _on_forward(self, m: Forward) -> None:
        """Signed messages of others, relayed: each counts as if its author had sent it."""
        genuine, bad = m.genuine(self.verifier)
        self.stats.bad_signatures += bad
        self._deferred_checks = set()  # a bundle's votes are counted once, at its end
        try:
            certificate = self._take_certificate(genuine)
            if not certificate:
                for inner in genuine:
                    self._handle(inner, forwarded=True)
        finally:
            pending, self._deferred_checks = self._deferred_checks, None
        for view, seq in sorted(pending):
            self._check_slot(view, seq)
        if certificate:  # one vote body: no pre-prepare to pair commits with
            self._try_execute()
        else:
            self._adopt_commit_certificates(genuine)

    def _take_certificate(self, envs: tuple[Signed, ...]) -> bool:
        """The collector's bundle - one PREPARE, COMMIT or CHECKPOINT body signed by many -
        taken in one go: counted by `_count_votes`, as a single vote is, without the per-vote
        dispatch (at 50 nodes each node receives ~100 such votes per decision). False
        when the bundle is anything else (it is then handled vote by vote)."""
        if not envs or any(env.body != envs[0].body for env in envs):
            return False
        m = envs[0].message
        if isinstance(m, Checkpoint):
            for env in envs:
                if self._on_checkpoint(env, m):
                    break  # stable: the rest would be dropped as below the watermark
            return True
        if not isinstance(m, (Prepare, Commit)):
            return False
        self._count_votes(m, envs)
        return True

    def _count_votes(self, m: Prepare | Commit, envs: Sequence[Signed]) -> None:
        """PREPARE or COMMIT votes for one body `m` (one received vote, or a collector's bundle):
        dropped, buffered for later, or counted in the slot's vote table, per the normal-case
        gate. A prepare from the primary is not counted: its pre-prepare is its prepare."""
        gate = self._normal_case_gate(m.view, m.seq)
        if gate == "drop":
            return
        skip = self.primary(m.view) if isinstance(m, Prepare) else -1
        if gate == "later":
            for env in envs:
                if env.sender != skip:
                    self._buffer(env)
            return
        slot = self._slot(m.view, m.seq)
        table = slot.prepares if isinstance(m, Prepare) else slot.commits
        votes = table.setdefault(m.digest, {})
        for env in envs:
            if env.sender != skip:
                votes.setdefault(env.sender, env)
        self._check_slot_soon(m.view, m.seq)

    def _buffer(self, env: Signed) -> None:
        if len(self._future) < self.params.max_buffered:
            self._future.append(env)

    def _replay_future(self) -> None:
        pending, self._future = self._future, []
        for env in pending:
            self._handle(env, forwarded=True)

    def _normal_case_gate(self, view: int, seq: int) -> str:
        """'now', 'later' (buffer) or 'drop' for a pre-prepare/prepare/commit."""
        if view < self.view or seq <= self.low:
            return "drop"
        if view > self.view or self.in_view_change or seq > self.low + self.K:
            return "later"
        return "now"

    # normal case ----------------------------------------------------------------------------------
    def _slot(self, view: int, seq: int) -> _Slot:
        slot = self._slots.get((view, seq))
        if slot is None:  # (not setdefault: that would build a _Slot on every vote)
            slot = self._slots[(view, seq)] = _Slot()
        return slot

    def _on_preprepare(self, env: Signed, m: PrePrepare) -> None:
        if env.sender != self.primary(m.view):
            return
        gate = self._normal_case_gate(m.view, m.seq)
        if gate == "later":
            self._buffer(env)
        elif gate == "now":
            self._accept_preprepare(env, m, validate=True)

    def _accept_preprepare(self, env: Signed, m: PrePrepare, validate: bool) -> None:
        slot = self._slot(m.view, m.seq)
        if slot.preprepare is not None:
            if slot.preprepare.message.digest != m.digest:
                self.stats.conflicting_preprepares += 1
            return
        if validate and (m.value == NULL_VALUE or not self.app.validate(m.seq, m.value)):
            self.stats.invalid_proposals += 1
            return
        slot.preprepare = env
        if self.id != self.primary(m.view):
            self._vote(Prepare(m.view, m.seq, m.digest), m.view)
        self._check_slot(m.view, m.seq)

    def _on_prepare(self, env: Signed, m: Prepare) -> None:
        if env.sender == self.primary(m.view):
            return
        self._count_votes(m, (env,))

    def _on_commit(self, env: Signed, m: Commit) -> None:
        self._count_votes(m, (env,))

    def _check_slot_soon(self, view: int, seq: int) -> None:
        if self._deferred_checks is not None:
            self._deferred_checks.add((view, seq))
        else:
            self._check_slot(view, seq)

    def _check_slot(self, view: int, seq: int) -> None:
        slot = self._slots.get((view, seq))
        cfg = self.config_for(seq)
        if slot is None or slot.preprepare is None or cfg is None:
            return
        pp: PrePrepare = slot.preprepare.message
        collector = self.params.linear and self.id == self.primary(view)
        if not slot.prepared:
            senders = set(slot.prepares.get(pp.digest, {})) | {self.primary(view)}
            if not cfg.is_quorum(senders):
                return
            slot.prepared = True
            if collector:
                self._collect(list(slot.prepares.get(pp.digest, {}).values()))
            self._vote(Commit(view, seq, pp.digest), view)
        if slot.prepared and not slot.committed and cfg.is_quorum(slot.commits.get(pp.digest, {})):
            slot.committed = True
            if collector:  # (no pre-prepare: a node that missed it asks with STATUS)
                self._collect(list(slot.commits.get(pp.digest, {}).values()))
            if seq > self.last_executed:
                self._committed_values[seq] = pp.value
            self._try_execute()

    def _try_propose(self) -> None:
        if not self.is_primary:
            return
        self.next_seq = max(self.next_seq, self.low + 1)
        while self.next_seq <= self.low + self.K and self.config_for(self.next_seq) is not None:
            value = self.app.proposal(self.next_seq)
            if value is None or value == NULL_VALUE:
                return
            seq = self.next_seq
            self.next_seq += 1
            self._broadcast(PrePrepare(self.view, seq, value))

    # execution and checkpoints --------------------------------------------------------------------
    def _try_execute(self) -> None:
        progressed = False
        while (self.last_executed + 1) in self._committed_values:
            seq = self.last_executed + 1
            value = self._committed_values.pop(seq)
            self.app.execute(seq, value)
            self.last_executed = seq
            self.executed_digests[seq] = digest(value)
            self.execution_times_s[seq] = self.transport.now_s()
            self.stats.executed += 1
            progressed = True
            if seq % self.K == 0:
                self._take_checkpoint(seq)
        if progressed:
            self._on_progress()

    def _take_checkpoint(self, seq: int) -> None:
        snapshot = self.app.snapshot()
        state_digest = digest(snapshot)
        self.my_checkpoints[seq] = (state_digest, snapshot)
        self._install_config(seq)
        if self.in_view_change:
            self._broadcast(Checkpoint(seq, state_digest))
        else:
            self._vote(Checkpoint(seq, state_digest), self.view)

    def _install_config(self, seq: int) -> None:
        try:
            self.configs[seq] = QuorumConfig.from_weights(self.app.consensus_weights(), self.f)
        except UnsafeWeightsError as exc:  # the application must prevent this; keep the old ones
            previous = self.configs[max(k for k in self.configs if k < seq)]
            log.error("node %d: unsafe weights at seq %d kept previous (%s)", self.id, seq, exc)
            self.configs[seq] = previous

    def _on_checkpoint(self, env: Signed, m: Checkpoint) -> bool:
        """Count a checkpoint vote; True once its sequence number is (or was) stable."""
        if m.seq <= self.low:
            return True
        seqs = self._ckpt_seqs_by_sender.setdefault(env.sender, [])
        if m.seq not in seqs:
            seqs.append(m.seq)
            if len(seqs) > 4:  # bound what one (possibly Byzantine) sender can make us store
                old = seqs.pop(0)
                for by_digest in self._ckpt_msgs.get(old, {}).values():
                    by_digest.pop(env.sender, None)
        signers = self._ckpt_msgs.setdefault(m.seq, {}).setdefault(m.state_digest, {})
        signers.setdefault(env.sender, env)
        if len(signers) >= self.n - self.f:
            proof = tuple(signers[s] for s in sorted(signers))
            if self.params.linear and self.is_primary:
                self._collect(list(proof))
            self._make_stable(m.seq, m.state_digest, proof)
        return m.seq <= self.low

    def _make_stable(self, seq: int, state_digest: bytes, proof: tuple[Signed, ...]) -> None:
        if seq <= self.low:
            return
        self.low = seq
        self.low_digest = state_digest
        self.stable_proof = proof
        self._slots = {key: s for key, s in self._slots.items() if key[1] > seq}
        self._committed_values = {k: v for k, v in self._committed_values.items() if k > seq}
        self._ckpt_msgs = {k: v for k, v in self._ckpt_msgs.items() if k >= seq}
        self.my_checkpoints = {k: v for k, v in self.my_checkpoints.items() if k >= seq}
        # bounded memory in long runs: old weights and the execution record are only diagnostics
        horizon = seq - KEEP_HISTORY_SEQS * self.K
        if horizon > 0:
            self.configs = {k: v for k, v in self.configs.items() if k >= horizon}
            self.executed_digests = {k: v for k, v in self.executed_digests.items() if k >= horizon}
            self.execution_times_s = {
                k: v for k, v in self.execution_times_s.items() if k >= horizon
            }
        self.next_seq = max(self.next_seq, seq + 1)
        if self.last_executed < seq:
            self._state_target = (seq, state_digest, tuple(sorted({e.sender for e in proof})))
            self._request_state(retry=False)
        elif self.my_checkpoints.get(seq, (state_digest,))[0] != state_digest:
            log.error("node %d: own state at %d differs from the stable checkpoint", self.id, seq)
        self._after_window_moved()

    def _after_window_moved(self) -> None:
        self._replay_future()
        for view, seq in list(self._slots):
            if view == self.view:
                self._check_slot(view, seq)
        self._try_propose()
        self._arm_progress_timer()

    def _request_state(self, retry: bool) -> None:
        if self._state_target is None:
            return
        seq, state_digest, holders = self._state_target
        if self.last_executed >= seq:
            self._state_target = None
            return
        for holder in holders:
            if holder != self.id:
                self._send(holder, FetchState(seq, state_digest))
        self.transport.set_timer(self.id, self.params.progress_timeout_s, ("fetch", seq))

    def _on_fetch_state(self, env: Signed, m: FetchState) -> None:
        held = self.my_checkpoints.get(m.seq)
        if held is not None and held[0] == m.state_digest and env.sender != self.id:
            self._send(env.sender, StateReply(m.seq, held[1]))

    def _on_state_reply(self, m: StateReply) -> None:
        target = self._state_target
        if target is None or m.seq != target[0] or digest(m.snapshot) != target[1]:
            return
        if self.last_executed >= m.seq:
            self._state_target = None
            return
        self.app.restore(m.snapshot)
        self.last_executed = m.seq
        self.my_checkpoints[m.seq] = (target[1], m.snapshot)
        self._install_config(m.seq)
        self._committed_values = {k: v for k, v in self._committed_values.items() if k > m.seq}
        self._state_target = None
        self.stats.state_transfers += 1
        self._try_execute()
        self._on_progress()
        self._after_window_moved()
        if self._pending_new_view is not None:
            env, self._pending_new_view = self._pending_new_view, None
            self._handle(env, forwarded=True)
        if self.in_view_change and self.primary() == self.id:
            self._try_new_view(self.view)

    # timers and lagging nodes ---------------------------------------------------------------------
    def _arm_progress_timer(self) -> None:
        if self._progress_timer is not None or self.in_view_change:
            return
        if not self.app.has_pending():
            return
        self._progress_epoch += 1
        self._progress_timer = self.transport.set_timer(
            self.id, self.params.progress_timeout_s, ("progress", self._progress_epoch)
        )

    def _cancel_progress_timer(self) -> None:
        if self._progress_timer is not None:
            self.transport.cancel_timer(self._progress_timer)
            self._progress_timer = None
        self._progress_epoch += 1

    def _on_progress(self) -> None:
        self._cancel_progress_timer()
        self._status_sent = False
        self._arm_progress_timer()
        self._try_propose()

    def _on_progress_timeout(self, epoch: int) -> None:
        if epoch != self._progress_epoch:
            return
        self._progress_timer = None
        if self.in_view_change or not self.app.has_pending():
            return
        if not self._status_sent:
            self._status_sent = True
            self._broadcast(Status(self.view, self.low, self.last_executed), include_self=False)
            self._arm_progress_timer()
        else:
            self._start_view_change(self.view + 1)

    def _on_status(self, env: Signed, m: Status) -> None:
        peer = env.sender
        if peer == self.id:
            return
        if m.low < self.low and self.stable_proof:
            self._send(peer, Forward(self.stable_proof))
        if m.view < self.view and not self.in_view_change and self._current_new_view is not None:
            self._send(peer, Forward((self._current_new_view,)))
        certificates = self._certificates_after(m.last_executed)
        if certificates:
            self._send(peer, Forward(tuple(certificates)))

    def _certificates_after(self, seq: int) -> list[Signed]:
        """Pre-prepare, prepares and commits of every committed slot after `seq` that we hold."""
        out: list[Signed] = []
        for k in range(max(seq, self.low) + 1, self.last_executed + 1):
            for (_view, s), slot in self._slots.items():
                if s == k and slot.committed and slot.preprepare is not None:
                    d = slot.preprepare.message.digest
                    out.append(slot.preprepare)
                    out.extend(slot.prepares.get(d, {}).values())
                    out.extend(slot.commits.get(d, {}).values())
                    break
        return out

    def _adopt_commit_certificates(self, envs: list[Signed]) -> None:
        """A pre-prepare plus commits from a weighted quorum prove that the value committed
        (the quorum holds honest nodes that prepared it), whatever view this node is in now.
        This lets a node that missed messages, or already moved towards a newer view, execute."""
        pps: dict[tuple[int, int], PrePrepare] = {}
        commits: dict[tuple[int, int, bytes], set[int]] = {}
        for env in envs:
            m = env.message
            if isinstance(m, PrePrepare) and env.sender == self.primary(m.view):
                pps[(m.view, m.seq)] = m
            elif isinstance(m, Commit):
                commits.setdefault((m.view, m.seq, m.digest), set()).add(env.sender)
        for (view, seq, d), senders in commits.items():
            pp = pps.get((view, seq))
            cfg = self.config_for(seq)
            if (
                pp is None
                or pp.digest != d
                or cfg is None
                or not self.last_executed < seq <= self.low + self.K
                or seq in self._committed_values
            ):
                continue
            if cfg.is_quorum(senders):
                self._committed_values[seq] = pp.value
        self._try_execute()

    # view change ----------------------------------------------------------------------------------
    def _start_view_change(self, new_view: int) -> None:
        if new_view <= self.view and (self.in_view_change or new_view < self.view):
            return
        if new_view == self.view and not self.in_view_change:
            return
        self._cancel_progress_timer()
        self._status_sent = False
        self.view = new_view
        self.in_view_change = True
        self.stats.view_changes_started += 1
        prepared = self._prepared_proofs()
        vc = ViewChange(new_view, self.low, self.low_digest, self.stable_proof, prepared)
        self._vc_quorum_since_s = None
        self._arm_view_change_timer()
        latest = max(self.my_checkpoints, default=0)
        if latest > self.low:  # retransmit: a lost checkpoint must not stall the window forever
            self._broadcast(Checkpoint(latest, self.my_checkpoints[latest][0]), include_self=False)
        self._broadcast(vc)

    def _arm_view_change_timer(self) -> None:
        if self._vc_timer is not None:
            self.transport.cancel_timer(self._vc_timer)
        self._vc_timer = self.transport.set_timer(
            self.id, self.params.view_change_timeout_s, ("vc", self.view)
        )

    def _on_view_change_timer(self) -> None:
        """PBFT's rule: escalate to view v + 1 only once n - f nodes asked for v and the new
        primary still has not delivered within T * 2^attempts; until then retransmit (a lone
        lagging node must not run ahead through views nobody else is changing to)."""
        self._vc_timer = None
        since = self._vc_quorum_since_s
        timeout = self.params.view_change_timeout_s * 2 ** min(self._vc_attempts, 8)
        if since is not None and self.transport.now_s() - since >= timeout:
            self._vc_attempts += 1
            self._start_view_change(self.view + 1)
            return
        mine = self._view_changes.get(self.view, {}).get(self.id)
        if mine is not None:
            for dst in range(self.n):
                if dst != self.id:
                    self._send(dst, mine.message, mine)
        self._broadcast(Status(self.view, self.low, self.last_executed), include_self=False)
        self._arm_view_change_timer()

    def _prepared_proofs(self) -> tuple[PreparedProof, ...]:
        best: dict[int, tuple[int, _Slot]] = {}
        for (view, seq), slot in self._slots.items():
            in_window = self.low < seq <= self.low + self.K
            if slot.prepared and in_window and (seq not in best or view > best[seq][0]):
                best[seq] = (view, slot)
        proofs = []
        for seq in sorted(best):
            slot = best[seq][1]
            d = slot.preprepare.message.digest
            votes = slot.prepares.get(d, {})
            proofs.append(PreparedProof(slot.preprepare, tuple(votes[s] for s in sorted(votes))))
        return tuple(proofs)

    def _checkpoint_certified(
        self, seq: int, state_digest: bytes, proof: tuple[Signed, ...]
    ) -> bool:
        """f + 1 distinct signed checkpoints (or the genesis state)."""
        if seq == 0:
            return state_digest == self.genesis_digest
        signers = set()
        for env in proof:
            m = _message_or_none(env)
            if (
                isinstance(m, Checkpoint)
                and m.seq == seq
                and m.state_digest == state_digest
                and env.valid(self.verifier)
            ):
                signers.add(env.sender)
        return len(signers) >= self.f + 1

    def _view_change_well_formed(self, env: Signed, vc: ViewChange) -> bool:
        if not self._checkpoint_certified(vc.ckpt_seq, vc.ckpt_digest, vc.ckpt_proof):
            return False
        seen = set()
        for proof in vc.prepared:
            pp = _message_or_none(proof.preprepare)
            if not isinstance(pp, PrePrepare) or pp.seq in seen:
                return False
            seen.add(pp.seq)
            if (
                pp.view >= vc.new_view
                or proof.preprepare.sender != self.primary(pp.view)
                or not vc.ckpt_seq < pp.seq <= vc.ckpt_seq + self.K
                or not proof.preprepare.valid(self.verifier)
            ):
                return False
            senders = set()
            for p_env in proof.prepares:
                p = _message_or_none(p_env)
                if (
                    not isinstance(p, Prepare)
                    or (p.view, p.seq, p.digest) != (pp.view, pp.seq, pp.digest)
                    or p_env.sender == self.primary(pp.view)
                    or p_env.sender in senders
                    or not p_env.valid(self.verifier)
                ):
                    return False
                senders.add(p_env.sender)
        return True

    def _proofs_reach_quorum(self, vc: ViewChange, min_s: int, cfg: QuorumConfig) -> bool:
        for proof in vc.prepared:
            pp: PrePrepare = proof.preprepare.message
            if pp.seq <= min_s:
                continue
            if pp.seq > min_s + self.K:
                return False
            senders = {e.sender for e in proof.prepares} | {self.primary(pp.view)}
            if not cfg.is_quorum(senders):
                return False
        return True

    def _on_view_change(self, env: Signed, vc: ViewChange) -> None:
        if not self._view_change_well_formed(env, vc):
            return
        sender = env.sender
        if sender != self.id:
            self._help_lagging(sender, vc)
        if vc.new_view < self.view:
            # The peer still waits for n - f VIEW-CHANGEs of an older view before it escalates;
            # we moved on, so without our old one it may wait forever (our retransmissions are
            # for our view only). Send it our VIEW-CHANGE for its view, if we made one.
            mine = self._view_changes.get(vc.new_view, {}).get(self.id)
            if mine is not None and sender != self.id:
                self._send(sender, mine.message, mine)
            return
        if vc.new_view == self.view and not self.in_view_change:
            return
        by_sender = self._view_changes.setdefault(vc.new_view, {})
        by_sender.setdefault(sender, env)
        if (
            vc.new_view == self.view
            and self.in_view_change
            and self._vc_quorum_since_s is None
            and len(by_sender) >= self.n - self.f
        ):
            self._vc_quorum_since_s = self.transport.now_s()
        # join rule (PBFT): f + 1 nodes want a higher view, so at least one honest node does
        highest: dict[int, int] = {}
        for view, by_sender in self._view_changes.items():
            if view > self.view:
                for s in by_sender:
                    highest[s] = max(highest.get(s, 0), view)
        if len(highest) >= self.f + 1:
            target = sorted(highest.values(), reverse=True)[self.f]
            self._start_view_change(target)
        if self.in_view_change and self.primary() == self.id:
            self._try_new_view(self.view)

    def _help_lagging(self, peer: int, vc: ViewChange) -> None:
        key = (peer, vc.new_view, vc.ckpt_seq)
        if key in self._helped:
            return
        self._helped.add(key)
        if vc.ckpt_seq < self.low and self.stable_proof:
            self._send(peer, Forward(self.stable_proof))
        if vc.new_view <= self.view and not self.in_view_change and self._current_new_view:
            self._send(peer, Forward((self._current_new_view,)))
        certificates = self._certificates_after(vc.ckpt_seq)
        if certificates:
            self._send(peer, Forward(tuple(certificates)))

    def _checkpoint_base(self, vcs: list[Signed]) -> tuple[int, bytes, tuple[Signed, ...]]:
        best = max(vcs, key=lambda e: (e.message.ckpt_seq, e.sender))
        m: ViewChange = best.message
        return m.ckpt_seq, m.ckpt_digest, m.ckpt_proof

    def _have_state(self, seq: int, state_digest: bytes, proof: tuple[Signed, ...]) -> bool:
        """True when this node can evaluate quorums for the window after `seq`."""
        if self.last_executed >= seq and seq in self.configs:
            return True
        if seq > self.low:
            self._make_stable(seq, state_digest, proof)
        return self.last_executed >= seq and seq in self.configs

    def _forced_preprepares(self, vcs: list[Signed], min_s: int) -> list[tuple[int, bytes]]:
        best: dict[int, tuple[int, bytes, bytes]] = {}
        for env in vcs:
            for proof in env.message.prepared:
                pp: PrePrepare = proof.preprepare.message
                if pp.seq <= min_s:
                    continue
                key = (pp.view, pp.digest)
                if pp.seq not in best or key > best[pp.seq][:2]:
                    best[pp.seq] = (pp.view, pp.digest, pp.value)
        max_s = max(best, default=min_s)
        return [
            (seq, best[seq][2] if seq in best else NULL_VALUE)
            for seq in range(min_s + 1, max_s + 1)
        ]

    def _try_new_view(self, view: int) -> None:
        if view in self._sent_new_view or not self.in_view_change or self.view != view:
            return
        by_sender = self._view_changes.get(view, {})
        if len(by_sender) < self.n - self.f:
            return
        vcs = [by_sender[s] for s in sorted(by_sender)]
        min_s, min_d, proof = self._checkpoint_base(vcs)
        if not self._have_state(min_s, min_d, proof):
            return
        cfg = self.configs[min_s]
        valid = [e for e in vcs if self._proofs_reach_quorum(e.message, min_s, cfg)]
        if len(valid) < self.n - self.f:
            return
        valid = valid[: self.n - self.f] if len(valid) > self.n - self.f else valid
        min_s, min_d, proof = self._checkpoint_base(valid)
        if not self._have_state(min_s, min_d, proof):
            return
        forced = self._forced_preprepares(valid, min_s)
        pps = tuple(self._sign(PrePrepare(view, seq, value)) for seq, value in forced)
        self._sent_new_view.add(view)
        self._broadcast(NewView(view, tuple(valid), pps))

    def _on_new_view(self, env: Signed, nv: NewView) -> None:
        view = nv.view
        if env.sender != self.primary(view):
            return
        if view < self.view or (view == self.view and not self.in_view_change):
            return
        vcs = []
        senders = set()
        for vc_env in nv.view_changes:
            vc = _message_or_none(vc_env)
            if (
                not isinstance(vc, ViewChange)
                or vc.new_view != view
                or vc_env.sender in senders
                or not vc_env.valid(self.verifier)
                or not self._view_change_well_formed(vc_env, vc)
            ):
                self.stats.rejected_new_views += 1
                return
            senders.add(vc_env.sender)
            vcs.append(vc_env)
        if len(vcs) < self.n - self.f:
            self.stats.rejected_new_views += 1
            return
        min_s, min_d, proof = self._checkpoint_base(vcs)
        if not self._have_state(min_s, min_d, proof):
            self._pending_new_view = env
            return
        cfg = self.configs[min_s]
        if not all(self._proofs_reach_quorum(e.message, min_s, cfg) for e in vcs):
            self.stats.rejected_new_views += 1
            return
        expected = self._forced_preprepares(vcs, min_s)
        got = []
        for pp_env in nv.preprepares:
            pp = _message_or_none(pp_env)
            if (
                not isinstance(pp, PrePrepare)
                or pp.view != view
                or pp_env.sender != env.sender
                or not pp_env.valid(self.verifier)
            ):
                self.stats.rejected_new_views += 1
                return
            got.append((pp.seq, pp.value))
        if got != expected:
            self.stats.rejected_new_views += 1
            return
        self._install_view(env, nv, min_s, expected)

    def _install_view(
        self, env: Signed, nv: NewView, min_s: int, forced: list[tuple[int, bytes]]
    ) -> None:
        self.view = nv.view
        self.in_view_change = False
        self.stats.new_views_installed += 1
        self._current_new_view = env
        self._pending_new_view = None
        if self._vc_timer is not None:
            self.transport.cancel_timer(self._vc_timer)
            self._vc_timer = None
        self._vc_attempts = 0
        self._vc_quorum_since_s = None
        self._view_changes = {v: s for v, s in self._view_changes.items() if v > nv.view}
        for pp_env in nv.preprepares:
            pp: PrePrepare = pp_env.message
            if pp.seq > self.low:
                self._accept_preprepare(pp_env, pp, validate=False)
        max_s = forced[-1][0] if forced else min_s
        self.next_seq = max(max_s, self.low) + 1
        self._cancel_progress_timer()
        self._status_sent = False
        hook = getattr(self.app, "on_view_installed", None)
        if hook is not None:
            hook(nv.view)  # e.g. re-send what only the old primary had
        self._after_window_moved()


def _message_or_none(env: Signed) -> Message | None:
    try:
        return env.message
    except MessageDecodeError:
        return None
