"""Helpers for the ns3-gym wire tests (imported by the test modules; fixtures are in conftest)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def sim_command(*args: str) -> list[str]:
    """The simulation program `Ns3GymEnv` launches (`qkdnet gym-sim` without the console script)."""
    return [sys.executable, "-m", "bridge.ns3gym", *args]


class Background(threading.Thread):
    """Runs fn(*args) in a daemon thread and keeps its result or exception."""

    def __init__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any):
        super().__init__(daemon=True)
        self._call = (fn, args, kwargs)
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        fn, args, kwargs = self._call
        try:
            self.result = fn(*args, **kwargs)
        except BaseException as exc:
            self.error = exc

    def outcome(self, timeout_s: float = 30.0) -> Any:
        self.join(timeout_s)
        assert not self.is_alive(), "background side did not finish"
        if self.error is not None:
            raise self.error
        return self.result
