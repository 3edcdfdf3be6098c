"""Path helpers the network model uses: k shortest paths and node-disjoint paths."""

from __future__ import annotations

import itertools

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.topology import TopologyError, load_topology
from bridge.topology.assemble import RawEdge, RawGraph, RawNode, assemble


def _topology(edges: list[tuple[int, int, float]], n: int):
    raw = RawGraph(where="test", format="test", name="test")
    raw.nodes = [RawNode(str(i), f"node {i}", {"label": f"v{i}"}) for i in range(n)]
    raw.edges = [RawEdge(str(a), str(b), f"edge {a}-{b}", {"length_km": w}) for a, b, w in edges]
    return assemble(raw)


def test_k_shortest_paths_on_secoqc_are_ordered_by_length() -> None:
    topology = load_topology("secoqc-vienna")
    paths = topology.shortest_paths("SIE", "STP", k=4)
    lengths = [topology.path_length_km(p) for p in paths]
    assert lengths == sorted(lengths) and len(paths) == 4
    assert [topology.labels[i] for i in paths[0]] == ["SIE", "GUD", "BREIT", "STP"]
    assert lengths[0] == 16.0 + 8.0 + 85.0


def test_node_disjoint_paths_on_secoqc() -> None:
    topology = load_topology("secoqc-vienna")
    paths = topology.node_disjoint_paths("SIE", "BREIT", k=3)
    assert [[topology.labels[i] for i in p] for p in paths] == [
        ["SIE", "GUD", "BREIT"],
        ["SIE", "ERD", "FRM", "BREIT"],
    ]  # SIE has two neighbours, so at most two
    assert topology.node_disjoint_paths("SIE", "STP", k=2) == [(0, 2, 4, 5)]  # STP hangs on one


def test_min_cost_beats_greedy_where_greedy_blocks_itself() -> None:
    """Shortest path 0-1-2-3 uses the nodes both disjoint routes need; greedy finds one route."""
    edges = [(0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.0), (0, 2, 3.0), (1, 3, 3.0)]
    topology = _topology(edges, 4)
    assert topology.node_disjoint_paths(0, 3, k=2) == [(0, 1, 3), (0, 2, 3)]


def test_adjacent_ends_use_the_direct_link_once() -> None:
    topology = _topology([(0, 1, 5.0), (0, 2, 1.0), (2, 1, 1.0)], 3)
    assert topology.node_disjoint_paths(0, 1, k=3) == [(0, 2, 1), (0, 1)]


def test_bad_path_requests() -> None:
    topology = load_topology("swissquantum")
    with pytest.raises(TopologyError, match="no node labelled 'Zurich'"):
        topology.shortest_paths("Unige", "Zurich")
    with pytest.raises(TopologyError, match="two different nodes"):
        topology.node_disjoint_paths("CERN", "CERN", k=2)
    with pytest.raises(TopologyError, match="k must be at least 1"):
        topology.shortest_paths(0, 1, k=0)


@st.composite
def small_graphs(draw):
    n = draw(st.integers(3, 7))
    pairs = draw(
        st.sets(st.sampled_from(list(itertools.combinations(range(n), 2))), min_size=n - 1)
    )
    pairs |= {(i, i + 1) for i in range(n - 1)}  # keep it connected
    return n, [(a, b, draw(st.integers(1, 20)) / 2) for a, b in sorted(pairs)]


@settings(max_examples=60, deadline=None)
@given(graph=small_graphs(), k=st.integers(1, 4))
def test_node_disjoint_paths_are_disjoint_maximal_and_of_least_total_length(graph, k) -> None:
    n, edges = graph
    topology = _topology(edges, n)
    src, dst = 0, n - 1
    paths = topology.node_disjoint_paths(src, dst, k)
    inner = [set(p[1:-1]) for p in paths]
    assert all(not (a & b) for a, b in itertools.combinations(inner, 2))
    assert len({p for p in paths if len(p) == 2}) <= 1
    assert all(nx.is_simple_path(topology.graph, list(p)) for p in paths)
    best_count = min(k, len(list(nx.node_disjoint_paths(topology.graph, src, dst))))
    assert len(paths) == best_count
    # exhaustive: the least total length over every set of best_count disjoint simple paths
    simple = [tuple(p) for p in nx.all_simple_paths(topology.graph, src, dst)]
    best = _least_disjoint_total([topology.path_length_km(p) for p in simple], simple, best_count)
    assert sum(topology.path_length_km(p) for p in paths) == pytest.approx(best)


def _least_disjoint_total(lengths: list[float], simple: list[tuple], count: int) -> float:
    """Least total length of `count` simple paths sharing no inner node (and at most one direct
    edge), by backtracking over the paths that stay disjoint. Why not itertools.combinations:
    a 7-node graph can have ~300 simple paths, ~4.6e8 sets of four (a 12-minute test); keeping
    only disjoint extensions visits a few thousand."""
    best = float("inf")

    def extend(start: int, used: frozenset, direct: bool, total: float, left: int) -> None:
        nonlocal best
        if left == 0:
            best = min(best, total)
            return
        for i in range(start, len(simple)):
            path = simple[i]
            inner = frozenset(path[1:-1])
            if inner & used or (direct and len(path) == 2):
                continue
            extend(i + 1, used | inner, direct or len(path) == 2, total + lengths[i], left - 1)

    extend(0, frozenset(), False, 0.0, count)
    return best
