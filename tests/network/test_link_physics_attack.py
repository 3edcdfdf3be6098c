"""An attacked link runs at the intensity chosen for its clean channel.

The source picks its signal intensity from what it knows (loss, hardware), not from the
eavesdropper it does not know about. Optimising against the attack would let a control plane
(or an agent) profit from information no deployed system has (it showed as ABFT beating the
oracle in the allocator's evaluation)."""

from __future__ import annotations

import numpy as np

from bridge.scenario import load_plan
from bridge.scenario.link_physics import LinkPhysics
from tests.network._scenarios import chain_topology, scenario


def test_the_attack_changes_qber_and_gain_but_not_the_chosen_intensity(tmp_path):
    config = scenario(chain_topology(tmp_path / "chain.yaml", n=4))
    physics = LinkPhysics(load_plan(config), seed=1)
    clean = physics.operating_points(np.zeros(physics.n_links))
    attack = np.array([0.0, 0.5, 0.0])
    hit = physics.operating_points(attack)
    np.testing.assert_array_equal(hit.mu, clean.mu)
    assert hit.qber[1] > clean.qber[1] + 0.05
    np.testing.assert_array_equal(hit.qber[[0, 2]], clean.qber[[0, 2]])
    np.testing.assert_array_equal(hit.qber_no_attack, clean.qber)
