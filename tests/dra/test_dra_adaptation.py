"""Issue 16: randomized episodes, trust-aware baselines and the combined ABFT + agent routing.

The QKD tests here run the real six-node scenario in ns-3 (`six-node-random.yaml`: the Byzantine
node, its onset and the channels are redrawn per episode) with short episodes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from control.dra.evaluator import evaluate
from control.dra.held_out import disjoint_seeds, held_out_seeds
from control.dra.policies import EnvBaselinePolicy, RandomPolicy
from control.dra.trusted_routes import TrustView

pytest.importorskip("cppyy")

CONFIGS = Path(__file__).resolve().parents[2] / "experiments" / "configs"
RANDOM = CONFIGS / "six-node-random.yaml"
STEPS = 25


def _env(routing: str = "agent", onset=(0.3, 0.8), steps: int = STEPS, **reward):
    """six-node-random with an early onset (so trust changes within a short episode)."""
    from bridge.env import QkdNetworkEnv
    from bridge.scenario.config import load_scenario

    config = load_scenario(RANDOM)
    behaviour = config.byzantine.behaviour.model_copy(
        update={"onset_s": onset[0], "onset_max_s": onset[1]}
    )
    byzantine = config.byzantine.model_copy(update={"behaviour": behaviour})
    update = {"byzantine": byzantine}
    if reward:
        update["reward"] = config.reward.model_copy(update=reward)
    return QkdNetworkEnv(config.model_copy(update=update), max_steps=steps, routing=routing)


def test_evaluation_seeds_are_disjoint_from_training_seeds() -> None:
    assert disjoint_seeds(run_seed=0, train_episodes=2000, eval_episodes=200)
    assert disjoint_seeds(run_seed=7, train_episodes=2000, eval_episodes=200)
    assert len(set(held_out_seeds(0, 200))) == 200


def test_episodes_redraw_the_byzantine_node_and_its_onset() -> None:
    env = _env(onset=(1.0, 6.0))
    drawn = []
    try:
        for seed in held_out_seeds(0, 8):
            env.reset(seed=seed)
            ((node, behaviour),) = env.plan.byzantine.items()
            drawn.append((node, behaviour.onset_s))
    finally:
        env.close()
    labels = {node for node, _ in drawn}
    onsets = [onset for _, onset in drawn]
    assert len(labels) == 2, drawn  # GUD and FRM are the only nodes that are no demand's end
    assert len(set(onsets)) == len(onsets) and all(1.0 <= t <= 6.0 for t in onsets)


def test_evaluation_episodes_differ(tmp_path: Path) -> None:
    result = evaluate(
        lambda seed: _env(onset=(1.0, 2.0), steps=15),
        EnvBaselinePolicy("static"),
        3,
        tmp_path / "static.parquet",
        progress=False,
    )
    returns = result.per_episode["return"].to_numpy()
    assert len(set(returns.tolist())) == 3, returns
    assert result.summaries["return"].half_width > 0.0


def _route_trusted_now(env, action: int) -> bool | None:
    """Whether `action`, if it is a route action, targets a route the latest decision trusts."""
    kind, demand, choice = env._decode(action)
    if kind != "route":
        return None
    spec = env.plan.demands[demand]
    return TrustView(env._plane, env.plan).route_trusted(spec.candidate_routes[choice])


def _seeds_attacking_a_route(env, run_seed: int, episodes: int) -> list[int]:
    """Held-out seeds whose Byzantine node lies on a demand's initial (shortest) route, so the
    greedy baseline has to move that demand once the coordinator stops trusting the node
    (found from the episode's plan alone, without building the network)."""
    found = []
    for seed in held_out_seeds(run_seed, 50):
        plan = env._replan(env.config.model_copy(update={"seed": seed}))
        on_route = {n for d in plan.demands for n in d.candidate_routes[0][1:-1]}
        if on_route & set(plan.byzantine):
            found.append(seed)
            if len(found) == episodes:
                return found
    raise AssertionError("no held-out seed attacks a demand's route")


def test_trust_aware_greedy_never_routes_through_a_distrusted_node() -> None:
    env = _env()
    policy = EnvBaselinePolicy("greedy")
    distrusted_seen = moved = 0
    try:
        for seed in _seeds_attacking_a_route(env, 3, episodes=2):
            obs, info = env.reset(seed=seed)
            policy.reset(env, seed)
            for _ in range(STEPS):
                action = policy.act(obs, info)
                target_ok = _route_trusted_now(env, action)
                assert target_ok in (None, True), env.action_meaning(action)
                moved += target_ok is True
                obs, _, _, _, info = env.step(action)
                trust = TrustView(env._plane, env.plan)
                distrusted_seen += trust.has_decision and len(trust.trusted_links) < len(
                    env.plan.links
                )
            # by the episode's end every demand is on a route the coordinator trusts
            trust = TrustView(env._plane, env.plan)
            for demand in env.plan.demands:
                for route in env.scenario.demand_routes(demand.index):
                    assert trust.route_trusted(route), (seed, route)
    finally:
        env.close()
    assert distrusted_seen > 0, "the attack never made the coordinator distrust anything"
    assert moved > 0


def test_combined_routing_keeps_the_agent_on_trusted_routes() -> None:
    env = _env(routing="abft+agent")
    policy = RandomPolicy()
    unsafe_steps = 0
    try:
        seed = held_out_seeds(5, 1)[0]
        obs, info = env.reset(seed=seed)
        policy.reset(env, seed)
        for _ in range(STEPS):
            obs, _, _, _, info = env.step(policy.act(obs, info))
            trust = TrustView(env._plane, env.plan)
            for demand in env.plan.demands:
                has_trusted = bool(trust.trusted_candidates(demand))
                routes = env.scenario.demand_routes(demand.index)
                if has_trusted and not all(trust.route_trusted(r) for r in routes):
                    unsafe_steps += 1
    finally:
        env.close()
    assert unsafe_steps == 0


def test_reward_is_the_documented_sum_of_its_terms() -> None:
    env = _env(abort_penalty=0.05, qber_variance_penalty=0.02)
    r = env.config.reward
    rates = np.array([d.rate_bps for d in env.plan.demands])
    aborted_total = 0.0
    try:
        env.reset(seed=held_out_seeds(1, 1)[0])
        for _ in range(STEPS):
            _, reward, _, _, info = env.step(0)
            served = np.where(
                np.isnan(info["demand_served_fraction"]), 1.0, info["demand_served_fraction"]
            )
            unserved_key = float(np.dot(np.maximum(1.0 - served, 0.0), rates))
            expected = (
                r.key_weight * info["delivered_bps"] / r.key_scale_bps
                - r.insecure_penalty * info["insecure_bps"] / r.key_scale_bps
                - r.unserved_penalty * unserved_key / r.key_scale_bps
                - r.abort_penalty * info["aborted_blocks"]
                - r.qber_variance_penalty * info["qber_deviation"]
            )
            assert reward == pytest.approx(expected, rel=1e-12, abs=1e-12)
            aborted_total += info["aborted_blocks"]
    finally:
        env.close()
    assert aborted_total > 0  # the static allocation keeps key on the attacked node's links


def test_a_step_without_decision_keeps_the_last_decided_distrust() -> None:
    """Fail-safe routing view: when a step's consensus does not decide, what the last decided
    step distrusted (links and proved-faulty nodes) stays distrusted for the agents."""
    env = _env()
    policy = EnvBaselinePolicy("greedy")
    try:
        seed = _seeds_attacking_a_route(env, 3, episodes=1)[0]
        obs, info = env.reset(seed=seed)
        policy.reset(env, seed)
        before = None
        for _ in range(STEPS):
            obs, _, _, _, info = env.step(policy.act(obs, info))
            view = TrustView(env._plane, env.plan)
            if view.has_decision and len(view.trusted_links) < len(env.plan.links):
                before = view
                break
        assert before is not None, "the attack never made the coordinator distrust anything"
        plane = env._plane
        plane.last = plane.coordinator._undecided(plane.last.step + 1, plane.last.stats)
        assert not plane.last.decided
        after = TrustView(plane, env.plan)
        assert after.trusted_links == before.trusted_links
        assert after.trusted_nodes == before.trusted_nodes
    finally:
        env.close()
