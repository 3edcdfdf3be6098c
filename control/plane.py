"""The control plane of a running scenario: ABFT coordinator or the no-ABFT baseline.

Each step (from the second on) the key-management nodes report what they saw on their links in
the previous step - the QBER they measured and their key-buffer levels, as the ns-3 model reports
them (a Byzantine node's reports may lie) - and vote to trust a link iff its reported QBER stays
within `expected + margin` (the public bound). Only a link's two endpoints observe it, so only
they report on it. The coordinator agrees on a batch of reports, proves faulty the nodes whose
reports contradict more than f others (control/abft/diagnosis.py), trusts a link only when both
its ends vouch for it, and lowers the weights of proved-faulty nodes only. With ABFT the consensus
messages are ns-3 packets among the nodes (`bridge.abft_transport`) and run at the start of the
step, in simulated time; Byzantine nodes may also misbehave inside the protocol
(`byzantine.protocol`: equivocate, censor, silent, crash, delay, invalid proposals).

Fault assumption the resilience rests on: at most f = (n - 1) // 3 of the n key-management nodes
are Byzantine, and honest ends of a link agree on its QBER and (within a few requests' key) its
buffer. Under it no honest node loses weight and no link an honest end measures as bad is
trusted; beyond it, quorum safety still holds (the clamp) but a coalition can frame nodes.

With `reroute` on, demands then use only trusted links and nodes whose weight is above
`node_weight_min` and that were not proved faulty (same number of node-disjoint routes if the
trusted graph has them, fewer otherwise), so an attacked link or a lying relay is routed around.
The baseline trusts every report and never reroutes: the comparison the experiments need.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np
import pandas as pd

from bridge.scenario.config import ScenarioConfig, ScenarioError
from bridge.scenario.plan import ScenarioPlan, k_shortest_routes, node_disjoint_routes
from control.abft import (
    AbftConfig,
    AbftCoordinator,
    BaselineCoordinator,
    MeasuredInputs,
    NodeReport,
    QuantityConfig,
    StepDecision,
    make_strategy,
)

if TYPE_CHECKING:  # pragma: no cover
    from bridge.scenario import QkdScenario, StepResult

Routes = tuple[tuple[int, ...], ...]  # a demand's routes, each a node path


class ControlOutcome:
    """One step of the control plane: its decision, and its tables when someone asks.

    Why lazy: an RL agent reads the decision's arrays every step, and building two pandas
    frames per step would cost more than the agent needs; `qkdnet run` asks for the tables.
    """

    def __init__(self, decision: StepDecision | None, plane: ControlPlane, rerouted: int) -> None:
        self.decision = decision
        self.rerouted = rerouted  # demands whose routes changed
        self._plane = plane

    @functools.cached_property
    def nodes(self) -> pd.DataFrame:
        """Per key-management node: weight, consensus weight, error."""
        return self._plane.node_table(self.decision)

    @functools.cached_property
    def links(self) -> pd.DataFrame:
        """Per link: trusted, vote, agreed QBER."""
        return self._plane.link_table(self.decision)

    def columns(self) -> dict[str, dict[str, np.ndarray]]:
        """Both tables as columns (what `nodes`/`links` hold, index first), for a recorder."""
        return {
            "control_nodes": self._plane.node_columns(self.decision),
            "control_links": self._plane.link_columns(self.decision),
        }


class ControlPlane:
    """Feeds a scenario's reports to a coordinator every step and applies its decisions."""

    def __init__(
        self,
        config: ScenarioConfig,
        plan: ScenarioPlan,
        scenario: QkdScenario | None = None,
        *,
        reroute: bool = True,
        node_weight_min: float = 0.5,
    ) -> None:
        self.config = config
        self.plan = plan
        self.mode = config.control.mode
        self.reroute = reroute and self.mode == "abft"
        self.in_simulated_time = self.mode == "abft"  # the baseline sends no consensus traffic
        self.node_weight_min = node_weight_min
        self.members = [node.index for node in plan.nodes if node.trusted]
        self._member_of = {ns_node: i for i, ns_node in enumerate(self.members)}
        endpoints = tuple((self._member_of[link.a], self._member_of[link.b]) for link in plan.links)
        # the member at each link's A and B end: every report of a step is filled in one go
        self._ends = np.array(endpoints, dtype=np.int64).reshape(-1, 2).T
        abft_config = AbftConfig(
            n_nodes=len(self.members),
            link_endpoints=endpoints,
            quantities=self._quantities(config),
            alpha=config.control.alpha,
            observation="endpoints",  # a link is seen by its two ends only
            quiet_interval_steps=config.control.quiet_interval_steps,
            seed=config.seed,
        )
        self.abft_config = abft_config
        self.protocol_byzantine = self._protocol_strategies(config, plan)
        if self.mode == "abft":
            transport = None
            if scenario is not None:
                from bridge.abft_transport import Ns3Transport

                transport = Ns3Transport(scenario.runtime.network, self.members)
            self.coordinator: AbftCoordinator | BaselineCoordinator = AbftCoordinator(
                abft_config, transport=transport, byzantine=self.protocol_byzantine
            )
        else:
            self.coordinator = BaselineCoordinator(abft_config)
        self.last: StepDecision | None = None
        # the most recent step that decided: what routing may rely on when the latest did not
        self.last_decided: StepDecision | None = None
        self._pending_step: int | None = None
        # routes per demand for the last trusted view (see apply_routes)
        self._routes_memo: tuple[tuple[bytes, bytes], list[Routes | None]] | None = None

    @staticmethod
    def _quantities(config: ScenarioConfig) -> tuple[QuantityConfig, ...]:
        """What the nodes report and how far honest ends of one link may differ.

        Both ends estimate a link's QBER from the same sifted bits, so honest QBER reports agree
        (0.01 covers rounding). Buffer levels differ while a relayed key is in flight (consumed
        at one end, not yet at the other) and by authentication tags: up to a few requests' key,
        so the tolerance is four of the largest request plus 10 %. Honest ends must always agree
        within these tolerances: the diagnosis rests on it (control/abft/diagnosis.py).
        """
        request_bits = config.max_demand_rate_bps * config.demand_interval_s
        return (
            QuantityConfig(name="qber", tolerance_abs=0.01),
            QuantityConfig(
                name="buffer_bits",
                tolerance_abs=1000.0 + 4.0 * request_bits,
                tolerance_rel=0.1,
                worse="lower",
            ),
        )

    def _protocol_strategies(self, config: ScenarioConfig, plan: ScenarioPlan) -> dict[int, Any]:
        """Consensus-level behaviour of the scenario's Byzantine key-management nodes."""
        protocol = config.byzantine.protocol
        if protocol.strategy == "none" or self.mode != "abft":
            return {}
        labels = {node.label: node.index for node in plan.nodes}
        victims = None
        if protocol.victims is not None:
            victims = []
            for ref in protocol.victims:
                ns_node = labels.get(ref, ref) if isinstance(ref, str) else ref
                if ns_node not in self._member_of:
                    raise ScenarioError(
                        f"byzantine.protocol.victims: {ref!r} is not a trusted node"
                    )
                victims.append(self._member_of[ns_node])
        return {
            self._member_of[ns_node]: make_strategy(
                protocol.strategy, at_s=protocol.at_s, delay_s=protocol.delay_s, victims=victims
            )
            for ns_node in sorted(plan.byzantine)
            if ns_node in self._member_of
        }

    # reports ----------------------------------------------------------------------------
    def reports(self, result: StepResult) -> tuple[dict[int, NodeReport], MeasuredInputs]:
        """What every node claims about its links in `result`, and the public measurements."""
        n_links = len(self.plan.links)
        margin = self.config.control.expected_qber_margin
        expected = result.link("expected_qber_no_attack")
        qber_a = result.link("reported_qber_a")
        qber_b = result.link("reported_qber_b")
        buffer_a = result.link("reported_buffer_a_bits")
        buffer_b = result.link("reported_buffer_b_bits")
        bound = expected + margin
        # one row per member: what it says about each link (NaN where it is no end of it)
        shape = (len(self.members), n_links)
        qber, buffers = np.full(shape, np.nan), np.full(shape, np.nan)
        links = np.arange(n_links)
        qber[self._ends[0], links], buffers[self._ends[0], links] = qber_a, buffer_a
        qber[self._ends[1], links], buffers[self._ends[1], links] = qber_b, buffer_b
        seen = ~np.isnan(qber)  # a link's two ends, where they reported a QBER
        votes = np.where(seen, np.where(qber <= bound, 1, -1), 0).astype(np.int64)
        reports = {
            member: NodeReport(
                member,
                result.step,
                {"qber": qber[member], "buffer_bits": buffers[member]},
                votes[member],
            )
            for member in range(shape[0])
        }
        measured = MeasuredInputs(result.link("step_qber"), expected, bound)
        return reports, measured

    # the per-step protocol --------------------------------------------------------------
    def begin(self, result: StepResult) -> None:
        """Start agreeing on `result`'s reports (the consensus then runs in simulated time)."""
        reports, measured = self.reports(result)
        if isinstance(self.coordinator, AbftCoordinator):
            self.coordinator.begin_step(result.step, reports, measured)
            self._pending_step = result.step
        else:
            self.last = self.coordinator.run_step(result.step, reports, measured)
            self._remember_decided()

    def run_consensus(self, until_ns: int) -> None:
        """Let the consensus run over the network until all honest nodes decided or `until_ns`
        (integer simulated nanoseconds: a deadline the simulator can always reach)."""
        if self._pending_step is None or not isinstance(self.coordinator, AbftCoordinator):
            return
        step = self._pending_step
        self.coordinator.transport.run_until_ns(
            until_ns, stop=lambda: self.coordinator.step_settled(step)
        )

    def finish(self, scenario: QkdScenario | None = None) -> ControlOutcome:
        """Collect the decision of the step begun last and apply it (reroute)."""
        if self._pending_step is not None and isinstance(self.coordinator, AbftCoordinator):
            self.last = self.coordinator.decision(self._pending_step)
            self._pending_step = None
            self._remember_decided()
        rerouted = 0
        if self.reroute and scenario is not None and self.last is not None and self.last.decided:
            rerouted = self.apply_routes(scenario, self.last)
        return ControlOutcome(self.last, self, rerouted)

    def _remember_decided(self) -> None:
        if self.last is not None and self.last.decided:
            self.last_decided = self.last

    def observe(self, result: StepResult) -> ControlOutcome:
        """Begin, run and finish in one go (in-memory transport or baseline; no scenario)."""
        self.begin(result)
        if self._pending_step is not None:
            coordinator = self.coordinator
            assert isinstance(coordinator, AbftCoordinator)
            step = self._pending_step
            deadline = coordinator.transport.now_s() + self.abft_config.step_deadline_s
            coordinator.transport.run_until(deadline, stop=lambda: coordinator.step_settled(step))
        return self.finish()

    # decisions -> network ---------------------------------------------------------------
    def trusted_graph(self, decision: StepDecision) -> nx.Graph:
        """Trusted nodes with enough weight, joined by links the vote trusts."""
        graph = nx.Graph()
        kept = self._kept_mask(decision)
        keep = {ns_node for member, ns_node in enumerate(self.members) if kept[member]}
        graph.add_nodes_from(keep)
        for link in self.plan.links:
            if decision.trusted[link.index] and link.a in keep and link.b in keep:
                graph.add_edge(link.a, link.b, length_km=link.length_km)
        return graph

    def apply_routes(self, scenario: QkdScenario, decision: StepDecision) -> int:
        """Offer every demand its routes over the trusted graph; returns how many changed.

        The routes are a pure function of which nodes are kept and which links are trusted
        (lengths are fixed), and that view changes only when trust does: consecutive decisions
        that trust the same nodes and links reuse the routes computed for the first of them
        (at 50 nodes the disjoint-route search was ~60 ms per step)."""
        key = (self._kept_mask(decision).tobytes(), np.asarray(decision.trusted, bool).tobytes())
        if self._routes_memo is None or self._routes_memo[0] != key:
            self._routes_memo = (key, self._trusted_routes(decision))
        changed = 0
        for demand, routes in zip(self.plan.demands, self._routes_memo[1], strict=True):
            if routes is not None:
                # t is the demand's own: with fewer routes than t the scenario applies the
                # demand's `when_short` and records it (routes_short, threshold_lowered,
                # reroutes_refused); unchanged routes are offered too, so that record follows
                # the trusted graph.
                changed += scenario.set_demand_routes(demand.index, routes)
        return changed

    def _kept_mask(self, decision: StepDecision) -> np.ndarray:
        """Members whose weight and diagnosis keep them in the trusted graph."""
        weights = np.asarray(decision.weights, dtype=float)
        return (weights >= self.node_weight_min) & ~np.asarray(decision.faulty, dtype=bool)

    def _trusted_routes(self, decision: StepDecision) -> list[Routes | None]:
        """Each demand's routes over the trusted graph (None: no trusted path, keep its routes)."""
        graph = self.trusted_graph(decision)
        out: list[Routes | None] = []
        for demand in self.plan.demands:
            # The demand's own ends always stay in (an end cannot route around itself).
            sub = graph.copy()
            for end in (demand.src, demand.dst):
                sub.add_node(end)
            ends = {demand.src, demand.dst}
            for link in self.plan.links:
                # a trusted link at an end joins it to a kept node (never re-admits a dropped one)
                if (
                    {link.a, link.b} & ends
                    and {link.a, link.b} <= ends | set(graph.nodes)
                    and decision.trusted[link.index]
                ):
                    sub.add_edge(link.a, link.b, length_km=link.length_km)
            if not nx.has_path(sub, demand.src, demand.dst):
                out.append(None)  # nothing trusted left: keep the current routes
            elif demand.paths > 1:
                out.append(node_disjoint_routes(sub, demand.src, demand.dst, demand.paths))
            else:
                out.append(k_shortest_routes(sub, demand.src, demand.dst, 1))
        return out

    # tables -----------------------------------------------------------------------------
    def node_columns(self, decision: StepDecision | None) -> dict[str, np.ndarray]:
        """Per node for `decision` (None: no decision yet, every node at weight 1), as columns:
        a recorder copies them as they are, without building a frame per step."""
        d = decision
        n = len(self.members)
        return {
            "node": np.asarray(self.members, dtype=np.int64),
            "weight": np.asarray(d.weights) if d is not None else np.ones(n),
            "consensus_weight": np.asarray(d.consensus_weights) if d is not None else np.ones(n),
            "error": np.asarray(d.errors) if d is not None else np.zeros(n),
            "faulty": np.asarray(d.faulty) if d is not None else np.zeros(n, dtype=bool),
            # the step whose decision is in force (earlier than the step on a quiet step or one
            # not decided in time; -1: none yet), so a table shows which steps ABFT decided
            "decided_step": np.full(n, self._decided_step(d), dtype=np.int64),
        }

    def _decided_step(self, decision: StepDecision | None) -> int:
        if decision is not None and decision.decided:
            return decision.step
        return self.last_decided.step if self.last_decided is not None else -1

    def link_columns(self, decision: StepDecision | None) -> dict[str, np.ndarray]:
        """Per link for `decision` (None: no decision yet, every link trusted), as columns."""
        d = decision
        n_links = len(self.plan.links)
        return {
            "link": np.arange(n_links, dtype=np.int64),
            "trusted": d.trusted.astype(bool) if d is not None else np.ones(n_links, bool),
            "vote": np.asarray(d.vote) if d is not None else np.zeros(n_links),
            "agreed_qber": (
                np.asarray(d.agreed["qber"]) if d is not None else np.full(n_links, np.nan)
            ),
            "disputed": (
                np.asarray(d.disputed) if d is not None else np.zeros(n_links, dtype=bool)
            ),
        }

    def node_table(self, decision: StepDecision | None) -> pd.DataFrame:
        """`node_columns` as a frame indexed by node."""
        return pd.DataFrame(self.node_columns(decision)).set_index("node")

    def link_table(self, decision: StepDecision | None) -> pd.DataFrame:
        """`link_columns` as a frame indexed by link."""
        return pd.DataFrame(self.link_columns(decision)).set_index("link")

    def stats(self) -> dict[str, Any]:
        d = self.last
        if d is None or not hasattr(d, "stats"):
            return {}
        s = d.stats
        return {
            "messages": s.messages,
            "bytes": s.bytes,
            "latency_s": s.latency_s,
            "decided": d.decided,
            "fresh": d.fresh,
            "clamp_reason": d.clamp_reason,
        }
