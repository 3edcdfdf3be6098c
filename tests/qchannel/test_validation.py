"""Bad parameters fail with a specific exception whose message names the field and range."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from qchannel import (
    Detector,
    FiberLink,
    QChannelParameterError,
    Source,
    UnknownPresetError,
    UnknownProtocolError,
    get_preset,
    intercept_resend,
    link_operating_point,
    operating_point_from_preset,
)
from qchannel.channels import db_to_transmittance, fiber_transmittance, transmittance_to_db
from qchannel.protocols.bb84 import bb84_decoy_infinite


@pytest.mark.parametrize("efficiency", [0.0, -0.1, 1.2, [0.5, 1.5]])
def test_detector_efficiency_outside_zero_one(efficiency):
    with pytest.raises(QChannelParameterError, match=r"detector efficiency must lie in \(0, 1\]"):
        Detector(efficiency=efficiency, dark_count_probability=1e-6)


def test_nan_is_named():
    with pytest.raises(QChannelParameterError, match="detector efficiency must not be NaN"):
        Detector(efficiency=np.nan, dark_count_probability=1e-6)


def test_detector_efficiency_one_is_allowed():
    assert Detector(efficiency=1.0, dark_count_probability=0.0).efficiency == 1.0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("dark_count_probability", 1.0, r"dark_count_probability must lie in \[0, 1\)"),
        ("afterpulse_probability", -0.01, r"afterpulse_probability must lie in \[0, 1\)"),
        ("dead_time_s", -1e-9, r"dead_time_s must lie in \[0, inf\]"),
    ],
)
def test_other_detector_fields(field, value, message):
    kwargs = dict(efficiency=0.1, dark_count_probability=1e-6)
    kwargs[field] = value
    with pytest.raises(QChannelParameterError, match=message):
        Detector(**kwargs)


def test_negative_length():
    with pytest.raises(QChannelParameterError, match=r"length_km must lie in \[0, inf\], got -5"):
        FiberLink(length_km=-5.0)
    with pytest.raises(QChannelParameterError, match="length_km"):
        operating_point_from_preset("gys-2004", np.array([10.0, -1.0]))
    with pytest.raises(QChannelParameterError, match="length_km"):
        fiber_transmittance(-1.0, 0.2)


@pytest.mark.parametrize("qber", [-0.01, 0.51, 1.0])
def test_qber_outside_zero_half(qber):
    with pytest.raises(QChannelParameterError, match=r"qber must lie in \[0, 0.5\]"):
        intercept_resend(1e-3, qber, 0.1)


@pytest.mark.parametrize("e_d", [-0.1, 0.6])
def test_misalignment_outside_zero_half(e_d):
    with pytest.raises(QChannelParameterError, match=r"misalignment_error must lie in \[0, 0.5\]"):
        bb84_decoy_infinite(0.1, 0.5, 1e-6, e_d)
    preset = get_preset("gys-2004")
    with pytest.raises(QChannelParameterError, match="misalignment_error"):
        dataclasses.replace(preset, misalignment_error=e_d)


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(UnknownPresetError, match=r"unknown preset 'gys2004'; known presets: "):
        get_preset("gys2004")
    with pytest.raises(UnknownPresetError, match="gys-2004, lcq-2012"):
        operating_point_from_preset("nope", 10.0)
    assert issubclass(UnknownPresetError, ValueError)  # the CLI's one-line error path


def test_unknown_protocol():
    with pytest.raises(UnknownProtocolError, match="known protocols: bb84-decoy, "):
        operating_point_from_preset("gys-2004", 10.0, protocol="e91")


def test_source_checks():
    with pytest.raises(QChannelParameterError, match="signal_mu"):
        Source(signal_mu=0.0)
    with pytest.raises(QChannelParameterError, match="repetition_rate_hz must be > 0"):
        Source(repetition_rate_hz=0.0)
    with pytest.raises(QChannelParameterError, match="decoy_mu"):
        Source(decoy_mu=-0.1)


def test_vacuum_weak_needs_signal_above_decoy():
    preset = get_preset("gys-2004")
    with pytest.raises(QChannelParameterError, match="signal_mu must exceed decoy_mu"):
        link_operating_point(
            "bb84-vacuum-weak",
            channel_transmittance=0.1,
            detector=preset.detector,
            misalignment_error=0.01,
            source=Source(signal_mu=0.05, decoy_mu=0.1),
        )


def test_mdi_and_bb84_need_their_own_channel_argument():
    preset = get_preset("lcq-2012")
    common = dict(detector=preset.detector, misalignment_error=0.015)
    with pytest.raises(QChannelParameterError, match="mdi needs arm_transmittances"):
        link_operating_point("mdi", channel_transmittance=0.1, **common)
    with pytest.raises(QChannelParameterError, match="bb84-decoy needs channel_transmittance"):
        link_operating_point("bb84-decoy", arm_transmittances=(0.1, 0.1), **common)


def test_non_numeric_input():
    with pytest.raises(QChannelParameterError, match="must be a number or numeric array"):
        bb84_decoy_infinite("far", 0.5, 1e-6, 0.01)


def test_dataclasses_are_frozen():
    detector = Detector(efficiency=0.1, dark_count_probability=1e-6)
    with pytest.raises(dataclasses.FrozenInstanceError):
        detector.efficiency = 0.2  # type: ignore[misc]


def test_db_conversions_round_trip():
    loss = np.array([0.0, 3.0, 10.0, 42.0])
    np.testing.assert_allclose(transmittance_to_db(db_to_transmittance(loss)), loss, atol=1e-12)
    assert float(db_to_transmittance(10.0)) == pytest.approx(0.1)
    link = FiberLink(length_km=50.0, attenuation_db_per_km=0.2, insertion_loss_db=1.0)
    assert float(link.loss_db) == pytest.approx(11.0)
    assert float(link.with_extra_loss_db(-20.0)) == 1.0  # drift cannot make the fibre amplify


def test_finite_size_checks():
    from qchannel import FiniteSize

    with pytest.raises(QChannelParameterError, match="must sum to 1"):
        FiniteSize(1e9, signal_probability=0.5)
    with pytest.raises(QChannelParameterError, match="finite-size pulses"):
        FiniteSize(0.5)
    with pytest.raises(QChannelParameterError, match="bb84-vacuum-weak only"):
        operating_point_from_preset("gys-2004", 10.0, finite_size=FiniteSize(1e9))


def test_arrays_that_do_not_broadcast_are_named():
    detector = Detector(efficiency=np.array([0.1, 0.2, 0.3]), dark_count_probability=1e-6)
    with pytest.raises(QChannelParameterError, match="do not broadcast together"):
        link_operating_point(
            "bb84-decoy",
            channel_transmittance=np.array([0.1, 0.2]),
            detector=detector,
            misalignment_error=0.01,
        )


def test_preset_overrides_replace_only_what_is_given():
    preset = get_preset("gys-2004")
    same = preset.with_overrides()
    assert same == preset
    changed = preset.with_overrides(detector_efficiency=0.1, signal_mu=0.4, insertion_loss_db=2.0)
    assert changed.detector.efficiency == 0.1
    assert changed.detector.dark_count_probability == preset.detector.dark_count_probability
    assert changed.source.signal_mu == 0.4 and changed.insertion_loss_db == 2.0
    with pytest.raises(QChannelParameterError, match="detector efficiency"):
        preset.with_overrides(detector_efficiency=1.5)
    with pytest.raises(QChannelParameterError, match="ec_inefficiency"):
        preset.with_overrides(ec_inefficiency=0.9)
    with pytest.raises(QChannelParameterError, match="unknown protocol 'e91'"):
        dataclasses.replace(preset, protocol="e91")
