"""Physics of an intercept-resend attack, for Byzantine nodes that eavesdrop on their links.

Model (stated so the network model's numbers can be checked):
- Eve intercepts a fraction p of the pulses, measures each in a basis of her own choosing at
  random (Z or X with probability 1/2) and re-prepares the state she found.
- She is *gain-preserving*: she re-sends pulses bright enough that Bob's detection probability on
  attacked pulses equals that of the untouched channel (she can, since she may replace the lossy
  fibre), so the per-pulse gain Q is unchanged and gain monitoring does not reveal her.
- On a sifted bit from an attacked pulse, Eve chose the wrong basis with probability 1/2 and Bob's
  outcome is then random: the attack contributes 1/2 * 1/2 = 25 % errors on those bits, on top of
  the channel's own errors when her basis was right:
      E' = (1 - p) E + p (1/4 + E/2) = (1 - p/2) E + p/4.
  The same affine map applied to the misalignment error e_d reproduces this E' exactly in the
  BB84 model (dark clicks keep error 1/2, a fixed point of the map), and it raises the
  single-photon error e_1 the decoy analysis sees, so the secret fraction falls consistently.
- For MDI-QKD the map is applied to e_d as an effective misalignment (an approximation: the relay
  is untrusted anyway; this models Eve on one of the fibres into it).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qchannel._validate import check_range

INTERCEPTED_SIFTED_ERROR = 0.25
"""Error rate on sifted bits of intercepted pulses (ideal channel): wrong basis 1/2 x random 1/2."""


def intercept_resend_qber(qber: ArrayLike, fraction: ArrayLike) -> NDArray[np.float64]:
    """QBER after intercept-resend on a fraction p of pulses: `(1 - p/2) E + p/4`."""
    e = check_range("qber", qber, 0.0, 0.5)
    p = check_range("intercept_resend fraction", fraction, 0.0, 1.0)
    return intercept_resend_qber_unchecked(e, p)


def intercept_resend_qber_unchecked(
    qber: NDArray[np.float64], fraction: NDArray[np.float64]
) -> NDArray[np.float64]:
    """`intercept_resend_qber` of float arrays already checked (qber in [0, 1/2], fraction in
    [0, 1]): the link physics applies it every step to values it checked once."""
    return (1.0 - fraction / 2.0) * qber + fraction * INTERCEPTED_SIFTED_ERROR


def intercept_resend(
    gain: ArrayLike, qber: ArrayLike, fraction: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(gain, QBER) of a link under a gain-preserving intercept-resend attack on fraction p."""
    q = check_range("gain", gain, 0.0, 1.0)
    e = intercept_resend_qber(qber, fraction)
    q, e = np.broadcast_arrays(q, e)
    return q.copy(), e.copy()


def attacked_misalignment(misalignment_error: ArrayLike, fraction: ArrayLike):
    """Effective misalignment error under the attack; feed it to a key-rate formula."""
    check_range("misalignment_error", misalignment_error, 0.0, 0.5)
    return intercept_resend_qber(misalignment_error, fraction)
