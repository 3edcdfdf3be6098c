"""The bridge's entry point: shapes, consistency, the intensity optimiser, detector effects."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from qchannel import (
    Detector,
    FiberDrift,
    OperatingPoint,
    Source,
    get_preset,
    link_operating_point,
    maximize_over_mu,
    operating_point_from_preset,
)
from qchannel.channels import fiber_transmittance
from qchannel.protocols.bb84 import bb84_decoy_infinite

GYS = get_preset("gys-2004")


def _bb84(detector=GYS.detector, **kwargs) -> OperatingPoint:
    kwargs.setdefault("channel_transmittance", fiber_transmittance(50.0, 0.21))
    return link_operating_point(
        "bb84-decoy",
        detector=detector,
        misalignment_error=GYS.misalignment_error,
        ec_inefficiency=GYS.ec_inefficiency,
        **kwargs,
    )


def test_fields_are_consistent():
    point = operating_point_from_preset("gys-2004", np.array([0.0, 50.0, 100.0, 200.0]))
    assert point.protocol == "bb84-decoy"
    np.testing.assert_array_equal(point.sifting_ratio, 0.5)
    np.testing.assert_allclose(
        point.key_rate_bits_per_pulse,
        point.gain * point.sifting_ratio * point.secret_fraction,
        rtol=1e-12,
    )
    assert point.secret_fraction[-1] == 0.0 and point.key_rate_bits_per_pulse[-1] == 0.0
    np.testing.assert_allclose(
        point.eta_total, 0.045 * 10 ** (-0.021 * np.array([0.0, 50.0, 100.0, 200.0]))
    )
    assert point.key_rate_bps(2e6)[1] == pytest.approx(2e6 * point.key_rate_bits_per_pulse[1])
    records = point.records()
    assert len(records) == 4 and set(records[0]) >= {"gain", "qber", "secret_fraction", "mu"}


def test_arrays_broadcast_over_distance_and_intensity():
    lengths = np.linspace(0.0, 150.0, 31)[:, None]
    mu = np.array([0.1, 0.3, 0.5, 0.8])[None, :]
    point = operating_point_from_preset("gys-2004", lengths, mu=mu)
    assert point.gain.shape == (31, 4)
    single = operating_point_from_preset("gys-2004", float(lengths[7, 0]), mu=0.3)
    assert float(single.key_rate_bits_per_pulse) == point.key_rate_bits_per_pulse[7, 1]


def test_optimiser_finds_the_maximum_of_a_dense_scan():
    """The optimised rate is at least the best of 4000 intensities and the mu agrees."""
    lengths = np.array([0.0, 40.0, 90.0, 130.0, 140.0])
    eta = fiber_transmittance(lengths, 0.21) * 0.045
    y0 = 1.7e-6
    mus = np.linspace(0.01, 1.5, 4000)[:, None]
    scan = bb84_decoy_infinite(eta, mus, y0, 0.033, 1.22).rate_bound_bits_per_pulse
    point = operating_point_from_preset("gys-2004", lengths)
    assert np.all(point.key_rate_bits_per_pulse >= scan.max(axis=0) * (1 - 1e-12))
    np.testing.assert_allclose(point.mu, mus[scan.argmax(axis=0), 0], atol=1e-3)


def test_maximize_over_mu_on_a_known_function():
    """max of mu e^-mu * a is at mu = 1 for every a; vectorised over a."""
    a = np.array([1.0, 2.0, 1e-9])
    mu = maximize_over_mu(lambda m: a * m * np.exp(-m), shape=(3,))
    np.testing.assert_allclose(mu, 1.0, atol=1e-7)


def test_fixed_mu_is_used_as_given():
    point = operating_point_from_preset("gys-2004", np.array([10.0, 20.0]), mu=0.3)
    np.testing.assert_array_equal(point.mu, 0.3)


def test_dead_time_scales_gain_and_rate_but_not_qber_or_secret_fraction():
    base = _bb84(source=Source(repetition_rate_hz=1e9, signal_mu=0.5))
    slow = dataclasses.replace(GYS.detector, dead_time_s=1e-6)
    dead = _bb84(detector=slow, source=Source(repetition_rate_hz=1e9, signal_mu=0.5))
    live = 1.0 / (1.0 + float(base.gain) * 1e9 * 1e-6)
    assert float(dead.gain) == pytest.approx(float(base.gain) * live, rel=1e-12)
    assert float(dead.qber) == float(base.qber)
    assert float(dead.secret_fraction) == pytest.approx(float(base.secret_fraction), rel=1e-12)


def test_afterpulses_add_noise():
    noisy = dataclasses.replace(GYS.detector, afterpulse_probability=0.05)
    clean, dirty = _bb84(), _bb84(detector=noisy)
    assert float(dirty.qber) > float(clean.qber)
    assert float(dirty.key_rate_bits_per_pulse) < float(clean.key_rate_bits_per_pulse)


def test_detector_fields_may_be_arrays():
    detector = Detector(efficiency=np.array([0.05, 0.1]), dark_count_probability=1e-6)
    point = _bb84(detector=detector)
    assert point.gain.shape == (2,)
    assert point.key_rate_bits_per_pulse[1] > point.key_rate_bits_per_pulse[0]


def test_mdi_relay_midway_is_best_and_arms_are_symmetric():
    """With equal detectors the rate is symmetric in the relay position and, for a fixed total
    length, highest with the relay in the middle (both arms lose the same)."""
    positions = np.array([0.2, 0.35, 0.5, 0.65, 0.8])
    point = operating_point_from_preset("lcq-2012", 100.0, relay_position=positions)
    rate = point.key_rate_bits_per_pulse
    np.testing.assert_allclose(rate, rate[::-1], rtol=1e-9)
    assert rate.argmax() == 2


def test_mdi_sifting_ratio_follows_the_preset():
    assert float(operating_point_from_preset("lcq-2012", 10.0).sifting_ratio) == 1.0
    point = operating_point_from_preset("gys-2004", 10.0, protocol="mdi")
    assert float(point.sifting_ratio) == 0.5


def test_drift_feeds_extra_loss():
    """A FiberDrift sample is extra loss in dB: a positive offset lowers the key rate."""
    drift = FiberDrift(sigma_db=1.0, correlation_time_s=60.0, seed=1, size=64)
    offsets = drift.step(1.0)
    point = operating_point_from_preset("gys-2004", 50.0, extra_loss_db=offsets)
    reference = float(operating_point_from_preset("gys-2004", 50.0).key_rate_bits_per_pulse)
    higher = point.key_rate_bits_per_pulse > reference
    np.testing.assert_array_equal(higher, offsets < 0.0)


def test_vacuum_weak_is_below_infinite_decoys():
    lengths = np.linspace(0.0, 140.0, 15)
    infinite = operating_point_from_preset("gys-2004", lengths).key_rate_bits_per_pulse
    practical = operating_point_from_preset(
        "gys-2004", lengths, protocol="bb84-vacuum-weak"
    ).key_rate_bits_per_pulse
    assert np.all(practical <= infinite)
    assert np.all(practical[:-1] > 0.5 * infinite[:-1])  # close to it far from the cut-off


@pytest.mark.parametrize(
    ("preset", "protocol", "length_km"),
    [
        ("lcq-2012", "mdi", 231.9),
        ("gys-2004", "bb84-decoy", 142.1),
        ("gys-2004", "bb84-vacuum-weak", 139.7),
    ],
)
def test_optimiser_finds_the_narrow_peak_just_before_the_cut_off(preset, protocol, length_km):
    """There the rate is positive only in a narrow band of mu and tends to 0 from below as
    mu -> 0; a search that ranked raw rates would settle on tiny mu and report no key."""
    point = operating_point_from_preset(preset, length_km, protocol=protocol)
    assert float(point.key_rate_bits_per_pulse) > 0.0
    dense = operating_point_from_preset(
        preset, length_km, protocol=protocol, mu=np.linspace(0.11, 1.0, 20_000)
    ).key_rate_bits_per_pulse
    assert float(point.key_rate_bits_per_pulse) >= dense.max() * (1 - 1e-9)


def test_preset_signal_mu_override_is_kept():
    preset = get_preset("gys-2004").with_overrides(signal_mu=0.3)
    assert float(operating_point_from_preset(preset, 20.0).mu) == 0.3
    assert float(operating_point_from_preset(preset, 20.0, mu=0.2).mu) == 0.2
