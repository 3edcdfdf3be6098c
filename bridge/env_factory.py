"""One way to get an environment from a scenario file, for every tool that needs one.

`qkdnet gym-sim`, `qkdnet train`, `qkdnet evaluate`, the vector-env workers and the benchmarks
all build their env here, so they all see the same env for the same scenario and seed.
"""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym


def make_env(scenario_path: str | Path, seed: int | None = None, **env_options: str) -> gym.Env:
    """A `QkdNetworkEnv` for the scenario YAML; `seed` replaces the scenario's seed;
    `env_options` are the env's keyword settings (`routing`, `control_mode`).

    The seed is the construction seed: the first `reset()` without a seed runs an episode with
    it (later unseeded resets draw from the env's RNG); `reset(seed=s)` runs episode seed s.
    """
    from bridge.env import QkdNetworkEnv
    from bridge.scenario.config import load_scenario

    config = load_scenario(scenario_path, seed=seed)
    return QkdNetworkEnv(config, **env_options)


def make_gym_env(env_id: str, seed: int) -> gym.Env:
    """A registered Gymnasium env (`--env-id CartPole-v1`); `seed` is unused (episodes are seeded
    through reset). Same signature as `make_env` so trainers take either as their env factory."""
    del seed
    return gym.make(env_id)


# ns-3's Simulator is one per process: vector envs host these envs one per process
# (control.dra.vector's "auto" vectorisation reads this mark).
make_env.one_per_process = True  # type: ignore[attr-defined]
