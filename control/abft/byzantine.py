"""Byzantine strategies a key-management node can follow.

A strategy plugs into a `Replica` as its `behaviour` (it rewrites or suppresses what the node
sends, or stops it altogether) and into the coordinator (it may rewrite the node's step report).
A Byzantine node keeps only its own signing key, so it can lie, equivocate and stay silent but
cannot forge messages of honest nodes. Strategies are deterministic.

Covered: silence, crash, equivocation (different values/votes to different nodes), false
reports, delayed messages, a colluding group, and a Byzantine primary (equivocating, proposing
invalid values, or silent/slow, which the other strategies produce when the node is primary).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from control.abft.crypto import digest
from control.abft.errors import MessageDecodeError
from control.abft.messages import Commit, Message, Prepare, PrePrepare
from control.abft.quorum import default_fault_bound
from control.abft.reports import NodeReport, ReportBatch

if TYPE_CHECKING:
    from control.abft.pbft import Replica


class Strategy:
    """Base class: behaves honestly. Subclasses override what they corrupt."""

    name = "honest"

    def __init__(self) -> None:
        self.n_nodes = 0
        self.byzantine_ids: frozenset[int] = frozenset()

    def bind(self, n_nodes: int, byzantine_ids: Iterable[int]) -> None:
        """Told once the scenario is built: how many nodes, which ones are Byzantine."""
        self.n_nodes = n_nodes
        self.byzantine_ids = frozenset(byzantine_ids)

    @property
    def honest_ids(self) -> list[int]:
        return [i for i in range(self.n_nodes) if i not in self.byzantine_ids]

    def outgoing(self, replica: Replica, dst: int, message: Message) -> list[tuple[float, Message]]:
        return [(0.0, message)]

    def alive(self, replica: Replica) -> bool:
        return True

    def report(self, step: int, report: NodeReport) -> NodeReport | None:
        """The report this node actually sends for `step` (None: it sends none)."""
        return report


class Silent(Strategy):
    """Receives everything, sends nothing (no protocol messages, no reports)."""

    name = "silent"

    def outgoing(self, replica: Replica, dst: int, message: Message) -> list[tuple[float, Message]]:
        return []

    def report(self, step: int, report: NodeReport) -> NodeReport | None:
        return None


class Crash(Strategy):
    """Honest until `at_s` simulated seconds, then stops for good."""

    name = "crash"

    def __init__(self, at_s: float) -> None:
        super().__init__()
        self.at_s = at_s

    def alive(self, replica: Replica) -> bool:
        return replica.transport.now_s() < self.at_s

    def outgoing(self, replica: Replica, dst: int, message: Message) -> list[tuple[float, Message]]:
        return [(0.0, message)] if self.alive(replica) else []


class Delay(Strategy):
    """Sends everything `delay_s` late (a slow node; as primary it provokes a view change)."""

    name = "delay"

    def __init__(self, delay_s: float) -> None:
        super().__init__()
        self.delay_s = delay_s

    def outgoing(self, replica: Replica, dst: int, message: Message) -> list[tuple[float, Message]]:
        return [(self.delay_s, message)]


def _twin_digest(d: bytes) -> bytes:
    return digest(b"equivocation-twin|" + d)


class Equivocate(Strategy):
    """Tells half of the honest nodes one thing and the other half another.

    As primary it sends a different (valid) value to the second half; as backup it sends
    prepares/commits for a different digest to the second half.
    """

    name = "equivocate"

    def __init__(self) -> None:
        super().__init__()
        self.twins: dict[bytes, bytes] = {}  # original digest -> digest told to the second half

    def second_half(self) -> frozenset[int]:
        honest = self.honest_ids
        return frozenset(honest[len(honest) // 2 :])

    def outgoing(self, replica: Replica, dst: int, message: Message) -> list[tuple[float, Message]]:
        if dst not in self.second_half():
            return [(0.0, message)]
        match message:
            case PrePrepare() if message.value:
                variant_fn = getattr(replica.app, "equivocation_variant", None)
                variant = (
                    variant_fn(message.seq, message.value)
                    if variant_fn
                    else message.value + b"|twin"
                )
                twin = PrePrepare(message.view, message.seq, variant)
                self.twins[message.digest] = twin.digest
                return [(0.0, twin)]
            case Prepare() | Commit():
                other = self.twins.get(message.digest, _twin_digest(message.digest))
                return [(0.0, type(message)(message.view, message.seq, other))]
        return [(0.0, message)]


class InvalidProposal(Strategy):
    """As primary, proposes a value no honest node accepts (garbage instead of a batch)."""

    name = "invalid-proposal"

    def outgoing(self, replica: Replica, dst: int, message: Message) -> list[tuple[float, Message]]:
        if isinstance(message, PrePrepare) and message.value:
            return [(0.0, PrePrepare(message.view, message.seq, b"\x00garbage" + message.value))]
        return [(0.0, message)]


class Censor(Strategy):
    """As primary, leaves chosen nodes' reports out of every batch it proposes (and out of the
    late reports it must carry), so their evidence never reaches the decision.

    `victims`: consensus ids whose reports are dropped (None: every honest node). The batch keeps
    at least n - f reports, so honest nodes cannot reject it as malformed: only the owed-report
    rule (ledger.py) catches the censor, by refusing its next batch and forcing a view change.
    """

    name = "censor"

    def __init__(self, victims: Iterable[int] | None = None) -> None:
        super().__init__()
        self.victims = None if victims is None else frozenset(victims)
        self.censored = 0  # reports it left out (for tests and reports)
        self._counted: set[int] = set()

    def outgoing(self, replica: Replica, dst: int, message: Message) -> list[tuple[float, Message]]:
        if not (isinstance(message, PrePrepare) and message.value):
            return [(0.0, message)]
        try:
            batch = ReportBatch.decode(message.value)
        except MessageDecodeError:
            return [(0.0, message)]
        victims = self.victims if self.victims is not None else frozenset(self.honest_ids)
        keep_min = self.n_nodes - default_fault_bound(self.n_nodes)  # what a batch must hold
        kept = list(batch.reports)
        for env in batch.reports:
            if env.sender in victims and env.sender != replica.id and len(kept) > keep_min:
                kept.remove(env)
        late = tuple(env for env in batch.late if env.sender not in victims)
        dropped = len(batch.reports) - len(kept) + len(batch.late) - len(late)
        if dropped == 0:
            return [(0.0, message)]
        if message.seq not in self._counted:
            self._counted.add(message.seq)
            self.censored += dropped
        value = ReportBatch(batch.step, tuple(kept), late).encode()
        return [(0.0, PrePrepare(message.view, message.seq, value))]


class FalseReport(Strategy):
    """Honest in the protocol, lies in its step reports.

    Adds `bias` to every reported value of the named quantities (`quantities=None`: all) and,
    with `invert_votes`, votes to distrust links it finds good and to trust the others.
    """

    name = "false-report"

    def __init__(
        self,
        bias: float = 0.1,
        quantities: Iterable[str] | None = None,
        invert_votes: bool = True,
        value: float | None = None,
    ) -> None:
        super().__init__()
        self.bias = bias
        self.value = value
        self.quantities = None if quantities is None else frozenset(quantities)
        self.invert_votes = invert_votes

    def report(self, step: int, report: NodeReport) -> NodeReport | None:
        values = {}
        for name, arr in report.values.items():
            if self.quantities is None or name in self.quantities:
                lie = np.full_like(arr, self.value) if self.value is not None else arr + self.bias
                values[name] = np.where(np.isnan(arr), np.nan, lie)
            else:
                values[name] = arr
        votes = -report.votes if self.invert_votes else report.votes
        return NodeReport(report.node, report.step, values, votes)


class Collusion:
    """A colluding group: members equivocate consistently and tell the same lie in reports.

    When a member is primary it sends value X to half of the honest nodes and X' to the other
    half, and every member prepares/commits X towards the first half and X' towards the second,
    the classic attempt to make two honest groups commit different values. In reports all members
    report the same false `value` for the named quantities and invert their votes, trying to move
    the weighted median and the trust vote together.
    """

    def __init__(
        self,
        members: Iterable[int],
        value: float = 0.3,
        quantities: Iterable[str] | None = None,
    ) -> None:
        self.members = frozenset(members)
        self.twins: dict[bytes, bytes] = {}
        self.value = value
        self.quantities = None if quantities is None else tuple(quantities)

    def strategy(self) -> Strategy:
        return _Colluder(self)

    def strategies(self) -> dict[int, Strategy]:
        return {m: self.strategy() for m in sorted(self.members)}


class _Colluder(Equivocate):
    name = "collusion"

    def __init__(self, group: Collusion) -> None:
        super().__init__()
        self.group = group
        self.twins = group.twins  # shared: all members know what the colluding primary sent
        self._lie = FalseReport(value=group.value, quantities=group.quantities, invert_votes=True)

    def report(self, step: int, report: NodeReport) -> NodeReport | None:
        return self._lie.report(step, report)


STRATEGY_NAMES = (
    "silent",
    "crash",
    "delay",
    "equivocate",
    "invalid-proposal",
    "false-report",
    "censor",
)


def make_strategy(name: str, **kwargs: object) -> Strategy:
    """Build a strategy from its name (for configs and the CLI)."""
    factories = {
        "silent": Silent,
        "crash": lambda: Crash(kwargs.get("at_s", 0.0)),
        "delay": lambda: Delay(kwargs.get("delay_s", 1.0)),
        "equivocate": Equivocate,
        "invalid-proposal": InvalidProposal,
        "false-report": lambda: FalseReport(bias=kwargs.get("bias", 0.1)),
        "censor": lambda: Censor(kwargs.get("victims")),
    }
    if name not in factories:
        raise ValueError(f"unknown Byzantine strategy {name!r}; known: {', '.join(STRATEGY_NAMES)}")
    return factories[name]()
