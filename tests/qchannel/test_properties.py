"""Properties every protocol must satisfy, over sweeps and random (hypothesis) parameters.

- QBER in [0, 1/2], gain and secret fraction in [0, 1];
- the key rate never exceeds the PLOB repeaterless bound -log2(1 - eta) (Pirandola et al., Nat.
  Commun. 8, 15043, 2017), checked against eta *including* detector efficiency (a stricter
  test than the fibre-only bound, which is also checked);
- the key rate does not increase with distance.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qchannel.bounds import plob_bound
from qchannel.channels import fiber_transmittance
from qchannel.devices import Detector, Source
from qchannel.operating_point import PROTOCOLS, link_operating_point
from qchannel.presets import PRESETS
from qchannel.protocols.bb84 import bb84_decoy_infinite, bb84_vacuum_weak
from qchannel.protocols.mdi import mdi_decoy_infinite

# Monotonicity slack: the optimiser locates mu to ~1e-10 of a grid cell, so the optimal rate is
# exact to ~1e-15 relative; 1e-9 leaves room for rounding, nothing more.
MONOTONE_RTOL = 1e-9
# More examples for a deeper search: QCHANNEL_PROPERTY_EXAMPLES=3000 (passes; ~35 s).
EXAMPLES = int(os.environ.get("QCHANNEL_PROPERTY_EXAMPLES", "120"))


def _grid():
    """A broadcast sweep: distance x efficiency x dark counts x misalignment x intensity."""
    length = np.linspace(0.0, 300.0, 61)[:, None, None, None, None]
    efficiency = np.array([0.02, 0.1, 0.3, 0.7, 1.0])[None, :, None, None, None]
    dark = np.array([0.0, 1e-7, 1e-5, 1e-3])[None, None, :, None, None]
    e_d = np.array([0.0, 0.01, 0.05, 0.2])[None, None, None, :, None]
    mu = np.array([0.05, 0.15, 0.3, 0.5, 0.8, 1.2, 2.0])[None, None, None, None, :]
    return fiber_transmittance(length, 0.2) * efficiency, length, dark, e_d, mu


def test_no_protocol_exceeds_plob_over_a_parameter_sweep():
    """61 x 5 x 4 x 4 x 7 = 34160 points per protocol, f = 1 (the most favourable), q = 1."""
    eta, length, dark, e_d, mu = _grid()
    results = {
        "bb84-decoy": (bb84_decoy_infinite(eta, mu, dark, e_d, 1.0, 1.0), eta),
        "bb84-vacuum-weak": (bb84_vacuum_weak(eta, mu, 0.04, dark, e_d, 1.0, 1.0), eta),
    }
    # MDI: a relay midway, each arm half the fibre; bound on the whole Alice-Bob transmittance.
    arm = np.sqrt(eta)
    results["mdi"] = (mdi_decoy_infinite(arm, arm, mu, mu, dark, e_d, 1.0, 1.0), arm * arm)
    for name, (result, eta_total) in results.items():
        rate = result.key_rate_bits_per_pulse
        assert np.all(rate <= plob_bound(np.broadcast_to(eta_total, rate.shape))), name
        assert np.all((result.qber >= 0.0) & (result.qber <= 0.5)), name
        assert np.all((result.gain >= 0.0) & (result.gain <= 1.0)), name
        assert np.any(rate > 0.0), name  # the sweep does reach the key-producing region


@pytest.mark.parametrize("preset", sorted(PRESETS))
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_optimised_rate_falls_with_distance_and_stays_below_plob(preset, protocol):
    from qchannel.operating_point import operating_point_from_preset

    length = np.linspace(0.0, 300.0, 1201)
    point = operating_point_from_preset(preset, length, protocol=protocol)
    rate = point.key_rate_bits_per_pulse
    assert np.all(np.diff(rate) <= MONOTONE_RTOL * rate[:-1])
    fibre = fiber_transmittance(length, PRESETS[preset].attenuation_db_per_km)
    assert np.all(rate <= plob_bound(point.eta_total))
    assert np.all(rate <= plob_bound(fibre))


@st.composite
def links(draw):
    protocol = draw(st.sampled_from(PROTOCOLS))
    detector = Detector(
        efficiency=draw(st.floats(0.01, 1.0)),
        dark_count_probability=draw(st.floats(0.0, 1e-3)),
        afterpulse_probability=draw(st.sampled_from([0.0, 0.01, 0.05])),
        dead_time_s=draw(st.sampled_from([0.0, 1e-8, 1e-6])),
    )
    decoy = draw(st.floats(0.01, 0.3))
    mu = draw(st.one_of(st.none(), st.floats(decoy + 0.01, 1.5)))
    source = Source(repetition_rate_hz=1e9, signal_mu=mu, decoy_mu=decoy)
    return dict(
        protocol=protocol,
        detector=detector,
        source=source,
        misalignment_error=draw(st.floats(0.0, 0.1)),
        ec_inefficiency=draw(st.floats(1.0, 1.5)),
        basis_sifting=draw(st.sampled_from([0.5, 1.0])),
        attenuation=draw(st.floats(0.15, 0.4)),
        lengths=np.sort(np.array(draw(st.lists(st.floats(0.0, 300.0), min_size=2, max_size=12)))),
    )


@settings(max_examples=EXAMPLES, deadline=None)
@given(links())
def test_random_links_obey_the_physics(link):
    """Hypothesis draws devices, protocol, fixed or optimal mu and sorted distances."""
    lengths = link.pop("lengths")
    alpha = link.pop("attenuation")
    protocol = link.pop("protocol")
    t = fiber_transmittance(lengths, alpha)
    if protocol == "mdi":
        point = link_operating_point(protocol, arm_transmittances=(np.sqrt(t), np.sqrt(t)), **link)
    else:
        point = link_operating_point(protocol, channel_transmittance=t, **link)
    rate = point.key_rate_bits_per_pulse
    assert np.all((point.qber >= 0.0) & (point.qber <= 0.5))
    assert np.all((point.gain >= 0.0) & (point.gain <= 1.0))
    assert np.all((point.secret_fraction >= 0.0) & (point.secret_fraction <= 1.0))
    assert np.all(rate <= plob_bound(point.eta_total))
    assert np.all(rate <= plob_bound(t))
    assert np.all(np.diff(rate) <= MONOTONE_RTOL * rate[:-1])
    np.testing.assert_allclose(
        rate, point.gain * point.sifting_ratio * point.secret_fraction, rtol=1e-12, atol=0.0
    )


@settings(max_examples=60, deadline=None)
@given(
    mu=st.floats(0.02, 1.5),
    eta=st.floats(0.0, 1.0),
    dark=st.floats(0.0, 0.5),
    e_d=st.floats(0.0, 0.5),
)
def test_qber_stays_in_range_for_any_valid_input(mu, eta, dark, e_d):
    """Even with absurd dark counts or misalignment 1/2 the QBER is a probability <= 1/2."""
    for result in (
        bb84_decoy_infinite(eta, mu, dark, e_d),
        mdi_decoy_infinite(eta, eta, mu, mu, dark, e_d),
    ):
        assert 0.0 <= float(result.qber) <= 0.5
        assert 0.0 <= float(result.single_photon_error) <= 0.5


def test_preset_sources_are_dataclasses_that_can_be_varied():
    """Sweeps vary one field of a preset with dataclasses.replace (fields may be arrays)."""
    preset = PRESETS["gys-2004"]
    detector = dataclasses.replace(preset.detector, efficiency=np.array([0.045, 0.1, 0.2]))
    point = link_operating_point(
        "bb84-decoy",
        channel_transmittance=0.01,
        detector=detector,
        misalignment_error=preset.misalignment_error,
    )
    assert point.key_rate_bits_per_pulse.shape == (3,)
    assert np.all(np.diff(point.key_rate_bits_per_pulse) > 0.0)
