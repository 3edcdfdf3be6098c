"""The simulation side of ns3-gym: any Gymnasium env served to an agent that speaks the protocol.

`serve(env, port)` plays the part of ns-3's `OpenGymInterface`: it connects a REQ socket to the
agent at tcp://HOST:PORT, sends `SimInitMsg` (the spaces), waits for `SimInitAck`, sends the
`EnvStateMsg` of `env.reset(seed=...)`, and then answers every `EnvActMsg` with the state that
`env.step` returns. The step where the env terminates or truncates is sent with
`isGameOver=True` and reason `GameOver` (terminated) or `SimulationEnd` (truncated only: a
time limit, like ns-3 reaching its stop time); the agent's reply to it ends the episode.

One episode is one "simulation run" as ns3-gym agents know it. With `episodes > 1` (or 0: until
the agent asks to stop) the next episode starts on a fresh connection with a new `SimInitMsg`,
continuing the env's RNG (`env.reset()` without a seed), which is what an agent that waits for
the next simulation (ns3-gym's `Ns3Env(startSim=False)`, or `Ns3GymEnv` with `reuse_sim`) sees.
`stopSimReq` in any reply ends the whole run, as it does in ns-3.

The `info` dict travels as a JSON string (ns3-gym's `info` is a free string).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import zmq

from bridge.ns3gym import schema as pb
from bridge.ns3gym.errors import Ns3GymProtocolError
from bridge.ns3gym.schema import Reason
from bridge.ns3gym.spaces import Codec, codec_for
from bridge.ns3gym.wire import Endpoint


@dataclass
class ServeResult:
    """What a `serve` run did: episodes finished, steps taken, and why it ended."""

    episodes: int = 0
    steps: int = 0
    stopped_by_agent: bool = False


@dataclass(frozen=True)
class EpisodeSummary:
    """Passed to `on_episode_end` after each finished episode (for progress lines)."""

    index: int
    steps: int
    return_: float
    terminated: bool


def info_to_json(info: dict[str, Any]) -> str:
    """The info dict as the JSON string that travels in `EnvStateMsg.info` ("" when empty)."""
    if not info:
        return ""
    return json.dumps(info, default=_json_default, separators=(",", ":"))


def _json_default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return repr(value)


def serve(
    env: gym.Env,
    port: int,
    seed: int | None = None,
    *,
    host: str = "localhost",
    timeout_s: float | None = 600.0,
    episodes: int = 1,
    on_episode_end: Callable[[EpisodeSummary], None] | None = None,
) -> ServeResult:
    """Serve `env` to the agent listening on tcp://host:port until it stops us or episodes end.

    `timeout_s` bounds every wait for the agent (`Ns3GymTimeout`); it is long by default because
    an agent may train between two steps. An agent whose connection closes is reported at once
    (`Ns3GymPeerDied`). Bad messages raise `Ns3GymProtocolError`. The env is not closed here:
    its owner closes it (and so keeps whatever it has written).
    """
    if episodes < 0:
        raise ValueError(f"episodes must be >= 0 (0: until the agent stops), got {episodes}")
    obs_codec = codec_for(env.observation_space)
    act_codec = codec_for(env.action_space)
    init = pb.SimInitMsg(
        simProcessId=os.getpid(),
        wafShellProcessId=os.getppid(),
        obsSpace=obs_codec.describe(),
        actSpace=act_codec.describe(),
    )
    result = ServeResult()
    context = zmq.Context()
    peer = f"the agent at tcp://{host}:{port}"

    def connected() -> Endpoint:
        endpoint = Endpoint(context, zmq.REQ, peer)
        endpoint.connect(host, port)
        return endpoint

    endpoint = connected()
    try:
        while True:
            episode_seed = seed if result.episodes == 0 else None
            codecs = (obs_codec, act_codec)
            if _serve_episode(
                env, endpoint, init, codecs, episode_seed, timeout_s, result, on_episode_end
            ):
                result.stopped_by_agent = True
                break
            if episodes != 0 and result.episodes >= episodes:
                break
            # Each episode is a new simulation run on a new connection, opened before the old
            # one closes so that the agent never sees us gone in between.
            previous, endpoint = endpoint, connected()
            previous.close()
    finally:
        endpoint.close()
        context.term()
    return result


def _serve_episode(
    env: gym.Env,
    endpoint: Endpoint,
    init: Any,
    codecs: tuple[Codec, Codec],
    seed: int | None,
    timeout_s: float | None,
    result: ServeResult,
    on_episode_end: Callable[[EpisodeSummary], None] | None,
) -> bool:
    """One simulation run; True when the agent asked to stop."""
    obs_codec, act_codec = codecs
    endpoint.send(init)
    ack = endpoint.recv(pb.SimInitAck, timeout_s=timeout_s)
    if ack.stopSimReq:
        return True
    obs, info = env.reset(seed=seed)
    state = pb.EnvStateMsg(obsData=obs_codec.encode(obs), info=info_to_json(info))
    steps, return_ = 0, 0.0
    while True:
        endpoint.send(state)
        reply = endpoint.recv(pb.EnvActMsg, timeout_s=timeout_s)
        if state.isGameOver:
            result.episodes += 1
            if on_episode_end is not None:
                terminated = state.reason == Reason.GameOver
                on_episode_end(EpisodeSummary(result.episodes - 1, steps, return_, terminated))
            return reply.stopSimReq
        if reply.stopSimReq:
            return True
        if not reply.HasField("actData"):
            raise Ns3GymProtocolError(
                f"{endpoint.peer} sent an EnvActMsg without actData and without stopSimReq"
            )
        action = act_codec.decode(reply.actData, "the agent's action")
        obs, reward, terminated, truncated, info = env.step(action)
        steps += 1
        result.steps += 1
        return_ += float(reward)
        state = pb.EnvStateMsg(
            obsData=obs_codec.encode(obs),
            reward=float(reward),
            isGameOver=bool(terminated or truncated),
            reason=Reason.GameOver if terminated else Reason.SimulationEnd,
            info=info_to_json(info),
        )
