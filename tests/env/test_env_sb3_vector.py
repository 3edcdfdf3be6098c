"""The env is usable by standard tooling unchanged: Stable-Baselines3 trains DQN on it, and
Gymnasium's AsyncVectorEnv runs copies of it in worker processes (ns-3 is one simulation per
process, so parallel envs are separate processes)."""

from __future__ import annotations

import os
from functools import partial

import gymnasium as gym
import numpy as np
import pytest

from bridge.env_factory import make_env

from .conftest import SMALL

pytestmark = pytest.mark.timeout(180)


def test_stable_baselines3_dqn_trains_on_the_env() -> None:
    pytest.importorskip("stable_baselines3")
    from stable_baselines3 import DQN
    from stable_baselines3.common.monitor import Monitor

    env = Monitor(make_env(SMALL, seed=2))
    try:
        model = DQN(
            "MlpPolicy",
            env,
            learning_starts=40,
            buffer_size=1_000,
            batch_size=32,
            train_freq=4,
            target_update_interval=50,
            policy_kwargs={"net_arch": [32]},
            seed=0,
            device="cpu",
        )
        model.learn(total_timesteps=240)
        assert model.num_timesteps == 240
        assert model._n_updates > 0  # gradient steps happened
        assert len(env.get_episode_rewards()) == 240 // env.unwrapped.max_steps
        assert all(np.isfinite(env.get_episode_rewards()))
        obs, _ = env.reset(seed=5)
        action, _ = model.predict(obs, deterministic=True)
        assert env.action_space.contains(int(action))
        env.step(int(action))
    finally:
        env.close()


def test_async_vector_env_runs_one_ns3_process_per_worker() -> None:
    envs = gym.vector.AsyncVectorEnv(
        [partial(make_env, str(SMALL), 1), partial(make_env, str(SMALL), 1)],
        context="spawn",  # fresh interpreters: nothing of this process's ns-3 is inherited
    )
    try:
        obs, _ = envs.reset(seed=[7, 8])
        steps = []
        for _ in range(4):
            obs, reward, terminated, truncated, info = envs.step(np.array([0, 0]))
            steps.append(obs.copy())
        pids = {process.pid for process in envs.processes}
        # different seeds, different trajectories
        assert any(not np.array_equal(step[0], step[1]) for step in steps)
        # the same seed in both workers: identical, so the two ns-3 processes do not interfere
        obs, _ = envs.reset(seed=[9, 9])
        for _ in range(4):
            obs, reward, *_ = envs.step(np.array([0, 0]))
            assert obs[0].tobytes() == obs[1].tobytes()
            assert reward[0] == reward[1]
    finally:
        envs.close()
    assert len(pids) == 2 and os.getpid() not in pids
