"""Every reader on the hand-written sample files in tests/topology/data."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import networkx as nx
import pytest

from bridge.topology import TopologyWarning, load_topology
from bridge.topology.detect import detect_format
from bridge.topology.geo import great_circle_km

DATA = Path(__file__).parent / "data"


def _edge(topology, a: str, b: str) -> dict:
    return topology.graph.edges[topology.index(a), topology.index(b)]


def test_zoo_style_gml_takes_lengths_from_latitude_and_longitude() -> None:
    topology = load_topology(DATA / "zoo_style.gml")
    assert topology.format == "gml"
    assert topology.name == "ZooStyleAustria"
    assert (topology.n_nodes, topology.n_links) == (7, 8)
    assert topology.labels == [
        "Vienna",
        "St. Polten",
        "Linz",
        "Salzburg",
        "Innsbruck",
        "Graz",
        "Klagenfurt",
    ]
    vienna = topology.graph.nodes[topology.index("Vienna")]
    assert (vienna["lat_deg"], vienna["lon_deg"]) == (48.20849, 16.37208)
    link = _edge(topology, "Vienna", "St. Polten")
    assert link["source"] == "great-circle"
    assert link["length_km"] == pytest.approx(great_circle_km(48.20849, 16.37208, 48.2, 15.63333))
    assert 54 < link["length_km"] < 56  # Vienna - St. Poelten is about 55 km as the crow flies
    assert all(r == "trusted" for _, r in topology.graph.nodes(data="role"))


def test_graphml_mixes_given_derived_and_default_lengths() -> None:
    with pytest.warns(TopologyWarning, match=r"1 link\(s\).*default_length_km=30 km \(edge c-d\)"):
        topology = load_topology(DATA / "mixed.graphml", default_length_km=30.0)
    assert topology.format == "graphml"
    assert topology.labels == ["Alice", "Relay", "Bob", "Carol", "Dave"]
    assert [topology.graph.nodes[i]["source_id"] for i in range(5)] == ["a", "r", "b", "c", "d"]
    assert topology.graph.nodes[topology.index("Relay")]["role"] == "relay"
    assert _edge(topology, "Alice", "Relay") == {
        "length_km": 40.5,
        "protocol": "mdi",
        "source": "given",
    }
    zurich_bern = _edge(topology, "Alice", "Bob")
    assert zurich_bern["source"] == "great-circle"
    assert zurich_bern["attenuation_db_per_km"] == 0.2
    assert zurich_bern["length_km"] == pytest.approx(95.5, abs=0.5)  # Zurich - Bern
    assert _edge(topology, "Bob", "Carol")["length_km"] == 150.0
    assert _edge(topology, "Carol", "Dave") == {"length_km": 30.0, "source": "default"}


def test_user_yaml_with_route_factor_and_plane_coordinates() -> None:
    topology = load_topology(DATA / "user_topology.yaml")
    assert topology.format == "yaml"
    assert topology.name == "campus"
    ab = _edge(topology, "Lab A", "Lab B")
    assert (ab["length_km"], ab["source"]) == (pytest.approx(5.0 * 1.2), "euclidean")
    assert _edge(topology, "Lab B", "Lab C")["length_km"] == 12.5
    cd = _edge(topology, "Lab C", "Lab D")
    assert cd["source"] == "great-circle"
    assert cd["length_km"] == pytest.approx(great_circle_km(48.2, 16.37, 48.3, 16.37) * 1.2)


def test_inet_keeps_positions_and_weights_but_lengths_come_from_the_default() -> None:
    with pytest.warns(TopologyWarning, match=r"8 link\(s\)"):
        topology = load_topology(DATA / "inet_sample.inet", default_length_km=20.0)
    assert topology.format == "inet"
    assert (topology.n_nodes, topology.n_links) == (6, 8)
    assert topology.labels == ["0", "1", "2", "3", "4", "5"]
    assert topology.graph.nodes[3]["inet_x"] == 1430.0
    assert topology.graph.nodes[3]["inet_y"] == 420.0
    link = topology.graph.edges[3, 0]
    assert link == {"length_km": 20.0, "source": "default", "weight": 1310.0}


def test_orbis_nodes_in_order_of_first_appearance() -> None:
    with pytest.warns(TopologyWarning):
        topology = load_topology(DATA / "orbis_sample.orbis", default_length_km=10.0)
    assert topology.labels == ["1", "2", "3", "4", "5", "6", "7"]
    assert topology.n_links == 9
    assert topology.total_length_km == pytest.approx(90.0)


def test_rocketfuel_maps_lists_each_link_from_both_ends_and_is_merged_silently() -> None:
    with pytest.warns(TopologyWarning) as caught:
        topology = load_topology(DATA / "rocketfuel_maps.cch", default_length_km=15.0)
    assert not any("merged" in str(w.message) for w in caught)
    assert topology.labels == ["101", "102", "103", "104", "105", "106"]
    assert topology.graph.nodes[0]["location"] == "Seattle,+WA"
    assert topology.graph.nodes[5]["location"] == "Reno,+NV"  # an r1 line: read, as ns-3 does
    assert sorted(topology.graph.edges) == [(0, 1), (0, 2), (1, 2), (1, 3), (3, 4), (3, 5)]


def test_rocketfuel_weights_file_is_recognised_by_content() -> None:
    assert detect_format(DATA / "rocketfuel_weights.txt", "w") == "rocketfuel"
    with pytest.warns(TopologyWarning):
        topology = load_topology(DATA / "rocketfuel_weights.txt", default_length_km=15.0)
    assert topology.labels[:2] == ["Seattle,+WA", "Portland,+OR"]
    assert topology.n_links == 5  # the repeated Sacramento-Portland line is the same link
    assert _edge(topology, "Seattle,+WA", "Portland,+OR")["weight"] == 2.5


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("zoo_style.gml", "gml"),
        ("mixed.graphml", "graphml"),
        ("inet_sample.inet", "inet"),
        ("orbis_sample.orbis", "orbis"),
        ("rocketfuel_maps.cch", "rocketfuel"),
        ("user_topology.yaml", "yaml"),
    ],
)
def test_content_sniffing_agrees_with_the_extension(tmp_path: Path, name: str, expected: str):
    renamed = tmp_path / (Path(name).stem + ".txt")
    shutil.copy(DATA / name, renamed)
    assert detect_format(renamed, str(renamed)) == expected
    assert detect_format(DATA / name, name) == expected


def test_format_can_be_forced_by_prefix_or_argument(tmp_path: Path) -> None:
    odd = tmp_path / "links.dat"
    odd.write_text("a b\nb c\nc a\n")
    with pytest.warns(TopologyWarning):
        by_prefix = load_topology(f"orbis:{odd}", default_length_km=5.0)
    with pytest.warns(TopologyWarning):
        by_argument = load_topology(odd, default_length_km=5.0, format="orbis")
    assert by_prefix.labels == by_argument.labels == ["a", "b", "c"]
    assert nx.utils.graphs_equal(by_prefix.graph, by_argument.graph)


def test_repeated_labels_are_made_unique_with_a_warning(tmp_path: Path) -> None:
    gml = tmp_path / "dup.gml"
    gml.write_text(
        'graph [ node [ id 0 label "Paris" Latitude 48.85 Longitude 2.35 ]'
        ' node [ id 1 label "Paris" Latitude 48.86 Longitude 2.30 ]'
        ' node [ id 2 label "Lyon" Latitude 45.76 Longitude 4.84 ]'
        " edge [ source 0 target 1 ] edge [ source 1 target 2 ] ]"
    )
    with pytest.warns(TopologyWarning, match="repeated node label"):
        topology = load_topology(gml)
    assert topology.labels == ["Paris", "Paris [1]", "Lyon"]


def test_co_located_nodes_get_the_metro_length_not_the_default(tmp_path: Path) -> None:
    gml = tmp_path / "colocated.gml"
    gml.write_text(
        "graph [ node [ id 0 Latitude 48.3 Longitude 14.3 ] node [ id 1 Latitude 48.3 "
        "Longitude 14.3 ] node [ id 2 Latitude 47.8 Longitude 13.0 ]"
        " edge [ source 0 target 1 ] edge [ source 1 target 2 ] ]"
    )
    with pytest.warns(TopologyWarning, match=r"1 link\(s\) between PoPs at identical"):
        topology = load_topology(gml, default_length_km=0.5)
    assert topology.graph.edges[0, 1] == {"length_km": 1.0, "source": "co-located"}


def test_directed_multigraph_merges_parallel_links_keeping_the_shortest(tmp_path: Path) -> None:
    gml = tmp_path / "multi.gml"
    gml.write_text(
        "graph [ directed 1 multigraph 1 node [ id 0 ] node [ id 1 ] node [ id 2 ]"
        " edge [ source 0 target 1 length_km 30 ] edge [ source 1 target 0 length_km 30 ]"
        " edge [ source 0 target 1 length_km 20 ] edge [ source 1 target 2 length_km 7 ] ]"
    )
    with pytest.warns(TopologyWarning, match=r"1 parallel link\(s\) merged"):
        topology = load_topology(gml)
    assert topology.n_links == 2
    assert topology.graph.edges[0, 1]["length_km"] == 20.0


def test_graph_is_frozen_and_lengths_are_positive_floats() -> None:
    topology = load_topology(DATA / "zoo_style.gml")
    with pytest.raises(nx.NetworkXError):
        topology.graph.add_edge(0, 4)
    assert all(
        isinstance(x, float) and math.isfinite(x) and x > 0
        for _, _, x in topology.graph.edges(data="length_km")
    )
    assert sorted(topology.graph.nodes) == list(range(topology.n_nodes))
