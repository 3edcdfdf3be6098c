"""Sampling the drift ahead and computing many steps' operating points at once moves no number.

`LinkPhysics` samples its fibre and source-rate drift `lookahead_steps` ahead and evaluates those
steps in one call while nothing else changes. A physics object that looks ahead and one that
steps one at a time (`lookahead_steps = 1`, the plain path) are driven through the same steps,
with everything that invalidates a batch happening mid-window: the attack starting, an intensity
fixed and released, a protocol switched, a different step length, look-ahead turned off and on.
Every field of every step must be equal bit for bit, and so must the channel afterwards.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from bridge.scenario import load_plan
from bridge.scenario.link_physics import LinkPhysics
from tests.network._scenarios import ring_with_relay_topology, scenario


def _plan(tmp_path):
    config = scenario(
        ring_with_relay_topology(tmp_path / "lookahead.yaml", 4, 15.0, 9.0),
        link={"drift": {"sigma_db": 0.5, "correlation_time_s": 0.7}},
        links=[
            {"between": ["N1", "N2"], "protocol": "bb84-vacuum-weak"},
            {
                "between": ["N3", "N0"],
                "rate_drift": {"sigma_fraction": 0.2, "correlation_time_s": 0.4},
            },
        ],
    )
    return load_plan(config)


def _drive(physics: LinkPhysics, mdi_link: int) -> list[tuple]:
    """40 steps with every kind of change in the middle of a window; every step's outputs."""
    seen = []
    attack = np.zeros(physics.n_links)
    dt = 0.1
    for step in range(40):
        if step == 5:
            attack[1] = 0.4  # the attack starts
        if step == 9:
            physics.set_mu(0, 0.33)
        if step == 14:
            physics.set_mu(0, None)
        if step == 18:
            physics.set_protocol(mdi_link, "mdi")
        if step == 21:
            dt = 0.05  # a different step length in the middle of a window
        if step == 26:
            physics.lookahead_steps = 1  # off in the middle of a window ...
        if step == 29:
            physics.lookahead_steps = 7  # ... and on again, with another length
        points = physics.operating_points(attack.copy())
        seen.append(
            tuple(np.array(getattr(points, f.name)) for f in dataclasses.fields(points))
            + (physics.loss_db.copy(), physics.pulse_rate_hz.copy(), physics.mu.copy())
        )
        physics.advance(dt)
    return seen


@pytest.mark.parametrize("lookahead", [3, 16])
def test_looking_ahead_gives_the_step_by_step_numbers(tmp_path, lookahead: int) -> None:
    plan = _plan(tmp_path)
    mdi_link = next(link.index for link in plan.links if link.relay is not None)
    plain = LinkPhysics(plan, seed=9)
    plain.lookahead_steps = 1
    ahead = LinkPhysics(plan, seed=9)
    ahead.lookahead_steps = lookahead
    ahead.lookahead_min_steps = 2  # short windows too: more window ends inside the 40 steps
    want, got = _drive(plain, mdi_link), _drive(ahead, mdi_link)
    for step, (w, g) in enumerate(zip(want, got, strict=True)):
        for i, (a, b) in enumerate(zip(w, g, strict=True)):
            assert a.tobytes() == b.tobytes(), f"step {step}, field {i}"
    assert ahead._batch is not None  # batches were in use, not only the plain path
    # the channel goes on identically afterwards
    for physics in (plain, ahead):
        physics.lookahead_steps = 1
        physics.advance(0.1)
    np.testing.assert_array_equal(plain.loss_db, ahead.loss_db)
    np.testing.assert_array_equal(plain.pulse_rate_hz, ahead.pulse_rate_hz)
    assert len({tuple(row[-3]) for row in got}) == len(got)  # the drift moved every step
