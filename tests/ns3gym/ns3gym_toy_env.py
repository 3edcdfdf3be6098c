"""Small Gymnasium envs for the ns3-gym wire tests.

`ToyNestedEnv` uses every space kind the protocol carries, nested (Dict, Tuple, Box of several
dtypes with per-element bounds, Discrete with a start, MultiBinary, MultiDiscrete), and its
`step` asserts that the action it gets is a member of its own action space, so a decoding that
hands the env the wrong types or shapes fails loudly.

`ToyMetricsEnv` appends one line per step to the file named by $TOY_METRICS_PATH (flushed at
once, as a real run writes its metrics) and "closed" when closed; $TOY_SLOW_STEP makes that step
sleep for a minute (to provoke an agent timeout). Both are registered on import, so a
simulation subprocess can serve them as `--env-id ns3gym_toy_env:ToyNested-v0`
(tests/ns3gym is on the subprocess's PYTHONPATH).
"""

from __future__ import annotations

import os
import time

import gymnasium as gym
import numpy as np
from gymnasium import spaces


class ToyNestedEnv(gym.Env):
    metadata = {"render_modes": []}

    def __init__(self, episode_steps: int = 6):
        self.episode_steps = episode_steps
        self.observation_space = spaces.Dict(
            {
                "pos": spaces.Box(
                    low=np.array([[-1.0, -2.0, -3.0], [-0.5, -0.25, -1.0]]),
                    high=np.array([[1.0, 2.0, 3.0], [0.5, 0.25, 1.0]]),
                    dtype=np.float64,
                ),
                "count": spaces.Discrete(7, start=-2),
                "pair": spaces.Tuple((spaces.Discrete(2), spaces.Box(0, 255, (4,), np.uint8))),
                "ints": spaces.Box(-5, 5, (3,), np.int64),
                "bits": spaces.MultiBinary(3),
            }
        )
        self.action_space = spaces.Tuple(
            (
                spaces.Discrete(3),
                spaces.Box(-1.0, 1.0, (2,), np.float32),
                spaces.Dict({"a": spaces.Discrete(2), "b": spaces.Box(0, 10, (2,), np.uint32)}),
                spaces.MultiDiscrete([2, 3]),
            )
        )
        self._t = 0

    def _obs(self):
        rng, pos = self.np_random, self.observation_space["pos"]
        return {
            "pos": rng.uniform(pos.low, pos.high),
            "count": int(rng.integers(-2, 5)),
            "pair": (int(rng.integers(2)), rng.integers(0, 256, 4).astype(np.uint8)),
            "ints": rng.integers(-5, 6, 3).astype(np.int64),
            "bits": rng.integers(0, 2, 3).astype(np.int8),
        }

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._t = 0
        return self._obs(), {"t": 0}

    def step(self, action):
        assert self.action_space.contains(action), f"not an action of this env: {action!r}"
        self._t += 1
        choice, vec, named, multi = action
        reward = float(choice) + float(vec.sum()) * 0.1 + int(named["b"].sum()) + int(multi[1])
        reward += float(self.np_random.normal())
        info = {"t": self._t, "echo": vec, "scalar": np.float32(0.5), "multi": multi}
        return self._obs(), reward, self._t >= self.episode_steps, False, info


class ToyMetricsEnv(gym.Env):
    metadata = {"render_modes": []}
    observation_space = spaces.Box(-10.0, 10.0, (2,), np.float32)
    action_space = spaces.Discrete(2)

    def __init__(self, episode_steps: int = 50):
        self.episode_steps = episode_steps
        self.path = os.environ.get("TOY_METRICS_PATH")
        self.slow_step = int(os.environ.get("TOY_SLOW_STEP", "0"))
        self._t = 0

    def _write(self, line: str) -> None:
        if self.path:
            with open(self.path, "a") as f:
                f.write(line + "\n")

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._t = 0
        return self.np_random.uniform(-1, 1, 2).astype(np.float32), {}

    def step(self, action):
        self._t += 1
        if self._t == self.slow_step:
            time.sleep(60)
        self._write(f"step {self._t} action {int(action)}")
        obs = self.np_random.uniform(-1, 1, 2).astype(np.float32)
        return obs, 1.0, self._t >= self.episode_steps, False, {}

    def close(self):
        self._write("closed")


gym.register("ToyNested-v0", entry_point=ToyNestedEnv, disable_env_checker=True)
gym.register("ToyMetrics-v0", entry_point=ToyMetricsEnv, disable_env_checker=True)
