"""Property: writing a topology (GraphML or GML) and reading it back gives the same topology -
the same graph on the same node indices with equal node, edge and graph attributes."""

from __future__ import annotations

import tempfile
from pathlib import Path

import networkx as nx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.topology import LENGTH_SOURCES, PROTOCOLS, ROLES, load_topology, write_topology
from bridge.topology.assemble import RawEdge, RawGraph, RawNode, assemble

# Text that XML and GML can both hold: letters, digits, punctuation, symbols, spaces.
TEXT = st.text(st.characters(categories=("L", "N", "P", "S", "Zs")), min_size=1, max_size=12)
LABEL = TEXT.map(str.strip).filter(bool)
FINITE = {"allow_nan": False, "allow_infinity": False}


@st.composite
def topologies(draw):
    n = draw(st.integers(2, 10))
    labels = draw(st.lists(LABEL, min_size=n, max_size=n, unique=True))
    ids = draw(st.lists(TEXT, min_size=n, max_size=n, unique=True))
    raw = RawGraph(
        where="generated",
        format="generated",
        name=draw(LABEL),
        citation=draw(st.one_of(st.just(""), TEXT)),
        notes=draw(st.lists(TEXT, max_size=3)),
    )
    for i in range(n):
        attrs = {"label": labels[i], "role": draw(st.sampled_from(ROLES))}
        where = draw(st.sampled_from(("none", "geo", "plane")))
        if where == "geo":
            attrs["lat_deg"] = draw(st.floats(-90, 90, **FINITE))
            attrs["lon_deg"] = draw(st.floats(-180, 180, **FINITE))
        elif where == "plane":
            attrs["x_km"] = draw(st.floats(-1e4, 1e4, **FINITE))
            attrs["y_km"] = draw(st.floats(-1e4, 1e4, **FINITE))
        if draw(st.booleans()):
            attrs["ref"] = draw(TEXT)
        if draw(st.booleans()):
            attrs["approximate"] = draw(st.booleans())
        raw.nodes.append(RawNode(ids[i], f"node {i}", attrs))
    pairs = {(draw(st.integers(0, i - 1)), i) for i in range(1, n)}  # a spanning tree
    extra = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=n))
    pairs |= {(min(a, b), max(a, b)) for a, b in extra if a != b}
    for a, b in sorted(pairs):
        attrs = {
            "length_km": draw(st.floats(1e-3, 1e5, **FINITE)),
            "source": draw(st.sampled_from(LENGTH_SOURCES)),
        }
        if draw(st.booleans()):
            attrs["attenuation_db_per_km"] = draw(st.floats(0, 2, **FINITE))
        if draw(st.booleans()):
            attrs["protocol"] = draw(st.sampled_from(PROTOCOLS))
        if draw(st.booleans()):
            attrs["ref"] = draw(TEXT)
        if draw(st.booleans()):
            attrs["approximate"] = draw(st.booleans())
        if draw(st.booleans()):
            attrs["weight"] = draw(st.floats(0, 1e6, **FINITE))
        raw.edges.append(RawEdge(ids[a], ids[b], f"edge {a}-{b}", attrs))
    return assemble(raw)


def _same(a, b) -> bool:
    return a == b


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(topology=topologies(), suffix=st.sampled_from((".graphml", ".gml")))
def test_write_then_read_gives_the_same_topology(topology, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = write_topology(topology, Path(tmp) / f"net{suffix}")
        back = load_topology(path)
    assert list(back.graph.nodes(data=True)) == list(topology.graph.nodes(data=True))
    assert sorted(back.graph.edges(data=True)) == sorted(topology.graph.edges(data=True))
    assert nx.is_isomorphic(back.graph, topology.graph, node_match=_same, edge_match=_same)
    assert (back.name, back.citation, back.notes) == (
        topology.name,
        topology.citation,
        topology.notes,
    )


def test_a_built_in_network_survives_the_round_trip(tmp_path: Path) -> None:
    original = load_topology("beijing-shanghai")
    for suffix in (".graphml", ".gml"):
        back = load_topology(write_topology(original, tmp_path / f"bs{suffix}"))
        assert list(back.graph.nodes(data=True)) == list(original.graph.nodes(data=True))
        assert sorted(back.graph.edges(data=True)) == sorted(original.graph.edges(data=True))
        assert back.total_length_km == original.total_length_km
