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

Reward: key_weight * (delivered bit/s of all demands, or of all links if the scenario has no
demand) / key_scale_bps  -  insecure_penalty * (secret-key bit/s made on links whose measured QBER
exceeds reward.insecure_qber) / key_scale_bps  -  unserved_penalty * sum over demands of the
unserved fraction of the step's requests (1 - served fraction, at least 0; a demand with no
request in the step counts 0). `info` carries the raw per-link/demand/node metrics.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from bridge.scenario import QkdScenario, StepResult
from bridge.scenario_config import ScenarioConfig, load_scenario
from bridge.scenario_plan import ScenarioPlan

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
    ) -> None:
        """`scenario`: a scenario YAML (or a validated config); `max_steps` caps an episode
        (default: the scenario's `steps`); `plan` reuses an already planned topology;
        `watchdog_s`: see `QkdScenario` (a step without simulated progress stops the process).
        An env dropped without `close()` frees ns-3 when it is garbage-collected."""
        super().__init__()
        self._watchdog_s = watchdog_s
        self.config = scenario if isinstance(scenario, ScenarioConfig) else load_scenario(scenario)
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

            # the agent, not the plane, routes; the env reads the decision's arrays
            self._plane = ControlPlane(config, self.plan, self.scenario, reroute=False)
            self.scenario.attach_control(self._plane)
        self._fix_initial_intensities()
        self._route_choice[:] = [ROUTE_CHOICES - 1 if d.paths > 1 else 0 for d in self.plan.demands]
        self._steps = 0
        self._last = None
        return self._observation(None), {"time_s": 0.0}

    def _replan(self, config: ScenarioConfig) -> ScenarioPlan:
        """A new seed redraws a fraction-based Byzantine set; everything else is the same plan."""
        if config.byzantine.fraction <= 0.0:
            return self._base_plan
        from bridge.scenario_plan import replan_byzantine

        return replan_byzantine(self._base_plan, config)

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
        unserved = float(np.sum(np.maximum(1.0 - np.where(np.isnan(served), 1.0, served), 0.0)))
        terms = {
            "delivered_bps": delivered,
            "insecure_bps": insecure,
            "unserved": unserved,
        }
        reward = (
            r.key_weight * delivered / r.key_scale_bps
            - r.insecure_penalty * insecure / r.key_scale_bps
            - r.unserved_penalty * unserved
        )
        return float(reward), terms

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
        greedy: the one change that helps most now - first, move any demand whose current route
            has less key than another candidate's (the route's key = the smallest buffer on it) to
            the candidate with most key; else step the intensity of the link furthest from the
            qchannel-optimal intensity for its current loss towards it; else no-op.
        """
        if kind == "static":
            return 0
        if kind != "greedy":
            raise ValueError(f"unknown baseline {kind!r}; known: static, greedy")
        assert self.scenario is not None
        action = self._greedy_route_action()
        if action is None:
            action = self._greedy_intensity_action()
        return 0 if action is None else action

    def _route_key_bits(self, route: tuple[int, ...]) -> float:
        assert self.scenario is not None
        rt = self.scenario.runtime
        a_bits, b_bits = rt.link_counter("buffer_a_bits"), rt.link_counter("buffer_b_bits")
        hops = [self.plan.link_between(u, v).index for u, v in zip(route, route[1:], strict=False)]
        return float(min(min(a_bits[h], b_bits[h]) for h in hops))

    def _greedy_route_action(self) -> int | None:
        base = 1 + 2 * len(self.plan.links) + len(self.relay_links)
        best_gain, best = 0.0, None
        for d in self.plan.demands:
            if d.paths > 1:
                continue  # multipath demands keep their sharing
            keys = [self._route_key_bits(r) for r in d.candidate_routes]
            current = self._route_choice[d.index]
            target = int(np.argmax(keys))
            gain = keys[target] - keys[current] if current < len(keys) else keys[target]
            if target != current and gain > best_gain:
                best_gain, best = gain, base + ROUTE_CHOICES * d.index + target
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
