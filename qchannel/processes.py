"""Seeded time-varying channels: slow fibre-loss drift and atmospheric fading.

Why an Ornstein-Uhlenbeck core: both are stationary random processes with a correlation time,
and the OU process is the one Gaussian Markov process with exponential correlation
`exp(-|t|/tau)`; its exact update over any step `dt`,
    x <- x exp(-dt/tau) + sqrt(1 - exp(-2 dt/tau)) N(0, 1),
needs no small-step approximation, so the bridge may step with any `dt_s`, even changing it.

- FiberDrift: the fibre's loss offset in dB is `sigma_db * x` (temperature, stress, connectors).
- AtmosphericFading: the transmittance is a fixed function of x with the wanted marginal law
  (a Gaussian copula): log-normal (weak turbulence; Andrews & Phillips, "Laser Beam Propagation
  through Random Media", 2005) or beta (Vasylyev, Semenov & Vogel, PRL 108, 220501, 2012 use
  beta-like probability distributions of transmittance; here beta is matched by mean and
  scintillation index). The scintillation index is var(T) / mean(T)^2.

Everything is seeded by an int through numpy's Generator: same seed, same calls, same values.
`size` makes one process per link (independent, vectorised). `sample(n, dt)` returns exactly
the values n calls of `step(dt)` would (bit for bit; scipy's lfilter runs the same recursion).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy.signal import lfilter
from scipy.special import betaincinv, ndtr

from qchannel._validate import check_range
from qchannel.channels import db_to_transmittance
from qchannel.errors import QChannelParameterError

FadingDistribution = Literal["lognormal", "beta"]
FADING_DISTRIBUTIONS: tuple[str, ...] = ("lognormal", "beta")


class OrnsteinUhlenbeck:
    """Zero-mean, unit-variance stationary OU process (one per element of `size`)."""

    def __init__(
        self, correlation_time_s: float, seed: int, size: int | tuple[int, ...] | None = None
    ) -> None:
        self.correlation_time_s = float(
            check_range("correlation_time_s", correlation_time_s, 0.0, np.inf, low_open=True)
        )
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
            raise QChannelParameterError(f"seed must be a non-negative int, got {seed!r}")
        self.size = size
        self._rng = np.random.default_rng(int(seed))
        self.time_s = 0.0
        self.state = self._rng.standard_normal(size)  # start in the stationary law
        self._last_dt_s = float("nan")  # never equal: the first step computes its coefficients
        self._last_coefficients = (1.0, 0.0)

    def _coefficients(self, dt_s: float) -> tuple[float, float]:
        if dt_s == self._last_dt_s:  # a fixed step (the usual case): checked and computed once
            return self._last_coefficients
        dt = float(check_range("dt_s", dt_s, 0.0, np.inf, low_open=True))
        a = float(np.exp(-dt / self.correlation_time_s))
        coefficients = a, float(np.sqrt(-np.expm1(-2.0 * dt / self.correlation_time_s)))
        self._last_dt_s, self._last_coefficients = dt, coefficients
        return coefficients

    def step(self, dt_s: float) -> float | NDArray[np.float64]:
        """Advance by dt_s seconds; returns the new value (float, or array of `size`)."""
        a, s = self._coefficients(dt_s)
        self.state = a * self.state + s * self._rng.standard_normal(self.size)
        self.time_s += dt_s
        return self.state

    def checkpoint(self) -> tuple:
        """Everything `rewind` needs to bring the process back here (state and random stream):
        a caller that sampled ahead can return to any step in between and step on from it."""
        state = self.state if np.isscalar(self.state) else np.copy(self.state)
        return self._rng.bit_generator.state, state, self.time_s

    def rewind(self, checkpoint: tuple) -> None:
        """Return to a `checkpoint`: the next steps and samples are the ones that followed it."""
        rng_state, state, self.time_s = checkpoint
        self._rng.bit_generator.state = rng_state
        self.state = state if np.isscalar(state) else np.copy(state)

    def sample(self, n_steps: int, dt_s: float) -> NDArray[np.float64]:
        """The next n_steps values at spacing dt_s, shape (n_steps, *size); advances the state."""
        if isinstance(n_steps, bool) or not isinstance(n_steps, int | np.integer) or n_steps < 1:
            raise QChannelParameterError(f"n_steps must be a positive int, got {n_steps!r}")
        a, s = self._coefficients(dt_s)
        shape = (int(n_steps),) + np.shape(self.state)
        noise = self._rng.standard_normal(shape)
        initial = np.asarray(a * np.asarray(self.state))[np.newaxis, ...]
        values = lfilter([s], [1.0, -a], noise, axis=0, zi=initial)[0]
        self.state = values[-1] if values[-1].ndim else float(values[-1])
        self.time_s += n_steps * dt_s
        return values


class FiberDrift:
    """Slow drift of a fibre's loss: offset in dB with stationary std `sigma_db`."""

    def __init__(
        self,
        sigma_db: float,
        correlation_time_s: float,
        seed: int,
        size: int | tuple[int, ...] | None = None,
    ) -> None:
        self.sigma_db = float(check_range("sigma_db", sigma_db, 0.0, np.inf))
        self._ou = OrnsteinUhlenbeck(correlation_time_s, seed, size)

    @property
    def offset_db(self) -> float | NDArray[np.float64]:
        """Current extra loss in dB (may be negative: the loss drifts both ways)."""
        return self.sigma_db * self._ou.state

    def step(self, dt_s: float) -> float | NDArray[np.float64]:
        """Advance dt_s seconds; the new loss offset in dB."""
        return self.sigma_db * self._ou.step(dt_s)

    def sample(self, n_steps: int, dt_s: float) -> NDArray[np.float64]:
        return self.sigma_db * self._ou.sample(n_steps, dt_s)


@dataclass(frozen=True)
class FreeSpaceLink:
    """Atmospheric link: mean loss (geometric + absorption + detector-side optics) and fading."""

    mean_loss_db: float
    scintillation_index: float = 0.1
    correlation_time_s: float = 0.01
    distribution: FadingDistribution = "lognormal"

    def __post_init__(self) -> None:
        check_range("mean_loss_db", self.mean_loss_db, 0.0, np.inf)
        check_range("scintillation_index", self.scintillation_index, 0.0, np.inf)
        check_range("correlation_time_s", self.correlation_time_s, 0.0, np.inf, low_open=True)
        if self.distribution not in FADING_DISTRIBUTIONS:
            raise QChannelParameterError(
                f"unknown fading distribution {self.distribution!r}; "
                f"known: {', '.join(FADING_DISTRIBUTIONS)}"
            )
        if self.distribution == "beta":
            _beta_shape(self.mean_transmittance, self.scintillation_index)

    @property
    def mean_transmittance(self) -> float:
        return float(db_to_transmittance(self.mean_loss_db))

    def process(self, seed: int, size: int | tuple[int, ...] | None = None) -> AtmosphericFading:
        return AtmosphericFading(
            self.mean_loss_db,
            self.scintillation_index,
            self.correlation_time_s,
            seed,
            distribution=self.distribution,
            size=size,
        )


class AtmosphericFading:
    """Time-correlated transmittance T(t) of a free-space link, in [0, 1].

    lognormal: T = mean * exp(sigma x - sigma^2/2), sigma^2 = ln(1 + SI), so E[T] = mean and
        var(T)/mean^2 = SI exactly; values above 1 (only for mean near 1 and strong fading) are
        clipped to 1, which lowers the mean slightly there.
    beta: T = F^-1(Phi(x)) for the beta law with the same mean and SI (needs
        SI < (1 - mean)/mean). Its autocorrelation follows the OU one closely, not exactly.
    """

    def __init__(
        self,
        mean_loss_db: float,
        scintillation_index: float,
        correlation_time_s: float,
        seed: int,
        distribution: FadingDistribution = "lognormal",
        size: int | tuple[int, ...] | None = None,
    ) -> None:
        self.link = FreeSpaceLink(
            mean_loss_db, scintillation_index, correlation_time_s, distribution
        )
        self._ou = OrnsteinUhlenbeck(correlation_time_s, seed, size)
        self._mean = self.link.mean_transmittance
        si = self.link.scintillation_index
        if distribution == "beta" and si > 0.0:
            self._beta = _beta_shape(self._mean, si)
        self._sigma = float(np.sqrt(np.log1p(si)))

    @property
    def transmittance(self) -> float | NDArray[np.float64]:
        return self._map(self._ou.state)

    def step(self, dt_s: float) -> float | NDArray[np.float64]:
        """Advance dt_s seconds; the new transmittance."""
        return self._map(self._ou.step(dt_s))

    def sample(self, n_steps: int, dt_s: float) -> NDArray[np.float64]:
        return self._map(self._ou.sample(n_steps, dt_s))

    def _map(self, x):
        if self.link.scintillation_index == 0.0:
            t = np.full(np.shape(x), self._mean)
        elif self.link.distribution == "lognormal":
            t = np.minimum(self._mean * np.exp(self._sigma * x - self._sigma**2 / 2.0), 1.0)
        else:
            a, b = self._beta
            t = betaincinv(a, b, ndtr(x))
        return float(t) if np.ndim(t) == 0 else t


def _beta_shape(mean: float, scintillation_index: float) -> tuple[float, float]:
    """Beta(a, b) parameters with the given mean and var = SI * mean^2."""
    variance = scintillation_index * mean**2
    if scintillation_index > 0.0 and variance >= mean * (1.0 - mean):
        raise QChannelParameterError(
            f"scintillation_index {scintillation_index:g} too large for a beta law with mean "
            f"transmittance {mean:g}: needs < {(1.0 - mean) / mean:g}"
        )
    if scintillation_index == 0.0:
        return (np.inf, np.inf)
    common = mean * (1.0 - mean) / variance - 1.0
    return mean * common, (1.0 - mean) * common
