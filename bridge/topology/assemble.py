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
from bridge.topology.options import TopologyOptions, too_many_nodes
from bridge.topology.repeaters import insert_chain

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
    "inserted": str,  # why qkdnet added this node (a repeater, a parallel link's midpoint)
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
    "parallel_links": int,  # how many parallel fibres of the file this one link stands for
    "split_from": str,  # the original link "A-B" a repeater hop or kept parallel belongs to
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


def assemble(
    raw: RawGraph,
    default_length_km: float | None = None,
    options: TopologyOptions | None = None,
) -> QkdTopology:
    """Validate `raw` and build the topology (see module doc); TopologyError on the first fault.

    `options` (see `bridge.topology.options`) says how to treat parallel links, co-located ends,
    a disconnected graph and the node ceiling; its `default_length_km` is used when the
    argument is None. Every change made is reported in `QkdTopology.adjustments`.
    """
    where = raw.where
    options = (options or TopologyOptions()).checked(where)
    if default_length_km is None:
        default_length_km = options.default_length_km
    default = _check_default(where, default_length_km)
    if not raw.nodes:
        raise TopologyError(f"{where}: the topology has no nodes")
    if len(raw.nodes) > options.max_nodes:
        raise too_many_nodes(where, len(raw.nodes), options.max_nodes)
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
    extra: list[tuple[int, int, dict[str, Any]]] = []  # parallel fibres kept as their own links
    filled: dict[str, str] = {}  # element -> how its length was filled in
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
            length, source = _filled_length(
                where, edge.element, raw, node_data, (a, b), default, options.co_located_km
            )
            if source in ("default", "co-located"):
                filled[edge.element] = _fill_report(node_data, a, b, length, source)
            data["length_km"] = length
            data["source"] = source
        key = frozenset((a, b))
        if key in edges:
            # b-a after a-b is the other direction of one link (directed files, Rocketfuel maps
            # list both), merged silently; a-b twice is a parallel link (the Zoo records them).
            kept = edges[key]
            if (a, b) not in seen:
                seen.add((a, b))
                if data["length_km"] < kept[2]["length_km"]:
                    edges[key] = (kept[0], kept[1], data, edge.element)
                continue
            merged += 1
            if options.parallel_links == "keep":
                extra.append((a, b, data))
                continue
            count = kept[2].get("parallel_links", 1) + 1
            if data["length_km"] < kept[2]["length_km"]:
                kept = (kept[0], kept[1], data, edge.element)
            kept[2]["parallel_links"] = count
            edges[key] = kept
            continue
        edges[key] = (a, b, data, edge.element)
        seen.add((a, b))

    kept_elements = {element for _, _, _, element in edges.values()}
    adjustments = [report for element, report in filled.items() if element in kept_elements]
    _warn_filled(where, filled, kept_elements, default)
    graph = nx.Graph(name=raw.name or where, citation=raw.citation, notes=list(raw.notes))
    graph.add_nodes_from(enumerate(node_data))
    graph.add_edges_from((a, b, data) for a, b, data, _ in edges.values())
    if merged and options.parallel_links == "merge":
        adjustments.extend(_merge_reports(graph))
    graph, extra, dropped = _keep_component(where, graph, extra, options.component)
    adjustments.extend(dropped)
    labels = {str(data["label"]) for _, data in graph.nodes(data=True)}
    for a, b, data in extra:
        (middle,) = insert_chain(graph, a, b, data, 2, "parallel", labels)
        adjustments.append(
            f"link {graph.nodes[a]['label']}-{graph.nodes[b]['label']}: parallel fibre kept as "
            f"its own QKD route through trusted node {graph.nodes[middle]['label']!r}"
        )
    if merged:
        how = (
            "kept each extra one as its own QKD route through a trusted midpoint node"
            if options.parallel_links == "keep"
            else "merged into one link per node pair (kept the shortest)"
        )
        warnings.warn(
            f"{where}: {merged} parallel link(s) {how}; see parallel_links",
            TopologyWarning,
            stacklevel=3,
        )
    return QkdTopology(
        graph=nx.freeze(graph),
        name=raw.name or where,
        citation=raw.citation,
        notes=tuple(raw.notes),
        origin=raw.origin or where,
        format=raw.format,
        adjustments=tuple(adjustments),
    )


def _filled_length(
    where: str,
    element: str,
    raw: RawGraph,
    node_data: list[dict[str, Any]],
    ends: tuple[int, int],
    default: float | None,
    co_located_km: float,
) -> tuple[float, str]:
    """A length for a link the file gives none: from coordinates, the metro length, or default.

    Co-located ends (identical coordinates) get the metro length `co_located_km` of the
    options; ends without coordinates get `default`, else an error naming the flag.
    """
    a, b = ends
    length, source = _derived_length(raw, node_data[a], node_data[b])
    if length is not None:
        return length, source
    if source == "co-located":
        return co_located_km, "co-located"
    if default is None:
        missing = [node_data[i]["label"] for i in (a, b) if not _has_position(node_data[i])]
        raise TopologyError(
            f"{where}: {element}: no length_km and no coordinates at "
            f"{' and '.join(repr(m) for m in missing)}; give a length for such links with "
            "--default-length-km KM (scenario: default_length_km)"
        )
    return default, "default"


def _has_position(data: dict[str, Any]) -> bool:
    return ("lat_deg" in data and "lon_deg" in data) or ("x_km" in data and "y_km" in data)


def _fill_report(
    node_data: list[dict[str, Any]], a: int, b: int, length: float, source: str
) -> str:
    name = f"link {node_data[a]['label']}-{node_data[b]['label']}"
    if source == "co-located":
        return f"{name}: ends at identical coordinates, metro length co_located_km {length:g} km"
    missing = [node_data[i]["label"] for i in (a, b) if not _has_position(node_data[i])]
    return f"{name}: no coordinates at {', '.join(missing)}, default_length_km {length:g} km"


def _warn_filled(where: str, filled: dict[str, str], kept: set[str], default: float | None) -> None:
    """One warning per kind of filled-in length (the per-link lines go to `adjustments`)."""
    kinds = (
        ("default_length_km", f"without length_km or coordinates use default_length_km="
         f"{default or 0:g} km"),
        ("co_located_km", "between PoPs at identical coordinates use the metro length "
         "co_located_km"),
    )  # fmt: skip
    for marker, what in kinds:
        links = [e for e, report in filled.items() if e in kept and marker in report]
        if links:
            shown = ", ".join(links[:3]) + (", ..." if len(links) > 3 else "")
            warnings.warn(
                f"{where}: {len(links)} link(s) {what} ({shown})", TopologyWarning, stacklevel=4
            )


def _merge_reports(graph: nx.Graph) -> list[str]:
    return [
        f"link {graph.nodes[a]['label']}-{graph.nodes[b]['label']}: {count} parallel fibres "
        f"merged into one QKD link ({data['length_km']:,.1f} km, the shortest)"
        for a, b, data in sorted(graph.edges(data=True))
        if (count := data.get("parallel_links", 1)) > 1
    ]


def _keep_component(
    where: str,
    graph: nx.Graph,
    extra: list[tuple[int, int, dict[str, Any]]],
    component: str | None,
) -> tuple[nx.Graph, list[tuple[int, int, dict[str, Any]]], list[str]]:
    """The graph itself if connected; else the part `component` names, renumbered 0..k-1.

    Returns the graph, the kept parallel extras (renumbered) and one report line of what was
    dropped. Without `component` a disconnected graph is an error naming the option.
    """
    if nx.is_connected(graph):
        return graph, extra, []
    parts = sorted((sorted(c) for c in nx.connected_components(graph)), key=lambda c: c[0])
    label = {i: str(graph.nodes[i]["label"]) for i in graph.nodes}
    if component is None:
        a, b = parts[0][0], parts[1][0]
        raise TopologyError(
            f"{where}: the graph is disconnected ({len(parts)} parts): node {label[a]!r} cannot "
            f"reach node {label[b]!r}; keep one part with --component largest (or a node's "
            "label; scenario: topology_options.component)"
        )
    if component == "largest":
        keep = max(parts, key=len)  # max keeps the first of equal sizes: earliest node's part
    else:
        holder = next((i for i, name in label.items() if name == component), None)
        if holder is None:
            raise TopologyError(
                f"{where}: component {component!r}: no node has that label (use 'largest' or a "
                "node's label)"
            )
        keep = next(part for part in parts if holder in part)
    renumber = {old: new for new, old in enumerate(keep)}
    kept = nx.relabel_nodes(graph.subgraph(keep), renumber, copy=True)
    kept = nx.Graph(kept)  # node order 0..k-1 for the frozen topology
    ordered = nx.Graph(**graph.graph)
    ordered.add_nodes_from(sorted(kept.nodes(data=True)))
    ordered.add_edges_from(kept.edges(data=True))
    dropped = sorted(set(graph.nodes) - set(keep))
    names = ", ".join(label[i] for i in dropped[:10]) + (", ..." if len(dropped) > 10 else "")
    report = (
        f"component {component}: kept {len(keep)} of {graph.number_of_nodes()} nodes "
        f"({len(parts)} parts); dropped {len(dropped)}: {names}"
    )
    warnings.warn(f"{where}: {report}", TopologyWarning, stacklevel=4)
    extras = [(renumber[a], renumber[b], d) for a, b, d in extra if a in renumber and b in renumber]
    return ordered, extras, [report]


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
    if kind is int:
        number = _number(value)
        if number is None or number != int(number) or number < 1:
            raise TopologyError(f"{where}: {element}: {name} {value!r} is not a positive integer")
        return int(number)
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
