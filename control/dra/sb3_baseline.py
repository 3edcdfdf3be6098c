"""Stable-Baselines3's DQN trained on the same QKD env, so its *returns* (not only its speed)
can be compared with qkdnet's DQN by `qkdnet evaluate --agent sb3 --sb3-model MODEL.zip`.

Why SB3: it is the reference implementation most readers know; if our agent does much worse than
SB3's on the same env and seeds, the fault is ours. Episodes are seeded from the same training
stream as `qkdnet train` (`seeding.episode_seed(seed, i)`), so both learners see the same
episodes; SB3's own hyper-parameters are left at its defaults except where a run of a few hundred
episodes needs them scaled (exploration over the first half of the run, learning starts, target
updates), matching the settings of `experiments/configs/training/six-node-random-500.yaml`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import gymnasium as gym

from control.dra import seeding
from control.dra.errors import DraError


class _SeededEpisodes(gym.Wrapper):
    """Resets with the run's training episode seeds in order (SB3 resets without a seed)."""

    def __init__(self, env: gym.Env, run_seed: int) -> None:
        super().__init__(env)
        self.run_seed = run_seed
        self.episode = 0

    def reset(self, *, seed=None, options=None):
        seed = seeding.episode_seed(self.run_seed, self.episode)
        self.episode += 1
        return self.env.reset(seed=seed, options=options)


def train_sb3(
    env_factory: Callable[[int], gym.Env],
    episodes: int,
    out_path: Path,
    seed: int = 0,
    learning_rate: float = 1e-3,
    progress: bool = True,
) -> Path:
    """Train SB3's DQN for `episodes` episodes; the model is saved to `out_path` (.zip)."""
    try:
        from stable_baselines3 import DQN
    except ImportError:
        raise DraError("train-sb3 needs stable-baselines3: pip install 'qkdnet[sb3]'") from None
    import torch

    torch.set_num_threads(1)
    env = _SeededEpisodes(env_factory(seeding.env_construction_seed(seed, 0)), seed)
    steps_per_episode = int(getattr(env.unwrapped, "max_steps", 0)) or (
        env.spec.max_episode_steps if env.spec is not None else 0
    )
    if not steps_per_episode:
        raise DraError("the env's episode length is unknown; train-sb3 needs it")
    total = episodes * steps_per_episode
    model = DQN(
        "MlpPolicy",
        env,
        learning_rate=learning_rate,
        buffer_size=min(50_000, total),
        learning_starts=min(1_000, total // 10),
        batch_size=64,
        gamma=0.99,
        target_update_interval=1_000,
        exploration_fraction=0.5,
        exploration_final_eps=0.05,
        policy_kwargs={"net_arch": [64, 64]},
        seed=seed,
        device="cpu",
        verbose=0,
    )
    try:
        model.learn(total_timesteps=total, progress_bar=progress)  # tqdm + rich (deps)
    finally:
        env.close()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    model.save(str(out_path))
    return out_path
