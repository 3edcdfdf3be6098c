"""What the agent supports: a `Box` observation (flattened) and a `Discrete` action space.

The checks run before any training so that an env with, say, a `MultiDiscrete` action fails with
one line naming the space instead of a shape error deep inside torch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from gymnasium import spaces

from control.dra.errors import UnsupportedEnvError


@dataclass(frozen=True)
class SpaceLayout:
    """Flat observation size, number of actions and the action space's `start` offset."""

    obs_dim: int
    n_actions: int
    action_start: int = 0

    def to_env_action(self, index: np.ndarray | int) -> np.ndarray | int:
        """Network output index -> the env's action value (`Discrete(n, start=s)` starts at s)."""
        return index + self.action_start

    def flatten(self, obs: np.ndarray, batched: bool) -> np.ndarray:
        """Observation(s) as float32 rows of `obs_dim` values."""
        array = np.asarray(obs, dtype=np.float32)
        return array.reshape(-1 if batched else 1, self.obs_dim)


def layout_of(observation_space: spaces.Space, action_space: spaces.Space) -> SpaceLayout:
    """The layout of one (non-vectorised) env's spaces, or `UnsupportedEnvError`."""
    if not isinstance(observation_space, spaces.Box):
        raise UnsupportedEnvError(
            f"the DQN agent needs a Box observation space, got {type(observation_space).__name__}"
        )
    if not isinstance(action_space, spaces.Discrete):
        raise UnsupportedEnvError(
            f"the DQN agent needs a Discrete action space, got {type(action_space).__name__}"
        )
    return SpaceLayout(
        obs_dim=int(np.prod(observation_space.shape, dtype=np.int64)),
        n_actions=int(action_space.n),
        action_start=int(action_space.start),
    )
