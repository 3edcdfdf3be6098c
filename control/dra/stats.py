"""Mean and Student-t confidence interval over independent episodes.

Why per-episode values and the t-distribution: steps within an episode are correlated, episodes
with distinct seeds are independent, and evaluation runs are often tens of episodes, where the
normal approximation's interval is noticeably too narrow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class MetricSummary:
    """Mean of a per-episode metric with its two-sided confidence interval."""

    name: str
    mean: float
    ci_low: float
    ci_high: float
    episodes: int
    confidence: float = 0.95

    @property
    def half_width(self) -> float:
        return (self.ci_high - self.ci_low) / 2.0


def summarise(name: str, values: np.ndarray, confidence: float = 0.95) -> MetricSummary:
    """Mean and t-interval of `values` (NaNs, e.g. episodes without the metric, are dropped).

    With fewer than two values the interval is undefined and reported as NaN.
    """
    values = np.asarray(values, dtype=np.float64)
    values = values[~np.isnan(values)]
    n = values.size
    if n == 0:
        return MetricSummary(name, float("nan"), float("nan"), float("nan"), 0, confidence)
    mean = float(values.mean())
    if n < 2:
        return MetricSummary(name, mean, float("nan"), float("nan"), 1, confidence)
    sem = float(values.std(ddof=1)) / np.sqrt(n)
    half = float(stats.t.ppf(0.5 + confidence / 2.0, df=n - 1)) * sem
    return MetricSummary(name, mean, mean - half, mean + half, n, confidence)
