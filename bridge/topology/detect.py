"""Which reader a topology file needs: by extension, else by content.

Why content sniffing: ns-3's sample files and many published topologies end in .txt. The order
of the checks matters because the line formats overlap: a Rocketfuel weights line
("a b 2.5") looks like an Inet link line, and an Inet header ("12 20") like an Orbis link; so
Inet is recognised by its header *and* a following "<id> <x> <y>" node line before Orbis and
Rocketfuel weights are tried.
"""

from __future__ import annotations

import re
from pathlib import Path

from bridge.topology.errors import TopologyError
from bridge.topology.text_formats import rocketfuel_kind

_YAML_KEY = re.compile(r"^(name|title|citation|notes|route_factor|nodes|links):")
FORMATS = ("graphml", "gml", "yaml", "inet", "orbis", "rocketfuel")

_BY_SUFFIX = {
    ".graphml": "graphml",
    ".xml": "graphml",
    ".gml": "gml",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".inet": "inet",
    ".orbis": "orbis",
    ".cch": "rocketfuel",
    ".weights": "rocketfuel",
    ".intra": "rocketfuel",
}


def detect_format(path: Path, where: str) -> str:
    """The format name of `path` (one of FORMATS); TopologyError if it is none of them."""
    by_suffix = _BY_SUFFIX.get(path.suffix.lower())
    if by_suffix:
        return by_suffix
    try:
        with path.open("r", encoding="utf-8", errors="replace") as handle:
            head = handle.read(64 * 1024)
    except OSError as exc:
        raise TopologyError(f"{where}: cannot read: {exc.strerror}") from None
    found = sniff(head)
    if found is None:
        raise TopologyError(
            f"{where}: cannot tell the topology format from the name or content; name it "
            f"explicitly ({', '.join(FORMATS)})"
        )
    return found


def sniff(head: str) -> str | None:
    """Guess the format from the first part of a file's text."""
    stripped = head.lstrip()
    if stripped.startswith("<") and "<graphml" in head:
        return "graphml"
    lines = [line for line in head.splitlines() if line.strip()]
    if not lines:
        return None
    if any(line.strip().startswith("graph") and "[" in line for line in lines[:50]):
        return "gml"
    if any(_YAML_KEY.match(line) for line in lines[:50]):
        return "yaml"
    if rocketfuel_kind(lines[0]) == "maps":
        return "rocketfuel"
    first = lines[0].split()
    if (
        len(first) == 2
        and all(t.isdigit() for t in first)
        and len(lines) > 1
        and len(lines[1].split()) == 3
        and all(_is_number(t) for t in lines[1].split())
    ):
        return "inet"
    if rocketfuel_kind(lines[0]) == "weights":
        return "rocketfuel"
    if len(first) == 2:
        return "orbis"
    return None


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True
