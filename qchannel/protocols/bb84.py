"""Decoy-state BB84 with weak coherent pulses: infinite decoys and vacuum + weak decoy.

Model and formulas: Lo, Ma & Chen, PRL 94, 230504 (2005) (LMC05) and Ma, Qi, Zhao & Lo, PRA 72,
012326 (2005) (MQZL05), with the GLLP rate (Gottesman, Lo, Lutkenhaus & Preskill 2004)

    R = q { -Q_mu f h2(E_mu) + Q_1 [1 - h2(e_1)] }          bits per signal pulse.

Channel + detection (eta = channel transmittance x Bob's detection efficiency, Y0 background,
e_d misalignment, e0 = 1/2):
    Y_n = 1 - (1 - Y0)(1 - eta)^n,      e_n Y_n = e0 Y0 (1 - eta)^n + e_d [1 - (1 - eta)^n]
    Q_mu = 1 - (1 - Y0) exp(-eta mu),   E_mu Q_mu = e0 Y0 exp(-eta mu) + e_d [1 - exp(-eta mu)]
These are MQZL05 Eqs. (2)-(8) without their first-order approximations (e.g. MQZL05 write
Q_mu = Y0 + 1 - exp(-eta mu)); the two differ by O(Y0 eta) ~ 1e-7 relative, far below any figure
we compare with, and the exact forms keep every probability inside [0, 1].

Infinite decoys (LMC05) know Q_1 = Y_1 mu exp(-mu) and e_1 exactly. Vacuum + weak decoy (MQZL05
Sec. IV.B, Eqs. (34)-(37)) bounds them from the gains of a vacuum and a weak decoy nu < mu:
    Y_1 >= Y_1^L = mu / (mu nu - nu^2) [Q_nu e^nu - Q_mu e^mu nu^2/mu^2 - (mu^2 - nu^2)/mu^2 Y0]
    e_1 <= e_1^U = (E_nu Q_nu e^nu - e0 Y0) / (Y_1^L nu)
All functions broadcast over every argument; there is no loop over points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qchannel._validate import check_range
from qchannel.devices import check_misalignment
from qchannel.entropy import EC_INEFFICIENCY, h2
from qchannel.errors import QChannelParameterError
from qchannel.protocols.result import ProtocolResult

E0 = 0.5
"""Error rate of a background (dark) click: its bit is random."""


def wcp_gain_and_error(
    transmittance: ArrayLike,
    mu: ArrayLike,
    dark_count_probability: ArrayLike,
    misalignment_error: ArrayLike,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Gain Q_mu and QBER E_mu of a phase-randomised coherent state of mean photon number mu."""
    eta, mu, y0, e_d = _arrays(transmittance, mu, dark_count_probability, misalignment_error)
    signal = -np.expm1(-eta * mu)  # 1 - exp(-eta mu), accurate for tiny eta mu
    gain = y0 + (1.0 - y0) * signal
    errors = E0 * y0 * (1.0 - signal) + e_d * signal
    return gain, _safe_ratio(errors, gain, fallback=E0)


def single_photon_yield_and_error(
    transmittance: ArrayLike, dark_count_probability: ArrayLike, misalignment_error: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Y_1 and e_1: what infinitely many decoys would reveal about single-photon pulses."""
    eta = np.asarray(transmittance, dtype=np.float64)
    y0 = np.asarray(dark_count_probability, dtype=np.float64)
    e_d = np.asarray(misalignment_error, dtype=np.float64)
    y1 = y0 + (1.0 - y0) * eta
    return y1, _safe_ratio(E0 * y0 * (1.0 - eta) + e_d * eta, y1, fallback=E0)


def gllp_rate(
    gain: ArrayLike,
    qber: ArrayLike,
    single_photon_gain: ArrayLike,
    single_photon_error: ArrayLike,
    ec_inefficiency: ArrayLike = EC_INEFFICIENCY,
    basis_sifting: ArrayLike = 0.5,
) -> NDArray[np.float64]:
    """GLLP key rate per pulse, `q {Q_1 [1 - h2(e_1)] - f Q_mu h2(E_mu)}` (unclipped).

    e_1 above 1/2 (possible for an upper bound) gives no privacy amplification credit: it is
    clipped to 1/2 before h2.
    """
    e1 = np.clip(np.asarray(single_photon_error, dtype=np.float64), 0.0, 0.5)
    privacy = np.asarray(single_photon_gain) * (1.0 - h2(e1))
    leak = np.asarray(ec_inefficiency) * np.asarray(gain) * h2(np.asarray(qber))
    return np.asarray(basis_sifting) * (privacy - leak)


def bb84_decoy_infinite(
    transmittance: ArrayLike,
    mu: ArrayLike,
    dark_count_probability: ArrayLike,
    misalignment_error: ArrayLike,
    ec_inefficiency: ArrayLike = EC_INEFFICIENCY,
    basis_sifting: ArrayLike = 0.5,
) -> ProtocolResult:
    """Decoy-state BB84 with infinitely many decoys (LMC05): exact Q_1 and e_1.

    transmittance is the total eta (channel x detector efficiency); mu the signal intensity.
    """
    _check_common(transmittance, mu, dark_count_probability, misalignment_error)
    _check_post(ec_inefficiency, basis_sifting)
    return bb84_decoy_infinite_unchecked(
        transmittance,
        mu,
        dark_count_probability,
        misalignment_error,
        ec_inefficiency,
        basis_sifting,
    )


def bb84_decoy_infinite_unchecked(
    transmittance: ArrayLike,
    mu: ArrayLike,
    dark_count_probability: ArrayLike,
    misalignment_error: ArrayLike,
    ec_inefficiency: ArrayLike,
    basis_sifting: ArrayLike,
) -> ProtocolResult:
    """`bb84_decoy_infinite` without its range checks, for callers that checked the inputs once
    (`link_operating_point` and the intensity optimiser it runs, which calls this ~60 times on
    intensities it chose itself inside the valid range). Same numbers, bit for bit."""
    gain, qber = wcp_gain_and_error(transmittance, mu, dark_count_probability, misalignment_error)
    y1, e1 = single_photon_yield_and_error(
        transmittance, dark_count_probability, misalignment_error
    )
    mu = np.asarray(mu, dtype=np.float64)
    q1 = y1 * mu * np.exp(-mu)
    rate = gllp_rate(gain, qber, q1, e1, ec_inefficiency, basis_sifting)
    return ProtocolResult.from_rate(
        mu=mu,
        gain=gain,
        qber=qber,
        rate=rate,
        single_photon_gain=q1,
        single_photon_error=e1,
        basis_sifting=np.asarray(basis_sifting, dtype=np.float64),
    )


def vacuum_weak_bounds(
    mu: ArrayLike,
    nu: ArrayLike,
    signal_gain: ArrayLike,
    decoy_gain: ArrayLike,
    decoy_error_gain: ArrayLike,
    vacuum_gain: ArrayLike,
    vacuum_gain_low: ArrayLike | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(Y_1^L, e_1^U) from observed gains (MQZL05 Eqs. (34) and (37)); works on measured data.

    decoy_error_gain is E_nu Q_nu (erroneous decoy detections per decoy pulse). Y0 enters Y_1^L
    with a minus sign and e_1^U with a minus sign too, so with statistical fluctuations the
    upper Y0 goes in `vacuum_gain` and the lower one in `vacuum_gain_low` (default: the same).
    Y_1^L is floored at 0 and e_1^U is 1/2 wherever Y_1^L is 0 (nothing certified).
    """
    mu, nu, q_mu, q_nu, eq_nu, y0 = _arrays(
        mu, nu, signal_gain, decoy_gain, decoy_error_gain, vacuum_gain
    )
    y0_low = y0 if vacuum_gain_low is None else np.asarray(vacuum_gain_low, dtype=np.float64)
    if np.any(nu >= mu):
        raise QChannelParameterError("decoy_mu must be smaller than the signal mu")
    y1_low = (
        mu
        / (mu * nu - nu**2)
        * (q_nu * np.exp(nu) - q_mu * np.exp(mu) * nu**2 / mu**2 - (mu**2 - nu**2) / mu**2 * y0)
    )
    y1_low = np.maximum(y1_low, 0.0)
    e1_up = _safe_ratio(eq_nu * np.exp(nu) - E0 * y0_low, y1_low * nu, fallback=E0)
    return y1_low, np.clip(e1_up, 0.0, E0)


@dataclass(frozen=True)
class FiniteSize:
    """Block of `pulses` pulses split among signal, weak decoy and vacuum, for statistical
    fluctuations of the vacuum + weak decoy bounds.

    Treatment: every gain the bound uses is moved by `standard_deviations` (u_alpha) binomial
    standard deviations, x -> x +- u sqrt(x / n), in the direction that weakens the bound: Q_nu
    and the Y0 in e_1^U down; Q_mu, E_nu Q_nu and the Y0 in Y_1^L up. This is the
    standard-deviation analysis of Ma, Qi, Zhao & Lo (PRA 72, 012326, 2005), used with
    u_alpha = 10 in the decoy experiment of Zhao, Qi, Ma, Lo & Qian (PRL 96, 070502, 2006). It is
    a Gaussian approximation, not a composable finite-key proof (for that see Lim et al., PRA 89,
    022307, 2014), and it leaves the signal-to-decoy sampling of e_1 aside. The split (80/10/10 %)
    is our default, not a published one.
    """

    pulses: float
    signal_probability: float = 0.8
    decoy_probability: float = 0.1
    vacuum_probability: float = 0.1
    standard_deviations: float = 10.0

    def __post_init__(self) -> None:
        check_range("finite-size pulses", self.pulses, 1.0, np.inf)
        total = 0.0
        for name in ("signal_probability", "decoy_probability", "vacuum_probability"):
            value = float(
                check_range(f"finite-size {name}", getattr(self, name), 0.0, 1.0, low_open=True)
            )
            total += value
        if abs(total - 1.0) > 1e-9:
            raise QChannelParameterError(
                f"finite-size intensity probabilities must sum to 1, got {total:g}"
            )
        check_range("finite-size standard_deviations", self.standard_deviations, 0.0, np.inf)


def bb84_vacuum_weak(
    transmittance: ArrayLike,
    mu: ArrayLike,
    decoy_mu: ArrayLike,
    dark_count_probability: ArrayLike,
    misalignment_error: ArrayLike,
    ec_inefficiency: ArrayLike = EC_INEFFICIENCY,
    basis_sifting: ArrayLike = 0.5,
    finite_size: FiniteSize | None = None,
) -> ProtocolResult:
    """Vacuum + weak decoy BB84 (MQZL05 Sec. IV.B): Q_1, e_1 bounded from a vacuum and a decoy.

    finite_size None is the asymptotic case; otherwise the bounds use gains shifted by the
    statistical fluctuations of a finite block (see FiniteSize). The rate is per signal pulse.
    """
    _check_common(transmittance, mu, dark_count_probability, misalignment_error)
    _check_post(ec_inefficiency, basis_sifting)
    check_range("decoy_mu", decoy_mu, 0.0, np.inf, low_open=True)
    return bb84_vacuum_weak_unchecked(
        transmittance,
        mu,
        decoy_mu,
        dark_count_probability,
        misalignment_error,
        ec_inefficiency,
        basis_sifting,
        finite_size,
    )


def bb84_vacuum_weak_unchecked(
    transmittance: ArrayLike,
    mu: ArrayLike,
    decoy_mu: ArrayLike,
    dark_count_probability: ArrayLike,
    misalignment_error: ArrayLike,
    ec_inefficiency: ArrayLike,
    basis_sifting: ArrayLike,
    finite_size: FiniteSize | None,
) -> ProtocolResult:
    """`bb84_vacuum_weak` without its range checks (see `bb84_decoy_infinite_unchecked`); the
    decoy must still lie below the signal (`vacuum_weak_bounds` refuses otherwise)."""
    gain, qber = wcp_gain_and_error(transmittance, mu, dark_count_probability, misalignment_error)
    decoy_gain, decoy_qber = wcp_gain_and_error(
        transmittance, decoy_mu, dark_count_probability, misalignment_error
    )
    y0 = np.asarray(dark_count_probability, dtype=np.float64)
    if finite_size is None:
        bound_inputs = (gain, decoy_gain, decoy_qber * decoy_gain, y0, y0)
    else:
        n = finite_size
        u = n.standard_deviations

        def shifted(x, pulses, sign):
            return np.maximum(x + sign * u * np.sqrt(x / pulses), 0.0)

        n_mu, n_nu, n_0 = (
            n.pulses * n.signal_probability,
            n.pulses * n.decoy_probability,
            n.pulses * n.vacuum_probability,
        )
        bound_inputs = (
            shifted(gain, n_mu, +1.0),
            shifted(decoy_gain, n_nu, -1.0),
            shifted(decoy_qber * decoy_gain, n_nu, +1.0),
            shifted(y0, n_0, +1.0),
            shifted(y0, n_0, -1.0),
        )
    y1_low, e1_up = vacuum_weak_bounds(mu, decoy_mu, *bound_inputs[:4], bound_inputs[4])
    mu = np.asarray(mu, dtype=np.float64)
    q1_low = y1_low * mu * np.exp(-mu)
    rate = gllp_rate(gain, qber, q1_low, e1_up, ec_inefficiency, basis_sifting)
    return ProtocolResult.from_rate(
        mu=mu,
        gain=gain,
        qber=qber,
        rate=rate,
        single_photon_gain=q1_low,
        single_photon_error=e1_up,
        basis_sifting=np.asarray(basis_sifting, dtype=np.float64),
    )


def _arrays(*values: ArrayLike) -> tuple[NDArray[np.float64], ...]:
    return tuple(np.asarray(v, dtype=np.float64) for v in values)


def _safe_ratio(num: NDArray, den: NDArray, fallback: float) -> NDArray[np.float64]:
    """Error rate num / den, with `fallback` where den is 0 (no clicks: the QBER is undefined;
    1/2 is the conservative value and keeps every QBER inside [0, 1/2])."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.asarray(num, dtype=np.float64) / den
    # min(., 1/2): with e_d = 1/2 rounding can give 0.5000000000000001.
    return np.where(np.asarray(den) > 0.0, np.minimum(ratio, E0), fallback)


def _check_common(transmittance, mu, dark_count_probability, misalignment_error) -> None:
    check_range("transmittance", transmittance, 0.0, 1.0)
    check_range("mu", mu, 0.0, np.inf, low_open=True)
    check_range("dark_count_probability", dark_count_probability, 0.0, 1.0, high_open=True)
    check_misalignment(misalignment_error)


def _check_post(ec_inefficiency, basis_sifting) -> None:
    check_range("ec_inefficiency", ec_inefficiency, 1.0, np.inf)
    check_range("basis_sifting", basis_sifting, 0.0, 1.0, low_open=True)
