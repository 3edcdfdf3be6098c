"""A running qkdnet scenario: topology + ns-3 network + link physics + Byzantine nodes.

One step, in the order the design notes give:
  1. the channel processes move on (fibre drift, atmospheric fading) and qchannel turns every
     link's current loss, hardware, intensity and protocol - and any intercept-resend attack by a
     Byzantine end - into gain, QBER, sifting ratio and secret fraction (one vectorised call);
  2. ns-3 advances one step with those inputs (one call into C++), sampling frames, running
     post-processing over the classical network, relaying keys for the demands;
  3. the counters come back as one array, viewed as link/demand/node tables.
Actions (intensity, protocol, routes) change the inputs of the next step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from bridge.ns3_runtime import load_ns
from bridge.scenario.config import ScenarioConfig, ScenarioError, load_scenario
from bridge.scenario.cost import check_cost
from bridge.scenario.link_physics import LinkPhysics, LinkPoints
from bridge.scenario.plan import ScenarioPlan, plan_scenario
from bridge.scenario.runtime import NetworkRuntime
from bridge.scenario.sharing_policy import SharingError, check_threshold
from bridge.scenario.watchdog import default_stall_s, watching


class ControlOutcome(Protocol):
    """What a control plane decided in a step, as the step's result shows it."""

    rerouted: int

    @property
    def nodes(self) -> pd.DataFrame: ...

    @property
    def links(self) -> pd.DataFrame: ...


class StepControl(Protocol):
    """A control plane that runs inside every step (e.g. control.plane.ControlPlane).

    Why a protocol: the scenario layer must not know the control layer (the runner or the env
    composes the two); it only needs these three calls, in this order, each step."""

    #: Whether `run_consensus` sends messages through ns-3 (this step's link inputs must then
    #: hold before it runs); False for a control plane that decides without simulated time.
    in_simulated_time: bool

    def begin(self, result: StepResult) -> None:
        """Start agreeing on the previous step's result."""

    def run_consensus(self, until_ns: int) -> None:
        """Let the agreement run in simulated time until `until_ns` (integer ns) at most."""

    def finish(self, scenario: QkdScenario) -> ControlOutcome:
        """Collect the decision and apply it to the scenario (e.g. reroute demands)."""


PROTOCOL_CODES = {"bb84-decoy": 0, "mdi": 1}


class StepResult:
    """What one step produced, as arrays; DataFrames are built only when asked for.

    Columns: every ns-3 counter (cumulative, see QkdNetwork::*OutputFields) plus per-step derived
    values (`key_rate_bps`, `delivered_bps`, ...). `control_nodes`/`control_links` hold the
    control plane's decision taken during this step (about the previous step's reports).
    Why arrays first: an RL agent steps thousands of times and needs a few columns; building
    pandas frames every step would cost more than the simulation itself.
    """

    def __init__(
        self,
        step: int,
        time_s: float,
        link_columns: dict[str, np.ndarray],
        demand_columns: dict[str, np.ndarray],
        node_columns: dict[str, np.ndarray],
    ) -> None:
        self.step = step
        self.time_s = time_s
        self.link_columns = link_columns
        self.demand_columns = demand_columns
        self.node_columns = node_columns
        self.control: ControlOutcome | None = None
        self._frames: dict[str, pd.DataFrame] = {}

    @property
    def control_nodes(self) -> pd.DataFrame | None:
        return None if self.control is None else self.control.nodes

    @property
    def control_links(self) -> pd.DataFrame | None:
        return None if self.control is None else self.control.links

    @property
    def rerouted(self) -> int:
        return 0 if self.control is None else self.control.rerouted

    def link(self, name: str) -> np.ndarray:
        return self.link_columns[name]

    def demand(self, name: str) -> np.ndarray:
        return self.demand_columns[name]

    def node(self, name: str) -> np.ndarray:
        return self.node_columns[name]

    def _frame(self, name: str, columns: dict[str, np.ndarray], index: str) -> pd.DataFrame:
        if name not in self._frames:
            frame = pd.DataFrame(columns)
            frame.index.name = index
            frame.insert(0, "time_s", self.time_s)
            self._frames[name] = frame
        return self._frames[name]

    @property
    def links(self) -> pd.DataFrame:
        return self._frame("links", self.link_columns, "link")

    @property
    def demands(self) -> pd.DataFrame:
        return self._frame("demands", self.demand_columns, "demand")

    @property
    def nodes(self) -> pd.DataFrame:
        return self._frame("nodes", self.node_columns, "node")

    def columns(self) -> dict[str, dict[str, np.ndarray]]:
        """Every table of the step as `tables()` has them, links/demands/nodes as plain columns
        (index, time_s, counters...) so a recorder copies arrays instead of building frames."""
        out: dict[str, dict[str, np.ndarray]] = {}
        for name, index, columns in (
            ("links", "link", self.link_columns),
            ("demands", "demand", self.demand_columns),
            ("nodes", "node", self.node_columns),
        ):
            n = len(next(iter(columns.values()))) if columns else 0
            out[name] = {
                index: np.arange(n, dtype=np.int64),
                "time_s": np.full(n, self.time_s, dtype=np.float64),
                **columns,
            }
        if self.control is not None:
            out.update(self.control.columns())
        return out

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table of the step by name (what a run records)."""
        out = {"links": self.links, "demands": self.demands, "nodes": self.nodes}
        if self.control_nodes is not None:
            out["control_nodes"] = self.control_nodes
        if self.control_links is not None:
            out["control_links"] = self.control_links
        return out


def load_plan(config: ScenarioConfig) -> ScenarioPlan:
    """Read the scenario's topology and plan the network (no ns-3 involved)."""
    from bridge.scenario.cost import check_synthetic_size, check_topology_size
    from bridge.topology import load_topology

    check_synthetic_size(config)  # before a huge synthetic graph is drawn
    topology = load_topology(
        config.topology,
        options=config.topology_options.to_options(config.default_length_km),
    )
    name = getattr(topology, "name", "")
    check_topology_size(config, topology.graph.number_of_nodes(), name or config.topology)
    return plan_scenario(config, topology.graph, topology_name=name)


class QkdScenario:
    """Builds the scenario in ns-3 and steps it."""

    def __init__(
        self,
        config: ScenarioConfig,
        *,
        seed: int | None = None,
        plan: ScenarioPlan | None = None,
        watchdog_s: float | None = None,
    ) -> None:
        """Build `config` in ns-3 (its topology is read unless a ready `plan` is given).

        `watchdog_s`: wall seconds a step may go without simulated progress before the process
        stops with one line (bridge.scenario.watchdog; default $QKDNET_WATCHDOG_S or 300 s,
        0 = off)."""
        self.config = config
        self.watchdog_s = default_stall_s() if watchdog_s is None else watchdog_s
        self.seed = config.seed if seed is None else int(seed)
        self.plan = plan if plan is not None else load_plan(config)
        self.physics = LinkPhysics(self.plan, seed=self.seed)
        check_cost(config, self.plan, self.physics)  # before ns-3: refuse what cannot finish
        self.runtime = self._build()
        self.step_index = 0
        self._start_ns = int(self.runtime.network.GetNowNs())
        self._routes: dict[int, tuple[tuple[int, ...], ...]] = {}
        self._thresholds = np.array([d.threshold for d in self.plan.demands], dtype=np.int64)
        self._thresholds_planned = self._thresholds.copy()
        self._paths_planned = np.array([d.paths for d in self.plan.demands], dtype=np.int64)
        # Routes the last reroute offered per demand, and reroutes refused for having fewer
        # routes than the demand's threshold (its t is never lowered to fit).
        self._offered_routes = np.array([d.paths for d in self.plan.demands], dtype=np.int64)
        self._reroutes_refused = np.zeros(len(self.plan.demands), dtype=np.int64)
        for demand in self.plan.demands:
            routes = demand.disjoint_routes if demand.paths > 1 else demand.candidate_routes[:1]
            self.set_demand_routes(demand.index, routes, demand.threshold, demand.authenticate)
        self._previous = self.runtime.outputs.copy()
        self._byzantine_links = self._links_with_byzantine_ends()
        self.control: StepControl | None = None
        self._last_result: StepResult | None = None

    def attach_control(self, plane: StepControl) -> None:
        """Run `plane` (ABFT or baseline) inside every step from now on."""
        self.control = plane

    @classmethod
    def from_file(cls, path: str | Path, **overrides: object) -> QkdScenario:
        return cls(load_scenario(path, **overrides))

    # building ----------------------------------------------------------------------------
    def _build(self) -> NetworkRuntime:
        cfg = self.config
        ns = load_ns()
        net = ns.QkdNetwork()
        hw = cfg.link
        net.SetLinkConfig(hw.frame_pulses, hw.block_size_bits, hw.abort_qber)
        b = cfg.buffer
        net.SetBufferConfig(b.capacity_bits, b.minimum_bits, b.threshold_bits, b.initial_bits)
        net.SetClassicalChannel(cfg.classical.data_rate, cfg.classical.queue_packets)
        net.SetRouting(cfg.classical.routing)
        pp = cfg.post_processing
        net.SetPostProcessing(
            pp.enabled, pp.ec_efficiency, pp.ec_rounds, pp.auth_tag_bits, pp.timeout_s
        )
        net.SetDemandInterval(cfg.demand_interval_s)
        # Each demand's end-to-end tag key store starts with as much as a link's pre-shared key.
        net.SetDemandAuthenticationKey(b.initial_bits)
        for node in self.plan.nodes:
            net.AddTrustedNode() if node.trusted else net.AddRelayNode()
        for link in self.plan.links:
            relay = -1 if link.relay is None else link.relay
            index = net.AddLink(link.a, link.b, link.length_km, relay)
            if link.relay is not None:
                net.SetArmLengths(index, link.arm_a_km, link.arm_b_km)
        for demand in self.plan.demands:
            net.AddDemand(demand.src, demand.dst, demand.rate_bps)
        for node, behaviour in self.plan.byzantine.items():
            net.SetByzantine(
                node,
                behaviour.onset_s,
                behaviour.tamper,
                behaviour.drop,
                behaviour.delay_s,
                behaviour.report_qber_offset,
                behaviour.report_buffer_scale,
                behaviour.false_announcement,
            )
            if behaviour.forge_copy > 0.0:
                net.SetByzantineForgeCopy(node, behaviour.forge_copy)
        runtime = NetworkRuntime(net, seed=self.seed)
        for link in self.plan.links:
            if link.hardware.protocol == "mdi":
                net.SetLinkProtocol(link.index, PROTOCOL_CODES["mdi"])
        runtime.link_input("pulse_rate_hz")[:] = self.physics.pulse_rate_hz
        return runtime

    def _links_with_byzantine_ends(self) -> list[tuple[int, float, float]]:
        """(link, onset, intercept fraction) for links with an intercepting Byzantine end."""
        out = []
        for link in self.plan.links:
            for end in (link.a, link.b):
                behaviour = self.plan.byzantine.get(end)
                if behaviour is not None and behaviour.intercept_resend > 0.0:
                    out.append((link.index, behaviour.onset_s, behaviour.intercept_resend))
        return out

    # actions -----------------------------------------------------------------------------
    def set_demand_routes(
        self,
        demand: int,
        routes: tuple[tuple[int, ...], ...] | list[list[int]],
        threshold: int | None = None,
        authenticate: bool | None = None,
    ) -> bool:
        """Send demand `demand` over `routes` ((t, n) shares when n > 1) from the next request.

        `threshold` None means the demand's own t (planned from its scenario). With fewer
        routes than t, the demand's `when_short` decides: "fewer_shares" needs every share of
        the routes given (t = their number), "refuse" keeps the current routes and t. Both are
        recorded per step (`routes_short`, `threshold_lowered`, `reroutes_refused`), so t never
        falls silently; call it every step with the routes found, the same ones included, and
        the record stays current. Returns whether the demand's routes or t changed. An explicit
        t = 1 over several routes needs the demand's `allow_single_share_reconstruction`.
        """
        spec = self.plan.demands[demand]
        routes = tuple(tuple(int(n) for n in r) for r in routes)
        self._offered_routes[demand] = len(routes)
        if threshold is None:
            threshold = spec.threshold
            if len(routes) < threshold:
                if spec.when_short == "refuse":
                    self._reroutes_refused[demand] += 1
                    return False
                threshold = len(routes)
        if routes == self._routes.get(demand) and threshold == self._thresholds[demand]:
            return False  # already so
        try:
            check_threshold(int(threshold), len(routes), allow_single_share=spec.allow_single_share)
        except SharingError as exc:
            raise ValueError(f"demand {demand}: {exc}") from None
        authenticate = spec.authenticate if authenticate is None else authenticate
        flat: list[int] = []
        for route in routes:
            flat.extend(route)
            flat.append(-1)
        array = np.asarray(flat, dtype=np.int32)
        from bridge.scenario.runtime import _cpp_errors_as_value_errors

        with _cpp_errors_as_value_errors():
            self.runtime.network.SetDemandRoutes(
                demand, array, array.size, int(threshold), bool(authenticate)
            )
        self._routes[demand] = routes
        self._thresholds[demand] = int(threshold)
        return True

    def demand_routes(self, demand: int) -> tuple[tuple[int, ...], ...]:
        return self._routes[demand]

    def set_link_mu(self, link: int, mu: float) -> None:
        self.physics.set_mu(link, mu)

    def set_link_protocol(self, link: int, protocol: str) -> None:
        """Switch a relay link between "bb84-decoy" and "mdi" from the next step."""
        if protocol not in PROTOCOL_CODES:
            raise ValueError(f"protocol must be one of {sorted(PROTOCOL_CODES)}, not {protocol!r}")
        if protocol == "mdi" and self.plan.links[link].relay is None:
            raise ValueError(f"link {link} has no relay node: it cannot run MDI-QKD")
        from bridge.scenario.runtime import _cpp_errors_as_value_errors

        with _cpp_errors_as_value_errors():
            self.runtime.network.SetLinkProtocol(link, PROTOCOL_CODES[protocol])
        self.physics.set_protocol(link, protocol)

    # stepping ----------------------------------------------------------------------------
    def _intercept_fractions(self, now_s: float) -> np.ndarray:
        fractions = np.zeros(len(self.plan.links))
        for link, onset, fraction in self._byzantine_links:
            if now_s >= onset:
                fractions[link] = max(fractions[link], fraction)
        return fractions

    def step(self) -> StepResult:
        """Advance one step of `config.step_s` simulated seconds.

        With a control plane attached, the consensus about the previous step's reports runs
        first, over the network, inside this step's time (it is given until 1 us before the
        step's end), so a step is always `step_s` of simulated time. The watchdog stops the
        process if the step makes no simulated progress for `watchdog_s` wall seconds.
        """
        with watching(self.watchdog_s, self._where, self.runtime.network.GetNowSeconds):
            return self._step()

    def _where(self) -> str:
        """Where a stalled step was, for the watchdog's one line."""
        return f"{self.config.source}: step {self.step_index + 1} of {self.config.steps}"

    def _step(self) -> StepResult:
        dt = self.config.step_s
        # Step boundaries are whole nanoseconds (ns-3's clock), counted from the first step, so
        # they neither drift nor fall between two ticks (a float deadline could: issue 13).
        step_ns = max(1, round(dt * 1e9))
        target_ns = self._start_ns + (self.step_index + 1) * step_ns
        now = float(self.runtime.network.GetNowSeconds())
        point = self.physics.operating_points(self._intercept_fractions(now))
        for field in ("gain", "qber", "sifting_ratio", "secret_fraction", "pulse_rate_hz"):
            self.runtime.link_input(field)[:] = getattr(point, field)
        if self.control is not None and self._last_result is not None:
            if self.control.in_simulated_time:  # else `runtime.step` applies them just as well
                self.runtime.apply_inputs()  # this step's inputs already hold during the consensus
            self.control.begin(self._last_result)
            self.control.run_consensus(until_ns=target_ns - 1000)  # until 1 us before the end
        now_ns = int(self.runtime.network.GetNowNs())
        self.runtime.step((target_ns - now_ns) * 1e-9)
        self.physics.advance(dt)
        self.step_index += 1
        result = self._result(point)
        if self.control is not None:
            result.control = self.control.finish(self)
        self._previous[:] = self.runtime.outputs
        self._last_result = result
        return result

    def _result(self, point: LinkPoints) -> StepResult:
        rt = self.runtime
        dt = self.config.step_s
        previous = self._split(self._previous)
        links_now = rt.link_counters()
        links = dict(zip(rt.output_fields, links_now.T.copy(), strict=True))
        secret = rt.output_fields.index("secret_bits")
        links["key_rate_bps"] = (links_now[:, secret] - previous[0][:, secret]) / dt
        for name in ("sifted_bits", "error_bits", "detections"):
            column = rt.output_fields.index(name)
            links[f"step_{name}"] = links_now[:, column] - previous[0][:, column]
        links["loss_db"] = point.loss_db  # the channel this step ran on
        links["mu"] = point.mu
        links["pulse_rate_hz"] = point.pulse_rate_hz
        links["expected_gain"] = point.gain
        links["expected_qber"] = point.qber
        links["expected_qber_no_attack"] = point.qber_no_attack
        links["expected_key_rate_bps"] = point.key_rate_bits_per_pulse * point.pulse_rate_hz
        links["intercept_fraction"] = point.intercept_fraction
        links["protocol_name"] = self.physics.protocol.astype(str)

        demands_now = rt.demand_counters()
        demands = dict(zip(rt.demand_fields, demands_now.T.copy(), strict=True))
        delta = demands_now - previous[1]
        field = rt.demand_fields.index
        requests = delta[:, field("requests")]
        served = delta[:, field("served")]
        with np.errstate(invalid="ignore", divide="ignore"):
            demands["served_fraction_step"] = np.where(requests > 0, served / requests, np.nan)
        demands["delivered_bps"] = delta[:, field("delivered_bits")] / dt
        demands["requested_bps"] = delta[:, field("requested_bits")] / dt
        # Sharing as planned vs now: n the scenario configured, how many routes the last
        # reroute found short of it, how far t is below the planned t, and reroutes refused
        # for having fewer routes than t.
        demands["paths_configured"] = self._paths_planned.copy()
        demands["threshold_lowered"] = self._thresholds_planned - self._thresholds
        demands["routes_short"] = np.maximum(demands["paths_configured"] - self._offered_routes, 0)
        demands["reroutes_refused"] = self._reroutes_refused.copy()

        nodes = dict(zip(rt.node_fields, rt.node_counters().T.copy(), strict=True))
        return StepResult(self.step_index, rt.now_s, links, demands, nodes)

    def _split(self, outputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(links, demands) counter blocks of a saved output array."""
        rt = self.runtime
        links_end = 1 + rt.n_links * len(rt.output_fields)
        demands_end = links_end + rt.n_demands * len(rt.demand_fields)
        links = outputs[1:links_end].reshape(rt.n_links, len(rt.output_fields))
        demands = outputs[links_end:demands_end].reshape(rt.n_demands, len(rt.demand_fields))
        return links, demands

    def close(self) -> None:
        self.runtime.close()

    def __enter__(self) -> QkdScenario:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["QkdScenario", "ScenarioError", "StepResult", "load_plan"]
