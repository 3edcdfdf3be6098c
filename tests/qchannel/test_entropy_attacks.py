"""Binary entropy, the BB84 abort threshold, and intercept-resend physics."""

from __future__ import annotations

import numpy as np
import pytest

from qchannel import (
    BB84_QBER_ABORT_THRESHOLD,
    EC_INEFFICIENCY,
    attacked_misalignment,
    error_correction_leak,
    get_preset,
    h2,
    intercept_resend,
    intercept_resend_qber,
    operating_point_from_preset,
    qber_abort_threshold,
)


def test_binary_entropy_values():
    np.testing.assert_array_equal(h2([0.0, 0.5, 1.0]), [0.0, 1.0, 0.0])
    p = np.linspace(0.0, 1.0, 101)
    np.testing.assert_allclose(h2(p), h2(1.0 - p), atol=1e-15)
    assert float(h2(0.11)) == pytest.approx(0.49991596, rel=1e-7)
    assert np.isnan(h2(1.5))


def test_shor_preskill_threshold_is_eleven_percent():
    """Shor & Preskill, PRL 85, 441 (2000): BB84 with one-way post-processing tolerates QBER up
    to 11.0 % (root of 1 - 2 h2(e))."""
    assert abs(BB84_QBER_ABORT_THRESHOLD - 0.110028) < 1e-6
    assert float(1.0 - 2.0 * h2(BB84_QBER_ABORT_THRESHOLD)) == pytest.approx(0.0, abs=1e-12)
    assert qber_abort_threshold(EC_INEFFICIENCY) < BB84_QBER_ABORT_THRESHOLD


def test_error_correction_leak_is_f_times_entropy():
    assert float(error_correction_leak(0.05, 1.2)) == pytest.approx(1.2 * float(h2(0.05)))


def test_intercept_resend_adds_a_quarter_on_intercepted_bits():
    gain, qber = intercept_resend(1e-3, 0.0, 1.0)
    assert float(gain) == 1e-3  # gain-preserving attacker
    assert float(qber) == 0.25
    assert float(intercept_resend_qber(0.02, 0.0)) == 0.02
    # mixture: (1 - p) E + p (1/4 + E/2)
    assert float(intercept_resend_qber(0.02, 0.4)) == pytest.approx(0.6 * 0.02 + 0.4 * 0.26)
    assert float(intercept_resend_qber(0.5, 0.7)) == 0.5  # random bits stay random


def test_attack_through_the_link_model_matches_the_direct_formula():
    """The effective-misalignment route gives exactly the QBER of the direct formula (BB84), and
    the decoy analysis then certifies less key; attacking every pulse leaves none."""
    lengths = np.array([10.0, 50.0, 100.0])
    clean = operating_point_from_preset("gys-2004", lengths, mu=0.5)
    for p in (0.05, 0.2):
        attacked = operating_point_from_preset(
            "gys-2004", lengths, mu=0.5, intercept_resend_fraction=p
        )
        np.testing.assert_allclose(attacked.gain, clean.gain, rtol=1e-15)
        np.testing.assert_allclose(attacked.qber, intercept_resend_qber(clean.qber, p), rtol=1e-12)
        assert np.all(attacked.secret_fraction < clean.secret_fraction)
    everything = operating_point_from_preset("gys-2004", lengths, intercept_resend_fraction=1.0)
    assert np.all(everything.key_rate_bits_per_pulse == 0.0)
    assert np.all(everything.qber > BB84_QBER_ABORT_THRESHOLD)


def test_attacked_misalignment_for_mdi_raises_qber():
    preset = get_preset("lcq-2012")
    e_d = float(attacked_misalignment(preset.misalignment_error, 0.3))
    assert e_d == pytest.approx(0.85 * 0.015 + 0.075)
    clean = operating_point_from_preset("lcq-2012", 50.0)
    attacked = operating_point_from_preset("lcq-2012", 50.0, intercept_resend_fraction=0.3)
    assert float(attacked.qber) > float(clean.qber) + 0.05
