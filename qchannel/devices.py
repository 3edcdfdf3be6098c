"""Source and detector hardware, and the detector non-idealities that change the yields.

Why dataclasses with array-capable fields: the bridge builds one per link from the scenario file
(validated once, with an error naming the field), while sweeps put numpy arrays in the fields and
every formula broadcasts over them.

Conventions (those of the papers the presets come from):
- `Detector.dark_count_probability` is the background click probability per gate *as the
  protocol's analysis uses it*: for BB84 it is Bob's whole detection system (the Y0 of Lo, Ma &
  Chen 2005, both detectors together); for MDI-QKD it is per detector at the relay (the p_d /
  Y0 of Lo, Curty & Qi 2012 and Ma & Razavi 2012).
- `Detector.efficiency` includes Bob's internal optical loss (LMC05's eta_Bob).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qchannel._validate import check_range, scalar_or_array
from qchannel.errors import QChannelParameterError


@dataclass(frozen=True)
class Detector:
    """Single-photon detection system (threshold detectors, gated).

    afterpulse_probability: chance that a detection causes a spurious click in a later gate
    (counted as extra background with a random bit). dead_time_s: the detector is blind this
    long after each click (non-paralysable).
    """

    efficiency: float | NDArray[np.float64]
    dark_count_probability: float | NDArray[np.float64]
    afterpulse_probability: float | NDArray[np.float64] = 0.0
    dead_time_s: float | NDArray[np.float64] = 0.0

    def __post_init__(self) -> None:
        checks = {
            "efficiency": dict(low=0.0, high=1.0, low_open=True),
            "dark_count_probability": dict(low=0.0, high=1.0, high_open=True),
            "afterpulse_probability": dict(low=0.0, high=1.0, high_open=True),
            "dead_time_s": dict(low=0.0, high=np.inf),
        }
        for name, bounds in checks.items():
            value = check_range(f"detector {name}", getattr(self, name), **bounds)
            object.__setattr__(self, name, scalar_or_array(value))


@dataclass(frozen=True)
class Source:
    """Phase-randomised weak coherent pulse source with decoy intensities.

    signal_mu None means "choose the key-rate-optimal signal intensity" (qchannel.optimize);
    the DRA agent sets it directly. decoy_mu is the weak decoy of the vacuum + weak protocol
    (its vacuum decoy is taken as ideal: no photons).
    """

    repetition_rate_hz: float | NDArray[np.float64] = 1e9
    signal_mu: float | NDArray[np.float64] | None = None
    decoy_mu: float | NDArray[np.float64] = 0.1

    def __post_init__(self) -> None:
        rate = check_range("source repetition_rate_hz", self.repetition_rate_hz, 0.0, np.inf)
        object.__setattr__(self, "repetition_rate_hz", scalar_or_array(rate))
        decoy = check_range("source decoy_mu", self.decoy_mu, 0.0, np.inf, low_open=True)
        object.__setattr__(self, "decoy_mu", scalar_or_array(decoy))
        if np.any(rate == 0.0):
            raise QChannelParameterError("source repetition_rate_hz must be > 0")
        if self.signal_mu is not None:
            signal = check_range("source signal_mu", self.signal_mu, 0.0, np.inf, low_open=True)
            object.__setattr__(self, "signal_mu", scalar_or_array(signal))


def check_misalignment(misalignment_error: ArrayLike) -> NDArray[np.float64]:
    """Validate an optical misalignment error (probability a photon hits the wrong detector)."""
    return check_range("misalignment_error", misalignment_error, 0.0, 0.5)


def background_with_afterpulses(
    dark_count_probability: ArrayLike,
    afterpulse_probability: ArrayLike,
    click_probability: ArrayLike,
) -> NDArray[np.float64]:
    """Background click probability per gate once afterpulses are added.

    First-order model: each click triggers an afterpulse in a later gate with probability
    `afterpulse_probability`; with a per-gate click probability `click_probability` this adds
    `p_ap * click_probability` random-bit clicks per gate, the same for every intensity (so decoy
    analysis sees it as background). Exact when p_ap * click_probability << 1.
    """
    dark = np.asarray(dark_count_probability, dtype=np.float64)
    extra = np.asarray(afterpulse_probability, dtype=np.float64) * np.asarray(click_probability)
    return 1.0 - (1.0 - dark) * (1.0 - extra)


def dead_time_live_fraction(
    click_probability: ArrayLike, repetition_rate_hz: ArrayLike, dead_time_s: ArrayLike
) -> NDArray[np.float64]:
    """Fraction of gates in which the detector is armed (non-paralysable dead time).

    With clicks at rate `c * f` per second and a blind time `tau` after each, the live fraction is
    `1 / (1 + c f tau)`. Every yield (signal, decoy, dark) scales by it, so QBER and secret
    fraction are unchanged and gain and key rate drop by this factor.
    """
    c = np.asarray(click_probability, dtype=np.float64)
    return 1.0 / (1.0 + c * np.asarray(repetition_rate_hz) * np.asarray(dead_time_s))
