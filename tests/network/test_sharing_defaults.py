"""Key sharing defaults on a running network (issue 12, "Sharing").

What the defaults promise: a relayed demand is (2, 3) Shamir-shared over three node-disjoint
routes where the graph has them, so one relay that drops everything costs nothing (with XOR
3-of-3 it costs every key); fewer routes fall back to what the graph allows and are recorded;
t = 1 over several routes is refused unless asked for by name; a reroute with fewer routes than
t is recorded and follows the demand's `when_short`, never silently; tag key is taken from
the demand's end-to-end store; a forged early copy of a share does not shadow the genuine one.
"""

from __future__ import annotations

import pytest

from bridge.scenario.config import ScenarioError
from tests.network._scenarios import chain_topology, run_steps, scenario, three_path_topology

pytestmark = pytest.mark.ns3

STEPS = 30  # 3 s of 0.1 s steps, one request per step


def _plan(config):
    from bridge.scenario import load_plan

    return load_plan(config)


def _relay(plan, label: str) -> int:
    return next(n.index for n in plan.nodes if n.label == label)


def test_default_is_2_of_3_over_disjoint_routes_and_falls_back_where_the_graph_has_fewer(
    tmp_path,
):
    three = _plan(
        scenario(
            three_path_topology(tmp_path / "paths.yaml"),
            demands=[{"src": "S", "dst": "D", "rate_bps": 10_000}],
        )
    )
    d = three.demands[0]
    assert (d.threshold, d.paths, d.paths_wanted, d.sharing_fallback) == (2, 3, 3, False)
    assert len(d.disjoint_routes) == 3
    chain = _plan(
        scenario(
            chain_topology(tmp_path / "chain.yaml", n=4),
            demands=[
                {"src": "N0", "dst": "N3", "rate_bps": 10_000},  # one route only
                {"src": "N0", "dst": "N1", "rate_bps": 10_000},  # neighbours: the link's key
            ],
        )
    )
    relayed, direct = chain.demands
    assert (relayed.threshold, relayed.paths, relayed.sharing_fallback) == (1, 1, True)
    assert (direct.threshold, direct.paths, direct.paths_wanted) == (1, 1, 1)
    assert direct.disjoint_routes == ((0, 1),)


def test_threshold_one_over_several_paths_needs_to_be_asked_for_by_name(tmp_path):
    topology = three_path_topology(tmp_path / "paths.yaml")
    demand = {"src": "S", "dst": "D", "rate_bps": 10_000}
    with pytest.raises(ScenarioError, match="allow_single_share_reconstruction") as err:
        scenario(topology, demands=[demand | {"routing": {"paths": 3, "threshold": 1}}])
    assert "\n" not in str(err.value).strip()
    with pytest.raises(ScenarioError, match="allow_single_share_reconstruction"):
        scenario(topology, demands=[demand | {"routing": {"threshold": 1}}])
    asked = {"paths": 3, "threshold": 1, "allow_single_share_reconstruction": True}
    plan = _plan(scenario(topology, demands=[demand | {"routing": asked}]))
    assert (plan.demands[0].threshold, plan.demands[0].paths) == (1, 3)
    # a single path is hop by hop: threshold 1 is all it can have
    single = _plan(scenario(topology, demands=[demand | {"routing": {"paths": 1}}]))
    assert (single.demands[0].threshold, single.demands[0].paths) == (1, 1)


@pytest.mark.parametrize("steps", [STEPS, pytest.param(200, marks=pytest.mark.slow)])
def test_one_dropping_relay_costs_nothing_with_the_default_but_every_key_with_xor(tmp_path, steps):
    """200 steps = the issue's 200 requests (`pytest -m slow -k dropping`): 199 served (the last
    one in flight) with the default, 0 with XOR 3-of-3."""
    topology = three_path_topology(tmp_path / "paths.yaml")
    byzantine = {"nodes": ["X1"], "behaviour": {"drop": 1.0}}
    served = {}
    for name, routing in (("default", {}), ("xor", {"paths": 3, "threshold": 3})):
        demand = {"src": "S", "dst": "D", "rate_bps": 10_000, "routing": routing}
        config = scenario(topology, steps=steps, demands=[demand], byzantine=byzantine)
        results, plan = run_steps(config, steps)
        last = results[-1]
        dropper_route = next(
            i for i, r in enumerate(plan.demands[0].disjoint_routes) if _relay(plan, "X1") in r
        )
        assert last.demand(f"route{dropper_route}_missing")[0] > steps - 3  # X1 drops all
        assert last.node("shares_dropped")[_relay(plan, "X1")] > steps - 3
        requests, ok = last.demand("requests")[0], last.demand("served")[0]
        served[name] = (ok, requests)
        if name == "default":
            # full rate: every request but the one still in flight, every bit asked for
            assert ok >= requests - 1
            assert last.demand("delivered_bits")[0] >= last.demand("requested_bits")[0] * (
                (requests - 1) / requests
            )
            assert last.demand("corrupted")[0] == 0
    assert served["xor"][0] == 0, served  # XOR 3-of-3: one dropping relay, no key at all


def test_a_forged_early_copy_followed_by_the_genuine_share_still_reconstructs(tmp_path):
    """X1 sends a bit-flipped copy of each share ahead of the genuine one and X2 drops all:
    (2, 3) needs X1's genuine share, so a first copy that decided would fail every key."""
    demand = {"src": "S", "dst": "D", "rate_bps": 10_000}
    config = scenario(
        three_path_topology(tmp_path / "paths.yaml"),
        demands=[demand],
        byzantine={"nodes": ["X1"], "behaviour": {"forge_copy": 1.0}},
    )
    # A scenario gives all its Byzantine nodes one behaviour, so X2's dropping is set on the
    # built network with the same ns-3 setter the scenario uses.
    from bridge.scenario import QkdScenario

    with QkdScenario(config) as sim:
        x1, x2 = _relay(sim.plan, "X1"), _relay(sim.plan, "X2")
        sim.runtime.network.SetByzantine(x2, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0)
        results = [sim.step() for _ in range(STEPS)]
        routes = sim.plan.demands[0].disjoint_routes
    last = results[-1]
    forged_route = next(i for i, r in enumerate(routes) if x1 in r)
    assert last.node("shares_tampered")[x1] > STEPS - 3  # a forged copy of every share
    assert last.node("shares_dropped")[x2] > STEPS - 3
    assert last.demand(f"route{forged_route}_rejected")[0] > STEPS - 3  # caught by the tag
    assert last.demand(f"route{forged_route}_missing")[0] == 0  # the genuine copy still counted
    assert last.demand("served")[0] >= last.demand("requests")[0] - 1
    assert last.demand("corrupted")[0] == 0


def test_a_reroute_with_fewer_routes_than_t_is_recorded_and_follows_when_short(tmp_path):
    from bridge.scenario import QkdScenario

    topology = three_path_topology(tmp_path / "paths.yaml")
    demand = {"src": "S", "dst": "D", "rate_bps": 10_000}
    with QkdScenario(scenario(topology, demands=[demand])) as sim:  # when_short: fewer_shares
        planned = sim.demand_routes(0)
        first = sim.step()
        assert first.demand("routes_short")[0] == 0 and first.demand("threshold")[0] == 2
        assert first.demand("threshold_lowered")[0] == 0
        assert sim.set_demand_routes(0, planned[:2]) is True  # 2 routes: (2, 2), t kept
        short = sim.step()
        assert short.demand("routes")[0] == 2 and short.demand("threshold")[0] == 2
        assert short.demand("routes_short")[0] == 1 and short.demand("threshold_lowered")[0] == 0
        assert sim.set_demand_routes(0, planned[:1]) is True  # 1 route: hop by hop, recorded
        single = sim.step()
        assert single.demand("routes")[0] == 1 and single.demand("threshold")[0] == 1
        assert single.demand("routes_short")[0] == 2
        assert single.demand("threshold_lowered")[0] == 1
        with pytest.raises(ValueError, match="allow_single_share_reconstruction"):
            sim.set_demand_routes(0, planned, threshold=1)
    refusing = demand | {"routing": {"when_short": "refuse"}}
    with QkdScenario(scenario(topology, demands=[refusing])) as sim:
        planned = sim.demand_routes(0)
        assert sim.set_demand_routes(0, planned[:1]) is False  # 1 route < t = 2: refused
        assert sim.demand_routes(0) == planned
        refused = sim.step()
        assert refused.demand("routes_short")[0] == 2
        assert refused.demand("reroutes_refused")[0] == 1
        assert refused.demand("routes")[0] == 3 and refused.demand("threshold")[0] == 2
        assert refused.demand("threshold_lowered")[0] == 0
        assert sim.set_demand_routes(0, planned) is False  # the trusted graph is whole again
        assert sim.step().demand("routes_short")[0] == 0


def test_tag_key_is_taken_from_the_end_to_end_store_and_refused_when_short(tmp_path):
    topology = three_path_topology(tmp_path / "paths.yaml")
    demand = {"src": "S", "dst": "D", "rate_bps": 10_000}
    results, _ = run_steps(scenario(topology, demands=[demand]), 10)
    last = results[-1]
    tag_bits = 61  # QkdMacKeyBits(): the one-time mask of a Wegman-Carter tag
    assert last.demand("auth_key_bits")[0] == last.demand("shares_sent")[0] * tag_bits
    assert last.demand("auth_recycled_bits")[0] >= last.demand("served")[0] * 3 * tag_bits
    # the store starts with as much as a link's pre-shared key (buffer.initial_bits, 100 000
    # by default) and served keys top it back up
    assert last.demand("auth_store_bits")[0] >= 100_000 - 3 * tag_bits
    assert last.demand("auth_exhausted")[0] == 0
    # 150 pre-shared bits cannot tag three shares (183 bits): every relayed request is refused
    starved = {"initial_bits": 150}
    results, _ = run_steps(scenario(topology, demands=[demand], buffer=starved), 5)
    last = results[-1]
    assert last.demand("auth_exhausted")[0] == last.demand("requests")[0] > 0
    assert last.demand("served")[0] == 0 and last.demand("shares_sent")[0] == 0
