"""Helpers to run an env over the ns3-gym wire on loopback, for benchmarks and smoke tests.

`benchmarks/bench_bridge.py` can time the same workload directly and through the protocol:

    direct = run_steps(gym.make("CartPole-v1"), 10_000, seed=0)
    with loopback_env(env_id="CartPole-v1", seed=0) as env:      # simulation in a subprocess
        wire = run_steps(env, 10_000, seed=0)
    print(direct.steps_per_s / wire.steps_per_s)

`make_env=` instead serves the env from a thread of this process (no process start-up, but the
two sides then share one GIL).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import gymnasium as gym

from bridge.ns3gym.agent_env import Ns3GymEnv
from bridge.ns3gym.sim_server import serve


@dataclass(frozen=True)
class StepRun:
    """What `run_steps` did and how long it took (wall clock, `time.perf_counter`)."""

    steps: int
    episodes: int
    seconds: float

    @property
    def steps_per_s(self) -> float:
        return self.steps / self.seconds if self.seconds > 0 else float("inf")


def run_steps(env: gym.Env, n_steps: int, seed: int = 0) -> StepRun:
    """Step `env` n_steps times with seeded random actions, resetting at each episode end.

    The clock covers everything after the first reset (steps, later resets), so a direct env
    and an `Ns3GymEnv` of the same env are timed on the same work.
    """
    env.action_space.seed(seed)
    env.reset(seed=seed)
    episodes = 0
    start = time.perf_counter()
    for _ in range(n_steps):
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            episodes += 1
            env.reset()
    return StepRun(n_steps, episodes, time.perf_counter() - start)


@contextmanager
def loopback_env(
    *,
    env_id: str | None = None,
    scenario: str | os.PathLike[str] | None = None,
    make_env: Callable[[], gym.Env] | None = None,
    seed: int | None = 0,
    timeout_s: float = 60.0,
) -> Iterator[Ns3GymEnv]:
    """An `Ns3GymEnv` talking to a simulation of the given env over tcp on 127.0.0.1.

    Give exactly one of `env_id` / `scenario` (served by a `python -m bridge.ns3gym` subprocess)
    or `make_env` (served by `serve` in a thread of this process). The env is closed, and the
    simulation stopped, on exit; an error of the serving thread is re-raised there.
    """
    if sum(x is not None for x in (env_id, scenario, make_env)) != 1:
        raise ValueError("give exactly one of env_id=, scenario=, make_env=")
    if make_env is None:
        env = Ns3GymEnv(env_id=env_id, scenario=scenario, seed=seed, timeout_s=timeout_s)
        try:
            yield env
        finally:
            env.close()
        return

    failure: list[BaseException] = []

    def serve_thread(port: int) -> None:
        sim_env = make_env()
        try:
            serve(sim_env, port, seed, timeout_s=timeout_s, episodes=0)
        except BaseException as exc:  # handed to the main thread below
            failure.append(exc)
        finally:
            sim_env.close()

    threads: list[threading.Thread] = []

    def start(port: int) -> None:
        thread = threading.Thread(target=serve_thread, args=(port,), daemon=True)
        thread.start()
        threads.append(thread)

    env = Ns3GymEnv(on_bound=start, reuse_sim=True, timeout_s=timeout_s)
    env._warned_external_seed = True  # the seed does reach this simulation: serve(..., seed)
    try:
        yield env
    finally:
        env.close()
        for thread in threads:
            thread.join(timeout_s)
    if failure:
        raise failure[0]
