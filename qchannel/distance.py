"""Maximum secure distance: where a protocol's optimised key rate drops to zero.

Why bisection rather than reading a sweep: published figures quote the cut-off distance to a km
or better, and the optimised rate is monotone in distance, so bisection on "any key left?" finds
it to `tol_km` in ~40 evaluations, independent of any grid.
"""

from __future__ import annotations

import numpy as np

from qchannel.errors import QChannelParameterError
from qchannel.operating_point import operating_point_from_preset
from qchannel.presets import Preset
from qchannel.protocols.bb84 import FiniteSize


def max_secure_distance_km(
    preset: str | Preset,
    protocol: str | None = None,
    *,
    mu: float | None = None,
    finite_size: FiniteSize | None = None,
    tol_km: float = 1e-3,
    limit_km: float = 2000.0,
) -> float:
    """Longest fibre (MDI: Alice-Bob, relay midway) with a positive key rate; 0 if none at 0 km."""
    if not tol_km > 0.0:
        raise QChannelParameterError(f"tol_km must be > 0, got {tol_km!r}")

    def has_key(length_km: float) -> bool:
        point = operating_point_from_preset(
            preset, length_km, protocol=protocol, mu=mu, finite_size=finite_size
        )
        return bool(point.key_rate_bits_per_pulse > 0.0)

    if not has_key(0.0):
        return 0.0
    low, high = 0.0, 50.0
    while has_key(high):
        low, high = high, 2.0 * high
        if high > limit_km:
            raise QChannelParameterError(f"key rate still positive at {limit_km:g} km")
    while high - low > tol_km:
        middle = 0.5 * (low + high)
        low, high = (middle, high) if has_key(middle) else (low, middle)
    return float(np.round(0.5 * (low + high), 6))
