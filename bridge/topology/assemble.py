"""Turn what a reader found (`RawGraph`) into a validated `QkdTopology`, or raise.

Why one place: every format (GML, GraphML, Inet, Orbis, Rocketfuel, the built-in YAML, the
synthetic generators) ends here, so the rules - and the wording of the errors - are the same
whatever the input: node ids become 0..n-1 in file order, each link gets a `length_km` (given;
else the great-circle or plane distance of its ends' coordinates; else the default, with a
warning), and the graph must be connected, loop-free and have positive lengths. The first
problem raises a TopologyError naming the file and the line or element; nothing is returned
half-built.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from bridge.topology.errors import TopologyError, TopologyWarning
from bridge.topology.geo import euclidean_km, great_circle_km
from bridge.topology.model import LENGTH_SOURCES, PROTOCOLS, ROLES, QkdTopology

#: Node attributes a topology keeps, with their types (anything else in a file is dropped).
NODE_ATTRIBUTES: dict[str, type] = {
    "label": str,
    "source_id": str,
    "role": str,
    "lat_deg": float,
    "lon_deg": float,
    "x_km": float,
    "y_km": float,
    "ref": str,
    "approximate": bool,
    "location": str,  # Rocketfuel maps: the router's city
    "inet_x": float,  # Inet: position in Inet's unitless plane
    "inet_y": float,
}
#: Edge attributes a topology keeps, with their types.
EDGE_ATTRIBUTES: dict[str, type] = {
    "length_km": float,
    "source": str,
    "attenuation_db_per_km": float,
    "protocol": str,
    "ref": str,
    "approximate": bool,
    "weight": float,  # Inet / Rocketfuel link weight (not a length)
}


@dataclass
class RawNode:
    """A node as a reader found it; `element` says where (e.g. "line 4", "node n3")."""

    source_id: str
    element: str
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass
class RawEdge:
    """A link between two source ids as a reader found it."""

    u: str
    v: str
    element: str
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass
class RawGraph:
    """Everything a reader found, before validation. `where` prefixes every error message."""

    where: str
    format: str
    nodes: list[RawNode] = field(default_factory=list)
    edges: list[RawEdge] = field(default_factory=list)
    name: str = ""
    citation: str = ""
    notes: list[str] = field(default_factory=list)
    route_factor: float = 1.0  # multiplies lengths derived from coordinates
    origin: str = ""


def assemble(raw: RawGraph, default_length_km: float | None = None) -> QkdTopology:
    """Validate `raw` and build the topology (see module doc); TopologyError on the first fault."""
    where = raw.where
    default = _check_default(where, default_length_km)
    if not raw.nodes:
        raise TopologyError(f"{where}: the topology has no nodes")
    if not raw.edges:
        raise TopologyError(f"{where}: the topology has no links")
    index: dict[str, int] = {}
    node_data: list[dict[str, Any]] = []
    for node in raw.nodes:
        if node.source_id in index:
            raise TopologyError(f"{where}: {node.element}: node id {node.source_id!r} repeats")
        index[node.source_id] = len(node_data)
        node_data.append(_node_attributes(where, node))
    _unique_labels(where, node_data)

    edges: dict[frozenset[int], tuple[int, int, dict[str, Any], str]] = {}
    used_default: set[str] = set()  # elements whose length is default_length_km
    merged = 0
    seen: set[tuple[int, int]] = set()
    for edge in raw.edges:
        for end in (edge.u, edge.v):
            if end not in index:
                raise TopologyError(f"{where}: {edge.element}: unknown node {end!r}")
        a, b = index[edge.u], index[edge.v]
        if a == b:
            raise TopologyError(f"{where}: {edge.element}: self-loop on node {edge.u!r}")
        data = _edge_attributes(where, edge)
        if "length_km" not in data:
            length, source = _derived_length(raw, node_data[a], node_data[b])
            if length is None:
                if default is None:
                    why = (
                        "its ends are at the same coordinates"
                        if source == "co-located"
                        else "no coordinates at both ends"
                    )
                    raise TopologyError(
                        f"{where}: {edge.element}: no length_km, {why} and no default_length_km"
                    )
                length, source = default, "default"
                used_default.add(edge.element)
            data["length_km"] = length
            data["source"] = source
        key = frozenset((a, b))
        if key in edges:
            # b-a after a-b is the other direction of one link (directed files, Rocketfuel maps
            # list both), merged silently; a-b twice is a parallel link, merged with a warning.
            merged += (a, b) in seen
            seen.add((a, b))
            if data["length_km"] < edges[key][2]["length_km"]:
                edges[key] = (edges[key][0], edges[key][1], data, edge.element)
            continue
        edges[key] = (a, b, data, edge.element)
        seen.add((a, b))

    defaulted = [element for _, _, _, element in edges.values() if element in used_default]
    if defaulted:
        shown = ", ".join(defaulted[:3]) + (", ..." if len(defaulted) > 3 else "")
        warnings.warn(
            f"{where}: {len(defaulted)} link(s) without length_km or coordinates use "
            f"default_length_km={default:g} km ({shown})",
            TopologyWarning,
            stacklevel=3,
        )
    if merged:
        warnings.warn(
            f"{where}: merged {merged} parallel link(s) into one link per node pair (kept the "
            "shortest)",
            TopologyWarning,
            stacklevel=3,
        )

    graph = nx.Graph(name=raw.name or where, citation=raw.citation, notes=list(raw.notes))
    graph.add_nodes_from(enumerate(node_data))
    graph.add_edges_from((a, b, data) for a, b, data, _ in edges.values())
    _check_connected(where, graph)
    return QkdTopology(
        graph=nx.freeze(graph),
        name=raw.name or where,
        citation=raw.citation,
        notes=tuple(raw.notes),
        origin=raw.origin or where,
        format=raw.format,
    )


def _check_default(where: str, default_length_km: float | None) -> float | None:
    if default_length_km is None:
        return None
    value = _number(default_length_km)
    if value is None or not value > 0:
        raise TopologyError(
            f"{where}: default_length_km must be a positive number, got {default_length_km!r}"
        )
    return value


def _number(value: Any) -> float | None:
    """A finite float from an int/float (not bool), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _typed(where: str, element: str, name: str, value: Any, kind: type) -> Any:
    if kind is float:
        number = _number(value)
        if number is None:
            raise TopologyError(f"{where}: {element}: {name} {value!r} is not a finite number")
        return number
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):  # GML has no booleans
            return bool(value)
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise TopologyError(f"{where}: {element}: {name} {value!r} is not true/false")
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        return str(value)
    raise TopologyError(f"{where}: {element}: {name} {value!r} is not text")


def _known_attributes(
    where: str, element: str, attrs: dict[str, Any], schema: dict[str, type]
) -> dict[str, Any]:
    """The attributes `schema` knows, typed by it (unknown and empty ones are dropped)."""
    return {
        name: _typed(where, element, name, value, schema[name])
        for name, value in attrs.items()
        if value is not None and name in schema
    }


def _node_attributes(where: str, node: RawNode) -> dict[str, Any]:
    data = _known_attributes(where, node.element, node.attrs, NODE_ATTRIBUTES)
    data["source_id"] = data.get("source_id", node.source_id)
    label = data.get("label", "").strip()
    data["label"] = label or node.source_id
    role = data.setdefault("role", "trusted")
    if role not in ROLES:
        raise TopologyError(
            f"{where}: {node.element}: role {role!r} is not one of {', '.join(ROLES)}"
        )
    for lat_or_lon, limit in (("lat_deg", 90.0), ("lon_deg", 180.0)):
        if lat_or_lon in data and abs(data[lat_or_lon]) > limit:
            raise TopologyError(
                f"{where}: {node.element}: {lat_or_lon} {data[lat_or_lon]} is outside "
                f"[-{limit:g}, {limit:g}]"
            )
    for first, second in (("lat_deg", "lon_deg"), ("x_km", "y_km")):
        if (first in data) != (second in data):
            given, missing = (first, second) if first in data else (second, first)
            raise TopologyError(f"{where}: {node.element}: has {given} but no {missing}")
    return data


def _unique_labels(where: str, node_data: list[dict[str, Any]]) -> None:
    """Labels name nodes in scenarios, so they must be unique: repeats get their id appended."""
    seen: set[str] = set()
    renamed = []
    for data in node_data:
        label = data["label"]
        if label in seen:
            new = f"{label} [{data['source_id']}]"
            suffix = 2
            while new in seen:
                new, suffix = f"{label} [{data['source_id']}#{suffix}]", suffix + 1
            renamed.append(f"{label!r} -> {new!r}")
            data["label"] = label = new
        seen.add(label)
    if renamed:
        shown = ", ".join(renamed[:3]) + (", ..." if len(renamed) > 3 else "")
        warnings.warn(
            f"{where}: {len(renamed)} repeated node label(s) made unique ({shown})",
            TopologyWarning,
            stacklevel=4,
        )


def _edge_attributes(where: str, edge: RawEdge) -> dict[str, Any]:
    data = _known_attributes(where, edge.element, edge.attrs, EDGE_ATTRIBUTES)
    if "length_km" in data:
        length = data["length_km"]
        if length < 0:
            raise TopologyError(f"{where}: {edge.element}: negative length_km {length}")
        if length == 0:
            raise TopologyError(f"{where}: {edge.element}: length_km is 0 (links need > 0)")
        source = data.setdefault("source", "given")
        if source not in LENGTH_SOURCES:
            raise TopologyError(
                f"{where}: {edge.element}: source {source!r} is not one of "
                f"{', '.join(LENGTH_SOURCES)}"
            )
    else:
        data.pop("source", None)  # provenance without a length means nothing
    attenuation = data.get("attenuation_db_per_km")
    if attenuation is not None and attenuation < 0:
        raise TopologyError(
            f"{where}: {edge.element}: negative attenuation_db_per_km {attenuation}"
        )
    protocol = data.get("protocol")
    if protocol is not None and protocol not in PROTOCOLS:
        raise TopologyError(
            f"{where}: {edge.element}: protocol {protocol!r} is not one of {', '.join(PROTOCOLS)}"
        )
    return data


def _derived_length(
    raw: RawGraph, a: dict[str, Any], b: dict[str, Any]
) -> tuple[float | None, str]:
    """Great-circle (x route factor) or plane distance of the ends.

    None with reason "co-located" when the ends share coordinates, "" when they lack them.
    """
    reason = ""
    if all(k in a and k in b for k in ("lat_deg", "lon_deg")):
        km = great_circle_km(a["lat_deg"], a["lon_deg"], b["lat_deg"], b["lon_deg"])
        if km > 0:
            return km * raw.route_factor, "great-circle"
        reason = "co-located"
    if all(k in a and k in b for k in ("x_km", "y_km")):
        km = euclidean_km(a["x_km"], a["y_km"], b["x_km"], b["y_km"])
        if km > 0:
            return km * raw.route_factor, "euclidean"
        reason = "co-located"
    return None, reason


def _check_connected(where: str, graph: nx.Graph) -> None:
    if nx.is_connected(graph):
        return
    parts = sorted((sorted(c) for c in nx.connected_components(graph)), key=lambda c: c[0])
    a, b = parts[0][0], parts[1][0]
    raise TopologyError(
        f"{where}: the graph is disconnected ({len(parts)} parts): node "
        f"{graph.nodes[a]['label']!r} cannot reach node {graph.nodes[b]['label']!r}"
    )
