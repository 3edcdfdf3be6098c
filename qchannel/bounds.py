"""Fundamental limits a point-to-point QKD link cannot beat.

PLOB: Pirandola, Laurenza, Ottaviani & Banchi, Nat. Commun. 8, 15043 (2017): the secret-key
capacity of a pure-loss channel of transmittance eta is `-log2(1 - eta)` bits per channel use, so
no repeaterless protocol (BB84, decoy BB84, MDI-QKD with its untrusted middle node) exceeds it.
The test suite checks every protocol here against it over parameter sweeps.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qchannel._validate import check_range


def plob_bound(transmittance: ArrayLike) -> NDArray[np.float64]:
    """PLOB repeaterless bound `-log2(1 - eta)` in bits per pulse (inf at eta = 1)."""
    eta = check_range("transmittance", transmittance, 0.0, 1.0)
    with np.errstate(divide="ignore"):
        return -np.log1p(-eta) / np.log(2.0) + 0.0
