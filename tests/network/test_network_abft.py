"""The ABFT coordinator inside a running ns-3 scenario, its messages carried as ns-3 packets.

S and D are joined through three relays; X1 turns Byzantine at 0.5 s: it intercepts on its
quantum links (their QBER rises), lies about the QBER it measures and tampers with every key
share it relays. The demand S->D is (2, 3)-threshold shared over the three node-disjoint paths.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.network._scenarios import scenario, three_path_topology

pytestmark = pytest.mark.ns3

S, D, X0, X1, X2 = range(5)


@pytest.fixture(scope="module")
def abft_run(tmp_path_factory):
    from bridge.scenario import QkdScenario
    from control.plane import ControlPlane

    topology = three_path_topology(tmp_path_factory.mktemp("abft") / "paths.yaml")
    config = scenario(
        topology,
        demands=[
            {"src": "S", "dst": "D", "rate_bps": 10_000, "routing": {"paths": 3, "threshold": 2}}
        ],
        byzantine={
            "nodes": ["X1"],
            "behaviour": {
                "onset_s": 0.5,
                "intercept_resend": 0.5,
                "tamper": 1.0,
                "report_qber_offset": -0.05,
            },
        },
        # decide every step: this module checks the consensus traffic of every step (the
        # default cadence, which skips quiet steps, has tests/abft/test_decision_cadence.py)
        control={"mode": "abft", "alpha": 0.3, "quiet_interval_steps": 1},
    )
    with QkdScenario(config) as sim:
        sim.attach_control(ControlPlane(config, sim.plan, sim))
        results = [sim.step() for _ in range(20)]
        routes = sim.demand_routes(0)
    return results, routes


def test_consensus_messages_travel_as_ns3_packets_every_step(abft_run):
    results, _ = abft_run
    received = np.array([r.node("control_received") for r in results])
    # from the second step on (there is nothing to agree on before the first reports) every
    # node receives protocol messages every step, the primary (node S, the collector of the
    # linear normal case) the most
    assert received[0].sum() == 0
    steps = np.diff(received[1:], axis=0)
    assert (steps > 0).all()
    assert (steps[:, S] > steps[:, 1:].max(axis=1)).all()
    assert all(r.control_nodes is not None for r in results[1:])


def test_the_byzantine_nodes_weight_falls_while_the_honest_hold(abft_run):
    results, _ = abft_run
    weights = np.array([r.control_nodes.weight.to_numpy() for r in results[1:]])
    liar = weights[:, X1]
    assert (np.diff(liar) <= 1e-12).all() and liar[-1] < 0.1
    assert (weights[:, [X0, X2]] == 1.0).all()
    # the honest ends of the attacked links take a little of the blame at first, then recover
    assert (weights[:, [S, D]] > 0.9).all()
    assert (np.diff(weights[-5:, S]) >= 0).all()


def test_the_attacked_links_lose_the_vote(abft_run):
    results, _ = abft_run
    links = results[-1].control_links
    attacked = [1, 4]  # S-X1 and X1-D in the planned link order
    assert not links.trusted[attacked].any() and links.trusted.drop(index=attacked).all()
    assert (links.agreed_qber[attacked] > 0.1).all()  # agreed despite X1's lower reports


def test_tampered_shares_are_caught_and_the_key_still_arrives_from_honest_paths(abft_run):
    results, routes = abft_run
    last = results[-1]
    assert last.demand("shares_rejected")[0] > 0
    assert last.demand("corrupted")[0] == 0  # never a wrong key accepted
    assert last.demand("served")[0] >= last.demand("requests")[0] - 1  # one still in flight
    assert last.node("shares_tampered")[X1] > 0
    # once the coordinator distrusts X1's links, the demand leaves X1's path
    assert all(X1 not in route for route in routes) and len(routes) == 2
    assert any(r.rerouted for r in results)
