"""Which candidate routes the ABFT coordinator's latest decision allows, and its own routes.

Why a module of its own: the trust-aware greedy baseline, the combined ABFT + agent routing and
the tests all need the same answer to "does this route pass only through what the coordinator
trusts?", and they must get it from the control plane's public outputs (the decision's per-link
`trusted` flags and `ControlPlane.trusted_graph`, `ControlPlane.apply_routes`) rather than from
the coordinator's internals, which are being reworked independently.

A route is trusted when every hop's link is trusted by the decision and every *interior* node is
in the trusted graph (a trusted node whose weight is at least the plane's `node_weight_min`). The
demand's own ends are never excluded: an end cannot route around itself (as in `apply_routes`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from bridge.scenario.plan import PlannedDemand, ScenarioPlan
    from control.plane import ControlPlane

Route = tuple[int, ...]


def route_links(plan: ScenarioPlan, route: Route) -> list[int]:
    """Indices of the links a route's hops use."""
    return [plan.link_between(u, v).index for u, v in zip(route, route[1:], strict=False)]


class TrustView:
    """The coordinator's latest decision as seen by routing: trusted links and nodes."""

    def __init__(self, plane: ControlPlane | None, plan: ScenarioPlan) -> None:
        self.plan = plan
        # Fail-safe: a step whose consensus did not decide keeps the last decided view (what
        # was distrusted then stays distrusted); only before any decision is nothing distrusted.
        decision = None if plane is None else plane.last_decided
        if decision is None:
            # no decision yet: nothing is distrusted (as the plane's own tables say)
            self.trusted_links: set[int] | None = None
            self.trusted_nodes: set[int] | None = None
        else:
            self.trusted_links = {i for i, ok in enumerate(decision.trusted) if ok}
            self.trusted_nodes = set(plane.trusted_graph(decision).nodes)

    @property
    def has_decision(self) -> bool:
        return self.trusted_links is not None

    def node_trusted(self, node: int) -> bool:
        return self.trusted_nodes is None or node in self.trusted_nodes

    def route_trusted(self, route: Route) -> bool:
        """True when every hop's link and every interior node are trusted (see module doc)."""
        if self.trusted_links is None:
            return True
        if any(link not in self.trusted_links for link in route_links(self.plan, route)):
            return False
        return all(self.node_trusted(node) for node in route[1:-1])

    def trusted_candidates(self, demand: PlannedDemand) -> list[int]:
        """Indices (into `demand.candidate_routes`) of the candidates the decision allows."""
        return [k for k, r in enumerate(demand.candidate_routes) if self.route_trusted(r)]


class _RouteRecorder:
    """Stands in for the scenario in `ControlPlane.apply_routes`, recording what it would set."""

    def __init__(self, current: dict[int, tuple[Route, ...]]) -> None:
        self.current = current
        self.chosen: dict[int, tuple[tuple[Route, ...], int | None]] = {}

    def demand_routes(self, demand: int) -> tuple[Route, ...]:
        return self.current[demand]

    def set_demand_routes(self, demand: int, routes: Any, threshold: int | None = None) -> bool:
        """Record a change (as the scenario's method: True when the routes change; `threshold`
        None keeps the scenario's rule, the demand's own t applied to the routes it gets)."""
        routes = tuple(tuple(int(n) for n in r) for r in routes)
        if routes == tuple(tuple(r) for r in self.current.get(demand, ())):
            return False
        self.chosen[demand] = (routes, None if threshold is None else int(threshold))
        return True


def abft_routes(
    plane: ControlPlane, current: dict[int, tuple[Route, ...]]
) -> dict[int, tuple[tuple[Route, ...], int | None]]:
    """(routes, threshold) the ABFT control plane would give each demand whose routes it would
    change now (`qkdnet run --control abft`'s rerouting), computed without touching the network."""
    if plane.last is None or not plane.last.decided:
        return {}  # the plane reroutes only on a decided step (routes stay as they are)
    recorder = _RouteRecorder(current)
    plane.apply_routes(recorder, plane.last)  # type: ignore[arg-type]
    return recorder.chosen
