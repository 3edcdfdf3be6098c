"""How simulated time moves while the KMEs serve: with the wall clock (times a speed-up), or only
when a request needs more key than is stored ("as fast as requests need", for tests).

Both run the simulation on the calling (main) thread: ns-3's simulator belongs to the thread that
built it, so the API threads never step it themselves; in on-demand mode they hand the main thread
a request and wait for it.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field

from kme.network import KeyDeliveryNetwork
from kme.store import PairKeyStore

#: Longest an API thread waits for the main thread to step on its behalf.
SUPPLY_TIMEOUT_S = 120.0


@dataclass
class RealTimeClock:
    """Steps the simulation so that simulated time = speed x wall time since `run` started."""

    network: KeyDeliveryNetwork
    speed: float = 1.0

    def supply(self, store: PairKeyStore, size_bytes: int) -> None:
        """Requests never move time here: an empty store answers 503 at once."""
        return None

    def run(self, stop: threading.Event) -> None:
        """Step until the scenario's steps are done or `stop` is set; then just wait for stop."""
        step_wall_s = self.network.config.step_s / self.speed
        start = time.monotonic()
        while not stop.is_set() and not self.network.finished:
            due = start + (self.network.steps_done + 1) * step_wall_s
            delay = due - time.monotonic()
            if delay > 0 and stop.wait(delay):
                break
            self.network.step()
        stop.wait()


@dataclass
class OnDemandClock:
    """Steps only when an enc_keys request finds too little key: up to `max_steps` steps per
    request (then the request gets 503), and never past the scenario's last step."""

    network: KeyDeliveryNetwork
    max_steps: int = 20
    _requests: queue.Queue[tuple[PairKeyStore, int, threading.Event]] = field(
        default_factory=queue.Queue
    )

    def supply(self, store: PairKeyStore, size_bytes: int) -> None:
        done = threading.Event()
        self._requests.put((store, size_bytes, done))
        done.wait(SUPPLY_TIMEOUT_S)

    def run(self, stop: threading.Event) -> None:
        """Serve step requests until `stop` is set."""
        while not stop.is_set():
            try:
                store, size_bytes, done = self._requests.get(timeout=0.1)
            except queue.Empty:
                continue
            try:
                self.fill(store, size_bytes)
            finally:
                done.set()

    def fill(self, store: PairKeyStore, size_bytes: int) -> int:
        """Step until `store` holds `size_bytes` or `max_steps` went by; returns steps taken."""
        steps = 0
        while steps < self.max_steps and not self.network.finished:
            with self.network.lock:
                if store.pool_bytes >= size_bytes:
                    break
            self.network.step()
            steps += 1
        return steps
