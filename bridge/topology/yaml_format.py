"""qkdnet's own YAML topology format - the built-in networks are written in it.

Why YAML and not GML for the built-ins: every node and link carries a `ref` saying where its
position or length comes from and an `approximate` flag, and the file header cites the papers;
YAML keeps that readable and allows comments. A user can write a topology the same way.

    name: my-net
    citation: "..."
    notes: ["..."]
    route_factor: 1.5        # optional: multiplies lengths derived from coordinates
    nodes:
      - {id: A, label: Alpha, lat_deg: 48.2, lon_deg: 16.4, role: trusted, ref: "..."}
    links:
      - {a: A, b: B, length_km: 12.0, attenuation_db_per_km: 0.3, ref: "...", approximate: true}
      - {a: B, b: C, relays: 9, relay_prefix: BC}   # 9 trusted relays placed evenly on the
                                                     # great circle B-C, 10 links between them

Unknown keys are errors (a typo must not silently drop a length).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bridge.topology.assemble import RawEdge, RawGraph, RawNode
from bridge.topology.errors import TopologyError
from bridge.topology.geo import interpolate_great_circle
from bridge.yaml_unique import load_unique_yaml

_TOP_KEYS = {"name", "title", "citation", "notes", "route_factor", "nodes", "links"}
_NODE_KEYS = {"id", "label", "lat_deg", "lon_deg", "x_km", "y_km", "role", "ref", "approximate"}
_LINK_KEYS = {
    "a",
    "b",
    "length_km",
    "attenuation_db_per_km",
    "protocol",
    "source",
    "ref",
    "approximate",
    "relays",
    "relay_prefix",
}


def read_yaml(path: Path, where: str, max_nodes: int | None = None) -> RawGraph:
    """Parse a qkdnet topology YAML file into a RawGraph (relay chains expanded).

    `max_nodes` is checked by `assemble` (a YAML file is read whole by PyYAML anyway)."""
    try:
        data = load_unique_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark is not None else ""
        raise TopologyError(f"{where}: {line}{getattr(exc, 'problem', None) or exc}") from None
    except UnicodeDecodeError as exc:
        raise TopologyError(f"{where}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise TopologyError(f"{where}: cannot read: {exc.strerror}") from None
    if not isinstance(data, dict):
        raise TopologyError(f"{where}: a topology YAML file is a mapping with nodes and links")
    _only(where, "top level", data, _TOP_KEYS)
    notes = data.get("notes") or []
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        raise TopologyError(f"{where}: notes: expected a list of strings")
    factor = data.get("route_factor", 1.0)
    if isinstance(factor, bool) or not isinstance(factor, int | float) or not factor >= 1.0:
        raise TopologyError(f"{where}: route_factor: expected a number >= 1, got {factor!r}")
    raw = RawGraph(
        where=where,
        format="yaml",
        name=str(data.get("name") or ""),
        citation=str(data.get("citation") or ""),
        notes=list(notes),
        route_factor=float(factor),
    )
    nodes = _list(where, data, "nodes")
    for i, item in enumerate(nodes):
        element = f"nodes[{i}]"
        if not isinstance(item, dict):
            raise TopologyError(f"{where}: {element}: expected a mapping")
        _only(where, element, item, _NODE_KEYS)
        if "id" not in item:
            raise TopologyError(f"{where}: {element}: missing id")
        node_id = str(item["id"])
        attrs = {k: v for k, v in item.items() if k != "id"}
        raw.nodes.append(RawNode(node_id, f"{element} ({node_id})", attrs))
    positions = {n.source_id: n.attrs for n in raw.nodes}
    for i, item in enumerate(_list(where, data, "links")):
        element = f"links[{i}]"
        if not isinstance(item, dict):
            raise TopologyError(f"{where}: {element}: expected a mapping")
        _only(where, element, item, _LINK_KEYS)
        if "a" not in item or "b" not in item:
            raise TopologyError(f"{where}: {element}: a link needs both ends, a and b")
        a, b = str(item["a"]), str(item["b"])
        element = f"{element} ({a}-{b})"
        attrs = {k: v for k, v in item.items() if k not in ("a", "b", "relays", "relay_prefix")}
        relays = item.get("relays", 0)
        if relays:
            _add_relay_chain(raw, where, element, a, b, item, attrs, positions)
        else:
            raw.edges.append(RawEdge(a, b, element, attrs))
    return raw


def _only(where: str, element: str, item: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(str(k) for k in item if k not in allowed)
    if unknown:
        raise TopologyError(
            f"{where}: {element}: unknown key {unknown[0]!r} (known: {', '.join(sorted(allowed))})"
        )


def _list(where: str, data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    if not isinstance(value, list) or not value:
        raise TopologyError(f"{where}: {key}: expected a non-empty list")
    return value


def _add_relay_chain(
    raw: RawGraph,
    where: str,
    element: str,
    a: str,
    b: str,
    item: dict[str, Any],
    attrs: dict[str, Any],
    positions: dict[str, dict[str, Any]],
) -> None:
    """Replace link a-b by a chain through `relays` trusted relays evenly spaced on the route.

    Why even spacing on the great circle: sources such as Chen et al. (2021) give the number of
    trusted relays of a backbone but not their sites; even spacing is the least-informed
    placement, and every relay and link it makes is marked approximate.
    """
    relays = item["relays"]
    if isinstance(relays, bool) or not isinstance(relays, int) or relays < 1:
        raise TopologyError(f"{where}: {element}: relays must be a positive integer")
    if "length_km" in attrs:
        raise TopologyError(
            f"{where}: {element}: give relays or length_km, not both (relay links take their "
            "lengths from the route)"
        )
    ends = [positions.get(a), positions.get(b)]
    for end, pos in zip((a, b), ends, strict=True):
        if pos is None:
            raise TopologyError(f"{where}: {element}: unknown node {end!r}")
        if "lat_deg" not in pos or "lon_deg" not in pos:
            raise TopologyError(f"{where}: {element}: relays need lat_deg/lon_deg at {end!r}")
    prefix = str(item.get("relay_prefix") or f"{a}-{b}")
    chain = [a]
    for i in range(1, relays + 1):
        lat, lon = interpolate_great_circle(
            ends[0]["lat_deg"],
            ends[0]["lon_deg"],
            ends[1]["lat_deg"],
            ends[1]["lon_deg"],
            i / (relays + 1),
        )
        relay_id = f"{prefix}-{i:02d}"
        raw.nodes.append(
            RawNode(
                relay_id,
                f"{element} relay {i}",
                {
                    "label": relay_id,
                    "lat_deg": round(lat, 4),
                    "lon_deg": round(lon, 4),
                    "role": "trusted",
                    "approximate": True,
                    "ref": f"relay {i} of {relays} between {a} and {b}, placed evenly on the "
                    "great circle (site not published)",
                },
            )
        )
        chain.append(relay_id)
    chain.append(b)
    for hop, (u, v) in enumerate(zip(chain, chain[1:], strict=False), start=1):
        link_attrs = dict(attrs)
        link_attrs.setdefault("approximate", True)
        raw.edges.append(RawEdge(u, v, f"{element} hop {hop}", link_attrs))
