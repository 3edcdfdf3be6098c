"""The DQN agent: online and target Q-networks, epsilon-greedy acting and one learning step.

Learning step (Mnih et al. 2015, with the double-DQN target of van Hasselt et al. 2016):
    a* = argmax_a Q_online(s', a)                    (double DQN; plain DQN uses the target net)
    y  = r + gamma * (1 - terminated) * Q_target(s', a*)
    loss = mean_i w_i * Huber(Q_online(s, a_i) - y_i)  (w = PER importance weights, or 1)
then Adam with the gradient's global L2 norm clipped. |y - Q| is returned so that the replay buffer
can refresh priorities. The target network follows the online one every `target_update_interval`
env steps (hard copy, or Polyak averaging when tau < 1); the trainer calls `sync_target`.

The online net evaluates s and s' in one forward pass (concatenated batch): for MLPs this small the
cost is per-call overhead, so one call instead of two is measurably faster; the s' half is detached
and only used for the argmax.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional

from control.dra.config import DqnConfig
from control.dra.network import QNetwork
from control.dra.replay import ReplayBatch


@dataclass(frozen=True)
class LearnStats:
    """What one gradient step reports: the weighted loss, mean Q(s, a) and |TD| per sample."""

    loss: float
    q_mean: float
    td_errors: np.ndarray


class DqnAgent:
    """Q-networks, optimiser and the exploration generator of one DQN learner."""

    def __init__(
        self, obs_dim: int, n_actions: int, config: DqnConfig, seed_sequence: np.random.SeedSequence
    ) -> None:
        self.config = config
        self.obs_dim = obs_dim
        self.n_actions = n_actions
        init_seed, explore_seed = seed_sequence.spawn(2)
        # Networks are initialised from their own seed without touching the global torch RNG.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(init_seed.generate_state(1, dtype=np.uint64)[0]))
            self.online = QNetwork(obs_dim, n_actions, config.network)
        self.target = copy.deepcopy(self.online)
        self.target.requires_grad_(False)
        self.optimizer = torch.optim.Adam(self.online.parameters(), lr=config.learning_rate)
        self.explore_rng = np.random.Generator(np.random.PCG64(explore_seed))

    @torch.no_grad()
    def greedy_actions(self, obs: np.ndarray) -> np.ndarray:
        """argmax_a Q(s, a) for a batch of flattened float32 observations."""
        return self.online(torch.from_numpy(obs)).argmax(dim=1).numpy()

    def act(self, obs: np.ndarray, epsilon: float) -> np.ndarray:
        """Epsilon-greedy actions for a batch; draws the same random numbers whatever epsilon is.

        Drawing both the coin and the random action for every row keeps the generator's stream
        independent of which rows explored, which keeps runs comparable across epsilon schedules.
        """
        count = obs.shape[0]
        explore = self.explore_rng.random(count) < epsilon
        random_actions = self.explore_rng.integers(0, self.n_actions, size=count)
        if explore.all():
            return random_actions
        return np.where(explore, random_actions, self.greedy_actions(obs))

    def learn(self, batch: ReplayBatch) -> LearnStats:
        """One gradient step on a replay minibatch."""
        cfg = self.config
        size = len(batch.actions)
        obs = torch.from_numpy(batch.obs)
        next_obs = torch.from_numpy(batch.next_obs)
        actions = torch.from_numpy(batch.actions).unsqueeze(1)
        rewards = torch.from_numpy(batch.rewards)
        not_done = 1.0 - torch.from_numpy(batch.terminated)
        weights = torch.from_numpy(batch.weights)

        if cfg.double_dqn:
            q_both = self.online(torch.cat((obs, next_obs)))
            q_taken = q_both[:size].gather(1, actions).squeeze(1)
            next_actions = q_both[size:].detach().argmax(dim=1, keepdim=True)
            with torch.no_grad():
                next_q = self.target(next_obs).gather(1, next_actions).squeeze(1)
        else:
            q_taken = self.online(obs).gather(1, actions).squeeze(1)
            with torch.no_grad():
                next_q = self.target(next_obs).max(dim=1).values
        target = rewards + cfg.gamma * not_done * next_q

        per_sample = functional.huber_loss(q_taken, target, reduction="none", delta=cfg.huber_delta)
        loss = (weights * per_sample).mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.online.parameters(), cfg.max_grad_norm)
        self.optimizer.step()
        td_errors = (target - q_taken.detach()).abs().numpy()
        return LearnStats(loss.item(), q_taken.detach().mean().item(), td_errors)

    @torch.no_grad()
    def sync_target(self) -> None:
        """Target <- online (tau = 1) or target <- (1 - tau) target + tau online."""
        if self.config.tau >= 1.0:
            self.target.load_state_dict(self.online.state_dict())
            return
        for target, online in zip(self.target.parameters(), self.online.parameters(), strict=True):
            target.lerp_(online, self.config.tau)

    def state_dict(self) -> dict:
        return {
            "online": self.online.state_dict(),
            "target": self.target.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "explore_rng": self.explore_rng.bit_generator.state,
        }

    def load_state_dict(self, state: dict) -> None:
        self.online.load_state_dict(state["online"])
        self.target.load_state_dict(state["target"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.explore_rng.bit_generator.state = state["explore_rng"]
