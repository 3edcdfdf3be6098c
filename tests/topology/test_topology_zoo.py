"""Topology Zoo-shaped files load as QKD networks (issue 20).

The fixtures in data/zoo/ are small hand-written files in the layout of real Zoo files read with
the search tool (mroughan/InternetTopologyZoo: Geant2011, Uninett, Belnet, Nordu, Hibernia,
Internet2, Psnc, Opteglobe, IntNetworkmap, Garr200004, Cesnet2, BackboneSerbiaMontenegro). What
they show, and what each test checks: parallel links with and without a `multigraph 1` header,
nodes without coordinates, PoPs at identical coordinates, repeated labels, hyperedge junctions
with empty labels, nodes without links and separate parts, continental links.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.topology import TopologyError, load_topology, write_topology
from bridge.topology.geo import great_circle_km
from bridge.topology.options import TopologyOptions
from bridge.topology.repeaters import split_long_links

ZOO = Path(__file__).parent / "data" / "zoo"


def _load(name: str, **options: object):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_topology(ZOO / name, options=TopologyOptions(**options))


def _edge(topology, a: str, b: str) -> dict:
    return dict(topology.graph.edges[topology.index(a), topology.index(b)])


def test_geant_like_default_is_an_error_naming_the_flag_for_missing_coordinates() -> None:
    with pytest.raises(TopologyError) as error:
        _load("geant_like.gml")
    message = str(error.value)
    assert "no coordinates at 'UA'" in message and "--default-length-km" in message
    assert "\n" not in message


def test_geant_like_disconnected_error_names_the_component_option() -> None:
    with pytest.raises(TopologyError) as error:
        _load("geant_like.gml", default_length_km=50.0)
    message = str(error.value)
    assert "disconnected (2 parts)" in message and "'TR'" in message
    assert "--component largest" in message and "topology_options.component" in message


def test_geant_like_loads_with_the_options_and_reports_what_changed() -> None:
    topology = _load("geant_like.gml", default_length_km=50.0, component="largest")
    assert topology.n_nodes == 16 and "TR" not in topology.labels
    # parallel BG-RO and SE-FI (no multigraph header) become one QKD link each, counted
    bg_ro = _edge(topology, "BG", "RO")
    assert bg_ro["parallel_links"] == 2
    assert bg_ro["source"] == "great-circle"
    assert _edge(topology, "SE", "FI")["parallel_links"] == 2
    assert "parallel_links" not in _edge(topology, "NL", "BE")
    # missing coordinates: the default length, reported per link
    assert _edge(topology, "PL", "UA") == {"length_km": 50.0, "source": "default"}
    changes = "\n".join(topology.adjustments)
    assert "link PL-UA: no coordinates at UA, default_length_km 50 km" in changes
    assert "link RO-MD: no coordinates at MD, default_length_km 50 km" in changes
    assert "link BG-RO: 2 parallel fibres merged into one QKD link" in changes
    assert "component largest: kept 16 of 17 nodes (2 parts); dropped 1: TR" in changes


def test_max_link_km_splits_long_links_into_trusted_repeater_chains() -> None:
    plain = _load("geant_like.gml", default_length_km=50.0, component="largest")
    split = _load("geant_like.gml", default_length_km=50.0, component="largest", max_link_km=80)
    assert split.summary()["max_link_km"] <= 80.0
    assert math.isclose(split.total_length_km, plain.total_length_km, rel_tol=1e-12)
    de_il_km = great_circle_km(50.11667, 8.68333, 31.5, 34.75)
    hops = math.ceil(de_il_km / 80.0)
    chain = [n for n in split.labels if n.startswith("DE~IL/")]
    assert len(chain) == hops - 1
    path = split.shortest_paths("DE", "IL")[0]
    assert len(path) == hops + 1
    assert math.isclose(split.path_length_km(path), de_il_km, rel_tol=1e-12)
    repeater = split.graph.nodes[split.index("DE~IL/1")]
    assert repeater["role"] == "trusted" and repeater["approximate"] is True
    assert repeater["inserted"] == f"repeater 1 of {hops - 1} on DE-IL"
    assert 31.5 < repeater["lat_deg"] < 50.11667  # on the great circle between the ends
    added = split.n_nodes - plain.n_nodes
    assert split.summary()["inserted_nodes"] == added
    assert any(f"{added} trusted repeater node(s) added" in a for a in split.adjustments)
    assert any(a.startswith("link DE-IL: ") and f"{hops} hops" in a for a in split.adjustments)
    # the original nodes keep their indices
    assert split.labels[: plain.n_nodes] == plain.labels


def test_co_located_pops_get_the_metro_length_and_repeated_labels_stay_apart() -> None:
    topology = _load("metro_colocated.gml")
    link = _edge(topology, "NTNU Hovedbygget", "NTNU Realfagbygget")
    assert link == {"length_km": 1.0, "source": "co-located"}
    assert "UiO [5]" in topology.labels  # the second "UiO"
    assert _edge(topology, "UiO", "UiO [5]")["parallel_links"] == 2
    assert any("ends at identical coordinates" in a for a in topology.adjustments)
    longer = _load("metro_colocated.gml", co_located_km=2.5)
    assert _edge(longer, "NTNU Hovedbygget", "UNINETT Teknobyen")["length_km"] == 2.5


def test_parts_without_coordinates_keep_a_named_component() -> None:
    with pytest.raises(TopologyError, match="disconnected \\(3 parts\\)"):
        _load("parts_no_coordinates.gml", default_length_km=40.0)
    largest = _load("parts_no_coordinates.gml", default_length_km=40.0, component="largest")
    assert sorted(largest.labels) == ["4", "Amsterdam", "Frankfurt", "London", "Lyon", "Paris"]
    named = _load("parts_no_coordinates.gml", default_length_km=40.0, component="Varna")
    assert named.labels == ["Varna", "Novorossiysk"]
    with pytest.raises(TopologyError, match="component 'Atlantis': no node has that label"):
        _load("parts_no_coordinates.gml", default_length_km=40.0, component="Atlantis")


def test_graphml_parallel_links_merge_or_stay_parallel() -> None:
    merged = _load("parallel_links.graphml")
    assert (merged.n_nodes, merged.n_links) == (4, 4)
    assert _edge(merged, "Evere", "Vilvoorde")["parallel_links"] == 4
    kept = _load("parallel_links.graphml", parallel_links="keep")
    # 3 extra Evere-Vilvoorde fibres and 1 extra Gent1-Gent2: one midpoint node each
    assert (kept.n_nodes, kept.n_links) == (8, 12)
    evere, vilvoorde = kept.index("Evere"), kept.index("Vilvoorde")
    routes = kept.node_disjoint_paths(evere, vilvoorde, k=10)
    direct = great_circle_km(50.86667, 4.4, 50.92814, 4.42938)
    assert len(routes) == 4 + 1  # the direct link, three parallels, and round via Gent
    for route in routes[:4]:
        assert math.isclose(kept.path_length_km(route), direct, rel_tol=1e-9)
    assert sum("parallel fibre kept" in a for a in kept.adjustments) == 4


def test_adjusted_topologies_round_trip_through_graphml_and_gml(tmp_path: Path) -> None:
    topology = _load("geant_like.gml", default_length_km=50.0, component="largest", max_link_km=300)
    for suffix in (".graphml", ".gml"):
        path = write_topology(topology, tmp_path / f"copy{suffix}")
        back = load_topology(path)
        assert back.labels == topology.labels
        assert sorted(back.graph.edges(data=True)) == sorted(topology.graph.edges(data=True))
        assert [dict(back.graph.nodes[i]) for i in range(back.n_nodes)] == [
            dict(topology.graph.nodes[i]) for i in range(topology.n_nodes)
        ]


def test_options_that_make_no_sense_are_one_line_errors() -> None:
    for options, field in (
        ({"max_link_km": 0.0}, "max_link_km"),
        ({"co_located_km": -1.0}, "co_located_km"),
        ({"parallel_links": "sum"}, "parallel_links"),
        ({"max_nodes": 1}, "max_nodes"),
    ):
        with pytest.raises(TopologyError, match=field):
            _load("metro_colocated.gml", **options)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(3, 40),
    max_link_km=st.floats(5.0, 200.0, allow_nan=False),
)
def test_repeater_chains_keep_the_fibre_and_bound_every_hop(
    seed: int, n: int, max_link_km: float
) -> None:
    plain = load_topology(f"rgg:n={n},seed={seed}")
    split = split_long_links(plain, max_link_km)
    hops = {
        (a, b): math.ceil(length / max_link_km)
        for a, b, length in plain.graph.edges(data="length_km")
    }
    assert split.n_nodes == plain.n_nodes + sum(h - 1 for h in hops.values())
    assert split.n_links == sum(hops.values())
    assert max(length for _, _, length in split.graph.edges(data="length_km")) <= max_link_km
    assert math.isclose(split.total_length_km, plain.total_length_km, rel_tol=1e-9)
    for (a, b), count in hops.items():
        if count > 1:  # the chain replaces the link: same length end to end
            route = nx.shortest_path(split.graph, a, b, weight="length_km")
            assert len(route) - 1 <= count


def test_scenario_topology_options_are_validated_with_their_field_names() -> None:
    from bridge.scenario.config import ScenarioError, parse_scenario

    for options, field in (
        ({"max_link_km": -1}, "topology_options.max_link_km"),
        ({"parallel_links": "sum"}, "topology_options.parallel_links"),
        ({"component": ""}, "topology_options.component"),
        ({"max_nodes": 1}, "topology_options.max_nodes"),
        ({"max_link": 80}, "topology_options.max_link"),
    ):
        with pytest.raises(ScenarioError, match=field):
            parse_scenario({"topology": "x", "topology_options": options})
    config = parse_scenario({"topology": "x", "topology_options": {"max_link_km": 80}})
    assert config.topology_options.to_options(50.0) == TopologyOptions(
        default_length_km=50.0, max_link_km=80.0
    )
