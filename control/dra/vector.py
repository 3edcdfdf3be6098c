"""Sub-environments stepped together: Gymnasium's sync or async vector env around `env_factory`.

`env_factory(seed)` builds one environment; `seed` is a construction seed (an ns-3 run number, for
instance) derived from the run seed and the sub-environment's index. Episodes are seeded separately
through `reset(seed=...)`. Async workers ignore SIGINT so that Ctrl-C reaches only the trainer.
The NEXT_STEP autoreset mode is used: the step that ends an episode returns the true final
observation (needed for the bootstrapped target), and the following step resets that sub-env.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import gymnasium as gym
from gymnasium.vector import AsyncVectorEnv, AutoresetMode, SyncVectorEnv, VectorEnv

from control.dra.interrupts import ignore_sigint_in_worker
from control.dra.seeding import env_construction_seed

EnvFactory = Callable[[int], gym.Env]


def _build(env_factory: EnvFactory, seed: int) -> gym.Env:
    ignore_sigint_in_worker()
    return env_factory(seed)


def make_vector_env(
    env_factory: EnvFactory,
    run_seed: int,
    num_envs: int,
    vectorization: str = "sync",
    start_method: str | None = None,
) -> VectorEnv:
    """`num_envs` copies of the env; `async` hosts each in its own process (ns-3 needs that)."""
    builders = [
        partial(_build, env_factory, env_construction_seed(run_seed, index))
        for index in range(num_envs)
    ]
    if vectorization == "async":
        return AsyncVectorEnv(
            builders, context=start_method, autoreset_mode=AutoresetMode.NEXT_STEP
        )
    if vectorization != "sync":
        raise ValueError(f"vectorization must be 'sync' or 'async', got {vectorization!r}")
    return SyncVectorEnv(builders, autoreset_mode=AutoresetMode.NEXT_STEP)
