"""Policies the evaluator runs: the trained DQN, random, and the QKD env's static/greedy baselines.

A policy is told when an episode starts (`reset(env, seed)`, so it may read the env's description
or seed its own generator) and then picks an action per step from the observation and the step's
`info` dict (`act(obs, info)`). The evaluator never reaches into a policy beyond that.

Static and greedy baselines depend on what each discrete action of the QKD env means (which
intensity on which link, which protocol, which relay path), which only the env knows. They are
therefore computed by the env through the interface below and these classes only ask for them:

    env.unwrapped.baseline_action(kind: str, obs: np.ndarray, info: dict) -> int

    kind == "static":  the action that keeps the scenario's fixed operating point: every link at
                       its fixed (configured, else qchannel-optimal for its nominal loss) signal
                       intensity, BB84 (decoy) on every link, and each demand on its shortest path.
    kind == "greedy":  per step, every link at the intensity qchannel says is optimal for that
                       link's *current* loss, and each demand on the candidate path with most key
                       in its buffers (naturally the path's smallest buffer, since relaying uses
                       key on every hop).

The returned value must be a valid element of `env.action_space`. An env without that method gets
a `BaselineUnavailableError` naming the env, never a silently substituted policy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import gymnasium as gym
import numpy as np

from control.dra.errors import BaselineUnavailableError, CheckpointError, DraError

POLICY_NAMES = ("baseline", "static", "greedy", "random", "abft", "oracle", "dqn", "sb3")
BASELINE_KINDS = ("static", "greedy", "oracle", "abft")
# env settings (bridge.env.QkdNetworkEnv keyword arguments) each agent is evaluated under; an
# agent not listed runs in the scenario as written with the agent routing ("agent").
#   baseline  no ABFT at all (every report trusted), static allocation: the paper's baseline
#   abft      the ABFT control plane routes over what it trusts (`qkdnet run --control abft`)
#   dqn, sb3  the combined system: the learned agent on top of the ABFT decision
ENV_SETTINGS: dict[str, dict[str, str]] = {
    "baseline": {"control_mode": "baseline"},
    "abft": {"routing": "abft"},
    "dqn": {"routing": "abft+agent"},
    "sb3": {"routing": "abft+agent"},
}
# the env-side allocation each no-learning agent asks the env for (see module doc)
_ENV_KIND = {
    "baseline": "static",
    "abft": "abft",
    "static": "static",
    "greedy": "greedy",
    "oracle": "oracle",
}


class Policy(Protocol):
    """What the evaluator runs."""

    name: str

    def reset(self, env: gym.Env, seed: int) -> None:
        """Called after each `env.reset(seed=seed)`, before the episode's first `act`."""

    def act(self, obs: Any, info: dict[str, Any]) -> Any:
        """The action for this step."""


@runtime_checkable
class BaselineActionProvider(Protocol):
    """Implemented by the QKD env (see module doc)."""

    def baseline_action(self, kind: str, obs: np.ndarray, info: dict[str, Any]) -> int: ...


class RandomPolicy:
    """Uniformly random actions from the env's action space, seeded per episode."""

    name = "random"

    def __init__(self) -> None:
        self._space: gym.Space | None = None

    def reset(self, env: gym.Env, seed: int) -> None:
        self._space = env.action_space
        self._space.seed(seed)

    def act(self, obs: Any, info: dict[str, Any]) -> Any:
        if self._space is None:
            raise RuntimeError("RandomPolicy.act called before reset")
        return self._space.sample()


class EnvBaselinePolicy:
    """The env's own `static`, `greedy` or `oracle` allocation (see module doc for the contract);
    `name` labels it (`baseline` is the static allocation in the env without ABFT)."""

    def __init__(self, kind: str, name: str | None = None) -> None:
        if kind not in BASELINE_KINDS:
            raise DraError(f"unknown baseline {kind!r}; choose one of {', '.join(BASELINE_KINDS)}")
        self.kind = kind
        self.name = name or kind
        self._provider: BaselineActionProvider | None = None

    def reset(self, env: gym.Env, seed: int) -> None:
        provider = env.unwrapped
        if not isinstance(provider, BaselineActionProvider):
            raise BaselineUnavailableError(
                f"the {self.name} baseline needs env.unwrapped.baseline_action(kind, obs, info), "
                f"which {type(provider).__name__} does not provide"
            )
        self._provider = provider

    def act(self, obs: Any, info: dict[str, Any]) -> int:
        if self._provider is None:
            raise RuntimeError(f"{self.name} baseline act called before reset")
        return self._provider.baseline_action(self.kind, obs, info)


class Sb3Policy:
    """Deterministic actions of a saved Stable-Baselines3 model (DQN by default), so returns of
    SB3's agent are compared with ours on the same env and seeds."""

    name = "sb3"

    def __init__(self, model) -> None:
        self.model = model

    @classmethod
    def load(cls, path: str | Path, algorithm: str = "DQN") -> Sb3Policy:
        try:
            import stable_baselines3
        except ImportError:
            raise DraError(
                "--agent sb3 needs stable-baselines3: pip install 'qkdnet[sb3]'"
            ) from None
        algo = getattr(stable_baselines3, algorithm, None)
        if algo is None:
            raise DraError(f"stable-baselines3 has no algorithm {algorithm!r}")
        path = Path(path)
        if not path.is_file():
            raise DraError(f"SB3 model not found: {path}")
        return cls(algo.load(str(path), device="cpu"))

    def reset(self, env: gym.Env, seed: int) -> None:
        if env.observation_space.shape != self.model.observation_space.shape or (
            env.action_space != self.model.action_space
        ):
            raise CheckpointError(
                f"the SB3 model was trained for {self.model.observation_space} / "
                f"{self.model.action_space}, this env has {env.observation_space} / "
                f"{env.action_space}"
            )

    def act(self, obs: Any, info: dict[str, Any]) -> int:
        action, _ = self.model.predict(obs, deterministic=True)
        return int(action)


class DqnPolicy:
    """Greedy (or epsilon-greedy) actions of a trained Q-network."""

    name = "dqn"

    def __init__(self, network, layout, epsilon: float = 0.0) -> None:
        import torch

        self._torch = torch
        self.network = network.eval()
        self.layout = layout
        self.epsilon = epsilon
        self._rng = np.random.default_rng(0)

    @classmethod
    def from_checkpoint(cls, path: str | Path, epsilon: float = 0.0) -> DqnPolicy:
        """Load the online network of a checkpoint file, or of the latest one in a run directory."""
        from control.dra import checkpoint as ckpt
        from control.dra.config import TrainingConfig
        from control.dra.network import QNetwork
        from control.dra.spaces import SpaceLayout
        from control.dra.trainer import CHECKPOINT_DIR

        path = Path(path)
        if path.is_dir():
            found = ckpt.latest_checkpoint(path / CHECKPOINT_DIR) or ckpt.latest_checkpoint(path)
            if found is None:
                raise CheckpointError(f"{path}: no checkpoint in this run directory")
            path = found
        state = ckpt.load_checkpoint(path)
        layout = SpaceLayout(**state["layout"])
        config = TrainingConfig.model_validate(state["config"])
        network = QNetwork(layout.obs_dim, layout.n_actions, config.dqn.network)
        network.load_state_dict(state["agent"]["online"])
        return cls(network, layout, epsilon)

    def reset(self, env: gym.Env, seed: int) -> None:
        from control.dra.spaces import layout_of

        if layout_of(env.observation_space, env.action_space) != self.layout:
            raise CheckpointError(
                f"the checkpoint's network was trained for {self.layout}, "
                f"this env has {layout_of(env.observation_space, env.action_space)}"
            )
        self._rng = np.random.default_rng(seed)

    def act(self, obs: Any, info: dict[str, Any]) -> int:
        if self.epsilon > 0.0 and self._rng.random() < self.epsilon:
            return int(self.layout.to_env_action(self._rng.integers(self.layout.n_actions)))
        with self._torch.no_grad():
            q = self.network(self._torch.from_numpy(self.layout.flatten(obs, batched=False)))
        return int(self.layout.to_env_action(int(q.argmax(dim=1)[0])))


def make_policy(name: str, checkpoint: str | Path | None = None) -> Policy:
    """A policy by CLI name: `dqn` (needs `checkpoint`), `sb3` (`checkpoint` = a saved SB3 model
    .zip), `random`, or one of the env's allocations (baseline/static/greedy/abft/oracle)."""
    if name == "dqn":
        if checkpoint is None:
            raise DraError("--agent dqn needs --checkpoint (a checkpoint file or run directory)")
        return DqnPolicy.from_checkpoint(checkpoint)
    if name == "sb3":
        if checkpoint is None:
            raise DraError("--agent sb3 needs --sb3-model (a saved Stable-Baselines3 .zip)")
        return Sb3Policy.load(checkpoint)
    if checkpoint is not None:
        raise DraError(f"--checkpoint only applies to --agent dqn, not {name}")
    if name == "random":
        return RandomPolicy()
    if name in _ENV_KIND:
        return EnvBaselinePolicy(_ENV_KIND[name], name)
    raise DraError(f"unknown agent {name!r}; choose one of {', '.join(POLICY_NAMES)}")
