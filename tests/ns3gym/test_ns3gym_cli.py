"""`qkdnet gym-sim` (run here as `python -m bridge.ns3gym`, the same command): ns3-gym's launch
arguments, an agent written like ns3-gym's reference client, and one-line errors for bad flags."""

from __future__ import annotations

import subprocess
import sys
import types

import gymnasium as gym
import numpy as np
import pytest
import typer
import zmq
from ns3gym_helpers import sim_command
from typer.testing import CliRunner

from bridge.ns3gym import schema as pb
from cli.ns3gym import gym_sim

pytestmark = pytest.mark.timeout(60)


class ReferenceStyleAgent:
    """The message sequence of ns3-gym's Python client (`ns3gym.ns3env.Ns3ZmqBridge`, branch
    app-ns-3.36+), re-done with raw zmq and our protobuf classes since ns3gym is not installable:
    bind REP, start the simulation with `--openGymPort=P --simSeed=S`, receive SimInitMsg, ack
    it, receive the first EnvStateMsg; step = send EnvActMsg, receive EnvStateMsg; a game-over
    state is answered with a close command (EnvActMsg with stopSimReq). Unlike the original it
    binds 127.0.0.1 and has a receive timeout (so a broken test cannot hang)."""

    def __init__(self, sim_args: list[str], seed: int):
        self.context = zmq.Context()
        self.socket = self.context.socket(zmq.REP)
        self.socket.setsockopt(zmq.RCVTIMEO, 20_000)
        self.socket.setsockopt(zmq.LINGER, 0)
        port = self.socket.bind_to_random_port("tcp://127.0.0.1", min_port=5001, max_port=10000)
        self.process = subprocess.Popen(
            sim_command(*sim_args, f"--openGymPort={port}", f"--simSeed={seed}"),
            stderr=subprocess.PIPE,
            text=True,
        )
        init = pb.SimInitMsg.FromString(self.socket.recv())  # initialize_env
        self.sim_pid = init.simProcessId
        self.action_space = self._create_space(init.actSpace)
        self.observation_space = self._create_space(init.obsSpace)
        self.socket.send(pb.SimInitAck(done=True, stopSimReq=False).SerializeToString())
        self.game_over = False
        self._rx_env_state()

    def _create_space(self, desc):
        if desc.type == pb.SpaceType.Discrete:
            inner = pb.DiscreteSpace()
            desc.space.Unpack(inner)
            return gym.spaces.Discrete(inner.n)
        inner = pb.BoxSpace()
        desc.space.Unpack(inner)
        dtypes = {pb.Dtype.INT: np.int32, pb.Dtype.UINT: np.uint32, pb.Dtype.DOUBLE: np.float64}
        dtype = dtypes.get(inner.dtype, np.float32)
        return gym.spaces.Box(inner.low, inner.high, tuple(inner.shape), dtype)

    def _rx_env_state(self):
        state = pb.EnvStateMsg.FromString(self.socket.recv())
        box = pb.BoxDataContainer()
        state.obsData.data.Unpack(box)
        self.obs = np.array(box.floatData)  # ns3-gym: "TODO: reshape using shape info"
        self.reward, self.game_over, self.reason = state.reward, state.isGameOver, state.reason
        self.info = state.info or {}
        if self.game_over:
            self.send_close_command()

    def send_close_command(self):
        self.socket.send(pb.EnvActMsg(stopSimReq=True).SerializeToString())

    def step(self, action: int):
        container = pb.DataContainer(type=pb.SpaceType.Discrete)
        container.data.Pack(pb.DiscreteDataContainer(data=action))
        self.socket.send(pb.EnvActMsg(actData=container, stopSimReq=False).SerializeToString())
        self._rx_env_state()
        return self.obs, self.reward, self.game_over, self.info

    def finish(self) -> tuple[int, str]:
        _, err = self.process.communicate(timeout=20)
        self.context.destroy(linger=0)
        return self.process.returncode, err


def test_reference_style_agent_drives_our_simulation_with_ns3gym_arguments():
    seed = 17
    actions = np.random.default_rng(0).integers(0, 2, 500).tolist()
    agent = ReferenceStyleAgent(["--env-id", "CartPole-v1"], seed)
    assert agent.sim_pid == agent.process.pid
    assert agent.action_space == gym.spaces.Discrete(2)
    assert agent.observation_space.shape == (4,)

    direct = gym.make("CartPole-v1")
    want_obs, _ = direct.reset(seed=seed)  # --simSeed is the seed of the first episode
    assert np.array_equal(agent.obs, want_obs)
    for action in actions:
        obs, reward, done, _ = agent.step(action)
        want_obs, want_reward, terminated, truncated, _ = direct.step(action)
        assert np.array_equal(obs, want_obs) and reward == want_reward
        assert done == (terminated or truncated)
        if done:
            break
    assert done and agent.reason == pb.Reason.GameOver
    code, err = agent.finish()
    assert code == 0, err
    assert "done after 1 episode(s)" in err and "the agent asked to stop" in err


def test_reference_style_stop_request_ends_the_simulation():
    agent = ReferenceStyleAgent(["--env-id", "CartPole-v1", "--episodes", "0"], seed=3)
    agent.step(0)
    agent.send_close_command()  # ns3-gym's close(): force_env_stop + close command
    code, err = agent.finish()
    assert code == 0 and "1 steps (the agent asked to stop)" in err


def run_cli(*args: str) -> tuple[int, str]:
    app = typer.Typer(add_completion=False)
    app.command()(gym_sim)
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--env-id", "CartPole-v1", "--port", "0"], 2, "Invalid value for '--port'"),
        (["--env-id", "CartPole-v1", "--openGymPort=70000"], 2, "Invalid value for '--openGym"),
        (["--env-id", "CartPole-v1", "--simSeed=-1"], 2, "Invalid value for '--simSeed'"),
        (["--env-id", "CartPole-v1", "--port", "5555", "--openGymPort=6666"], 2,
         "--port 5555 and --openGymPort 6666 disagree"),
        (["--env-id", "CartPole-v1", "--seed", "1", "--simSeed=2"], 2,
         "--seed 1 and --simSeed 2 disagree"),
        (["--env-id", "CartPole-v1", "--timeout-s", "0"], 2, "--timeout-s must be > 0"),
        ([], 2, "give a SCENARIO file or --env-id"),
        (["missing.yaml", "--env-id", "CartPole-v1"], 2, "give a SCENARIO file or --env-id"),
        (["definitely-missing.yaml"], 2, "scenario file not found: definitely-missing.yaml"),
        (["--env-id", "NoSuchEnv-v9"], 1, "cannot make env 'NoSuchEnv-v9'"),
    ],
)  # fmt: skip
def test_bad_flags_give_one_line_errors(args, code, message):
    exit_code, output = run_cli(*args)
    assert exit_code == code
    assert message in output
    if code == 1 or "disagree" in message or "must be" in message or "give a" in message:
        assert output.strip().count("\n") == 0  # our own errors are a single line


def test_scenario_is_built_by_the_env_factory(tmp_path, monkeypatch):
    """The command hands SCENARIO and --seed to bridge.env_factory.make_env; a scenario that
    fails to build is a one-line error naming the file."""
    calls = []

    def make_env(path: str, seed: int | None):
        calls.append((path, seed))
        raise ValueError("link 'a-b' has negative length_km")

    factory = types.ModuleType("bridge.env_factory")
    factory.make_env = make_env
    monkeypatch.setitem(sys.modules, "bridge.env_factory", factory)
    scenario = tmp_path / "net.yaml"
    scenario.write_text("nodes: []\n")
    exit_code, output = run_cli(str(scenario), "--openGymPort=5601", "--simSeed=8")
    assert calls == [(str(scenario), 8)]
    assert exit_code == 1
    assert output.strip() == (
        f"qkdnet gym-sim: error: cannot build scenario {scenario}: "
        "ValueError: link 'a-b' has negative length_km"
    )


def test_help_mentions_the_ns3gym_spellings():
    exit_code, output = run_cli("--help")
    assert exit_code == 0 and "--openGymPort" in output and "--simSeed" in output


def test_registered_as_qkdnet_gym_sim():
    from cli.main import app

    result = CliRunner().invoke(app, ["gym-sim", "--help"])
    assert result.exit_code == 0 and "--openGymPort" in result.output
