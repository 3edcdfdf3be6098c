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


def needs_own_process(env_factory: EnvFactory) -> bool:
    """Whether the factory's envs cannot share a process (a `functools.partial` is looked
    through to the function it wraps)."""
    target = getattr(env_factory, "func", env_factory)
    return bool(getattr(target, "one_per_process", False))


def _build(env_factory: EnvFactory, seed: int) -> gym.Env:
    ignore_sigint_in_worker()
    return env_factory(seed)


def make_vector_env(
    env_factory: EnvFactory,
    run_seed: int,
    num_envs: int,
    vectorization: str = "auto",
    start_method: str | None = None,
) -> VectorEnv:
    """`num_envs` copies of the env; `async` hosts each in its own process (ns-3 needs that:
    its Simulator is one per process). `auto` (the default): async when num_envs > 1 and the
    factory says its envs need a process each (`one_per_process`, set by
    bridge.env_factory.make_env), else sync."""
    if vectorization == "auto":
        one_each = needs_own_process(env_factory)
        vectorization = "async" if num_envs > 1 and one_each else "sync"
    builders = [
        partial(_build, env_factory, env_construction_seed(run_seed, index))
        for index in range(num_envs)
    ]
    if vectorization == "async":
        return AsyncVectorEnv(
            builders, context=start_method, autoreset_mode=AutoresetMode.NEXT_STEP
        )
    if vectorization != "sync":
        raise ValueError(f"vectorization must be 'auto', 'sync' or 'async', got {vectorization!r}")
    return SyncVectorEnv(builders, autoreset_mode=AutoresetMode.NEXT_STEP)
