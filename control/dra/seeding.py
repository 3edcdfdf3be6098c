"""Every seed of a run derived from one integer, and the process-wide RNG states.

Why derive per-episode seeds: each episode starts with `env.reset(seed=episode_seed(...))`, so an
episode is a function of (run seed, episode index, actions) alone. That is what lets a checkpoint
taken between episodes resume bit for bit without serialising the simulator (an ns-3 simulation
cannot be saved), and a checkpoint taken mid-episode resume by replaying its recorded actions.
Streams keep training, evaluation, env construction and the agent's own generators independent.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch

TRAIN_EPISODES = 0
EVAL_EPISODES = 1
ENV_CONSTRUCTION = 2
AGENT = 3
REPLAY = 4


def derived_seed(seed: int, stream: int, index: int) -> int:
    """A 32-bit seed for item `index` of `stream` of run `seed` (SeedSequence hashing)."""
    return int(np.random.SeedSequence([seed, stream, index]).generate_state(1)[0])


def episode_seed(seed: int, index: int, evaluation: bool = False) -> int:
    """Seed passed to `env.reset` for episode `index` of a training (or evaluation) run."""
    return derived_seed(seed, EVAL_EPISODES if evaluation else TRAIN_EPISODES, index)


def env_construction_seed(seed: int, sub_env: int) -> int:
    """Seed handed to `env_factory` when building sub-environment `sub_env`."""
    return derived_seed(seed, ENV_CONSTRUCTION, sub_env)


def seed_sequence(seed: int, stream: int) -> np.random.SeedSequence:
    """Root of a component's own generators (agent, replay buffer)."""
    return np.random.SeedSequence([seed, stream])


def capture_global_rng() -> dict[str, Any]:
    """torch, numpy (legacy global) and Python `random` states, for checkpoints."""
    return {
        "torch": torch.get_rng_state(),
        "numpy": np.random.get_state(legacy=False),
        "python": random.getstate(),
    }


def restore_global_rng(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    python = state["python"]
    random.setstate((python[0], tuple(python[1]), python[2]))
