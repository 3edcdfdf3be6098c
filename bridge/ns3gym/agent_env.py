"""The agent side of ns3-gym as a Gymnasium env: `Ns3GymEnv`.

It does what ns3-gym's Python `Ns3Env` does, minus that client's faults: it binds a REP socket
(127.0.0.1 by default, not every interface), waits for a simulation to connect and describe its
spaces, and then exchanges actions for states, with the Gymnasium 5-tuple API, NumPy >= 2 dtypes
and a receive timeout on every wait.

Where the simulation comes from:
- launched by the env: `scenario=` (runs `python -m bridge.ns3gym SCENARIO`, the same program as
  `qkdnet gym-sim`), `env_id=` (any registered Gymnasium id served by that program) or
  `sim_cmd=` (any program that speaks the protocol; it gets `--openGymPort=P [--simSeed=S]`
  appended, or call it with (port, seed) to build the command yourself). A launched simulation
  that exits is noticed within ~50 ms through its `poll()`, and `close()` stops and reaps it.
- external: with none of those, the env waits (`start_timeout_s`) for whatever simulation
  connects to its port, as `Ns3Env(startSim=False)` does. `on_bound(port)` is called once the
  socket is bound, so port=0 (a free port) works by starting the simulation from there.

How `reset(seed=...)` maps onto the protocol (one simulation run = one episode, as in ns3-gym):
- The constructor already receives the spaces and the first state (agents need the spaces
  before reset); the first `reset()` returns that state. Pass `seed=` to the constructor so a
  launched simulation starts with it.
- After an episode ends, the env replies to the final state with `stopSimReq = not reuse_sim`.
  With `reuse_sim` (the default for `scenario`/`env_id`, whose program serves episodes until
  told to stop) the next `reset()` takes the next episode from the same process, which
  continues its RNG. Otherwise the simulation exits and a launched one is started again.
- `reset(seed=s)` on a launched simulation always starts a fresh process with `--seed s` unless
  it is the not-yet-used first episode of a process started with seed s. `reset()` without a
  seed after an aborted episode starts one with a seed drawn from `self.np_random`, so a
  sequence of resets is reproducible from the first seed.
- `reset()` in the middle of an episode ends that simulation (stopSimReq) and starts (or, for an
  external one, waits for) the next. External simulations choose their own seed; a seed passed
  to reset is then only used for `self.np_random`, with a warning.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import warnings
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import zmq

from bridge.ns3gym import schema as pb
from bridge.ns3gym.errors import Ns3GymError, Ns3GymProtocolError
from bridge.ns3gym.schema import Reason
from bridge.ns3gym.spaces import Codec, codec_for, space_from_pb
from bridge.ns3gym.wire import Endpoint

SimCommand = Sequence[str] | Callable[[int, int | None], Sequence[str]]

_STOP_GRACE_S = 5.0
_INFO_KEY = "extra_info"


def info_from_wire(text: str) -> dict[str, Any]:
    """`EnvStateMsg.info` as a Gymnasium info dict: a JSON object as is, other text under
    "extra_info" (ns3-gym simulations send free text), nothing as {}."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {_INFO_KEY: text}
    return value if isinstance(value, dict) else {_INFO_KEY: text}


def _reap(process: subprocess.Popen, grace_s: float, *, expect_exit: bool = False) -> None:
    """End a launched simulation: SIGTERM (it still closes its env and keeps what it wrote),
    SIGKILL if that does not work within grace_s. With `expect_exit` (it was told to stop) it
    first gets grace_s to exit by itself."""
    steps = (
        (None, process.terminate, process.kill)
        if expect_exit
        else (process.terminate, process.kill)
    )
    for signal_step in steps:
        if signal_step is not None and process.poll() is None:
            signal_step()
        try:
            process.wait(timeout=grace_s)
            return
        except subprocess.TimeoutExpired:
            continue


class Ns3GymEnv(gym.Env):
    """A Gymnasium env whose dynamics are an ns3-gym simulation on the other end of a socket.

    Args:
        port: TCP port to bind; 0 picks a free one (see `self.port`).
        host: interface to bind; "127.0.0.1" by default, "*" for every interface.
        scenario: qkdnet scenario YAML to launch with `python -m bridge.ns3gym`.
        env_id: registered Gymnasium id to launch with `python -m bridge.ns3gym --env-id`.
        sim_cmd: any other simulation command (see module docstring).
        seed: seed of the first launched simulation (`--seed` / `--simSeed`).
        timeout_s: bound on each wait for a state (None: wait forever).
        start_timeout_s: bound on the wait for a simulation to connect (process start-up
            included; ns-3 takes seconds to import).
        reuse_sim: keep the simulation between episodes (default: True for scenario/env_id).
        sim_log: file that receives the launched simulation's stdout/stderr (default: a
            temporary file, deleted on close; its last line is quoted if the process dies).
        on_bound: called with the bound port before waiting for the simulation.
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        port: int = 0,
        *,
        host: str = "127.0.0.1",
        scenario: str | os.PathLike[str] | None = None,
        env_id: str | None = None,
        sim_cmd: SimCommand | None = None,
        seed: int | None = None,
        timeout_s: float | None = 60.0,
        start_timeout_s: float | None = 120.0,
        reuse_sim: bool | None = None,
        sim_log: str | os.PathLike[str] | None = None,
        on_bound: Callable[[int], None] | None = None,
    ):
        super().__init__()
        launchers = [x is not None for x in (scenario, env_id, sim_cmd)]
        if sum(launchers) > 1:
            raise ValueError("give at most one of scenario=, env_id=, sim_cmd=")
        self._launching = any(launchers)
        if not self._launching and port == 0 and on_bound is None:
            raise ValueError(
                "port=0 with an external simulation needs on_bound= to tell it the port"
            )
        if not 0 <= port <= 65535:
            raise ValueError(f"port must be in 0..65535, got {port}")
        self._scenario = None if scenario is None else os.fspath(scenario)
        self._env_id = env_id
        self._sim_cmd = sim_cmd
        self.timeout_s = timeout_s
        self.start_timeout_s = start_timeout_s
        own_program = scenario is not None or env_id is not None
        self.reuse_sim = own_program if reuse_sim is None else reuse_sim
        self._sim_log = None if sim_log is None else Path(sim_log)
        self._host = host
        self._connect_host = "localhost" if host in ("*", "0.0.0.0", "127.0.0.1") else host

        self._context = zmq.Context()
        self._endpoint: Endpoint | None = None
        self._process: subprocess.Popen | None = None
        self._log_file: Any = None
        self._finalizer: weakref.finalize | None = None
        self._obs_codec: Codec | None = None
        self._described = b""  # serialised space descriptions of the current simulation
        self._act_codec: Codec | None = None
        self._sim_seed: int | None = None
        self._first_state: tuple[Any, dict[str, Any]] | None = None  # unused first state
        self._owe_reply = False  # we hold a state the simulation waits on an answer to
        self._episode_over = True
        self._sim_continues = False  # the simulation will connect again for another episode
        self._broken: str | None = None
        self._stop_sent = False  # the running simulation was told to stop (it will exit)
        self._warned_external_seed = False
        self.sim_pid: int | None = None

        try:
            self._endpoint = Endpoint(self._context, zmq.REP, "the simulation")
            self.port = self._endpoint.bind(host, port)
            self._endpoint.peer = f"the simulation on port {self.port}"
            if on_bound is not None:
                on_bound(self.port)
            if self._launching:
                self._launch(seed)
            self._start_episode()
        except BaseException as exc:
            self._fail(exc)
            self.close()
            raise

    # ----------------------------------------------------------------------------- gym API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)
        self._check_usable()
        if self._first_state is not None and (
            seed is None or not self._launching or seed == self._sim_seed
        ):
            self._warn_external_seed(seed)
            obs, info = self._first_state
            self._first_state = None
            return obs, info
        self._warn_external_seed(seed)
        try:
            if self._launching and (seed is not None or not self._sim_continues):
                self._stop_sim()
                next_seed = seed if seed is not None else int(self.np_random.integers(2**31 - 1))
                self._launch(next_seed)
            elif self._owe_reply:  # abort the running episode: that simulation run ends
                self._reply(pb.EnvActMsg(stopSimReq=True))
            self._start_episode()
        except BaseException as exc:
            self._fail(exc)
            raise
        obs, info = self._first_state
        self._first_state = None
        return obs, info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        self._check_usable()
        if self._first_state is not None:
            raise Ns3GymError("call reset() before step()")
        if self._episode_over:
            raise Ns3GymError("the episode is over; call reset()")
        act_data = self._act_codec.encode(action)  # a bad action raises here; env stays usable
        try:
            self._reply(pb.EnvActMsg(actData=act_data))
            state = self._recv_state()
            obs = self._obs_codec.decode(state.obsData, "the observation")
            terminated = truncated = False
            if state.isGameOver:
                terminated = state.reason == Reason.GameOver
                truncated = not terminated
                self._end_episode()
            return obs, float(state.reward), terminated, truncated, info_from_wire(state.info)
        except BaseException as exc:
            self._fail(exc)
            raise

    def close(self) -> None:
        """Stop the simulation (stopSimReq), reap a launched one, release the socket."""
        if self._endpoint is not None and self._broken is None:
            self._stop_sim()
        self._stop_process()
        endpoint, self._endpoint = self._endpoint, None
        if endpoint is not None:
            endpoint.flush_and_close(linger_s=1.0)
        if not self._context.closed:
            self._context.term()
        self._broken = self._broken or "closed"

    def _stop_sim(self) -> None:
        """Tell the current simulation run to stop, whatever it is waiting for; then reap it."""
        try:
            if self._owe_reply:
                self._reply(pb.EnvActMsg(stopSimReq=True))
            elif self._sim_continues and (self._process is None or self._alive()):
                # it is about to offer another episode: decline it
                self._endpoint.recv(
                    pb.SimInitMsg,
                    timeout_s=min(self.timeout_s or _STOP_GRACE_S, _STOP_GRACE_S),
                    probe=self._probe,
                )  # a simulation that closes its connection instead has nothing more to offer
                self._reply(pb.SimInitAck(done=True, stopSimReq=True))
        except Ns3GymError:
            pass  # it is gone already, or will be reaped below
        self._sim_continues = False
        self._first_state = None
        self._stop_process()

    # ------------------------------------------------------------------------ protocol steps
    def _start_episode(self) -> None:
        """Handshake with the (next) simulation run and read its first state."""
        init = self._endpoint.recv(
            pb.SimInitMsg,
            timeout_s=self.start_timeout_s,
            probe=self._probe,
            fail_on_disconnect=False,
        )
        if not init.HasField("obsSpace") or not init.HasField("actSpace"):
            raise Ns3GymProtocolError("SimInitMsg without an observation or action space")
        described = init.obsSpace.SerializeToString() + init.actSpace.SerializeToString()
        if described != self._described:  # the same bytes as last episode: nothing to rebuild
            obs_space = space_from_pb(init.obsSpace, "the observation space")
            act_space = space_from_pb(init.actSpace, "the action space")
            if self._obs_codec is None:
                self.observation_space, self.action_space = obs_space, act_space
                self._obs_codec, self._act_codec = codec_for(obs_space), codec_for(act_space)
            elif (obs_space, act_space) != (self.observation_space, self.action_space):
                raise Ns3GymProtocolError(
                    f"the simulation changed its spaces: {obs_space}, {act_space} after "
                    f"{self.observation_space}, {self.action_space}"
                )
            self._described = described
        if self._process is None and init.simProcessId:
            self.sim_pid = int(init.simProcessId)
        self._reply(pb.SimInitAck(done=True, stopSimReq=False))
        state = self._recv_state(timeout_s=self.start_timeout_s)
        obs = self._obs_codec.decode(state.obsData, "the first observation")
        self._episode_over = False
        self._sim_continues = False
        self._first_state = (obs, info_from_wire(state.info))
        if state.isGameOver:
            self._end_episode()

    def _recv_state(self, timeout_s: float | None = None) -> Any:
        state = self._endpoint.recv(
            pb.EnvStateMsg,
            timeout_s=self.timeout_s if timeout_s is None else timeout_s,
            probe=self._probe,
        )
        self._owe_reply = True
        if not state.HasField("obsData"):
            raise Ns3GymProtocolError("EnvStateMsg without obsData")
        return state

    def _reply(self, message: Any) -> None:
        self._owe_reply = False
        self._stop_sent = self._stop_sent or message.stopSimReq
        self._endpoint.send(message)

    def _end_episode(self) -> None:
        """Answer the final state: keep the simulation for another episode or let it end."""
        self._episode_over = True
        self._reply(pb.EnvActMsg(stopSimReq=not self.reuse_sim))
        self._sim_continues = self.reuse_sim

    # ------------------------------------------------------------------- launched simulation
    def _command(self, seed: int | None) -> list[str]:
        if self._sim_cmd is not None:
            if callable(self._sim_cmd):
                return [str(x) for x in self._sim_cmd(self.port, seed)]
            args = [f"--openGymPort={self.port}"]
            if seed is not None:
                args.append(f"--simSeed={seed}")
            return [str(x) for x in self._sim_cmd] + args
        cmd = [sys.executable, "-m", "bridge.ns3gym"]
        cmd += [self._scenario] if self._scenario is not None else ["--env-id", self._env_id]
        cmd += ["--port", str(self.port), "--host", self._connect_host]
        cmd += ["--episodes", "0" if self.reuse_sim else "1"]
        if self.timeout_s is not None:  # the simulation waits at least as long as we do
            cmd += ["--timeout-s", str(max(600.0, 10 * self.timeout_s))]
        if seed is not None:
            cmd += ["--seed", str(seed)]
        return cmd

    def _launch(self, seed: int | None) -> None:
        if self._sim_log is not None:
            self._log_file = open(self._sim_log, "a+b")  # noqa: SIM115 - lives with the process
        else:
            self._log_file = tempfile.TemporaryFile()  # noqa: SIM115
        self._process = subprocess.Popen(
            self._command(seed),
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        self.sim_pid = self._process.pid
        self._sim_seed = seed
        self._stop_sent = False
        # an env dropped without close() must not leave its simulation running
        self._finalizer = weakref.finalize(self, _reap, self._process, 0.5)

    def _alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _probe(self) -> str | None:
        if self._process is None or self._process.poll() is None:
            return None
        return (
            f"the simulation (pid {self._process.pid}) exited with code "
            f"{self._process.returncode}{self._last_log_line()}"
        )

    def _last_log_line(self) -> str:
        if self._log_file is None:
            return ""
        try:
            self._log_file.flush()
            self._log_file.seek(0, os.SEEK_END)
            size = self._log_file.tell()
            self._log_file.seek(max(0, size - 4096))
            lines = self._log_file.read().decode(errors="replace").strip().splitlines()
        except (OSError, ValueError):
            return ""
        return f' (its last output: "{lines[-1].strip()}")' if lines else ""

    def _stop_process(self) -> None:
        if self._process is not None:
            _reap(self._process, _STOP_GRACE_S, expect_exit=self._stop_sent)
            if self._finalizer is not None:
                self._finalizer.detach()
            self._process = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    # ----------------------------------------------------------------------------- errors
    def _fail(self, exc: BaseException) -> None:
        """After a failed exchange the socket's state is unknown: the env cannot go on."""
        self._broken = f"{type(exc).__name__}: {exc}"
        self._owe_reply = False
        self._sim_continues = False
        if self._process is not None:
            self._stop_process()

    def _check_usable(self) -> None:
        if self._broken is not None:
            raise Ns3GymError(f"this Ns3GymEnv is no longer usable ({self._broken})")

    def _warn_external_seed(self, seed: int | None) -> None:
        if seed is not None and not self._launching and not self._warned_external_seed:
            self._warned_external_seed = True
            warnings.warn(
                "an external simulation chooses its own seed (start it with --seed); the seed "
                "passed to reset() only seeds this env's np_random",
                stacklevel=3,
            )
