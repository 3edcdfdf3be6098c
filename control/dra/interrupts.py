"""Ctrl-C as a request to stop at the next consistent point, not an exception mid-update.

Why: a KeyboardInterrupt raised between `optimizer.zero_grad()` and `optimizer.step()`, or halfway
through adding a batch to the replay buffer, would leave a state no checkpoint should record. The
first SIGINT only sets a flag that the training/evaluation loop checks after each environment step,
where everything is consistent; it then saves and returns. A second SIGINT raises
KeyboardInterrupt at once, for a user who really wants out (the last saved checkpoint stays valid).
Sub-environment worker processes ignore SIGINT (see `ignore_sigint_in_worker`) so that the
terminal's Ctrl-C, which reaches the whole process group, does not kill them under the trainer.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import threading
from collections.abc import Iterator


class StopRequest:
    """Set when the user asked to stop; also settable by code (tests, callbacks)."""

    def __init__(self) -> None:
        self.requested = False

    def request(self) -> None:
        self.requested = True


@contextlib.contextmanager
def sigint_requests_stop() -> Iterator[StopRequest]:
    """Within the block, the first SIGINT sets the returned flag; the second interrupts."""
    stop = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield stop  # signal handlers can only be installed from the main thread
        return

    def handler(signum, frame):
        if stop.requested:
            raise KeyboardInterrupt
        stop.request()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


def ignore_sigint_in_worker() -> None:
    """In a child process (async vector env worker), ignore SIGINT; the parent handles it."""
    if multiprocessing.parent_process() is not None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
