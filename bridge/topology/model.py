"""`QkdTopology`: a validated, read-only QKD network graph and the path helpers the model needs.

Why frozen: every reader validates once (connected, no self-loops, positive lengths, nodes
0..n-1) and the scenario builder relies on that; a graph that could be edited afterwards could
silently lose those properties. `nx.Graph(topology.graph)` gives an editable copy.

Paths are tuples of node indices. Lengths are `length_km` sums.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from bridge.topology.errors import TopologyError

NodeRef = int | str  # a node index, or its label

#: Values of the edge attribute `source`: where a link's length came from.
#: "co-located": its ends share coordinates, so it is a metro link of `co_located_km`.
LENGTH_SOURCES = ("given", "great-circle", "euclidean", "default", "co-located")
#: Values of the node attribute `role`.
ROLES = ("trusted", "relay")
#: Values of the optional edge attribute `protocol`.
PROTOCOLS = ("bb84-decoy", "mdi")


@dataclass(frozen=True)
class QkdTopology:
    """A QKD network: an undirected, connected `networkx.Graph` on nodes 0..n-1.

    Node attributes: `label` (str, unique), `source_id` (the node's id in the file it came
    from), `role` ("trusted" | "relay"), optional `lat_deg`/`lon_deg` or `x_km`/`y_km`, `ref`,
    `approximate`. Edge attributes: `length_km` (> 0), `source` (one of LENGTH_SOURCES), optional
    `attenuation_db_per_km`, `protocol`, `ref`, `approximate`, `weight`.
    """

    graph: nx.Graph
    name: str
    citation: str = ""
    notes: tuple[str, ...] = ()
    origin: str = ""  # the path, built-in name or synthetic spec it was loaded from
    format: str = ""  # gml, graphml, inet, orbis, rocketfuel, yaml, builtin, synthetic
    #: What loading changed, one line each: lengths filled in per link, parallel links merged,
    #: nodes dropped with other components, repeaters inserted (see `bridge.topology.options`).
    adjustments: tuple[str, ...] = ()
    _labels: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        labels = {str(data["label"]): node for node, data in self.graph.nodes(data=True)}
        object.__setattr__(self, "_labels", labels)

    # sizes -------------------------------------------------------------------------------
    @property
    def n_nodes(self) -> int:
        return self.graph.number_of_nodes()

    @property
    def n_links(self) -> int:
        return self.graph.number_of_edges()

    @property
    def total_length_km(self) -> float:
        """Total fibre: the sum of every link's length_km."""
        return math.fsum(length for _, _, length in self.graph.edges(data="length_km"))

    @property
    def labels(self) -> list[str]:
        return [str(self.graph.nodes[i]["label"]) for i in range(self.n_nodes)]

    def index(self, ref: NodeRef) -> int:
        """A node's index from its index or label; TopologyError naming the reference if absent."""
        if isinstance(ref, bool):
            raise TopologyError(f"{self.name}: node reference {ref!r} is not an index or label")
        if isinstance(ref, int):
            if 0 <= ref < self.n_nodes:
                return ref
            raise TopologyError(f"{self.name}: no node {ref} (nodes are 0..{self.n_nodes - 1})")
        if ref in self._labels:
            return self._labels[ref]
        raise TopologyError(f"{self.name}: no node labelled {ref!r}")

    def summary(self) -> dict[str, Any]:
        """Name, counts, total fibre and citation (what `qkdnet topologies` prints)."""
        lengths = [length for _, _, length in self.graph.edges(data="length_km")]
        return {
            "name": self.name,
            "nodes": self.n_nodes,
            "links": self.n_links,
            "relay_nodes": sum(1 for _, r in self.graph.nodes(data="role") if r == "relay"),
            "inserted_nodes": sum(1 for _, why in self.graph.nodes(data="inserted") if why),
            "total_length_km": self.total_length_km,
            "min_link_km": min(lengths),
            "max_link_km": max(lengths),
            "citation": self.citation,
            "format": self.format,
            "origin": self.origin,
        }

    # paths -------------------------------------------------------------------------------
    def path_length_km(self, path: Sequence[int]) -> float:
        """Fibre length along a path of node indices."""
        return math.fsum(self.graph.edges[a, b]["length_km"] for a, b in itertools.pairwise(path))

    def shortest_paths(self, src: NodeRef, dst: NodeRef, k: int = 1) -> list[tuple[int, ...]]:
        """Up to k loop-free paths from src to dst, shortest fibre first (Yen's algorithm)."""
        a, b = self._ends(src, dst, k)
        paths = nx.shortest_simple_paths(self.graph, a, b, weight="length_km")
        return [tuple(p) for p in itertools.islice(paths, k)]

    def node_disjoint_paths(self, src: NodeRef, dst: NodeRef, k: int) -> list[tuple[int, ...]]:
        """Up to k paths sharing no node but their ends, of least total fibre, shortest first.

        Why min-cost flow rather than "take the shortest, delete it, repeat": the greedy method
        can block itself (the shortest path may use the only node two disjoint routes need) and
        finds fewer or longer routes. Splitting every inner node into an in/out pair of
        capacity 1 and sending the most flow up to k at least cost (Suurballe-Tarjan, solved with
        networkx's network simplex on lengths in integer metres) gives the maximum number of
        node-disjoint routes, up to k, with the least total length among such sets.
        """
        a, b = self._ends(src, dst, k)
        flow_graph = _split_graph(self.graph, a, b)
        count = min(k, _max_disjoint(flow_graph, a, b))
        if count == 0:
            return []
        flow_graph.nodes[("out", a)]["demand"] = -count
        flow_graph.nodes[("in", b)]["demand"] = count
        flow = nx.min_cost_flow(flow_graph)
        paths = _decompose(flow, a, b, count)
        return sorted(paths, key=lambda p: (self.path_length_km(p), p))

    def _ends(self, src: NodeRef, dst: NodeRef, k: int) -> tuple[int, int]:
        a, b = self.index(src), self.index(dst)
        if a == b:
            raise TopologyError(f"{self.name}: a path needs two different nodes, got {a} twice")
        if k < 1:
            raise TopologyError(f"{self.name}: k must be at least 1, got {k}")
        return a, b


def _split_graph(graph: nx.Graph, src: int, dst: int) -> nx.DiGraph:
    """Each node v becomes ("in", v) -> ("out", v) with capacity 1 (unbounded at the ends)."""
    flow = nx.DiGraph()
    for v in graph.nodes:
        capacity = graph.number_of_nodes() if v in (src, dst) else 1
        flow.add_edge(("in", v), ("out", v), capacity=capacity, weight=0)
    for u, v, length in graph.edges(data="length_km"):
        metres = max(1, round(length * 1000))
        flow.add_edge(("out", u), ("in", v), capacity=1, weight=metres)
        flow.add_edge(("out", v), ("in", u), capacity=1, weight=metres)
    return flow


def _max_disjoint(flow_graph: nx.DiGraph, src: int, dst: int) -> int:
    value, _ = nx.maximum_flow(flow_graph, ("out", src), ("in", dst))
    return int(value)


def _decompose(flow: dict, src: int, dst: int, count: int) -> list[tuple[int, ...]]:
    """Follow unit flows from src to dst; each walk is one node-disjoint path."""
    remaining = {u: {v: f for v, f in out.items() if f > 0} for u, out in flow.items()}
    paths = []
    for _ in range(count):
        path, node = [src], ("out", src)
        while node != ("in", dst):
            nxt = min(remaining[node])  # deterministic choice among flow-carrying arcs
            remaining[node][nxt] -= 1
            if remaining[node][nxt] == 0:
                del remaining[node][nxt]
            if nxt[0] == "in" and nxt[1] != dst:
                path.append(nxt[1])
                nxt = ("out", nxt[1])
                remaining[("in", nxt[1])].pop(nxt, None)
            node = nxt
        path.append(dst)
        paths.append(tuple(path))
    return paths
