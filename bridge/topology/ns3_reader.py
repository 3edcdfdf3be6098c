"""Read Inet, Orbis and Rocketfuel files with ns-3's TopologyReaderHelper, and cross-check.

What ns-3's readers give: the nodes they created (in order) and the links between them, by the
names the file uses, plus Inet's "Weight" link attribute. What they do not give: coordinates or
lengths, line numbers of bad lines (they skip or stop silently), or a way to read a second file
with the same node names in one process (ns-3.44 aborts in Names::Add; see `ns3_worker`).

So `load_topology(..., engine="ns3")` does both: qkdnet's parser (`text_formats`) reads the file
strictly and supplies attributes; ns-3 reads it in a subprocess (`ns3_worker`), which is the
only way to leave no Node in this process's NodeList and no name in its `Names` table; and the
two must agree on the nodes (names and creation order) and on the links, or the load fails.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bridge.topology.assemble import RawGraph
from bridge.topology.errors import TopologyError

#: qkdnet format name -> ns-3 TopologyReaderHelper::SetFileType name.
NS3_FILE_TYPES = {"inet": "Inet", "orbis": "Orbis", "rocketfuel": "Rocketfuel"}


@dataclass(frozen=True)
class Ns3Read:
    """What ns-3 read from one file: nodes in NodeContainer order, links as listed."""

    path: Path
    file_type: str
    node_names: tuple[str, ...]
    links: tuple[tuple[str, str, dict[str, str]], ...]

    @property
    def link_pairs(self) -> set[frozenset[str]]:
        return {frozenset((a, b)) for a, b, _ in self.links}


def read_with_ns3(files: Sequence[tuple[Path, str]], timeout_s: float = 300.0) -> list[Ns3Read]:
    """Read each (path, qkdnet format) with ns-3, all in one throw-away subprocess.

    Raises TopologyError naming the file if ns-3 aborts on it or reads nothing from it.
    """
    requests = []
    for path, fmt in files:
        if fmt not in NS3_FILE_TYPES:
            raise TopologyError(f"{path}: ns-3 reads {', '.join(NS3_FILE_TYPES)}, not {fmt}")
        requests.append({"path": str(Path(path).resolve()), "type": NS3_FILE_TYPES[fmt]})
    with tempfile.TemporaryDirectory(prefix="qkdnet-ns3-read-") as tmp:
        request_file, result_file = Path(tmp) / "request.json", Path(tmp) / "result.json"
        request_file.write_text(json.dumps(requests))
        result_file.write_text("[]")
        try:
            done = subprocess.run(
                [sys.executable, "-m", "bridge.topology.ns3_worker", request_file, result_file],
                capture_output=True,
                text=True,
                timeout=timeout_s,
            )
        except subprocess.TimeoutExpired:
            raise TopologyError(
                f"{files[0][0]}: ns-3's topology reader did not finish in {timeout_s:g} s"
            ) from None
        results = json.loads(result_file.read_text() or "[]")
    if done.returncode != 0:
        failed = requests[min(len(results), len(requests) - 1)]
        raise TopologyError(
            f"{failed['path']}: ns-3's {failed['type']} reader failed: {_ns3_reason(done.stderr)}"
        )
    reads = []
    for (path, _), result in zip(files, results, strict=True):
        id_to_name = {node_id: name for node_id, name in result["nodes"]}
        for from_id, to_id, from_name, to_name, _ in result["links"]:
            id_to_name[from_id], id_to_name[to_id] = from_name, to_name
        order = [id_to_name[node_id] for node_id, _ in result["nodes"]]
        links = tuple((a, b, attrs) for _, _, a, b, attrs in result["links"])
        if not links:
            raise TopologyError(f"{path}: ns-3's {result['type']} reader read no links from it")
        reads.append(Ns3Read(Path(path), result["type"], tuple(order), links))
    return reads


def check_agreement(raw: RawGraph, ns3: Ns3Read) -> None:
    """TopologyError unless qkdnet's parse and ns-3's read have the same nodes, order and links."""
    ours = [node.source_id for node in raw.nodes]
    if ours != list(ns3.node_names):
        detail = _first_difference(ours, list(ns3.node_names))
        raise TopologyError(
            f"{raw.where}: ns-3's {ns3.file_type} reader made {len(ns3.node_names)} nodes, "
            f"qkdnet's parser {len(ours)} ({detail})"
        )
    our_links = {frozenset((e.u, e.v)) for e in raw.edges}
    if our_links != ns3.link_pairs:
        extra = sorted(tuple(sorted(p)) for p in ns3.link_pairs - our_links)
        missing = sorted(tuple(sorted(p)) for p in our_links - ns3.link_pairs)
        raise TopologyError(
            f"{raw.where}: ns-3's {ns3.file_type} reader and qkdnet's parser disagree on links "
            f"(only ns-3: {extra[:3]}, only qkdnet: {missing[:3]})"
        )


def _first_difference(ours: list[str], theirs: list[str]) -> str:
    for i, (a, b) in enumerate(zip(ours, theirs, strict=False)):
        if a != b:
            return f"node {i} is {a!r} for qkdnet, {b!r} for ns-3"
    return f"the first {min(len(ours), len(theirs))} agree"


def _ns3_reason(stderr: str) -> str:
    """The NS_FATAL/NS_ASSERT message if there is one, else the last meaningful stderr line."""
    match = re.search(r'msg="([^"]*)"', stderr)
    if match:
        return match.group(1)
    lines = [
        line.strip()
        for line in stderr.splitlines()
        if line.strip() and "materialize symbols" not in line and not line.startswith("#")
    ]
    return lines[-1] if lines else "the subprocess exited without a message"
