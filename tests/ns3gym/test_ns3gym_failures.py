"""A peer that sends garbage, falls silent, disconnects or dies gives a clear, typed error on the
other side, within the timeout, and nothing hangs (pytest-timeout guards every test; the
protocol timeouts are set well above it where the test is about detection without timeout)."""

from __future__ import annotations

import os
import signal
import socket as socket_module
import subprocess
import time

import gymnasium as gym
import numpy as np
import pytest
import zmq
from ns3gym_helpers import Background, sim_command

from bridge.ns3gym import Ns3GymEnv, serve
from bridge.ns3gym import schema as pb
from bridge.ns3gym.errors import (
    Ns3GymError,
    Ns3GymPeerDied,
    Ns3GymProtocolError,
    Ns3GymTimeout,
)
from bridge.ns3gym.spaces import codec_for

pytestmark = pytest.mark.timeout(30)

OBS_SPACE = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
ACT_SPACE = gym.spaces.Discrete(2)
NOT_PROTOBUF = b"\x0f\xff garbage"  # field 1 with wire type 7: no protobuf parser accepts it
NO_KNOWN_FIELD = b"\xf8\x07\x01"  # a valid varint field 127, which no message here has


def serve_cartpole_in_background(port: int, timeout_s: float = 60.0) -> Background:
    thread = Background(serve, gym.make("CartPole-v1"), port, 0, timeout_s=timeout_s)
    thread.start()
    return thread


# ----------------------------------------------------------------- the agent misbehaves
@pytest.mark.parametrize(
    ("garbage", "reason"),
    [(NOT_PROTOBUF, "not a valid SimInitAck"), (NO_KNOWN_FIELD, "no field of SimInitAck")],
)
def test_sim_refuses_garbage_ack(raw_agent, garbage, reason):
    socket, port = raw_agent
    sim = serve_cartpole_in_background(port)
    pb.SimInitMsg.FromString(socket.recv())
    socket.send(garbage)
    with pytest.raises(Ns3GymProtocolError, match=reason):
        sim.outcome()


def test_sim_refuses_an_action_of_the_wrong_kind(raw_agent):
    socket, port = raw_agent
    sim = serve_cartpole_in_background(port)
    socket.recv()
    socket.send(pb.SimInitAck(done=True).SerializeToString())
    socket.recv()
    wrong = pb.EnvActMsg(actData=codec_for(OBS_SPACE).encode(np.zeros(2, np.float32)))
    socket.send(wrong.SerializeToString())
    with pytest.raises(Ns3GymProtocolError, match="is a Box container, expected Discrete"):
        sim.outcome()


def test_sim_refuses_an_empty_action(raw_agent):
    socket, port = raw_agent
    sim = serve_cartpole_in_background(port)
    socket.recv()
    socket.send(pb.SimInitAck(done=True).SerializeToString())
    socket.recv()
    socket.send(b"")
    with pytest.raises(Ns3GymProtocolError, match="without actData"):
        sim.outcome()


def test_sim_reports_an_agent_that_closes_its_connection(raw_agent):
    socket, port = raw_agent
    sim = serve_cartpole_in_background(port, timeout_s=600.0)  # detection, not the timeout
    socket.recv()
    socket.close(linger=0)
    with pytest.raises(Ns3GymPeerDied, match="closed its connection before sending SimInitAck"):
        sim.outcome()


def test_sim_times_out_on_a_silent_agent(raw_agent):
    socket, port = raw_agent
    sim = serve_cartpole_in_background(port, timeout_s=0.5)
    socket.recv()
    with pytest.raises(Ns3GymTimeout, match=r"no SimInitAck from the agent .* within 0.5 s"):
        sim.outcome()


def test_sim_times_out_when_no_agent_listens():
    with socket_module.socket() as probe:  # a port nobody listens on once it is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(Ns3GymTimeout, match="no SimInitAck"):
        serve(gym.make("CartPole-v1"), port, timeout_s=0.3)


# -------------------------------------------------------------- the simulation misbehaves
class FakeSim:
    """A REQ socket playing the simulation by hand."""

    def __init__(self, port: int):
        self.context = zmq.Context()
        self.socket = self.context.socket(zmq.REQ)
        self.socket.setsockopt(zmq.RCVTIMEO, 10_000)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.connect(f"tcp://127.0.0.1:{port}")

    def handshake(self) -> None:
        init = pb.SimInitMsg(
            obsSpace=codec_for(OBS_SPACE).describe(), actSpace=codec_for(ACT_SPACE).describe()
        )
        self.socket.send(init.SerializeToString())
        self.socket.recv()

    def send_state(self, obs, **fields) -> None:
        obs_data = codec_for(gym.spaces.Box(-1, 1, np.shape(obs), np.float32)).encode(obs)
        self.socket.send(pb.EnvStateMsg(obsData=obs_data, **fields).SerializeToString())

    def close(self) -> None:
        self.context.destroy(linger=0)


def agent_with(script, **kwargs) -> tuple[Ns3GymEnv, Background]:
    """An Ns3GymEnv whose simulation is `script(FakeSim)`, run in a thread."""
    threads: list[Background] = []

    def start(port: int) -> None:
        def run() -> None:
            sim = FakeSim(port)
            try:
                script(sim)
            finally:
                sim.close()

        threads.append(Background(run))
        threads[0].start()

    kwargs.setdefault("timeout_s", 60.0)
    env = Ns3GymEnv(on_bound=start, **kwargs)
    return env, threads[0]


@pytest.mark.parametrize(
    ("garbage", "reason"),
    [(NOT_PROTOBUF, "not a valid SimInitMsg"), (NO_KNOWN_FIELD, "no field of SimInitMsg")],
)
def test_agent_refuses_garbage_instead_of_sim_init(garbage, reason):
    threads: list[Background] = []

    def start(port: int) -> None:
        def run() -> None:
            sim = FakeSim(port)
            sim.socket.send(garbage)
            time.sleep(0.5)
            sim.close()

        threads.append(Background(run))
        threads[0].start()

    with pytest.raises(Ns3GymProtocolError, match=reason):
        Ns3GymEnv(on_bound=start, timeout_s=60.0)


def test_agent_refuses_an_observation_that_does_not_fit_the_space():
    def script(sim: FakeSim) -> None:
        sim.handshake()
        sim.send_state(np.zeros(2, np.float32))
        sim.socket.recv()
        sim.send_state(np.zeros(3, np.float32))  # one value too many
        time.sleep(0.5)

    env, _ = agent_with(script)
    env.reset()
    with pytest.raises(Ns3GymProtocolError, match="3 values"):
        env.step(0)
    with pytest.raises(Ns3GymError, match="no longer usable"):
        env.step(0)
    env.close()


def test_agent_reports_a_simulation_that_closes_its_connection():
    def script(sim: FakeSim) -> None:
        sim.handshake()
        sim.send_state(np.zeros(2, np.float32))
        sim.socket.recv()  # the action; then the simulation goes away without answering

    env, _ = agent_with(script, timeout_s=600.0)  # detection, not the timeout
    env.reset()
    with pytest.raises(Ns3GymPeerDied, match="closed its connection before sending EnvStateMsg"):
        env.step(1)
    env.close()


def test_agent_times_out_on_a_silent_simulation():
    def script(sim: FakeSim) -> None:
        sim.handshake()
        time.sleep(3)

    with pytest.raises(Ns3GymTimeout, match=r"no EnvStateMsg from the simulation .* 0.5 s"):
        agent_with(script, start_timeout_s=0.5)


def test_agent_times_out_when_no_simulation_comes():
    with pytest.raises(Ns3GymTimeout, match="no SimInitMsg"):
        Ns3GymEnv(on_bound=lambda port: None, start_timeout_s=0.3)


def test_killed_launched_simulation_is_reported_with_its_exit_code():
    env = Ns3GymEnv(env_id="CartPole-v1", seed=0, timeout_s=600.0)  # detection, not timeout
    env.reset()
    os.kill(env.sim_pid, signal.SIGKILL)
    with pytest.raises(Ns3GymPeerDied, match=r"exited with code -9|closed its connection"):
        env.step(0)
    env.close()


def test_killed_external_simulation_is_reported():
    processes: list[subprocess.Popen] = []

    def start(port: int) -> None:
        cmd = sim_command("--env-id", "CartPole-v1", "--port", str(port), "--seed", "1")
        processes.append(subprocess.Popen(cmd, stderr=subprocess.DEVNULL))

    env = Ns3GymEnv(on_bound=start, timeout_s=600.0)
    try:
        env.reset()
        env.step(0)
        processes[0].kill()
        with pytest.raises(Ns3GymPeerDied, match="closed its connection"):
            env.step(0)
    finally:
        env.close()
        processes[0].wait(10)


# ------------------------------------------------------------ the gym-sim command line
def test_sim_process_exits_nonzero_with_one_line_on_garbage(raw_agent):
    socket, port = raw_agent
    proc = subprocess.Popen(
        sim_command("--env-id", "CartPole-v1", "--port", str(port)),
        stderr=subprocess.PIPE,
        text=True,
    )
    socket.recv()
    socket.send(NOT_PROTOBUF)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 1
    assert err.strip().splitlines()[-1].startswith("qkdnet gym-sim: error: the agent at ")
    assert "not a valid SimInitAck" in err and "Traceback" not in err


def test_sim_process_exits_nonzero_when_the_agent_vanishes(raw_agent):
    socket, port = raw_agent
    proc = subprocess.Popen(
        sim_command("--env-id", "CartPole-v1", "--port", str(port), "--timeout-s", "600"),
        stderr=subprocess.PIPE,
        text=True,
    )
    socket.recv()
    socket.send(pb.SimInitAck(done=True).SerializeToString())
    socket.recv()
    socket.close(linger=0)  # the agent dies while the simulation waits for an action
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 1
    assert "closed its connection before sending EnvActMsg" in err.strip().splitlines()[-1]


def test_metrics_written_before_an_agent_timeout_are_kept(tmp_path, monkeypatch):
    """The agent times out on a stuck step, SIGTERMs the simulation it launched, and the
    simulation still closes its env: the lines it wrote stay, and its close() runs."""
    metrics = tmp_path / "metrics.txt"
    monkeypatch.setenv("TOY_METRICS_PATH", str(metrics))
    monkeypatch.setenv("TOY_SLOW_STEP", "3")
    env = Ns3GymEnv(env_id="ns3gym_toy_env:ToyMetrics-v0", seed=0, timeout_s=1.0)
    env.reset()
    env.step(0)
    env.step(1)
    with pytest.raises(Ns3GymTimeout, match="no EnvStateMsg"):
        env.step(1)
    env.close()
    assert metrics.read_text().splitlines() == ["step 1 action 0", "step 2 action 1", "closed"]
