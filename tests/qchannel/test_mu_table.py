"""The tabulated optimal intensity (bridge.scenario.mu_table) against optimising every point
directly.

The bound: interpolating the optimal mu on a 0.05 dB grid loses less than 1e-6 of the key rate
(relative) at any loss where the link makes key, and the interpolated mu is within 1e-3 of the
optimum (relative). Checked at 400 random losses per protocol and attack, off the grid.
"""

from __future__ import annotations

import numpy as np
import pytest

from bridge.scenario.mu_table import OptimalMuTables, hardware_operating_point, optimal_mu
from qchannel import get_preset

RATE_BOUND = 1e-6
MU_BOUND = 1e-3


def _hardware(preset_name: str) -> np.ndarray:
    p = get_preset(preset_name)
    return np.array(
        [
            p.detector.efficiency,
            p.detector.dark_count_probability,
            p.misalignment_error,
            p.ec_inefficiency,
            p.basis_sifting,
            float(np.asarray(p.source.decoy_mu)),
        ]
    )


def _point(protocol: str, row: np.ndarray, attack: float, loss_db: np.ndarray, mu=None):
    return hardware_operating_point(protocol, row, attack, loss_db, mu)


@pytest.mark.parametrize("protocol", ["bb84-decoy", "bb84-vacuum-weak"])
@pytest.mark.parametrize("attack", [0.0, 0.05])
def test_interpolated_mu_loses_less_than_the_bound(protocol: str, attack: float) -> None:
    row = _hardware("gys-2004")
    tables = OptimalMuTables(row[None, :], optimal_mu)
    loss_db = np.random.default_rng(7).uniform(0.0, 40.0, 400)
    links = np.zeros(loss_db.size, dtype=np.int64)
    mu_table = tables.optimal_mu(protocol, links, loss_db, np.full(loss_db.size, attack))
    direct = _point(protocol, row, attack, loss_db)
    tabled = _point(protocol, row, attack, loss_db, mu=mu_table)
    making_key = direct.key_rate_bits_per_pulse > 0.0
    assert making_key.sum() > 100  # the check covers a real range of losses
    rate = direct.key_rate_bits_per_pulse[making_key]
    shortfall = 1.0 - tabled.key_rate_bits_per_pulse[making_key] / rate
    assert np.all(shortfall < RATE_BOUND)
    assert np.all(shortfall > -1e-9)  # never beats the optimum (beyond rounding)
    assert np.all(np.abs(mu_table / direct.mu - 1.0)[making_key] < MU_BOUND)
    assert tables.tables_built == 1


def test_tables_are_shared_by_equal_hardware_and_extended_on_demand() -> None:
    row = _hardware("gys-2004")
    calls: list[int] = []

    def counting(protocol, r, attack, loss_db):
        calls.append(loss_db.size)
        return optimal_mu(protocol, r, attack, loss_db)

    tables = OptimalMuTables(np.stack([row, row]), counting)
    both = np.array([0, 1])
    tables.optimal_mu("bb84-decoy", both, np.array([10.0, 12.0]), np.zeros(2))
    tables.optimal_mu("bb84-decoy", both, np.array([11.0, 11.5]), np.zeros(2))
    assert len(calls) == 1  # one table for both links, covering later losses too
    tables.optimal_mu("bb84-decoy", both, np.array([30.0, 11.0]), np.zeros(2))
    assert len(calls) == 2  # a loss outside the table extends it
    far = tables.optimal_mu("bb84-decoy", np.array([0]), np.array([300.0]), np.zeros(1))
    assert far[0] == pytest.approx(optimal_mu("bb84-decoy", row, 0.0, np.array([300.0]))[0])
