"""Turn a validated scenario and its topology into a concrete plan, before ns-3 is touched.

Why a separate, pure-Python step: everything that can be wrong with a scenario (a demand naming a
relay node, an MDI link without a relay, an override for a link that does not exist, a Byzantine
fraction that leaves no honest route) is found here with a message naming the bad element, and
the plan is a plain data structure the tests can inspect without the 1.5 s ns-3 import. Only a
complete plan is handed to `bridge.scenario`, so nothing half-built reaches ns-3.

QKD links from the topology graph:
 * an edge between two trusted nodes is a point-to-point link (BB84-decoy unless configured);
 * an untrusted relay node R joins every pair of its trusted neighbours by a link through R, with
   the two edges as its arms; such a link can run MDI-QKD (or BB84 through R as a passive splice).
Routes are computed on the graph of trusted nodes joined by those links.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from bridge.scenario.config import (
    ByzantineBehaviourConfig,
    DemandConfig,
    DemandGeneratorConfig,
    LinkHardware,
    NodeRef,
    ScenarioConfig,
    ScenarioError,
)
from bridge.scenario.demand_generator import generate_pairs
from bridge.scenario.sharing_policy import DEFAULT_PATHS, SharingError, sharing_for


@dataclass(frozen=True)
class PlannedNode:
    index: int
    label: str
    trusted: bool


@dataclass(frozen=True)
class PlannedLink:
    index: int
    a: int
    b: int
    relay: int | None
    arm_a_km: float
    arm_b_km: float
    hardware: LinkHardware
    attenuation_db_per_km: float | None  # from the topology edge, if it says

    @property
    def length_km(self) -> float:
        return self.arm_a_km + self.arm_b_km


@dataclass(frozen=True)
class PlannedDemand:
    index: int
    src: int
    dst: int
    rate_bps: float
    paths: int  # n: routes the key is shared over (resolved: configured or default fallback)
    threshold: int  # t of the (t, n) sharing
    authenticate: bool
    candidate_routes: tuple[tuple[int, ...], ...]  # alternatives, best first
    disjoint_routes: tuple[tuple[int, ...], ...]  # node-disjoint set used for sharing (n routes)
    paths_wanted: int = 1  # what the scenario asked for (the default 3 if unset; 1: neighbours)
    allow_single_share: bool = False  # t = 1 over several routes was asked for by name
    when_short: str = "fewer_shares"  # fewer trusted routes than t: "fewer_shares" or "refuse"

    @property
    def sharing_fallback(self) -> bool:
        """The graph has fewer node-disjoint routes than the default wanted."""
        return self.paths < self.paths_wanted


@dataclass(frozen=True)
class ScenarioPlan:
    nodes: tuple[PlannedNode, ...]
    links: tuple[PlannedLink, ...]
    demands: tuple[PlannedDemand, ...]
    byzantine: dict[int, ByzantineBehaviourConfig] = field(default_factory=dict)
    topology_name: str = ""

    def link_between(self, a: int, b: int) -> PlannedLink:
        for link in self.links:
            if {link.a, link.b} == {a, b}:
                return link
        raise KeyError(f"no link between nodes {a} and {b}")

    def qkd_graph(self) -> nx.Graph:
        """Trusted nodes joined by QKD links (weight = fibre length)."""
        graph = nx.Graph()
        graph.add_nodes_from(n.index for n in self.nodes if n.trusted)
        for link in self.links:
            graph.add_edge(link.a, link.b, length_km=link.length_km, link=link.index)
        return graph


def _node_index(ref: NodeRef, labels: dict[str, int], n: int, what: str) -> int:
    if isinstance(ref, int):
        if not 0 <= ref < n:
            raise ScenarioError(f"{what}: node {ref} does not exist (topology has {n} nodes)")
        return ref
    if ref in labels:
        return labels[ref]
    hint = {
        "demands": "; on any topology, generate them: demands: {pairs: N, rate_bps: R}",
        "byzantine": "; on any topology, draw them: byzantine: {fraction: F}",
    }.get(what.split("[")[0], "")
    raise ScenarioError(f"{what}: no node labelled {ref!r} in the topology{hint}")


def plan_scenario(config: ScenarioConfig, graph: nx.Graph, topology_name: str = "") -> ScenarioPlan:
    """Build the plan; raises ScenarioError naming the element that is wrong."""
    n = graph.number_of_nodes()
    if sorted(graph.nodes) != list(range(n)):
        raise ScenarioError("topology nodes must be numbered 0..n-1")
    nodes = tuple(
        PlannedNode(
            index=i,
            label=str(graph.nodes[i].get("label", i)),
            trusted=graph.nodes[i].get("role", "trusted") != "relay",
        )
        for i in range(n)
    )
    labels = {node.label: node.index for node in nodes}
    overrides = _resolve_overrides(config, labels, n)
    links = _plan_links(config, graph, nodes, overrides)
    pairs = {frozenset((link.a, link.b)) for link in links}
    for i, pair in enumerate(overrides):
        if pair not in pairs:
            a, b = sorted(pair)
            raise ScenarioError(f"links[{i}].between: no QKD link between nodes {a} and {b}")
    qkd = nx.Graph()
    qkd.add_nodes_from(node.index for node in nodes if node.trusted)
    for link in links:
        qkd.add_edge(link.a, link.b, length_km=link.length_km)
    demands = _plan_demands(config, graph, qkd, nodes, labels)
    byzantine = _plan_byzantine(config, nodes, labels, demands)
    return ScenarioPlan(nodes, links, demands, byzantine, topology_name)


def replan_byzantine(plan: ScenarioPlan, config: ScenarioConfig) -> ScenarioPlan:
    """`plan` with its Byzantine set drawn again for `config` (a new seed redraws a fraction)."""
    labels = {node.label: node.index for node in plan.nodes}
    byzantine = _plan_byzantine(config, plan.nodes, labels, plan.demands)
    return dataclasses.replace(plan, byzantine=byzantine)


def _resolve_overrides(
    config: ScenarioConfig, labels: dict[str, int], n: int
) -> dict[frozenset[int], LinkHardware]:
    """Per-link hardware: the defaults with each override's given fields replaced."""
    resolved: dict[frozenset[int], LinkHardware] = {}
    for i, override in enumerate(config.links):
        a, b = (_node_index(ref, labels, n, f"links[{i}].between") for ref in override.between)
        if a == b:
            raise ScenarioError(f"links[{i}].between: names the same node twice")
        changes = {
            name: getattr(override, name)
            for name in type(override).model_fields
            if name != "between" and getattr(override, name) is not None
        }
        resolved[frozenset((a, b))] = config.link.model_copy(update=changes)
    return resolved


def _plan_links(
    config: ScenarioConfig,
    graph: nx.Graph,
    nodes: tuple[PlannedNode, ...],
    overrides: dict[frozenset[int], LinkHardware],
) -> tuple[PlannedLink, ...]:
    links: list[PlannedLink] = []

    def add(a: int, b: int, relay: int | None, arm_a: float, arm_b: float, att: float | None):
        hardware = overrides.get(frozenset((a, b)), config.link)
        if hardware.protocol == "mdi" and relay is None:
            raise ScenarioError(
                f"link {nodes[a].label}-{nodes[b].label}: protocol mdi needs an untrusted relay "
                "node between the two ends"
            )
        links.append(PlannedLink(len(links), a, b, relay, arm_a, arm_b, hardware, att))

    for a, b, data in sorted(graph.edges(data=True)):
        if nodes[a].trusted and nodes[b].trusted:
            add(
                a,
                b,
                None,
                data["length_km"] / 2,
                data["length_km"] / 2,
                data.get("attenuation_db_per_km"),
            )
    for relay in (node.index for node in nodes if not node.trusted):
        neighbours = sorted(m for m in graph.neighbors(relay) if nodes[m].trusted)
        if len(neighbours) < 2:
            raise ScenarioError(
                f"relay node {nodes[relay].label}: needs at least two trusted neighbours"
            )
        for a, b in itertools.combinations(neighbours, 2):
            ea, eb = graph.edges[a, relay], graph.edges[relay, b]
            atts = [e.get("attenuation_db_per_km") for e in (ea, eb)]
            att = None if None in atts else (atts[0] + atts[1]) / 2
            add(a, b, relay, ea["length_km"], eb["length_km"], att)
    if not links:
        raise ScenarioError("topology has no QKD link between trusted nodes")
    return tuple(links)


def _plan_demands(
    config: ScenarioConfig,
    graph: nx.Graph,
    qkd: nx.Graph,
    nodes: tuple[PlannedNode, ...],
    labels: dict[str, int],
) -> tuple[PlannedDemand, ...]:
    demands = []
    for i, spec in enumerate(_demand_list(config, graph, qkd)):
        where = f"demands[{i}]"
        src = _node_index(spec.src, labels, len(nodes), f"{where}.src")
        dst = _node_index(spec.dst, labels, len(nodes), f"{where}.dst")
        for end, name in ((src, "src"), (dst, "dst")):
            if not nodes[end].trusted:
                raise ScenarioError(f"{where}.{name}: {nodes[end].label} is an untrusted relay")
        if src == dst:
            raise ScenarioError(f"{where}: src and dst are the same node")
        if not nx.has_path(qkd, src, dst):
            raise ScenarioError(f"{where}: no QKD route between {src} and {dst}")
        candidates = candidate_routes(qkd, src, dst, k=4)
        routing = spec.routing
        if routing.paths is None and qkd.has_edge(src, dst):
            # Neighbours: the link's own key reaches no relay, nothing to share against.
            wanted, disjoint = 1, ((src, dst),)
            threshold, paths = 1, 1
        else:
            wanted = routing.paths or DEFAULT_PATHS
            disjoint = node_disjoint_routes(qkd, src, dst, k=wanted)
            try:
                threshold, paths = sharing_for(
                    len(disjoint),
                    routing.paths,
                    routing.threshold,
                    allow_single_share=routing.allow_single_share_reconstruction,
                )
            except SharingError as exc:
                raise ScenarioError(
                    f"{where}.routing between {nodes[src].label} and {nodes[dst].label}: {exc}"
                ) from None
        demands.append(
            PlannedDemand(
                index=i,
                src=src,
                dst=dst,
                rate_bps=spec.rate_bps,
                paths=paths,
                threshold=threshold,
                authenticate=routing.authenticate,
                candidate_routes=candidates,
                disjoint_routes=disjoint[:paths],
                paths_wanted=wanted,
                allow_single_share=routing.allow_single_share_reconstruction,
                when_short=routing.when_short,
            )
        )
    return tuple(demands)


def _demand_list(config: ScenarioConfig, graph: nx.Graph, qkd: nx.Graph) -> list[DemandConfig]:
    """The scenario's named demands, or those its generator picks on this topology."""
    spec = config.demands
    if not isinstance(spec, DemandGeneratorConfig):
        return list(spec)
    seed = config.seed if spec.seed is None else spec.seed
    try:
        pairs = generate_pairs(graph, qkd, spec.pairs, spec.pick, seed)
    except ValueError as exc:
        raise ScenarioError(f"demands.pairs: {exc}") from None
    return [
        DemandConfig(src=a, dst=b, rate_bps=spec.rate_bps, routing=spec.routing) for a, b in pairs
    ]


def candidate_routes(graph: nx.Graph, src: int, dst: int, k: int) -> tuple[tuple[int, ...], ...]:
    """Up to k alternative routes, shortest fibre first, that include a node-disjoint detour.

    Why not just the k shortest: in a hub-and-spoke network (SECOQC's GUD) the k shortest routes
    can all cross the same relay, and then no choice avoids a compromised one. So the shortest
    route, the node-disjoint routes beside it, then the next shortest ones, in that priority.
    """
    shortest = k_shortest_routes(graph, src, dst, k)
    disjoint = node_disjoint_routes(graph, src, dst, k)
    chosen: list[tuple[int, ...]] = []
    for route in (*shortest[:1], *disjoint[1:], *shortest[1:]):
        if route not in chosen and len(chosen) < k:
            chosen.append(route)
    return tuple(sorted(chosen, key=lambda r: _route_length(graph, r)))


def k_shortest_routes(graph: nx.Graph, src: int, dst: int, k: int) -> tuple[tuple[int, ...], ...]:
    """Up to k loop-free routes, shortest fibre first (Yen's algorithm via networkx)."""
    routes = nx.shortest_simple_paths(graph, src, dst, weight="length_km")
    return tuple(tuple(r) for r in itertools.islice(routes, k))


def node_disjoint_routes(
    graph: nx.Graph, src: int, dst: int, k: int
) -> tuple[tuple[int, ...], ...]:
    """Up to k routes sharing no node but the ends, shortest first.

    Greedy: take the shortest route, remove its inner nodes, repeat. It can miss a disjoint set
    that a max-flow would find, so if it finds fewer than k we fall back to networkx's
    max-flow-based node_disjoint_paths, which finds the most routes (not the shortest).
    """
    remaining = graph.copy()
    routes: list[tuple[int, ...]] = []
    while len(routes) < k:
        try:
            route = nx.shortest_path(remaining, src, dst, weight="length_km")
        except nx.NetworkXNoPath:
            break
        routes.append(tuple(route))
        if len(route) == 2:
            remaining.remove_edge(src, dst)
        remaining.remove_nodes_from(route[1:-1])
    if len(routes) < k:
        flow_routes = [tuple(r) for r in nx.node_disjoint_paths(graph, src, dst)]
        if len(flow_routes) > len(routes):
            routes = sorted(flow_routes, key=lambda r: _route_length(graph, r))[:k]
    return tuple(routes)


def _route_length(graph: nx.Graph, route: tuple[int, ...]) -> float:
    return sum(graph.edges[a, b]["length_km"] for a, b in itertools.pairwise(route))


def _plan_byzantine(
    config: ScenarioConfig,
    nodes: tuple[PlannedNode, ...],
    labels: dict[str, int],
    demands: tuple[PlannedDemand, ...],
) -> dict[int, ByzantineBehaviourConfig]:
    spec = config.byzantine
    behaviour = spec.behaviour
    if spec.nodes:
        chosen = [
            _node_index(ref, labels, len(nodes), f"byzantine.nodes[{i}]")
            for i, ref in enumerate(spec.nodes)
        ]
        return {index: behaviour for index in sorted(set(chosen))}
    if spec.fraction <= 0.0:
        return {}
    ends = (
        {d.src for d in demands} | {d.dst for d in demands} if spec.exclude_demand_ends else set()
    )
    candidates = [node.index for node in nodes if node.index not in ends]
    count = int(round(spec.fraction * len(nodes)))
    if count > len(candidates):
        raise ScenarioError(
            f"byzantine.fraction: {spec.fraction} of {len(nodes)} nodes is {count}, but only "
            f"{len(candidates)} nodes are not demand endpoints"
        )
    rng = np.random.default_rng([config.seed, 0xB1A5])
    chosen = sorted(int(i) for i in rng.choice(candidates, size=count, replace=False))
    return {index: behaviour for index in chosen}
