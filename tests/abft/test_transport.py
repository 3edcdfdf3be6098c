"""The deterministic in-memory transport: ordering, drops, stabilisation bound, timers."""

from __future__ import annotations

import random

import pytest

from control.abft.errors import ConfigurationError
from control.abft.transport import InMemoryTransport, PartialSynchrony


class Recorder:
    def __init__(self, transport: InMemoryTransport) -> None:
        self.transport = transport
        self.events: list[tuple[float, object]] = []

    def on_message(self, src: int, payload: bytes) -> None:
        self.events.append((self.transport.now_s(), (src, payload)))

    def on_timer(self, token) -> None:
        self.events.append((self.transport.now_s(), token))


def test_after_gst_every_message_arrives_within_the_bound():
    policy = PartialSynchrony(base_delay_s=0.002, jitter_s=0.001, gst_s=0.0)
    t = InMemoryTransport(policy, seed=1)
    rec = Recorder(t)
    t.register(0, Recorder(t))
    t.register(1, rec)
    for i in range(100):
        t.send(0, 1, bytes([i]))
    t.run_until(1.0)
    assert len(rec.events) == 100 and t.stats.messages_dropped == 0
    assert all(0.002 <= time_s <= 0.003 for time_s, _ in rec.events)
    assert [e[1][1][0] for e in rec.events] != list(range(100))  # reordered
    assert t.stats.bytes_sent == 100 and t.stats.messages_delivered == 100


def test_before_gst_messages_can_be_lost_and_late():
    policy = PartialSynchrony(gst_s=10.0, drop_probability=0.5, max_delay_before_gst_s=2.0)
    t = InMemoryTransport(policy, seed=2)
    rec = Recorder(t)
    t.register(0, Recorder(t))
    t.register(1, rec)
    for _ in range(400):
        t.send(0, 1, b"x")
    t.run_until(100.0)
    assert 150 < t.stats.messages_dropped < 250
    assert len(rec.events) == 400 - t.stats.messages_dropped
    assert max(time_s for time_s, _ in rec.events) > 1.0


def test_timers_fire_in_order_and_can_be_cancelled():
    t = InMemoryTransport(seed=0)
    rec = Recorder(t)
    t.register(0, rec)
    t.set_timer(0, 0.3, "late")
    handle = t.set_timer(0, 0.1, "cancelled")
    t.set_timer(0, 0.2, "early")
    t.cancel_timer(handle)
    t.run_until(0.25)
    assert rec.events == [(0.2, "early")] and t.now_s() == 0.25
    t.run_until(1.0)
    assert rec.events[-1] == (0.3, "late") and t.now_s() == 1.0


def test_run_until_stops_early_when_asked():
    t = InMemoryTransport(seed=0)
    rec = Recorder(t)
    t.register(0, rec)
    for i in range(5):
        t.set_timer(0, 0.1 * (i + 1), i)
    t.run_until(10.0, stop=lambda: len(rec.events) >= 2)
    assert len(rec.events) == 2 and t.now_s() == pytest.approx(0.2)


def test_bad_use_is_reported():
    t = InMemoryTransport(seed=0)
    t.register(0, Recorder(t))
    with pytest.raises(ConfigurationError, match="already registered"):
        t.register(0, Recorder(t))
    with pytest.raises(ConfigurationError, match="unknown node 7"):
        t.send(0, 7, b"x")
    with pytest.raises(ConfigurationError, match="partial-synchrony"):
        PartialSynchrony(drop_probability=1.5)
    assert PartialSynchrony().delay_s(0, 1, 0.0, random.Random(0)) is not None
