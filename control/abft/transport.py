"""How protocol messages and timers reach the key-management nodes.

The protocol is event-driven: a node reacts to `on_message(src, payload)` and `on_timer(token)`
and never sleeps or reads a wall clock. Time is the transport's simulated clock (`now_s`). Two
kinds of transport implement `Transport`:

* `InMemoryTransport` (here): a deterministic discrete-event queue with a pluggable delivery
  policy (delay, reordering, drops, a global stabilisation time). Used by the exhaustive and
  property-based tests and by the benchmark.
* A simulated-network transport (bridge side): `send` turns the payload into an ns-3 packet of
  `len(payload)` bytes between the nodes' addresses; when the packet arrives the ns-3 receive
  callback calls `deliver(src, dst, payload)`; `set_timer` schedules an ns-3 event that calls
  `fire_timer(node, token)`; `now_s` is `Simulator::Now()`; `run_until` steps the simulator. So
  consensus latency and traffic appear in simulated time and Byzantine nodes sit where the
  topology puts them.

Subclasses only move bytes and time; counting (`stats`) and dispatch live in this base class so
every transport reports traffic the same way. Notes for the ns-3 transport: timer tokens are
arbitrary hashable Python objects, so keep them in a Python dict keyed by the returned handle and
let the C++ event carry only the handle; to deliver each packet at its true arrival time (so
replies leave at the right simulated time), have the C++ receive path record (time, src, dst,
bytes) and stop the simulator, or run in short slices and deliver in arrival order.
"""

from __future__ import annotations

import heapq
import itertools
import random
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Protocol

from control.abft.errors import ConfigurationError


class Endpoint(Protocol):
    """What a transport delivers to: one key-management node."""

    def on_message(self, src: int, payload: bytes) -> None: ...

    def on_timer(self, token: Hashable) -> None: ...


@dataclass
class TransportStats:
    """Traffic counted at the sender (every send, whether or not it is later dropped)."""

    messages_sent: int = 0
    bytes_sent: int = 0
    messages_delivered: int = 0
    messages_dropped: int = 0

    def snapshot(self) -> TransportStats:
        return TransportStats(
            self.messages_sent, self.bytes_sent, self.messages_delivered, self.messages_dropped
        )

    def minus(self, earlier: TransportStats) -> TransportStats:
        return TransportStats(
            self.messages_sent - earlier.messages_sent,
            self.bytes_sent - earlier.bytes_sent,
            self.messages_delivered - earlier.messages_delivered,
            self.messages_dropped - earlier.messages_dropped,
        )


class Transport(ABC):
    """Carries byte payloads between registered nodes and fires their timers."""

    def __init__(self) -> None:
        self._endpoints: dict[int, Endpoint] = {}
        self.stats = TransportStats()

    def register(self, node: int, endpoint: Endpoint) -> None:
        if node in self._endpoints:
            raise ConfigurationError(f"node {node} is already registered with the transport")
        self._endpoints[node] = endpoint

    @property
    def nodes(self) -> list[int]:
        return sorted(self._endpoints)

    @abstractmethod
    def now_s(self) -> float:
        """Current simulated time in seconds."""

    def send(self, src: int, dst: int, payload: bytes) -> None:
        """Send `payload` from src to dst; counted here, carried by `_transmit`."""
        if dst not in self._endpoints:
            raise ConfigurationError(f"node {src} sent to unknown node {dst}")
        self.stats.messages_sent += 1
        self.stats.bytes_sent += len(payload)
        self._transmit(src, dst, bytes(payload))

    @abstractmethod
    def _transmit(self, src: int, dst: int, payload: bytes) -> None:
        """Carry the bytes; call `deliver` when (if) they arrive."""

    @abstractmethod
    def set_timer(self, node: int, delay_s: float, token: Hashable) -> int:
        """Call node's `on_timer(token)` after `delay_s` simulated seconds; returns a handle."""

    @abstractmethod
    def cancel_timer(self, handle: int) -> None:
        """Cancel a pending timer (no-op if it already fired)."""

    @abstractmethod
    def run_until(self, t_s: float, stop: Callable[[], bool] | None = None) -> None:
        """Advance simulated time to t_s, processing events; return early once stop() is true."""

    def run_until_ns(self, t_ns: int, stop: Callable[[], bool] | None = None) -> None:
        """`run_until` with a deadline in whole nanoseconds (the ns-3 transport's own unit; it
        overrides this so no deadline can fall between two of its ticks)."""
        self.run_until(t_ns * 1e-9, stop)

    # called by subclasses -----------------------------------------------------------------------
    def deliver(self, src: int, dst: int, payload: bytes) -> None:
        """A payload arrived at dst (at the current simulated time)."""
        self.stats.messages_delivered += 1
        self._endpoints[dst].on_message(src, payload)

    def fire_timer(self, node: int, token: Hashable) -> None:
        self._endpoints[node].on_timer(token)


class DeliveryPolicy(Protocol):
    """Decides, per message, its delay in seconds, or None to drop it."""

    def delay_s(self, src: int, dst: int, now_s: float, rng: random.Random) -> float | None: ...


@dataclass(frozen=True)
class PartialSynchrony:
    """Partially synchronous network (Dwork, Lynch & Stockmeyer), as PBFT assumes.

    Before `gst_s` a message is dropped with probability `drop_probability` or delayed by up to
    `max_delay_before_gst_s`; from `gst_s` on every message arrives within
    `base_delay_s + jitter_s`. Independent random delays reorder messages.
    """

    base_delay_s: float = 1e-3
    jitter_s: float = 1e-3
    gst_s: float = 0.0
    drop_probability: float = 0.0
    max_delay_before_gst_s: float = 0.0

    def __post_init__(self) -> None:
        values = (self.base_delay_s, self.jitter_s, self.gst_s, self.max_delay_before_gst_s)
        if min(values) < 0 or not 0.0 <= self.drop_probability <= 1.0:
            raise ConfigurationError(f"invalid partial-synchrony parameters: {self}")

    def delay_s(self, src: int, dst: int, now_s: float, rng: random.Random) -> float | None:
        if now_s < self.gst_s:
            if rng.random() < self.drop_probability:
                return None
            return self.base_delay_s + rng.random() * max(
                self.jitter_s, self.max_delay_before_gst_s
            )
        return self.base_delay_s + rng.random() * self.jitter_s


class InMemoryTransport(Transport):
    """Deterministic discrete-event transport: same seed and policy, same schedule."""

    def __init__(self, policy: DeliveryPolicy | None = None, seed: int = 0) -> None:
        super().__init__()
        self.policy: DeliveryPolicy = policy or PartialSynchrony()
        self._rng = random.Random(seed)
        # (time_s, insertion order, kind, node, data): plain tuples keep the heap fast
        self._queue: list[tuple[float, int, str, int, tuple]] = []
        self._order = itertools.count()
        self._now = 0.0
        self._cancelled: set[int] = set()

    def now_s(self) -> float:
        return self._now

    def _transmit(self, src: int, dst: int, payload: bytes) -> None:
        delay = self.policy.delay_s(src, dst, self._now, self._rng)
        if delay is None:
            self.stats.messages_dropped += 1
            return
        self._push(self._now + max(0.0, delay), "msg", dst, (src, payload))

    def set_timer(self, node: int, delay_s: float, token: Hashable) -> int:
        return self._push(self._now + max(0.0, delay_s), "timer", node, (token,))

    def cancel_timer(self, handle: int) -> None:
        self._cancelled.add(handle)

    def _push(self, time_s: float, kind: str, node: int, data: tuple) -> int:
        order = next(self._order)
        heapq.heappush(self._queue, (time_s, order, kind, node, data))
        return order

    def pending_events(self) -> int:
        return len(self._queue)

    def run_until(self, t_s: float, stop: Callable[[], bool] | None = None) -> None:
        while self._queue and self._queue[0][0] <= t_s:
            if stop is not None and stop():
                return
            time_s, order, kind, node, data = heapq.heappop(self._queue)
            if order in self._cancelled:
                self._cancelled.discard(order)
                continue
            self._now = max(self._now, time_s)
            if kind == "msg":
                src, payload = data
                self.deliver(src, node, payload)
            else:
                self.fire_timer(node, data[0])
        if stop is not None and stop():
            return
        self._now = max(self._now, t_s)
