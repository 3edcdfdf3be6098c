"""Range checks shared by the dataclasses and the array functions.

Why one place: every public entry point accepts scalars or numpy arrays, and every check must say
which field was wrong and what range it must lie in, the same way everywhere.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qchannel.errors import QChannelParameterError


def as_float_array(name: str, value: ArrayLike) -> NDArray[np.float64]:
    """`value` as a float64 array; a clear error if it is not numeric or holds NaN."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise QChannelParameterError(
            f"{name} must be a number or numeric array, got {value!r}"
        ) from None
    if np.isnan(array).any():
        raise QChannelParameterError(f"{name} must not be NaN")
    return array


def check_range(
    name: str,
    value: ArrayLike,
    low: float,
    high: float,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> NDArray[np.float64]:
    """Return `value` as a float array after checking `low <= value <= high` (open ends optional).

    The message quotes the first offending value and the interval in mathematical notation, e.g.
    `detector efficiency_... must lie in (0, 1], got 1.2`.
    """
    array = as_float_array(name, value)
    below = array <= low if low_open else array < low
    above = array >= high if high_open else array > high
    bad = below | above
    if bad.any():
        first = array[bad].flat[0] if array.ndim else float(array)
        interval = f"{'(' if low_open else '['}{_fmt(low)}, {_fmt(high)}{')' if high_open else ']'}"
        raise QChannelParameterError(f"{name} must lie in {interval}, got {first:g}")
    return array


def _fmt(bound: float) -> str:
    if np.isinf(bound):
        return "inf" if bound > 0 else "-inf"
    return f"{bound:g}"


def scalar_or_array(array: NDArray[np.float64]) -> float | NDArray[np.float64]:
    """0-d arrays become Python floats so dataclass fields print and compare naturally."""
    return float(array) if array.ndim == 0 else array
