"""Trusted nodes inserted into links: repeater chains for long fibre, midpoints for kept parallels.

Why: a QKD link carries no key beyond a few hundred km (PLOB bound; GYS hardware stops near
150 km), so a continental network read from a map (GEANT's Netherlands-Israel link) has links
that can never produce key. Real backbones cut such routes into hops between trusted nodes: the
Beijing-Shanghai backbone runs ~2,000 km over 32 trusted relays. `split_long_links` does the same
for every link above `max_link_km`: ``ceil(length / max_link_km)`` equal hops, the repeaters
placed evenly on the great circle (or the plane) between the ends, every one reported.

Inserted nodes are trusted, `approximate` (their sites are not known) and carry `inserted`,
a one-line reason; the hops carry `split_from`, the original link "A-B". Scenario demand
generators skip inserted nodes as endpoints: they are infrastructure, not users.
"""

from __future__ import annotations

import math
from typing import Any

import networkx as nx

from bridge.topology.geo import interpolate_great_circle
from bridge.topology.model import QkdTopology


def insert_chain(
    graph: nx.Graph,
    a: int,
    b: int,
    data: dict[str, Any],
    hops: int,
    why: str,
    labels: set[str],
) -> list[int]:
    """Join a and b by `hops` equal hops through hops-1 new trusted nodes; returns the new nodes.

    The caller removes (or never adds) the direct a-b edge. `labels` holds the labels in use and
    gets the new ones (made unique with "#2", "#3", ... if the name is taken).
    """
    ends = graph.nodes[a], graph.nodes[b]
    name = f"{ends[0]['label']}~{ends[1]['label']}"
    original = f"{ends[0]['label']}-{ends[1]['label']}"
    length = data["length_km"] / hops
    chain = [a]
    for i in range(1, hops):
        node = graph.number_of_nodes()
        base = f"{name}/{i}" if why != "parallel" else name
        label, copy = base, 2
        while label in labels:
            label, copy = f"{base}#{copy}", copy + 1
        labels.add(label)
        attrs: dict[str, Any] = {
            "label": label,
            "source_id": label,
            "role": "trusted",
            "approximate": True,
            "inserted": f"{why} {i} of {hops - 1} on {original}",
        }
        attrs.update(_position(ends[0], ends[1], i / hops))
        graph.add_node(node, **attrs)
        chain.append(node)
    chain.append(b)
    hop_data = {k: v for k, v in data.items() if k != "weight"}
    hop_data.update(length_km=length, split_from=original)
    for u, v in zip(chain, chain[1:], strict=False):
        graph.add_edge(u, v, **hop_data)
    return chain[1:-1]


def _position(a: dict[str, Any], b: dict[str, Any], fraction: float) -> dict[str, float]:
    if all(k in a and k in b for k in ("lat_deg", "lon_deg")):
        lat, lon = interpolate_great_circle(
            a["lat_deg"], a["lon_deg"], b["lat_deg"], b["lon_deg"], fraction
        )
        return {"lat_deg": round(lat, 5), "lon_deg": round(lon, 5)}
    if all(k in a and k in b for k in ("x_km", "y_km")):
        return {
            "x_km": a["x_km"] + fraction * (b["x_km"] - a["x_km"]),
            "y_km": a["y_km"] + fraction * (b["y_km"] - a["y_km"]),
        }
    return {}


def split_long_links(topology: QkdTopology, max_link_km: float | None) -> QkdTopology:
    """`topology` with every link longer than `max_link_km` cut into a repeater chain.

    Same topology back when nothing is longer (or `max_link_km` is None). Node numbering: the
    original nodes keep their indices, repeaters follow in link order.
    """
    if max_link_km is None:
        return topology
    long_links = [
        (a, b, data)
        for a, b, data in sorted(topology.graph.edges(data=True))
        if data["length_km"] > max_link_km
    ]
    if not long_links:
        return topology
    graph = nx.Graph(topology.graph)
    labels = set(topology.labels)
    reports = []
    added = 0
    for a, b, data in long_links:
        hops = math.ceil(data["length_km"] / max_link_km)
        graph.remove_edge(a, b)
        new = insert_chain(graph, a, b, dict(data), hops, "repeater", labels)
        added += len(new)
        reports.append(
            f"link {graph.nodes[a]['label']}-{graph.nodes[b]['label']}: "
            f"{data['length_km']:,.1f} km > max_link_km {max_link_km:g}, split into {hops} hops "
            f"of {data['length_km'] / hops:,.1f} km by {len(new)} trusted repeater(s)"
        )
    summary = (
        f"max_link_km {max_link_km:g}: {len(long_links)} link(s) split, {added} trusted "
        "repeater node(s) added"
    )
    return QkdTopology(
        graph=nx.freeze(graph),
        name=topology.name,
        citation=topology.citation,
        notes=topology.notes,
        origin=topology.origin,
        format=topology.format,
        adjustments=(*topology.adjustments, summary, *reports),
    )
