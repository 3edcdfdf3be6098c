"""Linear schedules of epsilon (exploration) and beta (PER importance sampling) over env steps.

Why env steps and not a fraction of the run: a fraction depends on the total length, so a run
extended with `--resume --episodes MORE` would change its past schedule; a step-indexed schedule
makes a run's first N episodes identical whatever N it is later extended to.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LinearSchedule:
    """`start` at step 0, moving linearly to `end` at step `steps`, then constant."""

    start: float
    end: float
    steps: int

    def __call__(self, step: int) -> float:
        if step >= self.steps:
            return self.end
        return self.start + (self.end - self.start) * (step / self.steps)
