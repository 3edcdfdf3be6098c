"""Test harness: a small replicated log application and a cluster builder for PBFT tests.

`LogApp` is a real `Application` (not a mock): it orders values proposed by whichever node is
primary, so two honest nodes committing different values for one sequence number shows up as
different executed digests. With `adaptive=True` its weights move after every decision (derived
from the committed value, pushed through the real safety clamp), which exercises weight changes
at checkpoints under randomized schedules.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Hashable, Mapping

from control.abft.byzantine import Strategy
from control.abft.crypto import derive_signers, verifier_for
from control.abft.pbft import NULL_VALUE, PbftParams, Replica
from control.abft.quorum import WEIGHT_SCALE, clamp_update
from control.abft.transport import InMemoryTransport, PartialSynchrony


class LogApp:
    def __init__(self, node_id: int, f: int, weights: tuple[int, ...], wanted: int, adaptive: bool):
        self.node_id = node_id
        self.f = f
        self.weights = tuple(weights)
        self.wanted = wanted
        self.adaptive = adaptive
        self.decided = 0
        self.replica: Replica | None = None
        self.clamps = 0

    def proposal(self, seq: int) -> bytes | None:
        if self.decided >= self.wanted or self.replica is None:
            return None
        return f"value|seq={seq}|view={self.replica.view}|by={self.node_id}".encode()

    def validate(self, seq: int, value: bytes) -> bool:
        return value.startswith(b"value|")

    def execute(self, seq: int, value: bytes) -> None:
        if value == NULL_VALUE:
            return
        self.decided += 1
        if self.adaptive:
            h = hashlib.sha256(value).digest()
            proposed = tuple(max(1, (b + 1) * WEIGHT_SCALE // 256) for b in h[: len(self.weights)])
            result = clamp_update(self.weights, proposed, self.f)
            self.clamps += result.clamped
            self.weights = result.weights

    def snapshot(self) -> bytes:
        return json.dumps({"decided": self.decided, "weights": self.weights}).encode()

    def restore(self, snapshot: bytes) -> None:
        state = json.loads(snapshot)
        self.decided = state["decided"]
        self.weights = tuple(state["weights"])

    def consensus_weights(self) -> tuple[int, ...]:
        return self.weights

    def has_pending(self) -> bool:
        return self.decided < self.wanted

    def on_app_message(self, env: object) -> None:
        pass

    def on_app_timer(self, token: Hashable) -> None:
        pass

    def equivocation_variant(self, seq: int, value: bytes) -> bytes:
        return value + b"|twin"


class Cluster:
    """n replicas of LogApp on one in-memory transport."""

    def __init__(
        self,
        n: int,
        f: int,
        *,
        wanted: int = 3,
        weights: tuple[int, ...] | None = None,
        adaptive: bool = False,
        byzantine: Mapping[int, Strategy] | None = None,
        policy: PartialSynchrony | None = None,
        seed: int = 0,
        params: PbftParams | None = None,
    ) -> None:
        self.n, self.f = n, f
        self.byzantine = dict(byzantine or {})
        self.transport = InMemoryTransport(policy or PartialSynchrony(), seed=seed)
        signers = derive_signers(n, seed)
        verifier = verifier_for(signers)
        w = weights or tuple([WEIGHT_SCALE] * n)
        self.apps = [LogApp(i, f, w, wanted, adaptive) for i in range(n)]
        self.replicas = []
        for i in range(n):
            strategy = self.byzantine.get(i)
            r = Replica(
                i,
                n,
                f,
                signers[i],
                verifier,
                self.transport,
                self.apps[i],
                params or PbftParams(),
                behaviour=strategy,
            )
            self.apps[i].replica = r
            self.replicas.append(r)
        for strategy in self.byzantine.values():
            strategy.bind(n, self.byzantine)

    @property
    def honest(self) -> list[Replica]:
        return [r for r in self.replicas if r.id not in self.byzantine]

    def start(self) -> None:
        for r in self.replicas:
            r.poke()

    def run(self, until_s: float) -> None:
        self.transport.run_until(until_s, stop=self.all_honest_done)

    def all_honest_done(self) -> bool:
        return all(self.apps[r.id].decided >= self.apps[r.id].wanted for r in self.honest)

    def conflicts(self) -> list[tuple[int, dict[int, bytes]]]:
        """Sequence numbers at which honest nodes executed different values."""
        seqs = set().union(*(r.executed_digests for r in self.honest))
        bad = []
        for seq in sorted(seqs):
            seen = {r.id: r.executed_digests[seq] for r in self.honest if seq in r.executed_digests}
            if len(set(seen.values())) > 1:
                bad.append((seq, seen))
        return bad
