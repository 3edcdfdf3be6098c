"""Adaptive trust weights: fast multiplicative penalty, slow probation-gated recovery.

Penalty (the paper's rule): after a step with error err_i in [0, 1],

    w_i <- max(floor, w_i * (1 - alpha * |err_i|)),   0 < alpha < 1,

so weights stay in (0, 1]; the floor keeps a penalised node able to recover (a multiplicative
rule could never climb back from 0) and keeps every consensus weight positive.

Recovery: a node whose error stays below `clean_error` for `probation_steps` consecutive steps in
which it did report regains a fraction of the distance to full weight each further clean step,

    w_i <- w_i + recovery_rate * (1 - w_i).

Why this shape: punishment must be fast (one bad report already costs alpha * err of the weight)
and forgiveness slow and conditional, like AIMD. A node that lies once every m steps with
m <= probation_steps never earns any recovery, so on-off attackers keep losing weight; a node that
was faulty and is repaired climbs back to within 1% of full weight after about
probation_steps + ln(100 * (1 - w)) / recovery_rate clean steps (~230 with the defaults), without
any operator action. Steps where a node sent no report give no evidence either way: its weight is
neither recovered nor (unless its links' measured QBER is bad) penalised, because a Byzantine
primary may drop honest reports from a batch and must not be able to make that look like
misbehaviour.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from control.abft.errors import ConfigurationError


@dataclass(frozen=True)
class WeightRule:
    alpha: float = 0.3
    floor: float = 0.05
    recovery_rate: float = 0.02
    probation_steps: int = 5
    clean_error: float = 0.05

    def __post_init__(self) -> None:
        if not 0.0 < self.alpha < 1.0:
            raise ConfigurationError(f"alpha must lie in (0, 1), got {self.alpha}")
        if not 0.0 < self.floor <= 1.0:
            raise ConfigurationError(f"weight floor must lie in (0, 1], got {self.floor}")
        if not 0.0 <= self.recovery_rate < 1.0:
            raise ConfigurationError(f"recovery_rate must lie in [0, 1), got {self.recovery_rate}")
        if self.probation_steps < 0 or not 0.0 <= self.clean_error < 1.0:
            raise ConfigurationError("probation_steps must be >= 0 and clean_error in [0, 1)")

    def apply(
        self,
        weights: np.ndarray,
        errors: np.ndarray,
        reported: np.ndarray,
        streaks: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """One step of the rule; returns (new weights, new clean-step streaks)."""
        w = np.asarray(weights, dtype=np.float64)
        err = np.clip(np.abs(np.asarray(errors, dtype=np.float64)), 0.0, 1.0)
        bad = err > self.clean_error
        new_w = np.where(bad, np.maximum(self.floor, w * (1.0 - self.alpha * err)), w)
        new_streaks = np.where(bad, 0, np.where(reported, streaks + 1, streaks)).astype(np.int64)
        recover = ~bad & reported & (new_streaks > self.probation_steps)
        new_w = np.where(
            recover, np.minimum(1.0, new_w + self.recovery_rate * (1.0 - new_w)), new_w
        )
        return np.clip(new_w, self.floor, 1.0), new_streaks
