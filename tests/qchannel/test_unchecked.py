"""The unchecked entry point gives the checked one's numbers, bit for bit.

`link_operating_point_unchecked` exists so the link physics can skip re-checking, every step,
hardware it checked once at load. It must never change a number: every field is compared with
`link_operating_point` on the same inputs with exact equality, for each protocol, at a given and
at the optimal intensity, with and without an intercept-resend attack. The checks themselves stay
where users call in (`link_operating_point`, `check_link_inputs`).
"""

from __future__ import annotations

import numpy as np
import pytest

from qchannel import Detector, QChannelParameterError, Source, link_operating_point
from qchannel.channels import db_to_transmittance, db_to_transmittance_unchecked
from qchannel.operating_point import check_link_inputs, link_operating_point_unchecked

FIELDS = (
    "mu",
    "gain",
    "qber",
    "sifting_ratio",
    "secret_fraction",
    "key_rate_bits_per_pulse",
    "eta_total",
)


def _hardware(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    return {
        "efficiency": rng.uniform(0.02, 0.6, n),
        "dark_count_probability": 10.0 ** rng.uniform(-7.0, -4.0, n),
        "misalignment_error": rng.uniform(0.0, 0.04, n),
        "repetition_rate_hz": rng.uniform(1e6, 2e9, n),
        "decoy_mu": rng.uniform(0.05, 0.2, n),
        "ec_inefficiency": rng.uniform(1.0, 1.3, n),
        "basis_sifting": rng.uniform(0.4, 1.0, n),
    }


def _checked(protocol: str, hw: dict, channels: dict, attack: np.ndarray, mu):
    return link_operating_point(
        protocol,
        detector=Detector(
            efficiency=hw["efficiency"], dark_count_probability=hw["dark_count_probability"]
        ),
        source=Source(
            repetition_rate_hz=hw["repetition_rate_hz"], signal_mu=mu, decoy_mu=hw["decoy_mu"]
        ),
        misalignment_error=hw["misalignment_error"],
        ec_inefficiency=hw["ec_inefficiency"],
        basis_sifting=hw["basis_sifting"],
        intercept_resend_fraction=attack,
        **channels,
    )


@pytest.mark.parametrize("protocol", ["bb84-decoy", "bb84-vacuum-weak", "mdi"])
@pytest.mark.parametrize("given_mu", [False, True])
def test_unchecked_equals_checked_bit_for_bit(protocol: str, given_mu: bool) -> None:
    rng = np.random.default_rng(17)
    n = 40
    hw = _hardware(rng, n)
    attack = np.where(rng.random(n) < 0.5, rng.uniform(0.0, 1.0, n), 0.0)
    loss_db = rng.uniform(0.0, 40.0, n)
    if protocol == "mdi":
        share = rng.uniform(0.2, 0.8, n)
        arms = (db_to_transmittance(loss_db * share), db_to_transmittance(loss_db * (1 - share)))
        channels = {"arm_transmittances": arms}
    else:
        channels = {"channel_transmittance": db_to_transmittance(loss_db)}
    mu = hw["decoy_mu"] + rng.uniform(0.05, 0.8, n) if given_mu else None
    want = _checked(protocol, hw, channels, attack, mu)
    got = link_operating_point_unchecked(
        protocol, intercept_resend_fraction=attack, signal_mu=mu, **hw, **channels
    )
    assert got.protocol == want.protocol
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name), err_msg=name)
    assert (want.key_rate_bits_per_pulse > 0).any()  # the comparison covers links with key


def test_unchecked_transmittance_is_the_checked_one() -> None:
    loss = np.linspace(0.0, 80.0, 97)
    np.testing.assert_array_equal(db_to_transmittance_unchecked(loss), db_to_transmittance(loss))


def test_the_checks_stay_at_the_entry_points() -> None:
    hw = _hardware(np.random.default_rng(3), 4)
    check_link_inputs(**hw)  # valid hardware passes
    with pytest.raises(QChannelParameterError, match="misalignment_error"):
        check_link_inputs(**{**hw, "misalignment_error": np.array([0.01, 0.6, 0.0, 0.0])})
    with pytest.raises(QChannelParameterError, match="detector efficiency"):
        check_link_inputs(**{**hw, "efficiency": np.array([0.1, 0.0, 0.1, 0.1])})
    with pytest.raises(QChannelParameterError, match="channel_transmittance"):
        _checked("bb84-decoy", hw, {"channel_transmittance": np.full(4, 1.5)}, np.zeros(4), None)
    # a signal at or below the decoy is refused on both paths (it is a per-step input)
    with pytest.raises(QChannelParameterError, match="signal_mu must exceed decoy_mu"):
        link_operating_point_unchecked(
            "bb84-vacuum-weak",
            channel_transmittance=np.full(4, 0.1),
            intercept_resend_fraction=np.zeros(4),
            signal_mu=hw["decoy_mu"] / 2,
            **hw,
        )
