"""Every kind of action changes the running ns-3 simulation, compared with the no-op run of the
same seed (the ns-3 model draws each link from its own RNG stream, so the difference is the
action's). Small scenario: links 0 A-C, 1 A-D, 2 B-C, 3 B-D, 4 A-B through the untrusted relay
R; demand 0 A->B on two node-disjoint routes, demand 1 C->D on one."""

from __future__ import annotations

import numpy as np
import pytest

from bridge.env import MU_FACTOR, MU_RANGE, ROUTE_CHOICES, QkdNetworkEnv

pytestmark = pytest.mark.timeout(120)

SEED = 4
STEPS = 5


def run(env: QkdNetworkEnv, first: list[int]) -> list[dict]:
    """Reset with SEED, take the actions `first`, then no-ops up to STEPS steps; per step the
    obs, info, ns-3 detection counters and the demands' routes in the running scenario."""
    names = env.observation_names()
    env.reset(seed=SEED)
    out = []
    for action in first + [0] * (STEPS - len(first)):
        obs, _, _, _, info = env.step(action)
        out.append(
            {
                "obs": dict(zip(names, obs.tolist(), strict=True)),
                "info": info,
                "detections": env.scenario.runtime.link_counter("detections").copy(),
                "routes": [env.scenario.demand_routes(d) for d in range(len(env.plan.demands))],
                "protocol": env.scenario.physics.protocol.copy(),
            }
        )
    return out


def route_action(env: QkdNetworkEnv, demand: int, choice: int) -> int:
    return 1 + 2 * len(env.plan.links) + len(env.relay_links) + ROUTE_CHOICES * demand + choice


def test_raising_and_lowering_intensity_changes_the_link(small_env: QkdNetworkEnv) -> None:
    env = small_env
    noop = run(env, [])
    mu0 = noop[0]["info"]["link_mu"][0]
    assert all(step["info"]["link_mu"][0] == mu0 for step in noop)  # fixed intensity

    raised = run(env, [1, 1])  # raise link 0 twice
    assert raised[0]["info"]["link_mu"][0] == pytest.approx(mu0 * MU_FACTOR)
    assert raised[1]["info"]["link_mu"][0] == pytest.approx(mu0 * MU_FACTOR**2)
    assert raised[1]["obs"]["link0.mu"] == pytest.approx(mu0 * MU_FACTOR**2, rel=1e-6)
    assert raised[-1]["info"]["link_mu"][0] == raised[1]["info"]["link_mu"][0]  # it stays
    # ns-3 sampled the new intensity: more photons, more detections; other links untouched
    assert raised[-1]["detections"][0] > 1.3 * noop[-1]["detections"][0]
    np.testing.assert_array_equal(raised[-1]["detections"][1:], noop[-1]["detections"][1:])
    np.testing.assert_array_equal(
        raised[-1]["info"]["link_mu"][1:], noop[-1]["info"]["link_mu"][1:]
    )

    lowered = run(env, [4])  # lower link 1
    assert lowered[0]["info"]["link_mu"][1] == pytest.approx(
        noop[0]["info"]["link_mu"][1] / MU_FACTOR
    )
    assert lowered[-1]["detections"][1] < noop[-1]["detections"][1] / 1.1

    many = run(env, [1] * STEPS)  # clipped at the top of MU_RANGE
    assert many[-1]["info"]["link_mu"][0] <= MU_RANGE[1]


def test_route_choice_moves_the_demand(small_env: QkdNetworkEnv) -> None:
    env = small_env
    a, b, c, d = (next(n.index for n in env.plan.nodes if n.label == x) for x in "ABCD")
    noop = run(env, [])
    assert noop[0]["routes"][0] == ((a, b), (a, c, b))  # two node-disjoint routes (shares)
    assert noop[0]["routes"][1] == ((c, a, d),)  # shortest route

    moved = run(env, [route_action(env, 1, 1)])  # demand 1 over its 2nd candidate, C-B-D
    assert moved[0]["routes"][1] == ((c, b, d),)
    assert moved[0]["routes"][0] == noop[0]["routes"][0]
    assert moved[0]["info"]["demand_route_choice"].tolist() == [ROUTE_CHOICES - 1, 1]
    assert moved[0]["obs"]["demand1.route_choice"] == pytest.approx(1 / ROUTE_CHOICES)
    # its key now comes from link B-C (2) instead of A-C (0)
    link_ac, link_bc = env.plan.link_between(a, c).index, env.plan.link_between(b, c).index
    buf_moved, buf_noop = (
        moved[-1]["info"]["link_buffer_bits"],
        noop[-1]["info"]["link_buffer_bits"],
    )
    assert buf_moved[link_ac] > buf_noop[link_ac]
    assert buf_moved[link_bc] < buf_noop[link_bc]

    single = run(env, [route_action(env, 0, 1)])  # demand 0 over one route, A-C-B, no shares
    assert single[0]["routes"][0] == ((a, c, b),)
    relay_link = env.relay_links[0]
    assert single[-1]["info"]["link_buffer_bits"][relay_link] > buf_noop[relay_link]

    back = run(env, [route_action(env, 0, 1), route_action(env, 0, ROUTE_CHOICES - 1)])
    assert back[1]["routes"][0] == noop[0]["routes"][0]

    missing = run(env, [route_action(env, 0, 3)])  # demand 0 has only three candidates
    assert missing[0]["routes"] == noop[0]["routes"]
    assert missing[-1]["info"]["demand_route_choice"].tolist() == [ROUTE_CHOICES - 1, 0]


def test_protocol_switch_runs_the_relay_link_as_mdi(small_env: QkdNetworkEnv) -> None:
    env = small_env
    relay_link = env.relay_links[0]
    switch = 1 + 2 * len(env.plan.links)
    assert "switch link" in env.action_meaning(switch)
    noop = run(env, [])
    mdi = run(env, [switch])
    assert list(mdi[0]["protocol"]) == ["bb84-decoy"] * relay_link + ["mdi"]
    assert mdi[0]["obs"][f"link{relay_link}.protocol"] == 1.0
    assert all(step["obs"][f"link{relay_link}.protocol"] == 0.0 for step in noop)
    # MDI-QKD (two 10 km arms to R) detects coincidences far more rarely than BB84 over 20 km
    assert mdi[-1]["detections"][relay_link] < noop[-1]["detections"][relay_link] / 10
    mdi_rate = sum(step["info"]["link_key_rate_bps"][relay_link] for step in mdi)
    bb84_rate = sum(step["info"]["link_key_rate_bps"][relay_link] for step in noop)
    assert bb84_rate > 0.0 and mdi_rate < bb84_rate / 10  # too few for a block, here
    np.testing.assert_array_equal(
        mdi[-1]["detections"][:relay_link], noop[-1]["detections"][:relay_link]
    )

    back = run(env, [switch, switch])
    assert back[1]["protocol"][relay_link] == "bb84-decoy"
    assert back[1]["obs"][f"link{relay_link}.protocol"] == 0.0
    late = back[-1]["detections"][relay_link] - back[1]["detections"][relay_link]
    assert late > 10 * mdi[-1]["detections"][relay_link]
