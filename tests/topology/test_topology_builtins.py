"""The built-in networks against the numbers their papers give.

Sources (each data file's header says which values are taken from them and which are ours):
 * SECOQC Vienna: M. Peev et al., New J. Phys. 11, 075001 (2009) - 6 nodes, 8 links of 6 to
   85 km; IEEE Spectrum (Oct 2008): eight links between 6 and 82 km, about 200 km in all.
 * Tokyo QKD Network: M. Sasaki et al., Opt. Express 19, 10387 (2011) - Koganei, Otemachi,
   Hakusan, Hongo; Koganei-Otemachi 45 km (~0.3 dB/km), Otemachi-Hakusan 12 km and
   Otemachi-Hongo 13 km (~0.5 dB/km).
 * SwissQuantum: D. Stucki et al., New J. Phys. 13, 123001 (2011) - 3 nodes (Unige, CERN,
   hepia), 3 links in a triangle.
 * Beijing-Shanghai: Y.-A. Chen et al., Nature 589, 214 (2021) - over 2,000 km through Beijing,
   Jinan, Hefei and Shanghai with 32 trusted relays.
"""

from __future__ import annotations

import networkx as nx
import pytest

from bridge.topology import builtin_names, load_topology
from bridge.topology.geo import great_circle_km


def _lengths(name: str) -> dict[frozenset[str], float]:
    topology = load_topology(name)
    labels = topology.labels
    return {
        frozenset((labels[a], labels[b])): length
        for a, b, length in topology.graph.edges(data="length_km")
    }


def test_the_four_networks_are_built_in() -> None:
    assert builtin_names() == ["secoqc-vienna", "tokyo-qkd", "swissquantum", "beijing-shanghai"]


@pytest.mark.parametrize("spelling", ["SECOQC-Vienna", "secoqc", "Vienna", "secoqc_vienna"])
def test_names_are_case_insensitive_with_aliases(spelling: str) -> None:
    assert load_topology(spelling).name == "secoqc-vienna"


def test_secoqc_vienna_counts_and_length_range() -> None:
    """Peev et al. (2009): six nodes, eight links, 6 to 85 km; St. Poelten on the longest."""
    topology = load_topology("secoqc-vienna")
    assert (topology.n_nodes, topology.n_links) == (6, 8)
    lengths = _lengths("secoqc-vienna")
    assert min(lengths.values()) == 6.0
    assert max(lengths.values()) == 85.0
    assert lengths[frozenset(("BREIT", "STP"))] == 85.0
    assert topology.total_length_km == pytest.approx(200, rel=0.1)  # "approximately 200 km"
    assert nx.node_connectivity(topology.graph) == 1  # St. Poelten hangs on one link
    assert set(topology.labels) == {"SIE", "ERD", "GUD", "FRM", "BREIT", "STP"}


def test_tokyo_lengths_and_losses_from_sasaki_2011() -> None:
    topology = load_topology("tokyo-qkd")
    assert topology.labels == ["Koganei", "Otemachi", "Hakusan", "Hongo"]
    graph, index = topology.graph, topology.index
    for a, b, km, db_per_km in (
        ("Koganei", "Otemachi", 45.0, 0.3),
        ("Otemachi", "Hakusan", 12.0, 0.5),
        ("Otemachi", "Hongo", 13.0, 0.5),
    ):
        edge = graph.edges[index(a), index(b)]
        assert (edge["length_km"], edge["attenuation_db_per_km"]) == (km, db_per_km)
        assert edge["approximate"] is False
    inferred = graph.edges[index("Hakusan"), index("Hongo")]
    assert inferred["length_km"] == 1.0 and inferred["approximate"] is True


def test_swissquantum_is_a_triangle() -> None:
    topology = load_topology("swissquantum")
    assert sorted(topology.labels) == ["CERN", "Unige", "hepia"]
    assert topology.n_links == 3
    assert len(nx.cycle_basis(topology.graph)[0]) == 3
    assert all(topology.graph.edges[e]["approximate"] for e in topology.graph.edges)


def test_beijing_shanghai_backbone_has_32_relays_over_2000_km() -> None:
    topology = load_topology("beijing-shanghai")
    assert topology.n_nodes == 4 + 32
    assert topology.n_links == 35
    assert topology.total_length_km == pytest.approx(2000.0, rel=0.005)
    path = topology.shortest_paths("Beijing", "Shanghai")[0]
    assert [
        topology.labels[i]
        for i in path
        if topology.labels[i] in ("Beijing", "Jinan", "Hefei", "Shanghai")
    ] == ["Beijing", "Jinan", "Hefei", "Shanghai"]
    assert len(path) == 36  # a chain: every relay is on the route
    relays = [d for _, d in topology.graph.nodes(data=True) if "-" in d["label"]]
    assert len(relays) == 32
    assert all(d["role"] == "trusted" and d["approximate"] for d in relays)
    assert all(s == "great-circle" for _, _, s in topology.graph.edges(data="source"))
    # segment hops of about 56-59 km: (great circle / (relays + 1)) x 1.524
    lengths = [x for _, _, x in topology.graph.edges(data="length_km")]
    assert min(lengths) > 55 and max(lengths) < 60


@pytest.mark.parametrize("name", builtin_names())
def test_every_fibre_is_at_least_as_long_as_the_great_circle(name: str) -> None:
    topology = load_topology(name)
    graph = topology.graph
    for a, b, length in graph.edges(data="length_km"):
        ends = graph.nodes[a], graph.nodes[b]
        if all("lat_deg" in e for e in ends):
            crow = great_circle_km(
                ends[0]["lat_deg"], ends[0]["lon_deg"], ends[1]["lat_deg"], ends[1]["lon_deg"]
            )
            assert length >= crow, (name, topology.labels[a], topology.labels[b])


@pytest.mark.parametrize("name", builtin_names())
def test_every_builtin_cites_its_source_and_every_element_says_where_it_is_from(name: str):
    topology = load_topology(name)
    assert topology.citation and topology.notes
    assert all("ref" in d for _, d in topology.graph.nodes(data=True))
    assert all("ref" in d for _, _, d in topology.graph.edges(data=True))
    assert nx.is_connected(topology.graph)
