"""Swappable QKD network topologies: readers, built-in real networks, synthetic generators.

The graph contract (what the scenario builder consumes)
=======================================================
``load_topology(spec, *, default_length_km=None, seed=None, format=None, engine="python",
options=None)``
returns a :class:`QkdTopology` or raises :class:`TopologyError` (a ValueError whose one-line
message names the file and the line or element, e.g. ``topo.gml: edge 3-7: negative length_km
-4.0``). Nothing half-built is ever returned.

``spec`` is, in this order of precedence:
 * a built-in network, case-insensitive: ``secoqc-vienna``, ``tokyo-qkd``, ``swissquantum``,
   ``beijing-shanghai`` (aliases: secoqc, vienna, tokyo, swiss-quantum, geneva, ...);
 * a synthetic spec: ``waxman:n=1000,seed=3[,degree=4,alpha=0.1,beta=..,side_km=..]`` or
   ``rgg:n=200,seed=1[,radius_km=..,side_km=..]`` (``seed`` falls back to the ``seed`` argument,
   then 0); nodes uniform in a side_km square (default 20*sqrt(n) km), lengths Euclidean;
 * ``<format>:<path>`` to force a reader, format one of graphml, gml, yaml, inet, orbis,
   rocketfuel (or pass ``format=``);
 * a path: .graphml/.xml, .gml, .yaml/.yml, .inet, .orbis, .cch/.weights/.intra (Rocketfuel),
   anything else (e.g. .txt) by its content.

``QkdTopology.graph`` is a frozen, undirected, connected ``networkx.Graph`` on nodes 0..n-1 (in
file order; for ns-3's formats in the order ns-3's reader creates them), without self-loops:

 node attributes
   ``label: str``        unique display name (the file's label, else its id; repeats get
                         " [id]" appended with a warning) - scenarios may name nodes by it
   ``source_id: str``    the node's id in the file it came from
   ``role: str``         "trusted" (default) or "relay" (an untrusted MDI-QKD relay: holds no key)
   ``lat_deg, lon_deg``  optional geographic position (Topology Zoo's Latitude/Longitude read too)
   ``x_km, y_km``        optional plane position (synthetic topologies)
   ``ref: str``, ``approximate: bool``   optional provenance (built-in networks)
   ``location``, ``inet_x``, ``inet_y``  optional, kept from Rocketfuel / Inet files
   ``inserted: str``     only on nodes qkdnet added (repeaters of `max_link_km`, midpoints of
                         parallel links kept with `parallel_links="keep"`): why it was added
 edge attributes
   ``length_km: float``  > 0 always
   ``source: str``       where the length came from: "given" (the file), "great-circle" (from
                         lat/lon, times the file's route factor if it has one), "euclidean" (from
                         x/y), "default" (``default_length_km``, with a TopologyWarning) or
                         "co-located" (ends at identical coordinates: ``co_located_km``)
   ``parallel_links: int``  how many parallel fibres of the file this link stands for (if > 1)
   ``split_from: str``   the original link "A-B" of a repeater hop or kept parallel
   ``attenuation_db_per_km: float``, ``protocol: "bb84-decoy" | "mdi"``   optional
   ``ref: str``, ``approximate: bool``, ``weight: float``   optional (weight: Inet/Rocketfuel's
                         own link weight, never used as a length)

``options`` (`bridge.topology.options.TopologyOptions`) makes real networks such as the Internet
Topology Zoo's usable: parallel links merged or kept, co-located PoPs, a disconnected file's
largest (or a named) part, long links split by trusted repeaters (``max_link_km``) and a
documented ceiling on nodes (``max_nodes``). Every change is listed, one line each, in
``QkdTopology.adjustments`` (``qkdnet topologies show`` prints them).

``QkdTopology`` also has ``name``, ``citation``, ``notes`` (provenance), ``origin``, ``format``,
``n_nodes``, ``n_links``, ``total_length_km``, ``index(label_or_index)``, ``summary()``,
``path_length_km(path)``, ``shortest_paths(src, dst, k)`` (k shortest simple paths by length_km,
Yen) and ``node_disjoint_paths(src, dst, k)`` (up to k node-disjoint paths of least total length,
by min-cost flow). ``write_topology(topology, path)`` writes GraphML or GML that reads back to the
same graph.

ns-3's own readers
==================
Inet, Orbis and Rocketfuel files are parsed by qkdnet's parsers (`text_formats`), which follow
ns-3's grammar and node order but reject a malformed line with its number. ``engine="ns3"`` also
reads the file with ns-3's ``TopologyReaderHelper`` - in a throw-away subprocess, because in
ns-3.44 each read leaves Nodes in the global NodeList (only ``Simulator::Destroy`` clears it,
which would also tear down a running scenario) and names in the global ``Names`` table (a second
read of the same names aborts the process) - and fails unless both agree. ns-3's readers give no
coordinates or lengths, so those links take ``default_length_km``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bridge.topology.builtin import BUILTINS, builtin_names
    from bridge.topology.errors import TopologyError, TopologyWarning
    from bridge.topology.load import load_topology
    from bridge.topology.model import LENGTH_SOURCES, PROTOCOLS, ROLES, QkdTopology
    from bridge.topology.networkx_io import write_topology

# Lazy exports (PEP 562): `qkdnet --help` imports cli.topology, which must not pull in
# networkx, numpy and scipy through this package's __init__.
_EXPORTS = {
    "BUILTINS": "bridge.topology.builtin",
    "builtin_names": "bridge.topology.builtin",
    "TopologyError": "bridge.topology.errors",
    "TopologyWarning": "bridge.topology.errors",
    "load_topology": "bridge.topology.load",
    "LENGTH_SOURCES": "bridge.topology.model",
    "PROTOCOLS": "bridge.topology.model",
    "ROLES": "bridge.topology.model",
    "QkdTopology": "bridge.topology.model",
    "write_topology": "bridge.topology.networkx_io",
}
__all__ = [
    "BUILTINS",
    "LENGTH_SOURCES",
    "PROTOCOLS",
    "ROLES",
    "QkdTopology",
    "TopologyError",
    "TopologyWarning",
    "builtin_names",
    "load_topology",
    "write_topology",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'bridge.topology' has no attribute {name!r}")
