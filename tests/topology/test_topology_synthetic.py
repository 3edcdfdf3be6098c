"""Synthetic generators: same spec, same graph; connected; lengths from the geometry."""

from __future__ import annotations

import math

import networkx as nx
import pytest

from bridge.topology import load_topology
from bridge.topology.synthetic import parse_spec


def _fingerprint(topology) -> tuple:
    return (
        tuple(topology.graph.nodes(data=True)),
        tuple(sorted(topology.graph.edges(data=True))),
    )


@pytest.mark.parametrize("spec", ["waxman:n=300,seed=7", "rgg:n=300,seed=7"])
def test_same_spec_same_graph_bit_for_bit(spec: str) -> None:
    assert _fingerprint(load_topology(spec)) == _fingerprint(load_topology(spec))


@pytest.mark.parametrize("model", ["waxman", "rgg"])
def test_different_seeds_give_different_graphs(model: str) -> None:
    a = load_topology(f"{model}:n=200,seed=1")
    b = load_topology(f"{model}:n=200,seed=2")
    assert _fingerprint(a) != _fingerprint(b)


def test_seed_argument_is_used_when_the_spec_has_none() -> None:
    assert _fingerprint(load_topology("rgg:n=100", seed=5)) == _fingerprint(
        load_topology("rgg:n=100,seed=5")
    )
    assert load_topology("rgg:n=100,seed=5", seed=9).name.startswith("rgg:n=100,seed=5,")


@pytest.mark.parametrize("model", ["waxman", "rgg"])
def test_thousand_nodes_connected_with_euclidean_lengths(model: str) -> None:
    topology = load_topology(f"{model}:n=1000,seed=3")
    graph = topology.graph
    assert topology.n_nodes == 1000
    assert nx.is_connected(graph)
    assert sorted(graph.nodes) == list(range(1000))
    for a, b, data in graph.edges(data=True):
        na, nb = graph.nodes[a], graph.nodes[b]
        assert data["source"] == "euclidean"
        assert data["length_km"] == pytest.approx(
            math.hypot(na["x_km"] - nb["x_km"], na["y_km"] - nb["y_km"]), rel=1e-12
        )
    side = 20 * math.sqrt(1000)
    assert all(0 <= d["x_km"] <= side and 0 <= d["y_km"] <= side for _, d in graph.nodes(data=True))


def test_waxman_mean_degree_is_calibrated() -> None:
    """beta is chosen so the expected mean degree is `degree`; 1000 nodes land close to it."""
    for degree in (3, 6):
        topology = load_topology(f"waxman:n=1000,seed=11,degree={degree}")
        mean_degree = 2 * topology.n_links / topology.n_nodes
        assert mean_degree == pytest.approx(degree, rel=0.1)


def test_waxman_links_are_mostly_local() -> None:
    """alpha defaults to 30 km / L: the typical link is tens of km, not the square's size."""
    topology = load_topology("waxman:n=1000,seed=3")
    lengths = sorted(x for _, _, x in topology.graph.edges(data="length_km"))
    assert lengths[len(lengths) // 2] < 80.0


def test_rgg_links_are_within_the_radius_except_the_joining_ones() -> None:
    topology = load_topology("rgg:n=400,seed=2,radius_km=30")
    long_links = [x for _, _, x in topology.graph.edges(data="length_km") if x > 30.0]
    joined = next((n for n in topology.notes if "added" in n), "0 link(s)")
    assert len(long_links) <= int(joined.split()[0])


def test_spec_defaults() -> None:
    model, params = parse_spec("rgg:n=100,seed=1")
    assert model == "rgg"
    assert params["side_km"] == pytest.approx(200.0)
    assert params["radius_km"] == pytest.approx(200.0 * math.sqrt(6 / (math.pi * 100)))
    _, params = parse_spec("WAXMAN: n=50 , degree=5")
    assert params == {"n": 50, "degree": 5.0, "seed": 0, "side_km": pytest.approx(20 * 50**0.5)}
