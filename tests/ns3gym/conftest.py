"""Fixtures for the ns3-gym wire tests: raw sockets that play one side by hand. Every port is
chosen by the OS (bind to port 0), so these tests can run next to each other."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import zmq
from ns3gym_helpers import HERE


@pytest.fixture(autouse=True)
def _children_import_toy_envs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Simulation subprocesses must be able to import ns3gym_toy_env (for --env-id)."""
    paths = [str(HERE), os.environ.get("PYTHONPATH", "")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in paths if p))


@pytest.fixture
def zmq_context() -> Iterator[zmq.Context]:
    context = zmq.Context()
    yield context
    context.destroy(linger=0)


@pytest.fixture
def raw_agent(zmq_context: zmq.Context) -> tuple[zmq.Socket, int]:
    """A bare REP socket on 127.0.0.1 (the agent's role), with a 10 s receive timeout."""
    socket = zmq_context.socket(zmq.REP)
    socket.setsockopt(zmq.RCVTIMEO, 10_000)
    socket.setsockopt(zmq.LINGER, 0)
    socket.bind("tcp://127.0.0.1:*")
    port = int(socket.getsockopt(zmq.LAST_ENDPOINT).decode().rsplit(":", 1)[1])
    return socket, port
