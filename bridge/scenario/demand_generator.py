"""Demands that need no node names: `demands: {pairs: 5, rate_bps: 20000, pick: ..., seed: ...}`.

Why: a scenario's named demands (`src: SIE`) tie it to one network, so the default scenario
could not run on a Topology Zoo file or a synthetic sweep of growing sizes. A generator picks
the endpoint pairs from whatever topology the scenario is given, deterministically:

 * ``random``     - distinct unordered pairs drawn uniformly with numpy's Generator seeded by
                    ``[seed, 0xDE3A]`` (``seed`` defaults to the scenario's seed);
 * ``farthest``   - the pairs with the longest shortest QKD route (fibre km), longest first -
                    the demands that stress relaying most;
 * ``top-degree`` - pairs among the best-connected nodes: nodes ranked by degree (ties: lower
                    index), pairs taken in the order (r0,r1), (r0,r2), (r1,r2), (r0,r3), ... so
                    the fewest top nodes are used - the hubs a real operator serves first.

Endpoints are trusted nodes that were in the file: untrusted relays hold no key and nodes qkdnet
inserted (repeaters, parallel-link midpoints; `inserted` attribute) are infrastructure, not
users. Each pair's src is the lower-ranked end (random: the first drawn).
"""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np

#: Values of `pick`.
PICKS = ("random", "farthest", "top-degree")


def endpoint_candidates(graph: nx.Graph) -> list[int]:
    """Nodes a generated demand may start or end at: trusted, not inserted by qkdnet."""
    return [
        node
        for node, data in sorted(graph.nodes(data=True))
        if data.get("role", "trusted") == "trusted" and not data.get("inserted")
    ]


def available_pairs(graph: nx.Graph) -> int:
    """How many distinct unordered pairs a generator can pick from on `graph`."""
    count = len(endpoint_candidates(graph))
    return count * (count - 1) // 2


def generate_pairs(
    graph: nx.Graph, qkd: nx.Graph, pairs: int, pick: str, seed: int
) -> list[tuple[int, int]]:
    """`pairs` distinct (src, dst) pairs chosen by `pick` (see the module doc).

    `graph` is the topology (node attributes, degrees); `qkd` is the graph of trusted nodes
    joined by QKD links with `length_km` edges (routes for `farthest`). ValueError if the
    topology has fewer pairs than asked.
    """
    nodes = [n for n in endpoint_candidates(graph) if n in qkd]
    total = len(nodes) * (len(nodes) - 1) // 2
    if pairs > total:
        raise ValueError(
            f"asks for {pairs} pairs, the topology has {len(nodes)} endpoint nodes and so "
            f"{total} distinct pairs"
        )
    if pick == "random":
        return _random_pairs(nodes, pairs, seed)
    if pick == "farthest":
        return _farthest_pairs(qkd, nodes, pairs)
    if pick == "top-degree":
        return _top_degree_pairs(graph, nodes, pairs)
    raise ValueError(f"pick must be one of {', '.join(PICKS)}, not {pick!r}")


def _random_pairs(nodes: list[int], pairs: int, seed: int) -> list[tuple[int, int]]:
    rng = np.random.default_rng([seed, 0xDE3A])
    if len(nodes) <= 200:  # few enough to list every pair: an exact draw without replacement
        every = list(itertools.combinations(nodes, 2))
        return [every[int(i)] for i in rng.choice(len(every), size=pairs, replace=False)]
    chosen: list[tuple[int, int]] = []
    seen: set[frozenset[int]] = set()
    while len(chosen) < pairs:
        a, b = (nodes[int(i)] for i in rng.choice(len(nodes), size=2, replace=False))
        if frozenset((a, b)) not in seen:
            seen.add(frozenset((a, b)))
            chosen.append((a, b))
    return chosen


def _farthest_pairs(qkd: nx.Graph, nodes: list[int], pairs: int) -> list[tuple[int, int]]:
    wanted = set(nodes)
    scored = []
    for src in nodes:
        lengths = nx.single_source_dijkstra_path_length(qkd, src, weight="length_km")
        scored.extend(
            (-length, src, dst) for dst, length in lengths.items() if dst in wanted and dst > src
        )
    scored.sort()
    return [(src, dst) for _, src, dst in scored[:pairs]]


def _top_degree_pairs(graph: nx.Graph, nodes: list[int], pairs: int) -> list[tuple[int, int]]:
    ranked = sorted(nodes, key=lambda n: (-graph.degree(n), n))
    order = ((ranked[i], ranked[j]) for j in range(1, len(ranked)) for i in range(j))
    return list(itertools.islice(order, pairs))
