"""The link physics' per-step shortcuts give qchannel's checked numbers, bit for bit.

Every step `LinkPhysics` groups links once (protocol x how the intensity is chosen), evaluates a
group's clean and attacked links in one call through qchannel's unchecked entry point, and
remembers how the mu tables split the links. None of that may change a number: every link's
operating point is compared, exactly, with `link_operating_point` (checked) called on that link
alone at the intensity the physics chose, under its attack and without it.
"""

from __future__ import annotations

import numpy as np

from bridge.scenario import load_plan
from bridge.scenario.link_physics import LinkPhysics
from qchannel import Detector, Source, db_to_transmittance, link_operating_point
from tests.network._scenarios import ring_with_relay_topology, scenario


def _mixed_physics(tmp_path) -> LinkPhysics:
    """BB84 drifting (tabled mu), vacuum+weak, MDI through a relay, a still link (exact optimum)
    and one at a fixed intensity."""
    config = scenario(
        ring_with_relay_topology(tmp_path / "mixed.yaml", 5, 12.0, 7.0),
        link={"drift": {"sigma_db": 0.4, "correlation_time_s": 1.0}},
        links=[
            {"between": ["N1", "N2"], "protocol": "bb84-vacuum-weak"},
            {"between": ["N2", "N3"], "protocol": "mdi"},
            {"between": ["N3", "N4"], "drift": {"sigma_db": 0.0, "correlation_time_s": 1.0}},
        ],
    )
    physics = LinkPhysics(load_plan(config), seed=5)
    assert set(physics.protocol) == {"bb84-decoy", "bb84-vacuum-weak", "mdi"}
    drifting_bb84 = np.flatnonzero((physics.protocol == "bb84-decoy") & physics._point_moves)
    assert drifting_bb84.size == 2 and (~physics._point_moves).sum() == 1
    physics.set_mu(int(drifting_bb84[-1]), 0.37)  # the other keeps the tabled optimum
    return physics


def _reference(physics: LinkPhysics, link: int, attack: float, mu: float):
    """qchannel's checked operating point of one link, at `mu`, under `attack`."""
    i = [link]
    channel = {}
    if physics.protocol[link] == "mdi":
        arm_a, arm_b = physics.arm_loss_db()
        half = physics.insertion_loss_db[i] / 2.0
        channel["arm_transmittances"] = (
            db_to_transmittance(arm_a[i] + half),
            db_to_transmittance(arm_b[i] + half),
        )
    else:
        channel["channel_transmittance"] = db_to_transmittance(physics.loss_db[i])
    return link_operating_point(
        str(physics.protocol[link]),
        detector=Detector(
            efficiency=physics.detector_efficiency[i],
            dark_count_probability=physics.dark_count_probability[i],
        ),
        source=Source(
            repetition_rate_hz=physics.pulse_rate_hz[i],
            signal_mu=np.array([mu]),
            decoy_mu=physics.decoy_mu[i],
        ),
        misalignment_error=physics.misalignment_error[i],
        ec_inefficiency=physics.ec_inefficiency[i],
        basis_sifting=physics.basis_sifting[i],
        intercept_resend_fraction=np.array([attack]),
        **channel,
    )


def test_every_link_matches_the_checked_entry_point_under_attack(tmp_path) -> None:
    physics = _mixed_physics(tmp_path)
    attack = np.zeros(physics.n_links)
    attack[::2] = 0.5  # every other link is tapped, in every group
    for _ in range(3):  # the drift moves the losses: groups and splits are reused
        points = physics.operating_points(attack)
        assert np.isclose(points.mu, 0.37).sum() == 1
        for link in range(physics.n_links):
            mu = float(points.mu[link])
            hit = _reference(physics, link, float(attack[link]), mu)
            clean = _reference(physics, link, 0.0, mu)
            assert points.gain[link] == np.clip(hit.gain[0], 0.0, 1.0)
            assert points.qber[link] == np.clip(hit.qber[0], 0.0, 0.5)
            assert points.sifting_ratio[link] == hit.sifting_ratio[0]
            assert points.secret_fraction[link] == hit.secret_fraction[0]
            assert points.key_rate_bits_per_pulse[link] == hit.key_rate_bits_per_pulse[0]
            assert points.qber_no_attack[link] == np.clip(clean.qber[0], 0.0, 0.5)
        physics.advance(0.1)
    assert (points.key_rate_bits_per_pulse > 0).any()


def test_a_still_link_gets_the_exact_optimum(tmp_path) -> None:
    physics = _mixed_physics(tmp_path)
    points = physics.operating_points(np.zeros(physics.n_links))
    still = int(np.flatnonzero(~physics._point_moves)[0])
    i = [still]
    optimum = link_operating_point(
        str(physics.protocol[still]),
        detector=Detector(
            efficiency=physics.detector_efficiency[i],
            dark_count_probability=physics.dark_count_probability[i],
        ),
        source=Source(repetition_rate_hz=physics.pulse_rate_hz[i], decoy_mu=physics.decoy_mu[i]),
        misalignment_error=physics.misalignment_error[i],
        ec_inefficiency=physics.ec_inefficiency[i],
        basis_sifting=physics.basis_sifting[i],
        channel_transmittance=db_to_transmittance(physics.loss_db[i]),
    )
    assert points.mu[still] == optimum.mu[0]
    assert points.key_rate_bits_per_pulse[still] == optimum.key_rate_bits_per_pulse[0]
