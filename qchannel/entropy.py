"""Binary entropy, error-correction leakage and the BB84 QBER abort threshold.

Why these live together: the network model charges error-correction traffic as
`f_EC * h2(QBER)` bits per sifted bit and aborts a block above the protocol's QBER threshold;
the key-rate formulas use the same `h2` and `f_EC`, so both sides must agree on them.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import brentq
from scipy.special import entr

from qchannel._validate import check_range

EC_INEFFICIENCY = 1.16
"""Default error-correction inefficiency f_EC (>= 1; 1 is the Shannon limit). 1.16 is the value
used by Lo, Curty & Qi, PRL 108, 130503 (2012) and typical of Cascade/LDPC at a few % QBER."""


def h2(p: ArrayLike) -> NDArray[np.float64]:
    """Binary entropy in bits, `-p log2 p - (1-p) log2 (1-p)`, with h2(0) = h2(1) = 0.

    Accepts any array of probabilities in [0, 1]; values are not clipped (a probability outside
    [0, 1] is a bug upstream and gives NaN rather than a plausible-looking number). Built on
    scipy's `entr` ufunc (-x ln x, 0 at 0): this is the hot spot of every key-rate optimisation.
    """
    p = np.asarray(p, dtype=np.float64)
    bits = (entr(p) + entr(1.0 - p)) * _INV_LN2
    outside = (p < 0.0) | (p > 1.0)
    if outside.any():
        bits = np.where(outside, np.nan, bits)
    return bits


_INV_LN2 = 1.0 / np.log(2.0)


def error_correction_leak(qber: ArrayLike, ec_inefficiency: ArrayLike = EC_INEFFICIENCY):
    """Bits disclosed by error correction per sifted bit: `f_EC * h2(QBER)`."""
    check_range("ec_inefficiency", ec_inefficiency, 1.0, np.inf)
    check_range("qber", qber, 0.0, 0.5)
    return np.asarray(ec_inefficiency, dtype=np.float64) * h2(qber)


def qber_abort_threshold(ec_inefficiency: float = 1.0) -> float:
    """Largest QBER at which single-photon BB84 with one-way post-processing still yields key.

    Shor-Preskill (PRL 85, 441, 2000) rate per sifted bit is `1 - h2(e) - f_EC h2(e)`; the root
    is 11.00 % for f_EC = 1 and lower for real error correction (9.81 % for f_EC = 1.16).
    """
    check_range("ec_inefficiency", ec_inefficiency, 1.0, np.inf)
    return float(brentq(lambda e: 1.0 - (1.0 + ec_inefficiency) * h2(e), 1e-9, 0.5, xtol=1e-15))


BB84_QBER_ABORT_THRESHOLD = qber_abort_threshold(1.0)
"""0.110028...: the Shor-Preskill threshold (f_EC = 1), the usual "11 %" abort level of BB84."""
