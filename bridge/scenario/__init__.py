"""The scenario layer: one simulated QKD network stepped in time, without any control plane.

Modules, in the order a step uses them:
  config           the scenario YAML, validated (pydantic), and its errors
  demand_generator demands picked from whatever topology the scenario runs on
  plan             the config resolved against its topology: nodes, links, demands and routes
  cost             the wall-time estimate that refuses scenarios too expensive to run
  mu_table         tabulated optimal decoy intensities (the physics' hot path)
  link_physics     qchannel turned into per-link gain, QBER and secret fraction every step
  runtime          the ns-3 network the step advances (one call into C++)
  watchdog         stops a stalled step with one line instead of hanging
  step             `QkdScenario`, the step itself, and its `StepResult`
  metrics          the per-step tables written to a run directory and read back

Why no control plane here: a control plane (ABFT or baseline) is attached from outside through
the `StepControl` protocol (the runner or the env composes them), so this package never imports
`control`. The exports are resolved lazily (PEP 562) so importing `bridge.scenario.config` alone
(the CLI, the sweep spec) does not load the step and ns-3's runtime.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bridge.scenario.step import (
        PROTOCOL_CODES,
        ControlOutcome,
        QkdScenario,
        StepControl,
        StepResult,
        load_plan,
    )

__all__ = [
    "PROTOCOL_CODES",
    "ControlOutcome",
    "QkdScenario",
    "StepControl",
    "StepResult",
    "load_plan",
]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'bridge.scenario' has no attribute {name!r}")
    return getattr(importlib.import_module("bridge.scenario.step"), name)
