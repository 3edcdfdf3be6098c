"""`demands: {pairs, rate_bps, pick, seed}`: demands that need no node names (issue 20)."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import networkx as nx
import pytest

from bridge.scenario.config import DemandGeneratorConfig, ScenarioError, parse_scenario
from bridge.scenario.demand_generator import generate_pairs
from bridge.scenario.plan import plan_scenario
from bridge.topology import load_topology
from bridge.topology.options import TopologyOptions

ZOO = Path(__file__).parent / "data" / "zoo"


def _geant(max_link_km: float | None = 100.0):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_topology(
            ZOO / "geant_like.gml",
            options=TopologyOptions(
                default_length_km=50.0, component="largest", max_link_km=max_link_km
            ),
        )


def _plan(demands: object, topology=None, seed: int = 3):
    topology = topology or _geant()
    config = parse_scenario({"topology": "unused", "seed": seed, "demands": demands})
    return plan_scenario(config, topology.graph, topology.name), topology


def _pairs(plan, topology) -> list[tuple[str, str]]:
    return [(topology.labels[d.src], topology.labels[d.dst]) for d in plan.demands]


def test_random_pairs_are_distinct_seeded_and_never_repeaters() -> None:
    plan, topology = _plan({"pairs": 5, "rate_bps": 20000})
    pairs = _pairs(plan, topology)
    assert len({frozenset(p) for p in pairs}) == 5
    assert all("~" not in name for pair in pairs for name in pair)  # no inserted node
    assert all(d.rate_bps == 20000 for d in plan.demands)
    again, _ = _plan({"pairs": 5, "rate_bps": 20000})
    assert _pairs(again, topology) == pairs  # same seed, same demands
    other, _ = _plan({"pairs": 5, "rate_bps": 20000}, seed=4)
    own_seed, _ = _plan({"pairs": 5, "rate_bps": 20000, "seed": 3}, seed=4)
    assert _pairs(other, topology) != pairs and _pairs(own_seed, topology) == pairs


def test_farthest_pairs_are_the_longest_routes() -> None:
    plan, topology = _plan({"pairs": 2, "rate_bps": 1000, "pick": "farthest"})
    qkd = plan.qkd_graph()
    lengths = dict(nx.all_pairs_dijkstra_path_length(qkd, weight="length_km"))
    ends = range(16)  # the file's nodes (repeaters follow them)
    longest = max(lengths[a][b] for a in ends for b in ends)
    first = plan.demands[0]
    assert math.isclose(lengths[first.src][first.dst], longest, rel_tol=1e-12)
    assert {topology.labels[first.src], topology.labels[first.dst]} == {"IL", "MD"}


def test_top_degree_pairs_join_the_hubs_first() -> None:
    plan, topology = _plan({"pairs": 3, "rate_bps": 1000, "pick": "top-degree"}, _geant(None))
    degree = dict(topology.graph.degree())
    ranked = sorted(range(topology.n_nodes), key=lambda n: (-degree[n], n))
    expected = [(ranked[0], ranked[1]), (ranked[0], ranked[2]), (ranked[1], ranked[2])]
    assert [(d.src, d.dst) for d in plan.demands] == expected
    assert topology.labels[ranked[0]] == "DE"


def test_named_demands_keep_working_and_generated_routing_is_passed_on() -> None:
    plan, topology = _plan([{"src": "NL", "dst": "AT", "rate_bps": 500}])
    assert _pairs(plan, topology) == [("NL", "AT")]
    routed, _ = _plan(
        {"pairs": 1, "rate_bps": 10, "pick": "top-degree", "routing": {"paths": 2}}, _geant(None)
    )
    assert routed.demands[0].paths == 2


def test_too_many_pairs_and_bad_fields_are_one_line_errors() -> None:
    with pytest.raises(ScenarioError, match="demands.pairs: asks for 200 pairs.* 120 distinct"):
        _plan({"pairs": 200, "rate_bps": 1})
    with pytest.raises(ScenarioError, match="demands.pick"):
        parse_scenario({"topology": "x", "demands": {"pairs": 2, "rate_bps": 1, "pick": "far"}})
    with pytest.raises(ScenarioError, match="demands.rate_bps"):
        parse_scenario({"topology": "x", "demands": {"pairs": 2}})
    with pytest.raises(ScenarioError, match="demands.0.src"):
        parse_scenario({"topology": "x", "demands": [{"dst": "A", "rate_bps": 1}]})


def test_generate_pairs_rejects_an_unknown_pick() -> None:
    topology = _geant(None)
    with pytest.raises(ValueError, match="pick must be one of"):
        generate_pairs(topology.graph, topology.graph, 1, "nearest", 0)
    assert DemandGeneratorConfig(pairs=1, rate_bps=1).pick == "random"
