"""Experience replay: a uniform ring buffer and the proportional prioritized variant (PER).

Prioritized replay follows Schaul et al. 2015 (Algorithm 1, proportional prioritization):
a new transition gets the largest priority seen so far, so it is replayed at least once; after a
replay its priority becomes (|TD error| + epsilon)^alpha; transition i is drawn with probability
P(i) = p_i^alpha / sum_k p_k^alpha, using stratified sampling (one draw in each of `batch` equal
slices of the total, as in the paper's appendix B.2.1); and its update is weighted by
w_i = (N * P(i))^-beta / max_j w_j, where the max runs over every stored transition (the
smallest-priority one), so weights only scale updates down.

Transitions are added in batches (one row per active sub-environment of a vector env) and stored
as float32 observations; every random draw comes from the buffer's own generator so that a
checkpoint can restore it exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from control.dra.sum_tree import SumTree


@dataclass(frozen=True)
class ReplayBatch:
    """A sampled minibatch; `weights` are the importance-sampling weights (ones when uniform)."""

    obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_obs: np.ndarray
    terminated: np.ndarray
    weights: np.ndarray
    indices: np.ndarray


class ReplayBuffer:
    """Uniform replay over the last `capacity` transitions."""

    prioritized = False

    def __init__(self, capacity: int, obs_dim: int, rng: np.random.Generator) -> None:
        if capacity < 1:
            raise ValueError(f"replay capacity must be >= 1, got {capacity}")
        self.capacity = capacity
        self.obs_dim = obs_dim
        self.rng = rng
        self._obs = np.zeros((capacity, obs_dim), dtype=np.float32)
        self._next_obs = np.zeros((capacity, obs_dim), dtype=np.float32)
        self._actions = np.zeros(capacity, dtype=np.int64)
        self._rewards = np.zeros(capacity, dtype=np.float32)
        self._terminated = np.zeros(capacity, dtype=np.float32)
        self._pos = 0
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def add(
        self,
        obs: np.ndarray,
        actions: np.ndarray,
        rewards: np.ndarray,
        next_obs: np.ndarray,
        terminated: np.ndarray,
    ) -> np.ndarray:
        """Store a batch of transitions (first axis = transition); returns the slots written.

        `terminated` (not truncated) marks transitions whose next state has no future value; a
        time-limit truncation still bootstraps, which is what makes Q-targets correct under
        `TimeLimit` wrappers.
        """
        count = len(actions)
        if count > self.capacity:
            raise ValueError(f"adding {count} transitions to a buffer of capacity {self.capacity}")
        slots = (self._pos + np.arange(count)) % self.capacity
        self._obs[slots] = obs
        self._next_obs[slots] = next_obs
        self._actions[slots] = actions
        self._rewards[slots] = rewards
        self._terminated[slots] = terminated
        self._pos = int((self._pos + count) % self.capacity)
        self.size = min(self.size + count, self.capacity)
        return slots

    def sample(self, batch_size: int, beta: float = 1.0) -> ReplayBatch:
        """Draw `batch_size` transitions uniformly with replacement (`beta` is unused here)."""
        self._check_can_sample(batch_size)
        indices = self.rng.integers(0, self.size, size=batch_size)
        return self._gather(indices, np.ones(batch_size, dtype=np.float32))

    def update_priorities(self, indices: np.ndarray, td_errors: np.ndarray) -> None:
        """Uniform replay keeps no priorities; present so agents need not check the kind."""
        del indices, td_errors

    def _check_can_sample(self, batch_size: int) -> None:
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")

    def _gather(self, indices: np.ndarray, weights: np.ndarray) -> ReplayBatch:
        return ReplayBatch(
            obs=self._obs[indices],
            actions=self._actions[indices],
            rewards=self._rewards[indices],
            next_obs=self._next_obs[indices],
            terminated=self._terminated[indices],
            weights=weights,
            indices=indices,
        )

    def state_dict(self) -> dict:
        """Filled rows, write position and generator state: enough to continue bit for bit."""
        return {
            "kind": "prioritized" if self.prioritized else "uniform",
            "capacity": self.capacity,
            "obs_dim": self.obs_dim,
            "pos": self._pos,
            "size": self.size,
            "obs": self._obs[: self.size].copy(),
            "next_obs": self._next_obs[: self.size].copy(),
            "actions": self._actions[: self.size].copy(),
            "rewards": self._rewards[: self.size].copy(),
            "terminated": self._terminated[: self.size].copy(),
            "rng": self.rng.bit_generator.state,
        }

    def load_state_dict(self, state: dict) -> None:
        kind = "prioritized" if self.prioritized else "uniform"
        if state["kind"] != kind or state["capacity"] != self.capacity:
            raise ValueError(
                f"replay state is {state['kind']} with capacity {state['capacity']}, "
                f"this buffer is {kind} with capacity {self.capacity}"
            )
        if state["obs_dim"] != self.obs_dim:
            raise ValueError(f"replay state obs_dim {state['obs_dim']}, expected {self.obs_dim}")
        size = int(state["size"])
        self._obs[:size] = np.asarray(state["obs"])
        self._next_obs[:size] = np.asarray(state["next_obs"])
        self._actions[:size] = np.asarray(state["actions"])
        self._rewards[:size] = np.asarray(state["rewards"])
        self._terminated[:size] = np.asarray(state["terminated"])
        self._pos = int(state["pos"])
        self.size = size
        self.rng.bit_generator.state = state["rng"]


class PrioritizedReplayBuffer(ReplayBuffer):
    """Proportional prioritized replay (Schaul et al. 2015) on a `SumTree`."""

    prioritized = True

    def __init__(
        self,
        capacity: int,
        obs_dim: int,
        rng: np.random.Generator,
        alpha: float = 0.6,
        priority_epsilon: float = 1e-6,
    ) -> None:
        super().__init__(capacity, obs_dim, rng)
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {alpha}")
        self.alpha = alpha
        self.priority_epsilon = priority_epsilon
        self.tree = SumTree(capacity)
        self.max_priority = 1.0  # largest (|TD| + eps) seen; new transitions get it

    def add(self, obs, actions, rewards, next_obs, terminated) -> np.ndarray:
        slots = super().add(obs, actions, rewards, next_obs, terminated)
        self.tree.update(slots, np.full(len(slots), self.max_priority**self.alpha))
        return slots

    def probabilities(self, indices: np.ndarray) -> np.ndarray:
        """P(i) of the given slots under the current priorities."""
        return self.tree.get(indices) / self.tree.total

    def importance_weights(self, indices: np.ndarray, beta: float) -> np.ndarray:
        """w_i = (N P(i))^-beta normalised by the largest weight over the whole buffer."""
        if not 0.0 <= beta <= 1.0:
            raise ValueError(f"beta must be in [0, 1], got {beta}")
        total = self.tree.total
        probabilities = self.tree.get(indices) / total
        smallest = self.tree.min / total
        return (probabilities / smallest) ** (-beta)  # == (N P)^-b / (N P_min)^-b

    def sample(self, batch_size: int, beta: float = 0.4) -> ReplayBatch:
        """Stratified proportional draw: one value uniformly in each of `batch_size` slices."""
        self._check_can_sample(batch_size)
        segment = self.tree.total / batch_size
        values = (np.arange(batch_size) + self.rng.random(batch_size)) * segment
        indices = np.minimum(self.tree.find(values), self.size - 1)
        weights = self.importance_weights(indices, beta).astype(np.float32)
        return self._gather(indices, weights)

    def update_priorities(self, indices: np.ndarray, td_errors: np.ndarray) -> None:
        """Priority of replayed transitions becomes (|TD error| + epsilon)^alpha."""
        raw = np.abs(np.asarray(td_errors, dtype=np.float64)) + self.priority_epsilon
        self.max_priority = max(self.max_priority, float(raw.max()))
        self.tree.update(indices, raw**self.alpha)

    def state_dict(self) -> dict:
        state = super().state_dict()
        state["tree"] = self.tree.state_dict()
        state["max_priority"] = self.max_priority
        state["alpha"] = self.alpha
        return state

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        if state["alpha"] != self.alpha:
            raise ValueError(f"replay state has alpha {state['alpha']}, expected {self.alpha}")
        self.tree.load_state_dict(state["tree"])
        self.max_priority = float(state["max_priority"])


def make_replay_buffer(
    capacity: int,
    obs_dim: int,
    rng: np.random.Generator,
    prioritized: bool,
    alpha: float,
    priority_epsilon: float,
) -> ReplayBuffer:
    """The buffer a `ReplayConfig` asks for."""
    if prioritized:
        return PrioritizedReplayBuffer(capacity, obs_dim, rng, alpha, priority_epsilon)
    return ReplayBuffer(capacity, obs_dim, rng)
