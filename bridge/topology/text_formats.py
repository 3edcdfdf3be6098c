"""Pure-Python readers for the three formats of ns-3's topology-read module.

Why our own parsers next to ns-3's `TopologyReaderHelper` (which `ns3_reader` runs too):
 * ns-3's readers skip a line they cannot parse, or stop at it, and return what they read so
   far; we must reject a malformed file with its line number and build nothing;
 * they give node names and links only - no coordinates (Inet's node lines are skipped), no
   lengths - so the attributes must come from a parser anyway;
 * in ns-3.44 each read creates Nodes in the process-wide NodeList and registers every node
   name in the global `Names` table; reading a second file with a name already registered
   aborts the whole process (NS_FATAL in Names::Add), and only `Simulator::Destroy` clears the
   NodeList (not the names). So ns-3 reads happen in a throw-away subprocess (`ns3_reader`).
These parsers follow ns-3's grammar (same regular expressions for Rocketfuel) and create nodes
in the order ns-3 does, so node index i is the i-th node of ns-3's NodeContainer; the tests check
that both agree on every sample file.

Formats (see the ns-3 topology-read documentation):
 * Inet 3.0: "<nodes> <links>", then one "<id> <x> <y>" line per node, then one
   "<from> <to> [<weight>]" line per link. x, y live in Inet's unitless plane and the weight is
   their distance there, so neither is a length in km: we keep them as `inet_x`, `inet_y` and
   `weight`, and links take `default_length_km`.
 * Orbis 0.70: one "<from> <to>" line per link.
 * Rocketfuel: the maps format (*.cch: "<uid> @<loc> [+] [bb] (<n>) [&<ext>] -> <nbr>... =<name>
   r<radius>") or the weights format
   ("<from> <to> <weight>"); the first line decides which, as in ns-3. Maps lines of every
   radius r<n> are read: ns-3.44's reader intends to skip r > 0 but its radius parsing always
   yields 0, and we follow what it does. Rocketfuel gives cities, not coordinates, so links take
   `default_length_km`; the weights file's weight is kept as `weight`.
"""

from __future__ import annotations

import re
from pathlib import Path

from bridge.topology.assemble import RawEdge, RawGraph, RawNode
from bridge.topology.errors import TopologyError
from bridge.topology.options import MAX_NODES_DEFAULT, too_many_nodes

# The regular expressions of ns-3.44's rocketfuel-topology-reader.cc, in Python syntax.
_SPACE, _MAYSPACE = r"[ \t]+", r"[ \t]*"
ROCKETFUEL_MAPS_LINE = re.compile(
    r"^(-*[0-9]+)"
    + _SPACE
    + r"(@[?A-Za-z0-9,+-]+)"
    + _SPACE
    + r"(\+)*"
    + _MAYSPACE
    + r"(bb)*"
    + _MAYSPACE
    + r"\(([0-9]+)\)"
    + _SPACE
    + r"(&[0-9]+)*"
    + _MAYSPACE
    + "->"
    + _MAYSPACE
    + r"(<[0-9 \t<>]+>)*"
    + _MAYSPACE
    + r"(\{-[0-9\{\} \t-]+\})*"
    + _SPACE
    + r"=([A-Za-z0-9.!-]+)"
    + _SPACE
    + r"r([0-9])"
    + _MAYSPACE
    + "$"
)
ROCKETFUEL_WEIGHTS_LINE = re.compile(
    r"^([^ \t]+)" + _SPACE + r"([^ \t]+)" + _SPACE + r"([0-9.]+)" + _MAYSPACE + "$"
)


class _Nodes:
    """Nodes in order of first appearance (ns-3's creation order)."""

    def __init__(self, raw: RawGraph, max_nodes: int) -> None:
        self.raw = raw
        self.by_id: dict[str, RawNode] = {}
        self.max_nodes = max_nodes

    def get(self, node_id: str, element: str) -> RawNode:
        if node_id not in self.by_id:
            if len(self.by_id) >= self.max_nodes:
                # Stop reading at the ceiling: a 150k-node map is refused in milliseconds.
                raise too_many_nodes(self.raw.where, 0, self.max_nodes, f"at {element}")
            node = RawNode(node_id, f"{element} (node {node_id})")
            self.by_id[node_id] = node
            self.raw.nodes.append(node)
        return self.by_id[node_id]


def _lines(path: Path, where: str) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise TopologyError(f"{where}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise TopologyError(f"{where}: cannot read: {exc.strerror}") from None
    return text.splitlines()


def _float(where: str, lineno: int, what: str, token: str) -> float:
    try:
        return float(token)
    except ValueError:
        raise TopologyError(f"{where}: line {lineno}: {what} {token!r} is not a number") from None


def read_inet(path: Path, where: str, max_nodes: int = MAX_NODES_DEFAULT) -> RawGraph:
    """Inet 3.0 (strict: the counts in the header must match the lines that follow)."""
    lines = _lines(path, where)
    while lines and not lines[-1].strip():
        lines.pop()
    raw = RawGraph(where=where, format="inet")
    if not lines:
        raise TopologyError(f"{where}: line 1: empty file (Inet starts with '<nodes> <links>')")
    header = lines[0].split()
    if len(header) != 2 or not all(t.isdigit() for t in header):
        raise TopologyError(
            f"{where}: line 1: expected the Inet header '<nodes> <links>', got {lines[0]!r}"
        )
    n_nodes, n_links = int(header[0]), int(header[1])
    if n_nodes > max_nodes:
        raise too_many_nodes(where, n_nodes, max_nodes)
    if len(lines) != 1 + n_nodes + n_links:
        raise TopologyError(
            f"{where}: line 1: the header promises {n_nodes} node and {n_links} link lines, "
            f"the file has {len(lines) - 1} lines after it"
        )
    positions: dict[str, tuple[float, float, int]] = {}
    for lineno in range(2, 2 + n_nodes):
        tokens = lines[lineno - 1].split()
        if len(tokens) != 3:
            raise TopologyError(
                f"{where}: line {lineno}: expected a node line '<id> <x> <y>', "
                f"got {lines[lineno - 1]!r}"
            )
        node_id = tokens[0]
        if node_id in positions:
            raise TopologyError(f"{where}: line {lineno}: node {node_id} is listed twice")
        x = _float(where, lineno, "x", tokens[1])
        y = _float(where, lineno, "y", tokens[2])
        positions[node_id] = (x, y, lineno)
    nodes = _Nodes(raw, max_nodes)
    for lineno in range(2 + n_nodes, 2 + n_nodes + n_links):
        tokens = lines[lineno - 1].split()
        if len(tokens) not in (2, 3):
            raise TopologyError(
                f"{where}: line {lineno}: expected a link line '<from> <to> [<weight>]', "
                f"got {lines[lineno - 1]!r}"
            )
        attrs = {}
        if len(tokens) == 3:
            attrs["weight"] = _float(where, lineno, "weight", tokens[2])
        for end in tokens[:2]:
            if end not in positions:
                raise TopologyError(
                    f"{where}: line {lineno}: link end {end} is not in the node list "
                    f"(lines 2-{1 + n_nodes})"
                )
            node = nodes.get(end, f"line {positions[end][2]}")
            node.attrs.update(inet_x=positions[end][0], inet_y=positions[end][1])
        raw.edges.append(RawEdge(tokens[0], tokens[1], f"line {lineno}", attrs))
    for node_id, (_, _, lineno) in positions.items():
        if node_id not in nodes.by_id:
            raise TopologyError(f"{where}: line {lineno}: node {node_id} has no links")
    return raw


def read_orbis(path: Path, where: str, max_nodes: int = MAX_NODES_DEFAULT) -> RawGraph:
    """Orbis 0.70: every non-blank line is exactly '<from> <to>'."""
    raw = RawGraph(where=where, format="orbis")
    nodes = _Nodes(raw, max_nodes)
    for lineno, line in enumerate(_lines(path, where), start=1):
        tokens = line.split()
        if not tokens:
            continue
        if len(tokens) != 2:
            raise TopologyError(f"{where}: line {lineno}: expected '<from> <to>', got {line!r}")
        for end in tokens:
            nodes.get(end, f"line {lineno}")
        raw.edges.append(RawEdge(tokens[0], tokens[1], f"line {lineno}"))
    return raw


def rocketfuel_kind(first_line: str) -> str | None:
    """'maps', 'weights' or None, decided from the first line as ns-3 does."""
    if ROCKETFUEL_MAPS_LINE.match(first_line):
        return "maps"
    if ROCKETFUEL_WEIGHTS_LINE.match(first_line):
        return "weights"
    return None


def read_rocketfuel(path: Path, where: str, max_nodes: int = MAX_NODES_DEFAULT) -> RawGraph:
    """Rocketfuel maps (*.cch) or weights file; every non-blank line must match the grammar."""
    lines = _lines(path, where)
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise TopologyError(f"{where}: line 1: empty file")
    kind = rocketfuel_kind(lines[first])
    if kind is None:
        raise TopologyError(
            f"{where}: line {first + 1}: neither a Rocketfuel maps line "
            "('<uid> @<loc> ... -> <nbr>... =<name> r<n>') nor a weights line "
            f"('<from> <to> <weight>'): {lines[first]!r}"
        )
    raw = RawGraph(where=where, format="rocketfuel")
    nodes = _Nodes(raw, max_nodes)
    pattern = ROCKETFUEL_MAPS_LINE if kind == "maps" else ROCKETFUEL_WEIGHTS_LINE
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        match = pattern.match(line)
        if match is None:
            raise TopologyError(
                f"{where}: line {lineno}: not a Rocketfuel {kind} line like line {first + 1}: "
                f"{line!r}"
            )
        if kind == "maps":
            _rocketfuel_map_line(raw, nodes, match, lineno)
        else:
            a, b, weight = match.group(1), match.group(2), match.group(3)
            try:
                value = float(weight)
            except ValueError:
                raise TopologyError(
                    f"{where}: line {lineno}: weight {weight!r} is not a number"
                ) from None
            nodes.get(a, f"line {lineno}")
            nodes.get(b, f"line {lineno}")
            raw.edges.append(RawEdge(a, b, f"line {lineno}", {"weight": value}))
    return raw


def _rocketfuel_map_line(raw: RawGraph, nodes: _Nodes, match: re.Match, lineno: int) -> None:
    uid, location, neighbours = match.group(1), match.group(2), match.group(7)
    # ns-3 means to skip routers of radius > 0 but parses the radius as atoi(&"<digit>"[1]),
    # which is always 0, so it reads every line; we read every line too, to agree with it.
    node = nodes.get(uid, f"line {lineno}")
    node.element = f"line {lineno} (node {uid})"
    node.attrs["location"] = location[1:]
    for neighbour in (neighbours or "").replace("<", " ").replace(">", " ").split():
        nodes.get(neighbour, f"line {lineno}")
        raw.edges.append(RawEdge(uid, neighbour, f"line {lineno} (link {uid}-{neighbour})"))
