"""One side of an ns3-gym ZeroMQ conversation: send a message, receive one with a deadline.

Why a wrapper around the socket: the reference client blocks in `recv()` forever, so a dead or
silent simulation hangs the agent. Every receive here has a deadline (`Ns3GymTimeout`), watches
the socket's connection events so a peer that closes its connection or dies is reported at once
(`Ns3GymPeerDied`) instead of after the timeout, optionally asks a liveness probe (the agent's
`Popen.poll()` of a simulation it launched), and parses strictly (`Ns3GymProtocolError` with a
one-line reason instead of a half-decoded message).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

import zmq
from google.protobuf.message import DecodeError, Message
from zmq.utils.monitor import recv_monitor_message

from bridge.ns3gym.errors import Ns3GymPeerDied, Ns3GymProtocolError, Ns3GymTimeout

# How often a receive wakes up to ask the liveness probe, and how long it still waits for data
# after the peer's connection closed (the peer's last message may be in flight behind the event).
_PROBE_INTERVAL_S = 0.05
_DRAIN_AFTER_CLOSE_S = 0.1

_CONNECTION_EVENTS = zmq.EVENT_ACCEPTED | zmq.EVENT_CONNECTED | zmq.EVENT_DISCONNECTED


class Endpoint:
    """A REQ or REP socket plus the bookkeeping that makes its receives safe.

    `live_connections` counts connections opened minus closed, from the socket monitor; a
    receive that may treat "no connection left" as the peer being gone passes
    `fail_on_disconnect=True`.
    """

    def __init__(self, context: zmq.Context, socket_type: int, peer: str):
        self.peer = peer
        self.socket = context.socket(socket_type)
        self.socket.setsockopt(zmq.LINGER, 0)
        self._monitor = self.socket.get_monitor_socket(_CONNECTION_EVENTS)
        self._poller = zmq.Poller()
        self._poller.register(self.socket, zmq.POLLIN)
        self._poller.register(self._monitor, zmq.POLLIN)
        self.live_connections = 0
        self._closed_since_check = False

    def bind(self, host: str, port: int) -> int:
        """Bind to host:port (port 0: an OS-chosen free port, no race); returns the port."""
        self.socket.bind(f"tcp://{host}:{port if port else '*'}")
        endpoint = self.socket.getsockopt(zmq.LAST_ENDPOINT).decode()
        return int(endpoint.rsplit(":", 1)[1])

    def connect(self, host: str, port: int) -> None:
        self.socket.connect(f"tcp://{host}:{port}")

    def send(self, message: Message) -> None:
        # REQ/REP never block on send once connected; NOBLOCK turns a protocol-state bug into an
        # error instead of a hang.
        try:
            self.socket.send(message.SerializeToString(), zmq.NOBLOCK)
        except zmq.Again:
            raise Ns3GymPeerDied(
                f"cannot send {type(message).__name__} to {self.peer}: no connection"
            ) from None

    def recv(
        self,
        cls: type[Message],
        *,
        timeout_s: float | None,
        probe: Callable[[], str | None] | None = None,
        fail_on_disconnect: bool = True,
    ) -> Message:
        """Receive one `cls` message from the peer.

        `probe()` returns a reason string when the peer is known to be dead (else None).
        """
        what = cls.__name__
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        self._closed_since_check = False
        while True:
            wait_s = _PROBE_INTERVAL_S if probe is not None else None
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Ns3GymTimeout(f"no {what} from {self.peer} within {timeout_s:g} s")
                wait_s = left if wait_s is None else min(wait_s, left)
            ready = dict(self._poller.poll(None if wait_s is None else wait_s * 1000))
            if self.socket in ready:
                return self._read(cls)
            if self._monitor in ready:
                self._drain_events()
            if fail_on_disconnect and self._closed_since_check and self.live_connections <= 0:
                if self.socket.poll(_DRAIN_AFTER_CLOSE_S * 1000, zmq.POLLIN):
                    return self._read(cls)
                self._drain_events()
                if self.live_connections <= 0:
                    raise Ns3GymPeerDied(f"{self.peer} closed its connection before sending {what}")
            if probe is not None:
                reason = probe()
                if reason is not None:
                    if self.socket.poll(0, zmq.POLLIN):
                        return self._read(cls)
                    raise Ns3GymPeerDied(f"{reason} before sending {what}")

    def _drain_events(self) -> None:
        while self._monitor.poll(0, zmq.POLLIN):
            event = recv_monitor_message(self._monitor)["event"]
            if event in (zmq.EVENT_ACCEPTED, zmq.EVENT_CONNECTED):
                self.live_connections += 1
            elif event == zmq.EVENT_DISCONNECTED:
                self.live_connections -= 1
                self._closed_since_check = True

    def _read(self, cls: type[Message]) -> Message:
        raw = self.socket.recv(zmq.NOBLOCK)
        if self.socket.getsockopt(zmq.RCVMORE):
            while self.socket.getsockopt(zmq.RCVMORE):  # drop the rest: the message is refused
                self.socket.recv(zmq.NOBLOCK)
            raise Ns3GymProtocolError(
                f"{self.peer} sent a multi-part message where one {cls.__name__} belongs"
            )
        return parse(cls, raw, self.peer)

    def close(self) -> None:
        """Close without lingering: every message we sent was answered or no longer matters."""
        with contextlib.suppress(zmq.ZMQError):
            self.socket.disable_monitor()
        self._monitor.close(linger=0)
        self.socket.close(linger=0)

    def flush_and_close(self, linger_s: float) -> None:
        """Close, giving an unanswered last message (a stop request) linger_s to leave."""
        with contextlib.suppress(zmq.ZMQError):
            self.socket.disable_monitor()
        self._monitor.close(linger=0)
        self.socket.close(linger=int(linger_s * 1000))


def parse(cls: type[Message], raw: bytes, peer: str) -> Message:
    """Parse `raw` as `cls`; bytes that are not one (or carry none of its fields) are refused."""
    try:
        message = cls.FromString(raw)
    except DecodeError as exc:
        raise Ns3GymProtocolError(
            f"{peer} sent {len(raw)} bytes that are not a valid {cls.__name__} ({exc})"
        ) from None
    if raw and not message.ListFields():
        raise Ns3GymProtocolError(
            f"{peer} sent {len(raw)} bytes that hold no field of {cls.__name__}"
        )
    return message
