"""A watchdog for simulated progress: a step that stops advancing simulated time ends the process
with one line saying where it was.

Why a process exit and not an exception: when ns-3 stops advancing (an event storm at one instant,
a loop inside the model) the main thread is inside C++, where Python cannot raise anything. The
watchdog is a daemon thread: ns-3's stepping calls release the GIL (bridge.scenario.runtime), so the
thread keeps running, polls the simulation clock and, when it has not moved for `stall_s` wall
seconds while a step is in progress, prints `qkdnet: error: watchdog: ...` on stderr and exits
with status 3. What the run already wrote stays valid: run directories are written incrementally
with a manifest, so the stopped run can be inspected or rerun.

One watchdog per process (ns-3's Simulator is one per process too). The wall time is
configurable: `QKDNET_WATCHDOG_S` in the environment (default 300 s; 0 turns it off),
`qkdnet run --watchdog-s`, or `QkdScenario(..., watchdog_s=...)` (which envs and sweeps pass on).
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator

EXIT_WATCHDOG = 3
DEFAULT_STALL_S = 300.0
ENV_VAR = "QKDNET_WATCHDOG_S"


def default_stall_s() -> float:
    """The configured stall limit: $QKDNET_WATCHDOG_S, else DEFAULT_STALL_S (0 = off)."""
    text = os.environ.get(ENV_VAR, "").strip()
    if not text:
        return DEFAULT_STALL_S
    return check_stall_s(_parse(text), ENV_VAR)


def _parse(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{ENV_VAR}={text!r} is not a number of seconds") from None


def check_stall_s(value: float, what: str) -> float:
    """A finite number of seconds >= 0 (0 turns the watchdog off); ValueError naming `what`."""
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{what} must be a finite number of seconds >= 0 (0 = off), not {value}")
    return float(value)


class _Watchdog(threading.Thread):
    def __init__(self) -> None:
        super().__init__(name="qkdnet-watchdog", daemon=True)
        self._lock = threading.Lock()
        self._armed = False
        self._stall_s = DEFAULT_STALL_S
        self._where: Callable[[], str] = str
        self._probe: Callable[[], float] = time.monotonic
        self._last_sim = 0.0
        self._last_wall = 0.0

    def arm(self, stall_s: float, where: Callable[[], str], probe: Callable[[], float]) -> None:
        with self._lock:
            self._stall_s, self._where, self._probe = stall_s, where, probe
            self._last_sim = probe()
            self._last_wall = time.monotonic()
            self._armed = True

    def disarm(self) -> None:
        with self._lock:
            self._armed = False
            # hold nothing of the scenario once its step is over: a dropped env must be freed
            self._where, self._probe = str, time.monotonic

    def run(self) -> None:  # pragma: no cover - exercised in a subprocess by the tests
        while True:
            with self._lock:
                poll = min(1.0, max(0.05, self._stall_s / 10))
            time.sleep(poll)
            with self._lock:
                if not self._armed:
                    continue
                now_sim = self._probe()
                now_wall = time.monotonic()
                if now_sim != self._last_sim:
                    self._last_sim, self._last_wall = now_sim, now_wall
                    continue
                if now_wall - self._last_wall < self._stall_s:
                    continue
                where = self._where()
                stalled = now_wall - self._last_wall
            line = (
                f"qkdnet: error: watchdog: {where}: simulated time stuck at {now_sim:.9g} s for "
                f"{stalled:.0f} s of wall time (limit {self._stall_s:g} s, {ENV_VAR} or "
                "--watchdog-s); stopped"
            )
            print(line, file=sys.stderr, flush=True)
            os._exit(EXIT_WATCHDOG)


_instance: _Watchdog | None = None
_instance_lock = threading.Lock()


def _watchdog() -> _Watchdog:
    global _instance
    with _instance_lock:
        if _instance is None or not _instance.is_alive():  # a forked child has no thread
            _instance = _Watchdog()
            _instance.start()
        return _instance


@contextlib.contextmanager
def watching(
    stall_s: float, where: Callable[[], str], probe: Callable[[], float]
) -> Iterator[None]:
    """Watch the block: if `probe()` (simulated seconds) stays the same for `stall_s` wall
    seconds, print one line with `where()` and exit the process. `stall_s == 0` watches nothing."""
    if stall_s <= 0:
        yield
        return
    dog = _watchdog()
    dog.arm(stall_s, where, probe)
    try:
        yield
    finally:
        dog.disarm()
