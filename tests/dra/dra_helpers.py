"""Environments and settings shared by the DQN tests (imported by module name, like ns3gym's).

Everything here is a real Gymnasium env or wrapper: CartPole-v1 itself, CartPole with extra info
metrics, CartPole that sends the process a real SIGINT after N steps (to exercise Ctrl-C), and a
tiny env that implements the QKD env's baseline interface so the adapter can be checked.
"""

from __future__ import annotations

import os
import signal
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from control.dra.checkpoint import load_checkpoint
from control.dra.config import TrainingConfig, parse_training_config


def cartpole(seed: int) -> gym.Env:
    """The env factory of most tests (module level, so async workers can unpickle it)."""
    del seed
    return gym.make("CartPole-v1")


def tiny_config(**trainer: Any) -> TrainingConfig:
    """Small, fast settings under which learning, target syncs and buffer wrap-around all happen
    within a few CartPole episodes."""
    return parse_training_config(
        {
            "dqn": {
                "network": {"hidden_sizes": [16, 16]},
                "replay": {"capacity": 150, "batch_size": 16, "beta_anneal_steps": 400},
                "exploration": {"decay_steps": 200, "epsilon_end": 0.1},
                "learning_starts": 32,
                "train_freq": 2,
                "gradient_steps": 2,
                "target_update_interval": 40,
            },
            "trainer": {"checkpoint_every": 2, "tensorboard": False, "progress": False, **trainer},
        }
    )


class SigintAfter(gym.Wrapper):
    """Sends this process SIGINT after `SigintAfter.remaining` more steps (of any instance).

    The countdown is shared by all instances in the process so that exactly one signal is sent
    even with several sub-environments; `None` disarms it. With `mid_episode` set, a countdown
    that ends on an episode's last step waits one more step, so the signal always lands inside
    an episode (needed where episode lengths are random).
    """

    remaining: int | None = None
    mid_episode: bool = False

    def step(self, action):
        result = super().step(action)
        if SigintAfter.remaining is not None:
            SigintAfter.remaining -= 1
            episode_ended = result[2] or result[3]
            if SigintAfter.remaining == 0 and SigintAfter.mid_episode and episode_ended:
                SigintAfter.remaining = 1
            elif SigintAfter.remaining == 0:
                SigintAfter.remaining = None
                os.kill(os.getpid(), signal.SIGINT)
        return result


def interrupting_cartpole(seed: int) -> gym.Env:
    return SigintAfter(cartpole(seed))


class IgnoresResetSeed(gym.Wrapper):
    """Breaks the seeding contract: every reset draws fresh OS entropy."""

    def reset(self, *, seed=None, options=None):
        return super().reset(seed=int(np.random.SeedSequence().entropy % 2**31), options=options)


def unseeded_interrupting_cartpole(seed: int) -> gym.Env:
    return SigintAfter(IgnoresResetSeed(cartpole(seed)))


class InfoMetrics(gym.Wrapper):
    """CartPole whose step info carries scalar metrics (like the QKD env's) and a non-scalar."""

    def step(self, action):
        obs, reward, terminated, truncated, info = super().step(action)
        info = dict(info)
        info["angle_abs"] = float(abs(obs[2]))
        info["upright"] = bool(abs(obs[2]) < 0.05)
        info["cart_state"] = np.asarray(obs[:2])  # not a scalar: not recorded
        return obs, reward, terminated, truncated, info


def cartpole_with_info(seed: int) -> gym.Env:
    return InfoMetrics(cartpole(seed))


class ChoiceEnv(gym.Env):
    """Three actions, ten steps, reward 1 for action 2; describes its baseline actions.

    It implements `baseline_action(kind, obs, info)` the way the QKD env is asked to, with
    'static' = always action 0 and 'greedy' = the action that is best now (2).
    """

    observation_space = gym.spaces.Box(0.0, 1.0, shape=(2,), dtype=np.float32)
    action_space = gym.spaces.Discrete(3)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._t = 0
        return self._obs(), {}

    def step(self, action):
        self._t += 1
        reward = 1.0 if int(action) == 2 else 0.0
        return self._obs(), reward, False, self._t >= 10, {"served": reward}

    def _obs(self) -> np.ndarray:
        return np.array([self._t / 10.0, self.np_random.random()], dtype=np.float32)

    def baseline_action(self, kind: str, obs: np.ndarray, info: dict) -> int:
        return {"static": 0, "greedy": 2}[kind]


def choice_env(seed: int) -> gym.Env:
    del seed
    return ChoiceEnv()


def assert_same_state(a: Any, b: Any, where: str = "checkpoint") -> None:
    """Recursive bit-for-bit equality of checkpoint payloads (arrays, tensors, plain values)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), f"{where}: keys differ"
        for key in a:
            assert_same_state(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), f"{where}: lengths differ"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same_state(x, y, f"{where}[{i}]")
    elif isinstance(a, torch.Tensor):
        assert torch.equal(a, b), f"{where}: tensors differ"
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True), f"{where}: differ"
    elif isinstance(a, float) and np.isnan(a):
        assert isinstance(b, float) and np.isnan(b), f"{where}: differ"
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def final_state(result) -> dict:
    return load_checkpoint(result.checkpoint)
