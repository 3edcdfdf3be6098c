"""Shared pytest setup.

ns-3 is process-wide: a test that opens a scenario must close it (the fixtures below do), and
ns-3 itself is loaded once per pytest process the first time a test asks for it.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def ns():
    """The ns3 C++ namespace with our qkd module loaded (built on first use, then cached)."""
    from bridge.ns3_runtime import load_ns

    return load_ns()


def qkdnet_command() -> list[str]:
    """How to run the `qkdnet` console script of the interpreter running the tests.

    The venv's bin/ is not necessarily on PATH (e.g. `.venv/bin/pytest`), so the script is taken
    from next to sys.executable, falling back to `python -m cli.main`.
    """
    import sys
    from pathlib import Path

    script = Path(sys.executable).parent / "qkdnet"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "cli.main"]
