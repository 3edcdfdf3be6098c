"""Settings of a DQN training run, validated before anything starts.

Why pydantic with `extra="forbid"`: a typo in a hyper-parameter file (`learning_rte`) must stop the
run naming the field, not silently train with the default and give plausible but wrong curves.
The defaults follow the issue (Adam lr 1e-3, gamma 0.99, PER alpha 0.6 with beta annealed to 1,
gradient-norm clipping) and otherwise common DQN practice for small control tasks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bridge.yaml_unique import load_unique_yaml
from control.dra.errors import DraError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NetworkConfig(_Strict):
    """The Q-network: an MLP from the flattened observation to one Q-value per action."""

    hidden_sizes: tuple[int, ...] = Field((64, 64), description="units of each hidden layer")
    activation: Literal["relu", "tanh"] = "relu"

    @model_validator(mode="after")
    def _positive_layers(self) -> NetworkConfig:
        if any(size < 1 for size in self.hidden_sizes):
            raise ValueError(f"hidden_sizes must be positive, got {list(self.hidden_sizes)}")
        return self


class ReplayConfig(_Strict):
    """Experience replay; prioritized (Schaul et al. 2015, proportional variant) by default."""

    capacity: int = Field(100_000, ge=1, description="transitions kept (oldest overwritten)")
    batch_size: int = Field(64, ge=1)
    prioritized: bool = True
    alpha: float = Field(0.6, ge=0.0, le=1.0, description="priority exponent; 0 = uniform")
    beta_start: float = Field(0.4, gt=0.0, le=1.0, description="importance-sampling exponent")
    beta_end: float = Field(1.0, gt=0.0, le=1.0)
    beta_anneal_steps: int | None = Field(
        None, ge=1, description="env steps to anneal beta; default: the whole run"
    )
    priority_epsilon: float = Field(1e-6, gt=0.0, description="added to |TD| so none is zero")

    @model_validator(mode="after")
    def _beta_rises(self) -> ReplayConfig:
        if self.beta_end < self.beta_start:
            raise ValueError("beta_end must be >= beta_start (beta is annealed towards 1)")
        return self


class ExplorationConfig(_Strict):
    """Epsilon-greedy exploration, annealed linearly over environment steps."""

    epsilon_start: float = Field(1.0, ge=0.0, le=1.0)
    epsilon_end: float = Field(0.05, ge=0.0, le=1.0)
    decay_steps: int | None = Field(
        None, ge=1, description="env steps from start to end value; default: half the run"
    )

    @model_validator(mode="after")
    def _epsilon_falls(self) -> ExplorationConfig:
        if self.epsilon_end > self.epsilon_start:
            raise ValueError("epsilon_end must be <= epsilon_start")
        return self


class DqnConfig(_Strict):
    """Hyper-parameters of the agent and its update schedule (all counts are env steps)."""

    network: NetworkConfig = NetworkConfig()
    replay: ReplayConfig = ReplayConfig()
    exploration: ExplorationConfig = ExplorationConfig()
    learning_rate: float = Field(1e-3, gt=0.0, allow_inf_nan=False)
    gamma: float = Field(0.99, ge=0.0, lt=1.0, description="discount factor")
    double_dqn: bool = Field(True, description="online net picks, target net values (van Hasselt)")
    huber_delta: float = Field(1.0, gt=0.0)
    max_grad_norm: float = Field(10.0, gt=0.0, description="clip gradients to this L2 norm")
    learning_starts: int = Field(1_000, ge=0, description="env steps before the first update")
    train_freq: int = Field(1, ge=1, description="env steps between update rounds")
    gradient_steps: int = Field(1, ge=1, description="gradient steps per update round")
    target_update_interval: int = Field(1_000, ge=1, description="env steps between target syncs")
    tau: float = Field(1.0, gt=0.0, le=1.0, description="1 = hard copy, < 1 = Polyak averaging")


class TrainerConfig(_Strict):
    """How a run is driven: seeding, parallel environments, logging and checkpoints."""

    seed: int = Field(0, ge=0)
    num_envs: int = Field(1, ge=1, description="sub-environments stepped together")
    vectorization: Literal["auto", "sync", "async"] = Field(
        "auto",
        description="async = one process per sub-environment (needed for ns-3 envs: one "
        "Simulator per process); auto = async for scenario envs when num_envs > 1, else sync",
    )
    async_start_method: Literal["fork", "spawn", "forkserver"] | None = None
    checkpoint_every: int = Field(50, ge=1, description="episodes between checkpoints")
    keep_checkpoints: int = Field(3, ge=1, description="periodic checkpoints kept on disk")
    tensorboard: bool = Field(True, description="also log to TensorBoard when it is installed")
    progress: bool = True
    torch_threads: int = Field(1, ge=1, description="see control.dra.trainer for why 1")
    eval_every: int | None = Field(
        None, ge=1, description="episodes between held-out evaluations (curve.csv); None = off"
    )
    eval_episodes: int = Field(5, ge=2, description="held-out episodes per evaluation")


class TrainingConfig(_Strict):
    """Everything `train` needs besides the environment: agent and run settings."""

    dqn: DqnConfig = DqnConfig()
    trainer: TrainerConfig = TrainerConfig()

    def result_defining(self) -> dict:
        """The settings a resumed run must share with the original to give the same results.

        Logging, progress, checkpoint spacing and how sub-environments are hosted do not change
        a single number, so a resume may change them.
        """
        return {
            "dqn": self.dqn.model_dump(mode="json"),
            "seed": self.trainer.seed,
            "num_envs": self.trainer.num_envs,
            "eval_every": self.trainer.eval_every,
            "eval_episodes": self.trainer.eval_episodes,
        }

    def with_run_length(self, total_env_steps: int) -> TrainingConfig:
        """Schedules left unset scaled to the run (why: a quick start of a few thousand steps
        with a 10k-step epsilon decay would never stop exploring): epsilon decays over the first
        half of the run, PER's beta anneals to its end over the whole run. Values already set
        are kept; the resolved ones are what the run directory's config records."""
        half = max(1, total_env_steps // 2)
        exploration = self.dqn.exploration
        replay = self.dqn.replay
        if exploration.decay_steps is None:
            exploration = exploration.model_copy(update={"decay_steps": half})
        if replay.beta_anneal_steps is None:
            replay = replay.model_copy(update={"beta_anneal_steps": max(1, total_env_steps)})
        dqn = self.dqn.model_copy(update={"exploration": exploration, "replay": replay})
        return self.model_copy(update={"dqn": dqn})

    def with_schedules_of(self, recorded: TrainingConfig) -> TrainingConfig:
        """Unset schedules taken from a run's recorded (resolved) config, so a resumed run -
        even one extended to more episodes - keeps the schedules it started with."""
        exploration = self.dqn.exploration
        replay = self.dqn.replay
        if exploration.decay_steps is None:
            exploration = exploration.model_copy(
                update={"decay_steps": recorded.dqn.exploration.decay_steps}
            )
        if replay.beta_anneal_steps is None:
            replay = replay.model_copy(
                update={"beta_anneal_steps": recorded.dqn.replay.beta_anneal_steps}
            )
        dqn = self.dqn.model_copy(update={"exploration": exploration, "replay": replay})
        return self.model_copy(update={"dqn": dqn})


def load_training_config(path: str | Path) -> TrainingConfig:
    """Read a YAML file of `TrainingConfig` fields; errors name the file and the field."""
    path = Path(path)
    try:
        data = load_unique_yaml(path.read_text())
    except FileNotFoundError:
        raise DraError(f"{path}: no such config file") from None
    except yaml.YAMLError as exc:
        raise DraError(f"{path}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise DraError(f"{path}: a training config is a YAML mapping of fields")
    return parse_training_config(data, source=str(path))


def parse_training_config(data: dict, source: str = "training config") -> TrainingConfig:
    """Validate a dict; the first bad field is named in a one-line `DraError`."""
    try:
        return TrainingConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "config"
        more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise DraError(f"{source}: {where}: {first.get('msg', 'invalid')}{more}") from None
