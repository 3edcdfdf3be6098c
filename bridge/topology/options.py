"""What a user may ask of a topology beyond "read this file": the rules that make real networks
(the Internet Topology Zoo's, a carrier's map) usable as QKD networks, all in one place.

Why options and not silent repairs: every one of these changes the network that is simulated,
so each is either a documented default that is reported link by link (`QkdTopology.adjustments`,
`qkdnet topologies show`), or off until asked for, with an error that names the option.

 * ``parallel_links`` - the Zoo records parallel links between the same two PoPs (GEANT's two
   Bulgaria-Romania 10 Gbps links). ``"merge"`` (default): one QKD link per node pair, the
   shortest fibre's length and attributes, ``parallel_links`` = how many fibres it stands for.
   ``"keep"``: every extra fibre becomes a QKD route of its own, A - M - B through a trusted node
   M at its midpoint (qkdnet's plan holds at most one QKD link per node pair, so a parallel link
   needs a node of its own); the fibre length is kept, the route gains one trusted node.
 * ``co_located_km`` (default 1 km) - two PoPs at identical coordinates (many metro networks,
   Uninett's three Trondheim sites) are joined by a metro link of this length, not an error.
 * ``default_length_km`` - links whose ends lack coordinates (GEANT's UA, MD, BY) take this
   length; without it such a link is an error that names ``--default-length-km``.
 * ``component`` - a disconnected network is an error naming this option unless it is
   ``"largest"`` (keep the part with most nodes; ties: the one holding the earliest node of the
   file) or a node's label (keep that node's part). What is dropped is listed.
 * ``max_link_km`` - every link longer than this is split into ``ceil(length / max_link_km)``
   equal hops joined by trusted repeater nodes placed on the great circle (or the plane) between
   its ends, as real backbones do (Beijing-Shanghai: ~2,000 km over 32 trusted relays).
 * ``max_nodes`` (default 5,000) - a documented ceiling: a bigger network is refused before it is
   built, with a message naming the option that lifts it. Why 5,000: ns-3's global routing
   takes ~104 s at 1,000 nodes and grows ~n^3, and every node runs a consensus replica; a larger
   file is far more often a mistake (a router-level Orbis map of 150k nodes) than a QKD network.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from bridge.topology.errors import TopologyError

ParallelLinks = Literal["merge", "keep"]
#: The ceiling on nodes a topology may have unless `max_nodes` is raised.
MAX_NODES_DEFAULT = 5000
#: Length of a link between two PoPs at the same coordinates (a metro hop inside one city).
CO_LOCATED_KM_DEFAULT = 1.0


@dataclass(frozen=True)
class TopologyOptions:
    """How to turn a file into a QKD network (see the module doc for each rule)."""

    default_length_km: float | None = None
    co_located_km: float = CO_LOCATED_KM_DEFAULT
    parallel_links: ParallelLinks = "merge"
    component: str | None = None
    max_link_km: float | None = None
    max_nodes: int = MAX_NODES_DEFAULT

    def checked(self, where: str) -> TopologyOptions:
        """Self, or TopologyError naming the first option that makes no sense."""
        for name in ("default_length_km", "max_link_km"):
            value = getattr(self, name)
            if value is not None and not _positive(value):
                raise TopologyError(f"{where}: {name} must be a positive number, got {value!r}")
        if not _positive(self.co_located_km):
            raise TopologyError(
                f"{where}: co_located_km must be a positive number, got {self.co_located_km!r}"
            )
        if self.parallel_links not in ("merge", "keep"):
            raise TopologyError(
                f"{where}: parallel_links must be 'merge' or 'keep', got {self.parallel_links!r}"
            )
        if isinstance(self.max_nodes, bool) or not isinstance(self.max_nodes, int):
            raise TopologyError(f"{where}: max_nodes must be an integer, got {self.max_nodes!r}")
        if self.max_nodes < 2:
            raise TopologyError(f"{where}: max_nodes must be at least 2, got {self.max_nodes}")
        if self.component is not None and not str(self.component).strip():
            raise TopologyError(f"{where}: component must be 'largest' or a node label")
        return self


def _positive(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and value > 0


def too_many_nodes(where: str, count: int, max_nodes: int, counted: str = "") -> TopologyError:
    """The one-line refusal of a network above the node ceiling, naming how to go ahead."""
    what = f"{count:,}" if not counted else f"more than {max_nodes:,} ({counted})"
    return TopologyError(
        f"{where}: {what} nodes is above the ceiling of {max_nodes:,} (ns-3 routing and consensus "
        "grow as n^2-n^3); to go ahead anyway raise it with --max-nodes N "
        "(scenario: topology_options.max_nodes)"
    )
