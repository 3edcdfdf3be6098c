"""Optical fibre: loss in dB and transmittance.

Why separate from the protocols: every protocol consumes a transmittance (a number in (0, 1]);
where it comes from (fibre of a given length, a fading free-space link, a drifting fibre) is the
channel's business. Loss adds in dB, transmittances multiply.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qchannel._validate import as_float_array, check_range, scalar_or_array

SMF28_ATTENUATION_DB_PER_KM = 0.2
"""Typical loss of standard single-mode fibre at 1550 nm (the value used by LCQ12)."""


def db_to_transmittance(loss_db: ArrayLike) -> NDArray[np.float64]:
    """Transmittance of a loss given in dB: `10 ** (-loss_db / 10)` (loss >= 0)."""
    return db_to_transmittance_unchecked(check_range("loss_db", loss_db, 0.0, np.inf))


def db_to_transmittance_unchecked(loss_db: NDArray[np.float64]) -> NDArray[np.float64]:
    """`db_to_transmittance` of a float array of losses already known to be >= 0 (the link
    physics computes them from checked fibre data every step)."""
    return np.power(10.0, -loss_db / 10.0)


def transmittance_to_db(transmittance: ArrayLike) -> NDArray[np.float64]:
    """Loss in dB of a transmittance in (0, 1]: `-10 log10(t)`."""
    t = check_range("transmittance", transmittance, 0.0, 1.0, low_open=True)
    return -10.0 * np.log10(t) + 0.0


def fiber_loss_db(
    length_km: ArrayLike, attenuation_db_per_km: ArrayLike, insertion_loss_db: ArrayLike = 0.0
) -> NDArray[np.float64]:
    """Total loss of a fibre span: `attenuation * length + insertion loss` (arrays broadcast)."""
    length = check_range("length_km", length_km, 0.0, np.inf)
    alpha = check_range("attenuation_db_per_km", attenuation_db_per_km, 0.0, np.inf)
    extra = check_range("insertion_loss_db", insertion_loss_db, 0.0, np.inf)
    return alpha * length + extra


def fiber_transmittance(
    length_km: ArrayLike, attenuation_db_per_km: ArrayLike, insertion_loss_db: ArrayLike = 0.0
) -> NDArray[np.float64]:
    """Transmittance of a fibre span (detector efficiency not included)."""
    return db_to_transmittance(fiber_loss_db(length_km, attenuation_db_per_km, insertion_loss_db))


@dataclass(frozen=True)
class FiberLink:
    """A fibre span. Fields may be scalars or arrays (they broadcast in every computation)."""

    length_km: float | NDArray[np.float64]
    attenuation_db_per_km: float | NDArray[np.float64] = SMF28_ATTENUATION_DB_PER_KM
    insertion_loss_db: float | NDArray[np.float64] = 0.0

    def __post_init__(self) -> None:
        for name in ("length_km", "attenuation_db_per_km", "insertion_loss_db"):
            value = check_range(name, getattr(self, name), 0.0, np.inf)
            object.__setattr__(self, name, scalar_or_array(value))

    @property
    def loss_db(self) -> NDArray[np.float64]:
        return fiber_loss_db(self.length_km, self.attenuation_db_per_km, self.insertion_loss_db)

    @property
    def transmittance(self) -> NDArray[np.float64]:
        return db_to_transmittance(self.loss_db)

    def with_extra_loss_db(self, extra_loss_db: ArrayLike) -> NDArray[np.float64]:
        """Transmittance when `extra_loss_db` (e.g. a drift sample, may be negative) is added.

        The total loss is floored at 0 dB: a drift cannot make a fibre amplify.
        """
        total = self.loss_db + as_float_array("extra_loss_db", extra_loss_db)
        return db_to_transmittance(np.maximum(total, 0.0))
