"""Vectorised maximisation of a key rate over the signal intensity mu.

Why not scipy.optimize per point: the bridge and the CLI optimise millions of (distance, device)
points, and a Python loop over points is what this package exists to avoid. Here every point is
optimised at once: a coarse log-spaced grid (24 values along an extra axis, one call) finds the
best grid cell for each point, then golden-section search narrows all brackets together.
Inside the bracket the rate is unimodal in mu (it rises like mu e^-mu, then multi-photon terms
and error correction bring it down). Near a protocol's cut-off the rate is positive only in a
narrow peak and creeps up to 0 from below as mu -> 0, so the grid ranks points by
`rate_grid_score` (secret fraction where no key) rather than by the raw rate.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

MU_SEARCH_LOW = 1e-3
MU_SEARCH_HIGH = 3.0
_GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0


def maximize_over_mu(
    objective: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    shape: tuple[int, ...],
    low: ArrayLike = MU_SEARCH_LOW,
    high: ArrayLike = MU_SEARCH_HIGH,
    grid_points: int = 24,
    iterations: int = 32,
    grid_score: Callable[[NDArray[np.float64]], NDArray[np.float64]] | None = None,
) -> NDArray[np.float64]:
    """The mu in [low, high] maximising `objective(mu)` independently for every point.

    objective takes an array of mu of `shape` and returns the rate of every point (same shape).
    grid_score (default: objective) ranks the grid points when picking each point's bracket;
    key rates need it near their cut-off, where the rate is negative except in a narrow peak and
    tends to 0 from below as mu -> 0, so raw rates would favour the tiny-mu tail (see
    `rate_grid_score`).
    The grid's two-cell bracket spans a factor (high/low)**(2/23) ~ 2 in mu; 32 golden-section
    steps shrink it by 0.618**32 ~ 2e-7, so mu is found to ~1e-7 relative and the rate (flat at
    its maximum) to ~1e-14 relative, far finer than any difference that matters.
    """
    score = grid_score if grid_score is not None else objective
    low = np.broadcast_to(np.asarray(low, dtype=np.float64), shape)
    high = np.broadcast_to(np.asarray(high, dtype=np.float64), shape)
    log_low, log_span = np.log(low), np.log(high) - np.log(low)
    step = 1.0 / (grid_points - 1)

    # every grid value in one call (a leading grid axis): one pass through the protocol's
    # formulas instead of one per grid value; argmax keeps the first best, NaN never wins
    grid_axis = np.arange(grid_points, dtype=np.float64).reshape((-1,) + (1,) * len(shape))
    grid_values = np.asarray(score(np.exp(log_low + log_span * (grid_axis * step))))
    grid_values = np.where(np.isnan(grid_values), -np.inf, grid_values)
    best_index = np.argmax(grid_values, axis=0)

    a = np.exp(log_low + log_span * (np.maximum(best_index - 1, 0) * step))
    b = np.exp(log_low + log_span * (np.minimum(best_index + 1, grid_points - 1) * step))
    c = b - _GOLDEN * (b - a)
    d = a + _GOLDEN * (b - a)
    fc, fd = objective(c), objective(d)
    for _ in range(iterations):
        left = fc >= fd  # the maximum lies in [a, d]
        b = np.where(left, d, b)
        a = np.where(left, a, c)
        new_c = b - _GOLDEN * (b - a)
        new_d = a + _GOLDEN * (b - a)
        c, d = np.where(left, new_c, d), np.where(left, c, new_d)
        probe = np.where(left, c, d)
        f_probe = objective(probe)
        fc, fd = np.where(left, f_probe, fd), np.where(left, fc, f_probe)
    refined = 0.5 * (a + b)
    grid_mu = np.exp(log_low + log_span * (best_index * step))
    # Never return worse than the chosen grid point (a guard should a rate not be unimodal
    # inside its bracket).
    return np.where(objective(refined) >= objective(grid_mu), refined, grid_mu)


def rate_grid_score(rate: NDArray[np.float64], gain: NDArray[np.float64]) -> NDArray[np.float64]:
    """Grid ranking for key rates: any positive rate beats any non-positive one; among
    non-positive ones the larger secret fraction R / gain wins (in [-f_EC, 0], scale-free), which
    points at the intensity where key is closest to appearing instead of at mu -> 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = np.where(gain > 0.0, rate / gain, -np.inf)
    return np.where(rate > 0.0, rate, np.minimum(fraction, 0.0) - 1.0)
