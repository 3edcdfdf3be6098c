"""What a key-rate formula returns: gain, QBER and rate, all per pulse, as broadcast arrays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class ProtocolResult:
    """Asymptotic figures of one protocol at one or many operating points.

    gain: probability per signal pulse (per pulse pair for MDI) that it is detected / gives a
        successful Bell-state announcement, before basis sifting (Q_mu; MDI: Q_rect of LCQ12).
    qber: error rate of those detections in the key basis (E_mu; MDI: E_rect).
    key_rate_bits_per_pulse: secret bits per signal pulse, clipped at 0 (no key is 0 key).
    rate_bound_bits_per_pulse: the same before clipping (negative where no key can be made);
        the intensity optimiser maximises this so it has a slope to follow past the cut-off.
    single_photon_gain / single_photon_error: Q_1, e_1 (MDI: Q_11, e_11 in the X basis) as the
        rate formula used them (bounds, for finite decoys).
    """

    mu: NDArray[np.float64]
    gain: NDArray[np.float64]
    qber: NDArray[np.float64]
    key_rate_bits_per_pulse: NDArray[np.float64]
    rate_bound_bits_per_pulse: NDArray[np.float64]
    single_photon_gain: NDArray[np.float64]
    single_photon_error: NDArray[np.float64]
    basis_sifting: NDArray[np.float64]

    @classmethod
    def from_rate(
        cls,
        *,
        mu: NDArray[np.float64],
        gain: NDArray[np.float64],
        qber: NDArray[np.float64],
        rate: NDArray[np.float64],
        single_photon_gain: NDArray[np.float64],
        single_photon_error: NDArray[np.float64],
        basis_sifting: NDArray[np.float64],
    ) -> ProtocolResult:
        """Broadcast every field to one shape and clip the rate at zero."""
        values = (mu, gain, qber, rate, single_photon_gain, single_photon_error, basis_sifting)
        shape = np.broadcast_shapes(*(np.shape(v) for v in values))
        # Copy only what needs broadcasting: the optimiser builds a result ~90 times per call.
        mu, gain, qber, rate, q1, e1, sift = (
            _full(np.asarray(v, dtype=np.float64), shape) for v in values
        )
        return cls(
            mu=mu,
            gain=gain,
            qber=qber,
            key_rate_bits_per_pulse=np.maximum(rate, 0.0),
            rate_bound_bits_per_pulse=rate,
            single_photon_gain=q1,
            single_photon_error=e1,
            basis_sifting=sift,
        )


def _full(array: NDArray[np.float64], shape: tuple[int, ...]) -> NDArray[np.float64]:
    return array if array.shape == shape else np.broadcast_to(array, shape).copy()
