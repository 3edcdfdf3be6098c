"""GraphML and GML, read and written with networkx.

Why networkx: its parsers are well kept, read Topology Zoo's GML (directed multigraphs with
`Latitude`/`Longitude` node keys) and GraphML's typed keys, and report syntax errors with a line
number, which we keep. We only map attribute names onto qkdnet's (`Latitude` -> `lat_deg`, ...)
and hand the result to `assemble`, which applies the common rules.

Written files carry every attribute qkdnet keeps, including each link's `source` (where its
length came from) and each node's `source_id`, so reading a written file gives the same topology
back (the round-trip property test checks this).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError, iterparse

import networkx as nx

from bridge.topology.assemble import EDGE_ATTRIBUTES, NODE_ATTRIBUTES, RawEdge, RawGraph, RawNode
from bridge.topology.errors import TopologyError
from bridge.topology.model import QkdTopology
from bridge.topology.options import MAX_NODES_DEFAULT, too_many_nodes

#: Other names files use for qkdnet's node attributes (Topology Zoo: Latitude/Longitude).
NODE_ALIASES = {
    "Latitude": "lat_deg",
    "latitude": "lat_deg",
    "lat": "lat_deg",
    "Longitude": "lon_deg",
    "longitude": "lon_deg",
    "lon": "lon_deg",
    "lng": "lon_deg",
}
#: GML reserves `source`/`target` for an edge's ends, so there a link's `source` (where its
#: length came from) is written as `length_source`.
EDGE_ALIASES = {"length_source": "source"}
NOTES_SEPARATOR = "\n"


#: Deepest `[ ... ]` nesting a GML topology may have (graph [ node [ graphics [ ...: 3 is real;
#: networkx's parser recurses per level, so a 20,000-deep file would end in RecursionError).
MAX_GML_DEPTH = 64
_GML_BRACKETS = re.compile(r'"[^"]*"|#[^\n]*|\[|\]')
_GML_NODE = re.compile(r"\bnode\s*\[")
_GML_HEADER = re.compile(r"\bgraph\s*\[")


def read_gml(path: Path, where: str, max_nodes: int = MAX_NODES_DEFAULT) -> RawGraph:
    """Parse a GML file (node keys are the GML ids; `label` stays an attribute).

    Parallel edges are read whether or not the header says `multigraph 1` (most Topology Zoo
    files have parallel links and no such header); `assemble` merges or keeps them.
    """
    text = _read_text(path, where)
    _check_gml_depth(text, where)
    count = len(_GML_NODE.findall(text))
    if count > max_nodes:
        raise too_many_nodes(where, count, max_nodes)
    try:
        graph = nx.parse_gml(text, label="id")
    except nx.NetworkXError as exc:
        if not re.match(r"^edge #\d+ \(.*\) is duplicated$", str(exc)):
            raise TopologyError(f"{where}: {_with_line(str(exc))}") from None
        graph = _parse_gml_as_multigraph(text, where)
    return _raw_from_networkx(graph, where, "gml", node_word="node")


def _parse_gml_as_multigraph(text: str, where: str) -> nx.Graph:
    """The file read again with `multigraph 1` added to its header (GML repeats keys as lists,
    so an explicit `multigraph 0` becomes [1, 0], which networkx also reads as a multigraph)."""
    patched = _GML_HEADER.sub("graph [\n  multigraph 1", text, count=1)
    try:
        return nx.parse_gml(patched, label="id")
    except nx.NetworkXError as exc:
        raise TopologyError(f"{where}: {_with_line(str(exc))}") from None


def _check_gml_depth(text: str, where: str) -> None:
    """TopologyError at the first `[` nested deeper than MAX_GML_DEPTH (strings skipped)."""
    depth = 0
    for match in _GML_BRACKETS.finditer(text):
        token = match.group()
        if token == "[":
            depth += 1
            if depth > MAX_GML_DEPTH:
                line = text.count("\n", 0, match.start()) + 1
                raise TopologyError(
                    f"{where}: line {line}: '[' nested more than {MAX_GML_DEPTH} deep (a GML "
                    "topology needs 2-3 levels)"
                )
        elif token == "]":
            depth -= 1


def read_graphml(path: Path, where: str, max_nodes: int = MAX_NODES_DEFAULT) -> RawGraph:
    """Parse a GraphML file (node ids are strings).

    networkx merges a repeated `<node id>` into one node and creates a node for an edge end no
    `<node>` declares; both would silently make another network, so `_check_graphml_ids` reads
    the ids first and refuses either, with the element's line.
    """
    try:
        _check_graphml_ids(path, where, max_nodes)
        graph = nx.read_graphml(path)
    except ParseError as exc:
        line, column = exc.position
        message = str(exc).split(":")[0]
        raise TopologyError(f"{where}: line {line}, column {column + 1}: {message}") from None
    except (nx.NetworkXError, KeyError, ValueError, TypeError) as exc:
        if isinstance(exc, TopologyError):
            raise
        raise TopologyError(f"{where}: not usable GraphML: {exc}") from None
    except OSError as exc:
        raise TopologyError(f"{where}: cannot read: {exc.strerror}") from None
    return _raw_from_networkx(graph, where, "graphml", node_word="node")


def _check_graphml_ids(path: Path, where: str, max_nodes: int) -> None:
    """Every `<node id>` once, every edge end declared, at most `max_nodes` nodes.

    A streaming pass (iterparse) with the same expat parser networkx uses, so hostile XML is
    no more dangerous here than there; the node ceiling stops a huge file early.
    """
    declared: set[str] = set()
    ends: list[tuple[str, str]] = []
    for _, element in iterparse(path, events=("end",)):
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "node":
            node_id = element.get("id")
            if node_id in declared:
                raise TopologyError(f"{where}: <node id={node_id!r}> is declared twice")
            declared.add(str(node_id))
            if len(declared) > max_nodes:
                raise too_many_nodes(where, 0, max_nodes, "counted while reading")
            element.clear()
        elif tag == "edge":
            ends.append((str(element.get("source")), str(element.get("target"))))
            element.clear()
    for source, target in ends:
        for end in (source, target):
            if end not in declared:
                raise TopologyError(
                    f"{where}: <edge source={source!r} target={target!r}>: node {end!r} is not "
                    "declared by any <node>"
                )


def write_topology(topology: QkdTopology, path: str | Path, format: str | None = None) -> Path:
    """Write a topology as GraphML (.graphml/.xml) or GML (.gml); returns the path.

    The file appears complete or not at all (written to a temporary file, then renamed).
    """
    path = Path(path)
    fmt = format or {".graphml": "graphml", ".xml": "graphml", ".gml": "gml"}.get(
        path.suffix.lower()
    )
    if fmt not in ("graphml", "gml"):
        raise TopologyError(f"{path}: can write GraphML (.graphml) or GML (.gml), not {fmt!r}")
    graph = _export_graph(topology, gml=fmt == "gml")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        if fmt == "gml":
            nx.write_gml(graph, tmp)
        else:
            nx.write_graphml(graph, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _export_graph(topology: QkdTopology, gml: bool) -> nx.Graph:
    """A plain graph holding every kept attribute; GML takes its node labels from the keys."""
    graph = nx.Graph(
        name=topology.name,
        citation=topology.citation,
        notes=NOTES_SEPARATOR.join(topology.notes),
    )
    keys = {}
    for node, data in topology.graph.nodes(data=True):
        attrs = {k: v for k, v in data.items() if k in NODE_ATTRIBUTES and v is not None}
        key = attrs.pop("label") if gml else str(node)
        keys[node] = key
        graph.add_node(key, **attrs)
    for a, b, data in topology.graph.edges(data=True):
        attrs = {k: v for k, v in data.items() if k in EDGE_ATTRIBUTES and v is not None}
        if gml and "source" in attrs:
            attrs["length_source"] = attrs.pop("source")
        graph.add_edge(keys[a], keys[b], **attrs)
    return graph


def _read_text(path: Path, where: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise TopologyError(f"{where}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise TopologyError(f"{where}: cannot read: {exc.strerror}") from None


def _with_line(message: str) -> str:
    """networkx says "... at (line, column)"; we say "line L, column C: ..."."""
    match = re.match(r"^(.*) at \((\d+), (\d+)\)$", message)
    if match:
        return f"line {match.group(2)}, column {match.group(3)}: {match.group(1)}"
    return message


def _raw_from_networkx(graph: nx.Graph, where: str, fmt: str, node_word: str) -> RawGraph:
    meta = graph.graph
    notes = str(meta.get("notes", "") or "")
    raw = RawGraph(
        where=where,
        format=fmt,
        name=str(meta.get("name") or meta.get("label") or meta.get("Network") or ""),
        citation=str(meta.get("citation") or ""),
        notes=[n for n in notes.split(NOTES_SEPARATOR) if n],
    )
    for node, data in graph.nodes(data=True):
        attrs: dict[str, Any] = {}
        for key, value in data.items():
            name = NODE_ALIASES.get(key, key)
            if name in NODE_ATTRIBUTES and name not in attrs:
                attrs[name] = value
        raw.nodes.append(RawNode(str(node), f"{node_word} {node}", attrs))
    edges = graph.edges(data=True)
    for u, v, data in edges:
        attrs = {}
        for key, value in data.items():
            name = EDGE_ALIASES.get(key, key)
            if name in EDGE_ATTRIBUTES and name not in attrs:
                attrs[name] = value
        raw.edges.append(RawEdge(str(u), str(v), f"edge {u}-{v}", attrs))
    return raw
