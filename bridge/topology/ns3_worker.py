"""Subprocess entry: read topology files with ns-3's own TopologyReaderHelper, write JSON.

    python -m bridge.topology.ns3_worker REQUEST.json RESULT.json

Why a separate, throw-away process (see `ns3_reader` for the caller): ns-3's readers create
Nodes in the process-wide NodeList and register node names in the global `Names` table, and in
ns-3.44 reading a file whose node names are already registered aborts the process (NS_FATAL in
Names::Add). Here that can only end this process; between files we call `Names::Clear()` and
`Simulator::Destroy()` (which empties the NodeList) so that one process can read many files.

Only the core, network and topology-read libraries are loaded (about 1 s), not the 40 modules
`from ns import ns` parses (about 8 s). The result file is rewritten after every file, so if ns-3
aborts, the caller knows which file did it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

_HELPER = r"""
#include <sstream>
#include <string>
#include <vector>
std::vector<std::string> qkdnet_topology_read(const std::string& file, const std::string& type) {
  ns3::TopologyReaderHelper helper;
  helper.SetFileName(file);
  helper.SetFileType(type);
  ns3::Ptr<ns3::TopologyReader> reader = helper.GetTopologyReader();
  std::vector<std::string> out;
  if (!reader) { return out; }
  ns3::NodeContainer nodes = reader->Read();
  for (uint32_t i = 0; i < nodes.GetN(); ++i) {
    std::ostringstream s;
    s << "N\t" << nodes.Get(i)->GetId() << "\t" << ns3::Names::FindName(nodes.Get(i));
    out.push_back(s.str());
  }
  for (auto it = reader->LinksBegin(); it != reader->LinksEnd(); ++it) {
    std::ostringstream s;
    s << "L\t" << it->GetFromNode()->GetId() << "\t" << it->GetToNode()->GetId() << "\t"
      << it->GetFromNodeName() << "\t" << it->GetToNodeName();
    for (auto a = it->AttributesBegin(); a != it->AttributesEnd(); ++a) {
      s << "\t" << a->first << "=" << a->second;
    }
    out.push_back(s.str());
  }
  return out;
}
void qkdnet_topology_reset() {
  ns3::Names::Clear();
  ns3::Simulator::Destroy();
}
"""


def _load_ns3() -> Any:
    import cppyy

    from bridge.module_build import find_ns3_wheel

    wheel = find_ns3_wheel()
    cppyy.add_include_path(str(wheel.include_dir))
    modules = ("core", "network", "topology-read")
    for module in modules:
        cppyy.include(f"ns3/{module}-module.h")
    for module in modules:
        cppyy.load_library(str(wheel.lib_dir / f"libns{wheel.version}-{module}.so"))
    cppyy.cppdef(_HELPER)
    return cppyy.gbl


def _text(value: Any) -> str:
    """cppyy may hand a std::string element over as bytes."""
    return value.decode() if isinstance(value, bytes) else str(value)


def _parse(lines: list[str]) -> dict[str, Any]:
    nodes, links = [], []
    for line in lines:
        fields = line.split("\t")
        if fields[0] == "N":
            nodes.append([int(fields[1]), fields[2]])
        else:
            attrs = dict(f.split("=", 1) for f in fields[5:])
            links.append([int(fields[1]), int(fields[2]), fields[3], fields[4], attrs])
    return {"nodes": nodes, "links": links}


def main(argv: list[str]) -> int:
    request_path, result_path = Path(argv[1]), Path(argv[2])
    requests = json.loads(request_path.read_text())
    gbl = _load_ns3()
    results: list[dict[str, Any]] = []
    for item in requests:
        lines = [_text(s) for s in gbl.qkdnet_topology_read(item["path"], item["type"])]
        results.append({"path": item["path"], "type": item["type"], **_parse(lines)})
        gbl.qkdnet_topology_reset()
        result_path.write_text(json.dumps(results))
    result_path.write_text(json.dumps(results))
    return 0


if __name__ == "__main__":  # pragma: no cover - run as a subprocess
    sys.exit(main(sys.argv))
