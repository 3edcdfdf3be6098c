"""qkdnet's implementation of the ns3-gym wire protocol (ZeroMQ REQ/REP + protobuf).

- `Ns3GymEnv`: the agent side, a Gymnasium env (binds; launches or waits for a simulation).
- `serve(env, port, seed)`: the simulation side, wrapping any Gymnasium env
  (`qkdnet gym-sim SCENARIO.yaml --port P` on the command line).
- `loopback_env`, `run_steps`: helpers for measuring the env over the wire on loopback.
- Errors: `Ns3GymError` > `Ns3GymProtocolError`, `Ns3GymTimeout`, `Ns3GymPeerDied`,
  `Ns3GymSpaceError`.

Exports are resolved lazily so that `cli.ns3gym` (imported by `qkdnet --help`) does not
pull in numpy, gymnasium, zmq and protobuf.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "Ns3GymEnv": "bridge.ns3gym.agent_env",
    "serve": "bridge.ns3gym.sim_server",
    "ServeResult": "bridge.ns3gym.sim_server",
    "loopback_env": "bridge.ns3gym.loopback",
    "run_steps": "bridge.ns3gym.loopback",
    "Ns3GymError": "bridge.ns3gym.errors",
    "Ns3GymProtocolError": "bridge.ns3gym.errors",
    "Ns3GymTimeout": "bridge.ns3gym.errors",
    "Ns3GymPeerDied": "bridge.ns3gym.errors",
    "Ns3GymSpaceError": "bridge.ns3gym.errors",
}
__all__ = [
    "Ns3GymEnv",
    "Ns3GymError",
    "Ns3GymPeerDied",
    "Ns3GymProtocolError",
    "Ns3GymSpaceError",
    "Ns3GymTimeout",
    "ServeResult",
    "loopback_env",
    "run_steps",
    "serve",
]

if TYPE_CHECKING:  # pragma: no cover
    from bridge.ns3gym.agent_env import Ns3GymEnv
    from bridge.ns3gym.errors import (
        Ns3GymError,
        Ns3GymPeerDied,
        Ns3GymProtocolError,
        Ns3GymSpaceError,
        Ns3GymTimeout,
    )
    from bridge.ns3gym.loopback import loopback_env, run_steps
    from bridge.ns3gym.sim_server import ServeResult, serve


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'bridge.ns3gym' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value
