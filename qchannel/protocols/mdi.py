"""MDI-QKD with weak coherent pulses and infinitely many decoys (asymptotic).

Protocol: Lo, Curty & Qi, PRL 108, 130503 (2012) (LCQ12): Alice and Bob send BB84 states to an
untrusted relay that performs a Bell-state measurement (linear optics, four threshold detectors)
and announces the result; the rectilinear (Z) basis makes key, the diagonal (X) basis estimates
the phase error. Rate (LCQ12 Eq. (1), infinite decoys so Y_11 and e_11 are exact):

    R = q { Q_11^Z [1 - h2(e_11^X)] - f Q_rect h2(E_rect) }      bits per pulse pair.

Closed forms for gains and errors with per-detector background p_d and misalignment e_d (the
expressions LCQ12's simulations use, written out in Ma & Razavi, PRA 86, 062319 (2012), App. B):
    mu' = eta_a mu_a + eta_b mu_b,  x = sqrt(eta_a mu_a eta_b mu_b) / 2
    Q_rect^C = 2 (1-p_d)^2 e^{-mu'/2} [1 - (1-p_d) e^{-eta_a mu_a/2}]
                                      x [1 - (1-p_d) e^{-eta_b mu_b/2}]
    Q_rect^E = 2 p_d (1-p_d)^2 e^{-mu'/2} [I0(2x) - (1-p_d) e^{-mu'/2}]
    Q_rect = Q_rect^C + Q_rect^E,   E_rect Q_rect = e_d Q_rect^C + (1 - e_d) Q_rect^E
    Y_11 = (1-p_d)^2 [eta_a eta_b / 2 + (2 eta_a + 2 eta_b - 3 eta_a eta_b) p_d
                      + 4 (1-eta_a)(1-eta_b) p_d^2]
    e_11 Y_11 = Y_11 / 2 - (1/2 - e_d)(1-p_d)^2 eta_a eta_b / 2
    Q_11 = mu_a mu_b e^{-mu_a - mu_b} Y_11
eta_a, eta_b include the relay's detector efficiency. q is the basis-sifting factor: LCQ12's
Eq. (1) has none (efficient, biased basis choice), so q = 1 reproduces their curves; q = 1/2 is
symmetric basis choice.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import i0e

from qchannel._validate import check_range
from qchannel.devices import check_misalignment
from qchannel.entropy import EC_INEFFICIENCY, h2
from qchannel.protocols.result import ProtocolResult


def mdi_decoy_infinite(
    transmittance_a: ArrayLike,
    transmittance_b: ArrayLike,
    mu_a: ArrayLike,
    mu_b: ArrayLike,
    dark_count_probability: ArrayLike,
    misalignment_error: ArrayLike,
    ec_inefficiency: ArrayLike = EC_INEFFICIENCY,
    basis_sifting: ArrayLike = 1.0,
) -> ProtocolResult:
    """Asymptotic decoy MDI-QKD key rate per pulse pair; `mu` in the result is Alice's mu_a.

    transmittance_a/b: total transmittance of each arm (fibre to the relay x detector efficiency).
    dark_count_probability: per relay detector (LCQ12's Y0). All arguments broadcast.
    """
    check_range("transmittance_a", transmittance_a, 0.0, 1.0)
    check_range("transmittance_b", transmittance_b, 0.0, 1.0)
    check_range("mu_a", mu_a, 0.0, np.inf, low_open=True)
    check_range("mu_b", mu_b, 0.0, np.inf, low_open=True)
    check_range("dark_count_probability", dark_count_probability, 0.0, 1.0, high_open=True)
    check_misalignment(misalignment_error)
    check_range("ec_inefficiency", ec_inefficiency, 1.0, np.inf)
    check_range("basis_sifting", basis_sifting, 0.0, 1.0, low_open=True)
    return mdi_decoy_infinite_unchecked(
        transmittance_a,
        transmittance_b,
        mu_a,
        mu_b,
        dark_count_probability,
        misalignment_error,
        ec_inefficiency,
        basis_sifting,
    )


def mdi_decoy_infinite_unchecked(
    transmittance_a: ArrayLike,
    transmittance_b: ArrayLike,
    mu_a: ArrayLike,
    mu_b: ArrayLike,
    dark_count_probability: ArrayLike,
    misalignment_error: ArrayLike,
    ec_inefficiency: ArrayLike,
    basis_sifting: ArrayLike,
) -> ProtocolResult:
    """`mdi_decoy_infinite` without its range checks, for callers that checked the inputs once
    (`link_operating_point` and its intensity optimiser). Same numbers, bit for bit."""
    eta_a, eta_b, mu_a, mu_b, p_d, e_d = (
        np.asarray(v, dtype=np.float64)
        for v in (
            transmittance_a,
            transmittance_b,
            mu_a,
            mu_b,
            dark_count_probability,
            misalignment_error,
        )
    )
    ka, kb = eta_a * mu_a, eta_b * mu_b
    mu_prime = ka + kb
    two_x = np.sqrt(ka * kb)
    no_dark = 1.0 - p_d
    common = 2.0 * no_dark**2 * np.exp(-mu_prime / 2.0)
    correct = common * (1.0 - no_dark * np.exp(-ka / 2.0)) * (1.0 - no_dark * np.exp(-kb / 2.0))
    # I0(2x) e^{-mu'/2} = i0e(2x) e^{2x - mu'/2} (i0e is I0 scaled by e^{-|z|}); since
    # 2x = sqrt(ka kb) <= mu'/2 the exponent is <= 0, so no overflow for any intensity.
    error_pairs = (
        2.0
        * p_d
        * no_dark**2
        * (i0e(two_x) * np.exp(two_x - mu_prime / 2.0) - no_dark * np.exp(-mu_prime))
    )
    gain = correct + error_pairs
    errors = e_d * correct + (1.0 - e_d) * error_pairs
    with np.errstate(divide="ignore", invalid="ignore"):
        qber = np.where(gain > 0.0, errors / gain, 0.5)
    # Saturated detectors (huge p_d or intensity) can make HH/VV coincidences outnumber HV ones,
    # E_rect > 1/2: the bits are then anti-correlated and flipping them gives 1 - E_rect. h2 is
    # symmetric, so the rate is the same either way; reporting min(E, 1 - E) keeps QBER <= 1/2.
    qber = np.clip(np.minimum(qber, 1.0 - qber), 0.0, 0.5)

    both = eta_a * eta_b
    dark_terms = (2.0 * eta_a + 2.0 * eta_b - 3.0 * both) * p_d + 4.0 * (1 - eta_a) * (
        1 - eta_b
    ) * p_d**2
    y11 = no_dark**2 * (both / 2.0 + dark_terms)
    # e_11 Y_11 expanded so the e_d = 0, p_d = 0 case is exactly 0 (no cancellation):
    e11_y11 = no_dark**2 * (dark_terms / 2.0 + e_d * both / 2.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        e11 = np.where(y11 > 0.0, np.minimum(e11_y11 / y11, 0.5), 0.5)  # min: rounding guard
    q11 = mu_a * mu_b * np.exp(-mu_a - mu_b) * y11

    rate = np.asarray(basis_sifting) * (
        q11 * (1.0 - h2(e11)) - np.asarray(ec_inefficiency) * gain * h2(qber)
    )
    return ProtocolResult.from_rate(
        mu=mu_a,
        gain=gain,
        qber=qber,
        rate=rate,
        single_photon_gain=q11,
        single_photon_error=e11,
        basis_sifting=np.asarray(basis_sifting, dtype=np.float64),
    )
