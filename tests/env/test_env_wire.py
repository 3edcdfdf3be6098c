"""The QKD scenario over the ns3-gym wire protocol: `qkdnet gym-sim SCENARIO.yaml` (the
simulation side, which builds the env with bridge.env_factory) driven by bridge.ns3gym's agent-side
`Ns3GymEnv`, launched both with our flags (--port/--seed) and with ns3-gym's launch arguments
(--openGymPort=P --simSeed=S). The trajectory over the wire is the in-process env's, bit for bit
(observations travel as float32, as the Box's dtype; the reward as the protocol's float)."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from bridge.env_factory import make_env
from bridge.ns3gym import Ns3GymEnv
from tests.conftest import qkdnet_command

from .conftest import SMALL, rollout

pytestmark = pytest.mark.timeout(180)

SEED = 13
ACTIONS = [0, 1, 12, 17, 11, 0, 3, 0]  # no-op, raise mu, routes, protocol switch, lower mu


@pytest.fixture(scope="module")
def in_process() -> list[tuple]:
    env = make_env(SMALL)
    try:
        assert env.action_meaning(11).startswith("switch link")
        return rollout(env, ACTIONS, seed=SEED)
    finally:
        env.close()


def assert_same_trajectory(wire: list[tuple], local: list[tuple]) -> None:
    for step, ((o1, r1, te1, tr1, i1), (o2, r2, te2, tr2, i2)) in enumerate(
        zip(wire, local, strict=True)
    ):
        assert o1.dtype == np.float32 and o1.tobytes() == o2.tobytes(), f"step {step}"
        assert r1 == float(np.float32(r2)) and (te1, tr1) == (te2, tr2)
        assert i1["time_s"] == i2["time_s"]
        if step:
            # info travels as JSON: scalars as they are, arrays as lists
            assert i1["delivered_bps"] == i2["delivered_bps"]
            assert i1["link_key_rate_bps"] == i2["link_key_rate_bps"].tolist()
            assert i1["demand_route_choice"] == i2["demand_route_choice"].tolist()
            assert i1["link_mu"] == i2["link_mu"].tolist()


def test_gym_sim_with_ns3gym_launch_arguments(in_process: list[tuple]) -> None:
    # Ns3GymEnv appends --openGymPort=P --simSeed=S to sim_cmd, as ns3-gym starts a simulation
    env = Ns3GymEnv(sim_cmd=[*qkdnet_command(), "gym-sim", str(SMALL)], seed=SEED, timeout_s=60)
    try:
        process = env._process
        assert process is not None
        assert f"--openGymPort={env.port}" in process.args
        assert f"--simSeed={SEED}" in process.args
        assert env.observation_space == make_env(SMALL).observation_space
        assert env.action_space.n == 22
        wire = rollout(env, ACTIONS, seed=SEED)
    finally:
        env.close()
    assert_same_trajectory(wire, in_process)


def test_gym_sim_with_port_and_seed_flags_serves_whole_episodes(in_process: list[tuple]) -> None:
    """An external `qkdnet gym-sim SCENARIO --port P --seed S`, waited for by the agent."""
    started: list[subprocess.Popen] = []

    def start(port: int) -> None:
        command = [*qkdnet_command(), "gym-sim", str(SMALL), "--port", str(port)]
        command += ["--seed", str(SEED), "--episodes", "2", "--timeout-s", "60"]
        started.append(subprocess.Popen(command, stderr=subprocess.PIPE, text=True))

    env = Ns3GymEnv(on_bound=start, reuse_sim=True, timeout_s=60)
    try:
        wire = rollout(env, ACTIONS, seed=None)
        assert_same_trajectory(wire, in_process)
        steps = len(ACTIONS)
        truncated = False
        while not truncated:  # the scenario's 30 steps end the episode (SimulationEnd)
            _, _, terminated, truncated, info = env.step(0)
            steps += 1
            assert not terminated
        assert steps == 30 and info["time_s"] == pytest.approx(3.0)
        obs, info = env.reset()  # the second episode, on the same simulation process
        assert env.observation_space.contains(obs) and info["time_s"] == 0.0
        for _ in range(29):
            *_, truncated, _ = env.step(0)
        assert not truncated
        *_, truncated, _ = env.step(0)
        assert truncated
    finally:
        env.close()
    process = started[0]
    _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "episode 0: 30 steps" in err and "episode 1: 30 steps" in err
    assert "done after 2 episode(s), 60 steps" in err
