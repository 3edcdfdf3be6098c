"""ABFT consensus messages as ns-3 packets among the key-management nodes.

`Ns3Transport` implements `control.abft.transport.Transport` on a running `QkdNetwork`: a message
becomes a UDP packet of its exact size from the sender's node to the receiver's (routed over the
scenario's classical channels, so it shares links, queues and propagation delay with the
post-processing and relay traffic); a timer is an ns-3 event. While `run_until` runs, the C++
side stops the simulator right after each delivery or timer, so the protocol reacts at the true
simulated moment and its replies leave then. Consensus latency and traffic therefore appear in
simulated time, and a Byzantine node's messages leave from where the topology puts it.

Payload bytes stay in Python (the packet carries a tag that names them): the bytes a node
receives are exactly the bytes sent, only their timing and existence come from ns-3.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import numpy as np

from control.abft.transport import Transport

_MESSAGE, _TIMER = 0, 1


class Ns3Transport(Transport):
    """Consensus transport over a built `ns3::QkdNetwork`.

    `node_map[i]` is the ns-3 node index of consensus node i (the coordinator numbers its
    key-management nodes 0..n-1; relay nodes take no part).
    """

    def __init__(self, network: Any, node_map: Sequence[int]) -> None:
        super().__init__()
        self._network = network
        self._node_map = [int(n) for n in node_map]
        self._consensus_id = {ns_node: i for i, ns_node in enumerate(self._node_map)}
        self._tags = itertools.count(1)
        self._in_flight: dict[int, tuple[int, int, bytes]] = {}
        self._timers: dict[int, tuple[int, Hashable]] = {}
        self._events = np.zeros(4 * 64, dtype=np.float64)

    def now_s(self) -> float:
        return float(self._network.GetNowSeconds())

    def _transmit(self, src: int, dst: int, payload: bytes) -> None:
        tag = next(self._tags)
        self._in_flight[tag] = (src, dst, payload)
        self._network.SendControl(self._node_map[src], self._node_map[dst], len(payload), tag)

    def set_timer(self, node: int, delay_s: float, token: Hashable) -> int:
        handle = int(self._network.ScheduleControlTimer(self._node_map[node], float(delay_s)))
        self._timers[handle] = (node, token)
        return handle

    def cancel_timer(self, handle: int) -> None:
        if self._timers.pop(handle, None) is not None:
            self._network.CancelControlTimer(handle)

    def now_ns(self) -> int:
        return int(self._network.GetNowNs())

    def run_until(self, t_s: float, stop: Callable[[], bool] | None = None) -> None:
        """Advance to `t_s`, handling each delivery/timer at its own simulated time."""
        self.run_until_ns(round(t_s * 1e9), stop)

    def run_until_ns(self, t_ns: int, stop: Callable[[], bool] | None = None) -> None:
        """Advance to `t_ns` (integer ns), handling each delivery/timer at its own time.

        Why it cannot spin: the deadline is a whole number of ns-3 ticks, so `RunUntilNs` either
        reaches it or stops at a control event, which is then dispatched; an iteration that
        neither moves time nor dispatches anything means the simulator has nothing left before
        the deadline, and the loop exits.
        """
        t_ns = int(t_ns)
        self._network.SetStopOnControlEvents(True)
        try:
            while True:
                handled = self.dispatch_pending()
                if stop is not None and stop():
                    return
                before = self.now_ns()
                if before >= t_ns:
                    return
                reached = int(self._network.RunUntilNs(t_ns))
                if reached == before and handled == 0 and self.pending_events() == 0:
                    return  # no event and no time left to run: guaranteed exit
        finally:
            self._network.SetStopOnControlEvents(False)

    def pending_events(self) -> int:
        return int(self._network.GetPendingControlEvents())

    def dispatch_pending(self) -> int:
        """Hand every queued delivery/timer to its node, in time order; returns how many."""
        handled = 0
        capacity = self._events.size // 4
        while True:
            count = int(self._network.DrainControl(self._events, capacity))
            # (plain floats: iterating numpy rows would box every field)
            for kind, ident, _node, _time in self._events[: 4 * count].reshape(count, 4).tolist():
                handled += 1
                if int(kind) == _MESSAGE:
                    message = self._in_flight.pop(int(ident), None)
                    if message is not None:
                        src, dst, payload = message
                        self.deliver(src, dst, payload)
                else:
                    timer = self._timers.pop(int(ident), None)
                    if timer is not None:
                        self.fire_timer(*timer)
            # Fewer than a buffer's worth: the queue is empty, and handling cannot refill it (the
            # C++ side records deliveries and timers only from simulator events, even a node's
            # message to itself), so there is nothing to drain until the simulator runs again.
            if count < capacity:
                return handled

    @property
    def messages_in_flight(self) -> int:
        return len(self._in_flight)
