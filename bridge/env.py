"""`QkdNetworkEnv`: a Gymnasium environment over a running ns-3 QKD network.

`reset(seed=s)` builds a fresh ns-3 scenario from the scenario YAML (ns-3 run number, channel
processes and a fraction-drawn Byzantine set all follow s). The first `reset()` without a seed
uses the scenario's own `seed`, and later ones draw from the env's RNG, so an unseeded env is
reproducible from its scenario (`env_factory.make_env(path, seed)` sets that seed, which is how
`qkdnet gym-sim` without `--seed` gets a repeatable run); `step(a)` applies action `a` to the
running simulation and advances one step of simulated time (`step_s` of the scenario). The ABFT
coordinator runs inside each step (unless the scenario says `control.mode: baseline`); the agent,
not the coordinator, chooses routes, and it sees the coordinator's trust decisions and weights.

Observation: a flat float32 Box, every feature clipped to [0, OBS_HIGH]; `observation_names()`
gives the name of every entry, in this layout:
  per link l (n_links blocks of 9):  loss_db/100, detector_efficiency, pulse_rate_hz/1e9, mu,
      protocol (0 BB84-decoy, 1 MDI), measured QBER of the last step (0.5 if nothing sifted),
      secret-key rate of the last step / key_scale_bps, buffer fill (mean of both ends / capacity),
      trusted by the coordinator (1/0);
  per demand d (n_demands blocks of 3): served fraction of the last step's requests (1 with no
      request), route choice / ROUTE_CHOICES, delivered bit/s / requested rate;
  per trusted node i (n_members blocks of 2): reported-vs-agreed error, adaptive weight.

Action: Discrete, `action_meaning(a)` names each one, in this order:
  0                                    no-op
  1 + 2l, 2 + 2l                       raise / lower link l's signal intensity by MU_FACTOR
  then one per relay link              switch that link between BB84-decoy and MDI-QKD
  then ROUTE_CHOICES per demand d      route d over its k-th shortest candidate route (k < 4),
                                       or (k = 4) as shares over its node-disjoint routes
An action that does not apply (a 5th candidate that does not exist, MDI on a link whose protocol
cannot change) leaves the network as it is.

Who routes (`routing`, see ROUTING_MODES): the agent alone, the ABFT plane alone (as
`qkdnet run --control abft`), or the combined system in which the agent routes only among routes
the coordinator's latest decision trusts and is overruled when it stops trusting one.

Reward, per step (weights in the scenario's `reward:` section, bridge/scenario/config.py):
    + key_weight * delivered / key_scale_bps       delivered: bit/s of all demands (of all links
                                                   if the scenario has no demand)
    - insecure_penalty * insecure / key_scale_bps  insecure: secret-key bit/s made on links whose
                                                   measured QBER exceeds reward.insecure_qber
    - unserved_penalty * unserved                  unserved: sum over demands of the unserved
                                                   fraction of the step's requests (1 - served
                                                   fraction, at least 0; no request counts 0);
                                                   with reward.unserved_by_demand_size each
                                                   fraction is weighted by the demand's rate /
                                                   key_scale_bps, i.e. unserved key in reward
                                                   units, so a big demand counts more
    - abort_penalty * aborted_blocks               blocks the links aborted in the step (QBER
                                                   above link.abort_qber: key material wasted)
    - qber_variance_penalty * qber_deviation       sum over links that sifted of (step QBER -
                                                   its running mean)^2 / 0.01^2, the running
                                                   mean decaying by reward.qber_mean_decay per
                                                   step: a running estimate of the QBER
                                                   variance under fluctuating channels
Defaults keep the first three terms only (abort and variance weights 0, unserved unweighted);
experiments/configs/six-node-random.yaml sets all five. `info` carries every term's raw value
(delivered_bps, insecure_bps, unserved, unserved_bps, aborted_blocks, qber_deviation) and the
raw per-link/demand/node metrics.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from bridge.scenario import QkdScenario, StepResult
from bridge.scenario.config import ScenarioConfig, load_scenario
from bridge.scenario.plan import ScenarioPlan

ENV_ID = "qkdnet/QkdNetwork-v0"
DEFAULT_SCENARIO = (
    Path(__file__).resolve().parent.parent / "experiments" / "configs" / "six-node.yaml"
)
OBS_HIGH = 10.0
MU_FACTOR = 1.25
MU_RANGE = (0.02, 1.5)
ROUTE_CHOICES = 5  # 4 candidate single routes + 1 multipath
LINK_FEATURES = (
    "loss_db/100",
    "detector_efficiency",
    "pulse_rate_ghz",
    "mu",
    "protocol",
    "qber",
    "key_rate/scale",
    "buffer_fill",
    "trusted",
)
DEMAND_FEATURES = ("served_fraction", "route_choice", "delivered/requested")
NODE_FEATURES = ("error", "weight")
# who routes the demands:
#   agent       the agent's route actions alone (the coordinator's decision is only observed)
#   abft        the ABFT control plane reroutes over what it trusts after every decision, as
#               `qkdnet run --control abft` does (the agent's route actions are overruled at the
#               next decision). Intensities start fixed like everywhere else: left unfixed,
#               bridge.scenario.link_physics optimises mu *with the attack's intercept
#               fraction known*,
#               knowledge no deployed system has (the `abft` agent instead steps each link
#               towards qchannel's optimum for its current loss, see baseline_action)
#   abft+agent  the combined system: the agent routes, but only among candidate routes the latest
#               decision trusts, and a demand whose route the coordinator stops trusting is moved
#               to the plane's route at once; route action k = the k-th *trusted* candidate,
#               the last route action = follow the coordinator's own route(s)
ROUTING_MODES = ("agent", "abft", "abft+agent")
UNSAFE_ROUTE_BONUS_BITS = 1e18  # greedy: leaving a distrusted route beats any buffer gain
QBER_VARIANCE_SCALE = 0.01**2  # a 1 % QBER excursion squared counts 1


class QkdNetworkEnv(gym.Env):
    """Gymnasium env over a qkdnet scenario running in this process's ns-3."""

    metadata = {"render_modes": []}

    def __init__(
        self,
        scenario: str | Path | ScenarioConfig = DEFAULT_SCENARIO,
        *,
        max_steps: int | None = None,
        plan: ScenarioPlan | None = None,
        watchdog_s: float | None = None,
        routing: str = "agent",
        control_mode: str | None = None,
    ) -> None:
        """`scenario`: a scenario YAML (or a validated config); `max_steps` caps an episode
        (default: the scenario's `steps`); `plan` reuses an already planned topology;
        `watchdog_s`: see `QkdScenario` (a step without simulated progress stops the process);
        `routing`: who routes demands (ROUTING_MODES); `control_mode` replaces the scenario's
        `control.mode` ("abft" or "baseline"). An env dropped without `close()` frees ns-3 when
        it is garbage-collected."""
        super().__init__()
        self._watchdog_s = watchdog_s
        if routing not in ROUTING_MODES:
            raise ValueError(f"routing must be one of {', '.join(ROUTING_MODES)}, not {routing!r}")
        self.routing = routing
        self.config = scenario if isinstance(scenario, ScenarioConfig) else load_scenario(scenario)
        if control_mode is not None:
            control = self.config.control.model_copy(update={"mode": control_mode})
            self.config = self.config.model_copy(update={"control": control})
        self.max_steps = max_steps or self.config.steps
        if plan is None:
            from bridge.scenario import load_plan

            plan = load_plan(self.config)
        self._base_plan = plan
        self.plan = plan
        self.members = [n.index for n in plan.nodes if n.trusted]
        self.relay_links = [link.index for link in plan.links if link.relay is not None]
        n_links, n_demands = len(plan.links), len(plan.demands)
        size = len(LINK_FEATURES) * n_links + len(DEMAND_FEATURES) * n_demands
        size += len(NODE_FEATURES) * len(self.members)
        self.observation_space = spaces.Box(0.0, OBS_HIGH, shape=(size,), dtype=np.float32)
        self._n_actions = 1 + 2 * n_links + len(self.relay_links) + ROUTE_CHOICES * n_demands
        self.action_space = spaces.Discrete(self._n_actions)
        self.scenario: QkdScenario | None = None
        self._plane: Any = None  # the control plane attached to the scenario, if any
        self._obs_buffer = np.zeros(size)
        self._obs_split = (
            len(LINK_FEATURES) * n_links,
            len(LINK_FEATURES) * n_links + len(DEMAND_FEATURES) * n_demands,
        )
        cfg = self.config
        self._inv_key_scale = 1.0 / cfg.reward.key_scale_bps
        self._half_inv_capacity = 0.5 / cfg.buffer.capacity_bits
        self._demand_rates = np.array([d.rate_bps for d in plan.demands], dtype=np.float64)
        self._inv_rates = np.divide(
            1.0,
            self._demand_rates,
            out=np.zeros_like(self._demand_rates),
            where=self._demand_rates > 0,
        )
        self._route_choice = np.zeros(n_demands, dtype=np.int64)
        self._last: StepResult | None = None
        self._steps = 0

    # layout -------------------------------------------------------------------------------
    def observation_names(self) -> list[str]:
        names = [f"link{i}.{f}" for i in range(len(self.plan.links)) for f in LINK_FEATURES]
        names += [f"demand{d}.{f}" for d in range(len(self.plan.demands)) for f in DEMAND_FEATURES]
        names += [f"node{n}.{f}" for n in self.members for f in NODE_FEATURES]
        return names

    def action_meaning(self, action: int) -> str:
        kind, target, detail = self._decode(int(action))
        if kind == "noop":
            return "no-op"
        if kind == "mu":
            return f"{'raise' if detail > 0 else 'lower'} signal intensity of link {target}"
        if kind == "protocol":
            return f"switch link {target} between BB84-decoy and MDI-QKD"
        if detail == ROUTE_CHOICES - 1:
            return f"route demand {target} as shares over node-disjoint routes"
        return f"route demand {target} over candidate route {detail}"

    def _decode(self, action: int) -> tuple[str, int, int]:
        if not 0 <= action < self._n_actions:
            raise ValueError(f"action {action} outside Discrete({self._n_actions})")
        if action == 0:
            return "noop", 0, 0
        a = action - 1
        n_links = len(self.plan.links)
        if a < 2 * n_links:
            return "mu", a // 2, 1 if a % 2 == 0 else -1
        a -= 2 * n_links
        if a < len(self.relay_links):
            return "protocol", self.relay_links[a], 0
        a -= len(self.relay_links)
        return "route", a // ROUTE_CHOICES, a % ROUTE_CHOICES

    # gymnasium API ------------------------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        if seed is None and self._np_random is None:
            seed = self.config.seed  # the first episode of an unseeded env: the scenario's seed
        super().reset(seed=seed)
        if seed is None:
            seed = int(self.np_random.integers(0, 2**31 - 1))
        if self.scenario is not None:
            self.scenario.close()
            self.scenario = None
        config = self.config.model_copy(update={"seed": int(seed)})
        self.plan = self._replan(config)
        self.scenario = QkdScenario(config, plan=self.plan, watchdog_s=self._watchdog_s)
        self._plane = None
        if self.config.control.mode in ("abft", "baseline"):
            from control.plane import ControlPlane  # networkx, pandas: once an env resets

            # with routing "abft" the plane reroutes itself; otherwise the env reads its
            # decision's arrays and (abft+agent) guards the agent's routes with them
            reroute = self.routing == "abft"
            self._plane = ControlPlane(config, self.plan, self.scenario, reroute=reroute)
            self.scenario.attach_control(self._plane)
        self._fix_initial_intensities()
        self._route_choice[:] = [ROUTE_CHOICES - 1 if d.paths > 1 else 0 for d in self.plan.demands]
        self._steps = 0
        self._last = None
        self._aborted_before = np.zeros(len(self.plan.links))
        self._qber_mean = np.full(len(self.plan.links), np.nan)
        return self._observation(None), {"time_s": 0.0}

    def _replan(self, config: ScenarioConfig) -> ScenarioPlan:
        """A new seed redraws a fraction-based Byzantine set and, with `onset_max_s`, the attack's
        onset (uniform in [onset_s, onset_max_s], one draw per episode for all its Byzantine
        nodes); everything else is the same plan."""
        import dataclasses

        plan = self._base_plan
        if config.byzantine.fraction > 0.0:
            from bridge.scenario.plan import replan_byzantine

            plan = replan_byzantine(plan, config)
        behaviour = config.byzantine.behaviour
        if behaviour.onset_max_s is not None and plan.byzantine:
            rng = np.random.default_rng([config.seed, 0x0415E7])
            onset = float(rng.uniform(behaviour.onset_s, behaviour.onset_max_s))
            drawn = {
                node: b.model_copy(update={"onset_s": onset}) for node, b in plan.byzantine.items()
            }
            plan = dataclasses.replace(plan, byzantine=drawn)
        return plan

    def _fix_initial_intensities(self) -> None:
        """Start every link at its configured, else qchannel-optimal, intensity and fix it, so
        intensity actions move from the static allocation."""
        assert self.scenario is not None
        physics = self.scenario.physics
        point = physics.operating_points()
        for link in range(len(self.plan.links)):
            if np.isnan(physics.fixed_mu[link]):
                physics.set_mu(link, float(np.clip(point.mu[link], *MU_RANGE)))

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self.scenario is None:
            raise RuntimeError("call reset() before step()")
        self._apply(int(action))
        result = self.scenario.step()
        self._last = result
        if self.routing == "abft+agent":
            self._guard_routes()
        self._steps += 1
        reward, terms = self._reward(result)
        truncated = self._steps >= self.max_steps
        return self._observation(result), reward, False, truncated, self._info(result, terms)

    def close(self) -> None:
        if self.scenario is not None:
            self.scenario.close()
            self.scenario = None
            self._plane = None

    # actions ------------------------------------------------------------------------------
    def _apply(self, action: int) -> None:
        assert self.scenario is not None
        kind, target, detail = self._decode(action)
        if kind == "mu":
            physics = self.scenario.physics
            current = physics.fixed_mu[target]
            factor = MU_FACTOR if detail > 0 else 1.0 / MU_FACTOR
            physics.set_mu(target, float(np.clip(current * factor, *MU_RANGE)))
        elif kind == "protocol":
            current = self.scenario.physics.protocol[target]
            self.scenario.set_link_protocol(target, "bb84-decoy" if current == "mdi" else "mdi")
        elif kind == "route":
            self._route(target, detail)

    def _route(self, demand: int, choice: int) -> None:
        assert self.scenario is not None
        spec = self.plan.demands[demand]
        if self.routing == "abft+agent":
            self._route_trusted(demand, choice)
            return
        if choice == ROUTE_CHOICES - 1:
            routes = spec.disjoint_routes
            if len(routes) < 2:
                return
            threshold = min(spec.threshold, len(routes)) if spec.paths > 1 else len(routes)
        else:
            if choice >= len(spec.candidate_routes):
                return
            routes = (spec.candidate_routes[choice],)
            threshold = 1
        self.scenario.set_demand_routes(demand, routes, threshold)
        self._route_choice[demand] = choice

    def _trust(self):
        from control.dra.trusted_routes import TrustView

        return TrustView(self._plane, self.plan)

    def _current_routes(self) -> dict[int, tuple[tuple[int, ...], ...]]:
        assert self.scenario is not None
        return {d.index: self.scenario.demand_routes(d.index) for d in self.plan.demands}

    def _route_trusted(self, demand: int, choice: int) -> None:
        """abft+agent: the k-th trusted candidate, or (last choice) the coordinator's routes."""
        assert self.scenario is not None
        spec = self.plan.demands[demand]
        if choice == ROUTE_CHOICES - 1:
            if self._plane is None:
                return
            from control.dra.trusted_routes import abft_routes

            chosen = abft_routes(self._plane, self._current_routes()).get(demand)
            if chosen is not None:
                self.scenario.set_demand_routes(demand, *chosen)
            self._route_choice[demand] = choice
            return
        allowed = self._trust().trusted_candidates(spec)
        if choice >= len(allowed):
            return
        self.scenario.set_demand_routes(demand, (spec.candidate_routes[allowed[choice]],), 1)
        self._route_choice[demand] = choice

    def _guard_routes(self) -> None:
        """abft+agent: a demand on a route the latest decision distrusts takes the plane's route."""
        assert self.scenario is not None
        if self._plane is None:
            return
        trust = self._trust()
        current = self._current_routes()
        unsafe = [
            d
            for d, routes in current.items()
            if not all(trust.route_trusted(route) for route in routes)
        ]
        if not unsafe:
            return
        from control.dra.trusted_routes import abft_routes

        chosen = abft_routes(self._plane, current)
        for demand in unsafe:
            if demand in chosen:
                self.scenario.set_demand_routes(demand, *chosen[demand])
                self._route_choice[demand] = ROUTE_CHOICES - 1

    # observation / reward -----------------------------------------------------------------
    def _control_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(link trusted, node error, node weight) of the control plane's latest decision."""
        plane = self._plane
        if plane is None:
            return None
        d = plane.last
        if d is None:
            n_links, n = len(self.plan.links), len(self.members)
            return np.ones(n_links), np.zeros(n), np.ones(n)
        return d.trusted.astype(np.float64), np.asarray(d.errors), np.asarray(d.weights)

    def _observation(self, result: StepResult | None) -> np.ndarray:
        assert self.scenario is not None
        physics = self.scenario.physics
        n_links, n_demands = len(self.plan.links), len(self.plan.demands)
        flat = self._obs_buffer
        links = flat[: self._obs_split[0]].reshape(n_links, len(LINK_FEATURES))
        demands = flat[self._obs_split[0] : self._obs_split[1]].reshape(
            n_demands, len(DEMAND_FEATURES)
        )
        nodes = flat[self._obs_split[1] :].reshape(len(self.members), len(NODE_FEATURES))
        links[:, 0] = physics.loss_db / 100.0  # the channel the next step runs on
        links[:, 1] = physics.detector_efficiency
        links[:, 2] = physics.pulse_rate_hz / 1e9
        links[:, 3] = physics.fixed_mu
        links[:, 4] = physics.protocol == "mdi"
        demands[:, 1] = self._route_choice / ROUTE_CHOICES
        if result is None:
            links[:, 5:9] = (0.5, 0.0, 0.0, 1.0)
            demands[:, 0] = 1.0
            demands[:, 2] = 0.0
            nodes[:, 0] = 0.0
            nodes[:, 1] = 1.0
        else:
            qber = result.link("step_qber")
            links[:, 5] = np.where(np.isnan(qber), 0.5, qber)
            links[:, 6] = result.link("key_rate_bps") * self._inv_key_scale
            links[:, 7] = (result.link("buffer_a_bits") + result.link("buffer_b_bits")) * (
                self._half_inv_capacity
            )
            served = result.demand("served_fraction_step")
            demands[:, 0] = np.where(np.isnan(served), 1.0, served)
            demands[:, 2] = np.where(
                self._demand_rates > 0, result.demand("delivered_bps") * self._inv_rates, 1.0
            )
            control = self._control_arrays()
            if control is None:
                links[:, 8] = 1.0
                nodes[:, 0] = 0.0
                nodes[:, 1] = 1.0
            else:
                links[:, 8], nodes[:, 0], nodes[:, 1] = control
        np.nan_to_num(flat, copy=False, nan=0.0)
        np.clip(flat, 0.0, OBS_HIGH, out=flat)
        return flat.astype(np.float32)

    def _reward(self, result: StepResult) -> tuple[float, dict[str, float]]:
        r = self.config.reward
        key_rate = result.link("key_rate_bps")
        if self.plan.demands:
            delivered = float(result.demand("delivered_bps").sum())
        else:
            delivered = float(key_rate.sum())
        qber = result.link("step_qber")
        # a link that sifted nothing has NaN QBER and made no key: never insecure
        insecure = float(key_rate[qber > r.insecure_qber].sum())
        served = result.demand("served_fraction_step") if self.plan.demands else np.zeros(0)
        # a request served a step late counts in that step's served count, so the fraction can
        # exceed 1; the unserved fraction is clipped at 0 (a late delivery earns no bonus)
        unserved_each = np.maximum(1.0 - np.where(np.isnan(served), 1.0, served), 0.0)
        unserved = float(np.sum(unserved_each))
        if r.unserved_by_demand_size:
            # unserved key in reward units: a big demand left unserved costs more than a small one
            unserved_term = float(np.dot(unserved_each, self._demand_rates)) / r.key_scale_bps
        else:
            unserved_term = unserved
        aborted_total = result.link("blocks_aborted")
        aborted = float(np.sum(aborted_total - self._aborted_before))
        self._aborted_before = aborted_total.copy()
        qber_dev = self._qber_deviation(qber)
        terms = {
            "delivered_bps": delivered,
            "insecure_bps": insecure,
            "unserved": unserved,
            "unserved_bps": float(np.dot(unserved_each, self._demand_rates)),
            "aborted_blocks": aborted,
            "qber_deviation": qber_dev,
        }
        reward = (
            r.key_weight * delivered / r.key_scale_bps
            - r.insecure_penalty * insecure / r.key_scale_bps
            - r.unserved_penalty * unserved_term
            - r.abort_penalty * aborted
            - r.qber_variance_penalty * qber_dev
        )
        return float(reward), terms

    def _qber_deviation(self, qber: np.ndarray) -> float:
        """Sum over links that sifted of (QBER - its running mean)^2 / QBER_VARIANCE_SCALE.

        Why against a running mean: the paper's QBER-variance claim is about how much a link's
        error rate swings under fluctuating loss/rate; an exponentially weighted mean
        (decay `reward.qber_mean_decay`) makes each step's squared excursion a running estimate
        of that variance, available every step for the reward.
        """
        decay = self.config.reward.qber_mean_decay
        seen = ~np.isnan(qber)
        mean = self._qber_mean
        fresh = seen & np.isnan(mean)
        mean[fresh] = qber[fresh]
        old = seen & ~fresh
        deviation = float(np.sum((qber[old] - mean[old]) ** 2)) / QBER_VARIANCE_SCALE
        mean[old] = decay * mean[old] + (1.0 - decay) * qber[old]
        return deviation

    def _info(self, result: StepResult, terms: dict[str, float]) -> dict[str, Any]:
        # copies: the control plane reads this step's columns again at the next step
        key_rate = result.link("key_rate_bps")
        served = result.demand("served_fraction_step")
        sifted = float(result.link("step_sifted_bits").sum())
        qber = float(result.link("step_error_bits").sum()) / sifted if sifted else 0.5
        answered = served[~np.isnan(served)]
        info: dict[str, Any] = {
            # scalars (the evaluator records every scalar entry per step)
            "time_s": float(result.time_s),
            "key_rate_bps": float(key_rate.sum()),
            "delivered_bps": terms["delivered_bps"],
            "insecure_bps": terms["insecure_bps"],
            "qber": qber,
            "availability": float(answered.mean()) if answered.size else 1.0,
            "unserved": terms["unserved"],
            "unserved_bps": terms["unserved_bps"],
            "aborted_blocks": terms["aborted_blocks"],
            "qber_deviation": terms["qber_deviation"],
            # per link / demand / node arrays
            "link_key_rate_bps": key_rate.copy(),
            "link_qber": result.link("step_qber").copy(),
            "link_loss_db": result.link("loss_db").copy(),
            "link_mu": result.link("mu").copy(),
            "link_buffer_bits": np.minimum(
                result.link("buffer_a_bits"), result.link("buffer_b_bits")
            ),
            "demand_served_fraction": served.copy(),
            "demand_delivered_bps": result.demand("delivered_bps").copy(),
            "demand_route_choice": self._route_choice.copy(),
        }
        control = self._control_arrays()
        if control is not None:
            info["node_weight"] = control[2].copy()
            info["link_trusted"] = control[0].astype(bool)
        return info

    # baselines (control.dra.policies) -----------------------------------------------------
    def baseline_action(self, kind: str, obs: np.ndarray, info: dict[str, Any]) -> int:
        """The static or greedy baseline's action for this step (see control.dra.policies).

        static: no-op - reset leaves every link at its fixed intensity, BB84-decoy, and every
            demand on its shortest route (or its configured multipath), and static never changes.
        greedy: the one change that helps most now, among routes the coordinator trusts - first,
            move a demand whose current route the latest decision distrusts to its trusted
            candidate with most key; else move a demand whose route has less key than another
            trusted candidate's (a route's key = the smallest buffer on it) to the one with most
            key; else step the intensity of the link furthest from the qchannel-optimal intensity
            for its current loss towards it; else no-op. It never moves a demand onto a route
            through a node or link the coordinator distrusts (with no decision yet, or without a
            control plane, every route counts as trusted).
        abft: (for routing "abft", where the control plane routes) only greedy's intensity step:
            towards qchannel's optimum for each link's current loss, as an operator would set it.
        oracle: greedy, but "trusted" is the truth: routes avoid every node of the episode's
            Byzantine set from the first step (it knows the set and, through qchannel, the
            channels), an upper bound no deployable policy can reach.
        """
        if kind == "static":
            return 0
        if kind == "abft":
            action = self._greedy_intensity_action()
            return 0 if action is None else action
        if kind not in ("greedy", "oracle"):
            raise ValueError(f"unknown baseline {kind!r}; known: static, greedy, oracle, abft")
        assert self.scenario is not None
        allowed = self._oracle_routes_ok if kind == "oracle" else self._trust().route_trusted
        action = self._greedy_route_action(allowed)
        if action is None:
            action = self._greedy_intensity_action()
        return 0 if action is None else action

    def _oracle_routes_ok(self, route: tuple[int, ...]) -> bool:
        return not any(node in self.plan.byzantine for node in route[1:-1])

    def route_action(self, demand: int, candidate: int) -> int | None:
        """The action that puts `demand` on `candidate_routes[candidate]` (None: none does).

        In abft+agent routing a route action counts among *trusted* candidates only."""
        base = 1 + 2 * len(self.plan.links) + len(self.relay_links)
        index = candidate
        if self.routing == "abft+agent":
            allowed = self._trust().trusted_candidates(self.plan.demands[demand])
            if candidate not in allowed:
                return None
            index = allowed.index(candidate)
        if index >= ROUTE_CHOICES - 1:
            return None
        return base + ROUTE_CHOICES * demand + index

    def _route_key_bits(self, route: tuple[int, ...]) -> float:
        assert self.scenario is not None
        rt = self.scenario.runtime
        a_bits, b_bits = rt.link_counter("buffer_a_bits"), rt.link_counter("buffer_b_bits")
        hops = [self.plan.link_between(u, v).index for u, v in zip(route, route[1:], strict=False)]
        return float(min(min(a_bits[h], b_bits[h]) for h in hops))

    def _greedy_route_action(self, allowed) -> int | None:
        """The route move with most key gained among routes `allowed(route)` accepts; a demand
        on a route `allowed` rejects is moved first (gain = infinity)."""
        assert self.scenario is not None
        best_gain, best = 0.0, None
        for d in self.plan.demands:
            if d.paths > 1:
                continue  # multipath demands keep their sharing
            current_routes = self.scenario.demand_routes(d.index)
            current_ok = all(allowed(r) for r in current_routes)
            current_key = min(self._route_key_bits(r) for r in current_routes)
            # leaving an unsafe route outranks any key gain; then the most key wins
            urgency = 0.0 if current_ok else UNSAFE_ROUTE_BONUS_BITS
            for k, route in enumerate(d.candidate_routes):
                if (route,) == current_routes or not allowed(route):
                    continue
                gain = urgency + self._route_key_bits(route) - (current_key if current_ok else 0.0)
                action = self.route_action(d.index, k) if gain > best_gain else None
                if action is not None:
                    best_gain, best = gain, action
        return best

    def _greedy_intensity_action(self) -> int | None:
        assert self.scenario is not None
        physics = self.scenario.physics
        fixed = physics.fixed_mu.copy()
        for link in range(len(fixed)):
            physics.fixed_mu[link] = np.nan
        physics._cache = None
        optimal = physics.operating_points().mu
        physics.fixed_mu[:] = fixed
        physics._cache = None
        ratio = np.log(np.clip(optimal, *MU_RANGE) / fixed)
        link = int(np.argmax(np.abs(ratio)))
        if abs(ratio[link]) < np.log(MU_FACTOR) / 2:
            return None
        return 1 + 2 * link + (0 if ratio[link] > 0 else 1)


gym.register(id=ENV_ID, entry_point="bridge.env:QkdNetworkEnv")
