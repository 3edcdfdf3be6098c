"""Training loop: runs DQN on a (vector) env, logs each episode, checkpoints, resumes exactly.

Episodes are run in *rounds*: a round resets every sub-environment with its own episode seed
(`seeding.episode_seed(run seed, episode index)`) and steps them together until each has finished
one episode; a sub-environment that finishes early keeps being stepped (NEXT_STEP autoreset) but
its transitions are discarded until the round ends. With one environment a round is an episode.
Why rounds: an episode is then a function of its seed and the actions alone, so a checkpoint needs
no simulator state — at a round boundary nothing of the env must be saved, and in the middle of a
round (Ctrl-C) the round's recorded actions are replayed on resume to rebuild the env's state, and
the reproduced observation is checked against the saved one. A run's episode count is therefore a
multiple of `num_envs` (rounded up). Episodes of equal length (the QKD env's) waste no steps; for
variable-length episodes the idle sub-environments cost env steps, not learning.

A checkpoint holds the networks, optimiser, replay buffer (with its sum-tree), all generator states
(agent, replay, and process-wide torch / numpy / Python), the counters, and the open round; the
per-episode CSV is cut back to the checkpoint on resume. Resuming therefore reproduces an
uninterrupted run bit for bit (tests/dra/test_resume.py).

Why `torch.set_num_threads(1)` while training (configurable): the networks are a few thousand
parameters and batches are tens of rows, so intra-op threads cost more in synchronisation than they
gain, and on a shared machine with few cores extra threads compete with the env (and the other
processes); one thread also fixes the reduction order of every CPU kernel, so results do not change
with the number of threads the host happens to offer.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from tqdm import tqdm

from control.dra import checkpoint as ckpt
from control.dra import seeding
from control.dra.agent import DqnAgent
from control.dra.config import TrainingConfig
from control.dra.episode_log import EpisodeCsv, TensorBoardLog
from control.dra.errors import CheckpointError, RunDirectoryError
from control.dra.held_out import CURVE_NAME, CurveCsv, held_out_seeds, run_held_out
from control.dra.interrupts import StopRequest, sigint_requests_stop
from control.dra.replay import ReplayBuffer, make_replay_buffer
from control.dra.schedules import LinearSchedule
from control.dra.spaces import SpaceLayout, layout_of
from control.dra.threads import torch_threads
from control.dra.vector import EnvFactory, make_vector_env

CSV_NAME = "episodes.csv"
CHECKPOINT_DIR = "checkpoints"
TENSORBOARD_DIR = "tensorboard"
CONFIG_NAME = "config.yaml"


@dataclass
class Counters:
    """Run-wide counters; all part of a checkpoint."""

    episodes_done: int = 0
    env_steps: int = 0
    grad_steps: int = 0
    steps_since_train: int = 0
    next_target_sync: int = 0


@dataclass
class Round:
    """The episodes in progress, one per sub-environment (see module doc)."""

    base_episode: int
    seeds: list[int]
    obs: np.ndarray  # current flattened observations, (num_envs, obs_dim) float32
    global_rng_at_start: dict[str, Any]
    actions: list[np.ndarray] = field(default_factory=list)
    active: np.ndarray = None  # type: ignore[assignment]
    returns: np.ndarray = None  # type: ignore[assignment]
    lengths: np.ndarray = None  # type: ignore[assignment]
    loss_sum: np.ndarray = None  # type: ignore[assignment]
    q_sum: np.ndarray = None  # type: ignore[assignment]
    loss_count: np.ndarray = None  # type: ignore[assignment]
    end_env_steps: np.ndarray = None  # type: ignore[assignment]
    end_grad_steps: np.ndarray = None  # type: ignore[assignment]
    end_epsilon: np.ndarray = None  # type: ignore[assignment]
    end_beta: np.ndarray = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        n = len(self.seeds)
        defaults = {
            "active": np.ones(n, dtype=bool),
            "returns": np.zeros(n),
            "lengths": np.zeros(n, dtype=np.int64),
            "loss_sum": np.zeros(n),
            "q_sum": np.zeros(n),
            "loss_count": np.zeros(n, dtype=np.int64),
            "end_env_steps": np.zeros(n, dtype=np.int64),
            "end_grad_steps": np.zeros(n, dtype=np.int64),
            "end_epsilon": np.zeros(n),
            "end_beta": np.zeros(n),
        }
        for name, value in defaults.items():
            if getattr(self, name) is None:
                setattr(self, name, value)

    def rows(self) -> list[dict[str, Any]]:
        """CSV rows of the round's episodes, in episode order."""
        rows = []
        for i, seed in enumerate(self.seeds):
            count = int(self.loss_count[i])
            rows.append(
                {
                    "episode": self.base_episode + i,
                    "seed": seed,
                    "return": float(self.returns[i]),
                    "length": int(self.lengths[i]),
                    "env_steps": int(self.end_env_steps[i]),
                    "grad_steps": int(self.end_grad_steps[i]),
                    "epsilon": float(self.end_epsilon[i]),
                    "beta": float(self.end_beta[i]),
                    "loss_mean": float(self.loss_sum[i] / count) if count else float("nan"),
                    "q_mean": float(self.q_sum[i] / count) if count else float("nan"),
                }
            )
        return rows

    def state_dict(self) -> dict[str, Any]:
        state = asdict(self)
        empty = np.zeros((0, len(self.seeds)), dtype=np.int64)
        state["actions"] = np.stack(self.actions) if self.actions else empty
        return state

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> Round:
        state = dict(state)
        actions = state.pop("actions")
        return cls(**state, actions=[row.astype(np.int64) for row in actions])


@dataclass(frozen=True)
class TrainResult:
    """Where a `train` call stopped and what it left on disk."""

    episodes_done: int
    env_steps: int
    grad_steps: int
    interrupted: bool
    checkpoint: Path
    csv_path: Path


class Trainer:
    """Trains a `DqnAgent` on environments from `env_factory`, writing into `out_dir`.

    `env_factory(seed)` must return a Gymnasium env with a `Box` observation and a `Discrete`
    action space, and `env.reset(seed=s)` must make the following episode a function of `s` and
    the actions taken (the standard Gymnasium seeding contract); that is what exact resume needs.
    """

    def __init__(self, env_factory: EnvFactory, config: TrainingConfig, out_dir: Path) -> None:
        self.env_factory = env_factory
        self.config = config
        self.out_dir = Path(out_dir)
        self.csv_path = self.out_dir / CSV_NAME
        self.checkpoint_dir = self.out_dir / CHECKPOINT_DIR
        self.stop = StopRequest()  # replaced by the SIGINT-aware one while running

    def _resolve_schedules(self, vec, episodes: int, resume: bool) -> None:
        """Fix epsilon's and beta's schedules: unset ones scale with the run's length (see
        `TrainingConfig.with_run_length`), or, resuming, come from the run's recorded config."""
        recorded = self.out_dir / CONFIG_NAME
        if resume and recorded.is_file():
            saved = TrainingConfig.model_validate(yaml.safe_load(recorded.read_text()))
            self.config = self.config.with_schedules_of(saved)
        exploration, replay = self.config.dqn.exploration, self.config.dqn.replay
        if exploration.decay_steps is None or replay.beta_anneal_steps is None:
            self.config = self.config.with_run_length(episodes * _episode_length(vec))
        config = self.config
        replay = config.dqn.replay
        self.epsilon = LinearSchedule(
            config.dqn.exploration.epsilon_start,
            config.dqn.exploration.epsilon_end,
            config.dqn.exploration.decay_steps,
        )
        self.beta = LinearSchedule(replay.beta_start, replay.beta_end, replay.beta_anneal_steps)

    # ---- public -------------------------------------------------------------------------------

    def run(
        self, episodes: int, resume: bool = False, max_env_steps: int | None = None
    ) -> TrainResult:
        """Train until `episodes` episodes (rounded up to a multiple of num_envs) are done.

        With `max_env_steps`, stop earlier: after the first round that brings the run's env-step
        count to at least that many (a budget in steps rather than episodes, e.g. benchmarks).

        With `resume`, continue from the latest checkpoint in `out_dir` (a fresh start if there is
        none). Without it, `out_dir` must not already hold a run. Ctrl-C saves a checkpoint of the
        current state and returns with `interrupted=True`.
        """
        if episodes < 1:
            raise ValueError(f"episodes must be >= 1, got {episodes}")
        trainer_cfg = self.config.trainer
        latest = ckpt.latest_checkpoint(self.checkpoint_dir)
        if not resume and (latest is not None or self.csv_path.exists()):
            raise RunDirectoryError(
                f"{self.out_dir} already holds a training run; resume it or use another directory"
            )
        with torch_threads(trainer_cfg.torch_threads):
            vec = make_vector_env(
                self.env_factory,
                trainer_cfg.seed,
                trainer_cfg.num_envs,
                trainer_cfg.vectorization,
                trainer_cfg.async_start_method,
            )
            try:
                self.layout = layout_of(vec.single_observation_space, vec.single_action_space)
                self._resolve_schedules(vec, episodes, resume)
                self._build_learner()
                state = self._load(latest) if resume and latest is not None else None
                if state is None:
                    self._write_config()
                return self._train(vec, episodes, state, max_env_steps)
            finally:
                vec.close()

    # ---- setup --------------------------------------------------------------------------------

    def _build_learner(self) -> None:
        cfg = self.config.dqn
        seed = self.config.trainer.seed
        self.agent = DqnAgent(
            self.layout.obs_dim,
            self.layout.n_actions,
            cfg,
            seeding.seed_sequence(seed, seeding.AGENT),
        )
        self.buffer: ReplayBuffer = make_replay_buffer(
            cfg.replay.capacity,
            self.layout.obs_dim,
            np.random.Generator(np.random.PCG64(seeding.seed_sequence(seed, seeding.REPLAY))),
            cfg.replay.prioritized,
            cfg.replay.alpha,
            cfg.replay.priority_epsilon,
        )
        self.counters = Counters(next_target_sync=cfg.target_update_interval)

    def _write_config(self) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        record = self.config.model_dump(mode="json")
        (self.out_dir / CONFIG_NAME).write_text(yaml.safe_dump(record, sort_keys=False))

    # ---- the loop -----------------------------------------------------------------------------

    def _train(
        self, vec, episodes: int, state: dict | None, max_env_steps: int | None
    ) -> TrainResult:
        cfg = self.config.trainer
        round_: Round | None = None
        if state is not None:
            round_ = Round.from_state_dict(state["round"]) if state["round"] else None
            if round_ is not None:
                self._replay_round(vec, round_)
            seeding.restore_global_rng(state["global_rng"])
        self.out_dir.mkdir(parents=True, exist_ok=True)
        csv_log = EpisodeCsv(self.csv_path, keep_rows=self.counters.episodes_done)
        curve = (
            CurveCsv(self.out_dir / CURVE_NAME, self.counters.episodes_done)
            if cfg.eval_every is not None
            else None
        )
        board = TensorBoardLog(
            self.out_dir / TENSORBOARD_DIR, self.counters.episodes_done, cfg.tensorboard
        )
        target = -(-episodes // cfg.num_envs) * cfg.num_envs
        last_saved_steps = self.counters.env_steps if state is not None else -1
        saved: Path | None = ckpt.latest_checkpoint(self.checkpoint_dir) if state else None
        bar = tqdm(
            total=target,
            initial=min(self.counters.episodes_done, target),
            unit="ep",
            desc="training",
            disable=not cfg.progress,
            dynamic_ncols=True,
        )
        try:
            with sigint_requests_stop() as stop:
                self.stop = stop
                while True:
                    if round_ is None:
                        if self._finished(target, max_env_steps) or stop.requested:
                            break
                        round_ = self._start_round(vec)
                    self._step(vec, round_)
                    if not round_.active.any():
                        rows = round_.rows()
                        csv_log.write(rows)
                        board.write(rows)
                        self.counters.episodes_done += cfg.num_envs
                        bar.update(cfg.num_envs)
                        bar.set_postfix(
                            ret=f"{np.mean([r['return'] for r in rows]):.3g}",
                            eps=f"{rows[-1]['epsilon']:.3f}",
                        )
                        round_ = None
                        done, every = self.counters.episodes_done, cfg.checkpoint_every
                        if curve is not None and _crossed(done, cfg.num_envs, cfg.eval_every):
                            self._evaluate_held_out(vec, curve, bar)
                        if done // every != (done - cfg.num_envs) // every:
                            saved = self._save(None)
                            last_saved_steps = self.counters.env_steps
                    if stop.requested:
                        break
            interrupted = round_ is not None or not self._finished(target, max_env_steps)
            if self.counters.env_steps != last_saved_steps or saved is None:
                saved = self._save(round_)
        finally:
            bar.close()
            csv_log.close()
            board.close()
        if interrupted:
            print(
                f"interrupted: checkpoint saved to {saved}; continue with resume",
                file=sys.stderr,
            )
        return TrainResult(
            episodes_done=self.counters.episodes_done,
            env_steps=self.counters.env_steps,
            grad_steps=self.counters.grad_steps,
            interrupted=interrupted,
            checkpoint=saved,
            csv_path=self.csv_path,
        )

    def _evaluate_held_out(self, vec, curve: CurveCsv, bar) -> None:
        """One point of the held-out learning curve (see control.dra.held_out)."""
        cfg = self.config.trainer
        seeds = held_out_seeds(cfg.seed, cfg.eval_episodes)
        returns = run_held_out(vec, self.agent, self.layout, seeds)
        row = curve.write(self.counters.episodes_done, self.counters.env_steps, returns)
        bar.write(
            f"held-out after {row['episode']} episodes: return "
            f"{float(row['return_mean']):.4g} [{float(row['ci_low']):.4g}, "
            f"{float(row['ci_high']):.4g}] over {len(seeds)} episodes"
        )

    def _finished(self, target_episodes: int, max_env_steps: int | None) -> bool:
        if self.counters.episodes_done >= target_episodes:
            return True
        return max_env_steps is not None and self.counters.env_steps >= max_env_steps

    def _start_round(self, vec) -> Round:
        base = self.counters.episodes_done
        seeds = [
            seeding.episode_seed(self.config.trainer.seed, base + i)
            for i in range(self.config.trainer.num_envs)
        ]
        global_rng = seeding.capture_global_rng()
        obs, _ = vec.reset(seed=seeds)
        return Round(base, seeds, self.layout.flatten(obs, batched=True), global_rng)

    def _step(self, vec, round_: Round) -> None:
        epsilon = self.epsilon(self.counters.env_steps)
        actions = self.agent.act(round_.obs, epsilon)
        next_obs, rewards, terminated, truncated, _ = vec.step(self.layout.to_env_action(actions))
        round_.actions.append(actions)
        next_flat = self.layout.flatten(next_obs, batched=True)
        live = np.flatnonzero(round_.active)
        self.buffer.add(
            round_.obs[live], actions[live], rewards[live], next_flat[live], terminated[live]
        )
        round_.returns[live] += rewards[live]
        round_.lengths[live] += 1
        self.counters.env_steps += live.size
        self._learn(round_, live)
        ended = live[(terminated[live] | truncated[live])]
        if ended.size:
            round_.active[ended] = False
            round_.end_env_steps[ended] = self.counters.env_steps
            round_.end_grad_steps[ended] = self.counters.grad_steps
            round_.end_epsilon[ended] = epsilon
            round_.end_beta[ended] = self.beta(self.counters.env_steps)
        round_.obs = next_flat

    def _learn(self, round_: Round, live: np.ndarray) -> None:
        """Gradient steps due after `live.size` new env steps, then any due target sync."""
        cfg = self.config.dqn
        counters = self.counters
        counters.steps_since_train += live.size
        update_rounds = counters.steps_since_train // cfg.train_freq
        counters.steps_since_train -= update_rounds * cfg.train_freq
        ready = (
            counters.env_steps >= cfg.learning_starts and len(self.buffer) >= cfg.replay.batch_size
        )
        updates = update_rounds * cfg.gradient_steps if ready else 0
        if updates:
            beta = self.beta(counters.env_steps)
            loss_sum = q_sum = 0.0
            for _ in range(updates):
                batch = self.buffer.sample(cfg.replay.batch_size, beta)
                stats = self.agent.learn(batch)
                self.buffer.update_priorities(batch.indices, stats.td_errors)
                loss_sum += stats.loss
                q_sum += stats.q_mean
            counters.grad_steps += updates
            round_.loss_sum[live] += loss_sum
            round_.q_sum[live] += q_sum
            round_.loss_count[live] += updates
        while counters.env_steps >= counters.next_target_sync:
            self.agent.sync_target()
            counters.next_target_sync += cfg.target_update_interval

    def _replay_round(self, vec, round_: Round) -> None:
        """Rebuild the envs' state mid-round from the round's seeds and recorded actions."""
        seeding.restore_global_rng(round_.global_rng_at_start)
        obs, _ = vec.reset(seed=round_.seeds)
        for actions in round_.actions:
            obs, *_ = vec.step(self.layout.to_env_action(actions))
        if not np.array_equal(self.layout.flatten(obs, batched=True), round_.obs):
            raise CheckpointError(
                "replaying the interrupted episode did not reproduce the saved observation: the "
                "environment is not deterministic given reset(seed) and the actions, so this "
                "checkpoint cannot be resumed exactly (resume from an earlier, between-episode one)"
            )

    # ---- checkpoints --------------------------------------------------------------------------

    def _save(self, round_: Round | None) -> Path:
        counters = self.counters
        payload = {
            "config": self.config.model_dump(mode="json"),
            "result_defining": self.config.result_defining(),
            "layout": asdict(self.layout),
            "counters": asdict(counters),
            "agent": self.agent.state_dict(),
            "replay": self.buffer.state_dict(),
            "global_rng": seeding.capture_global_rng(),
            "round": round_.state_dict() if round_ is not None else None,
        }
        name = ckpt.checkpoint_name(counters.episodes_done, counters.env_steps)
        path = ckpt.save_checkpoint(self.checkpoint_dir / name, payload)
        ckpt.prune_checkpoints(self.checkpoint_dir, self.config.trainer.keep_checkpoints)
        return path

    def _load(self, path: Path) -> dict:
        state = ckpt.load_checkpoint(path)
        saved = state["result_defining"]
        current = self.config.result_defining()
        if saved != current:
            differing = sorted(_differing_keys(saved, current))
            raise CheckpointError(
                f"{path}: was written with different settings ({', '.join(differing)}); "
                "a resumed run must use the same ones to continue the same run"
            )
        if SpaceLayout(**state["layout"]) != self.layout:
            raise CheckpointError(
                f"{path}: was written for spaces {state['layout']}, "
                f"the env has {asdict(self.layout)}"
            )
        self.agent.load_state_dict(state["agent"])
        self.buffer.load_state_dict(state["replay"])
        self.counters = Counters(**state["counters"])
        return state


def _crossed(done: int, step: int, every: int) -> bool:
    """True when the episode count went past a multiple of `every` in the last `step`."""
    return done // every != (done - step) // every


def _episode_length(vec) -> int:
    """Steps per episode of the vector env's envs: the QKD env's `max_steps`, else the
    Gymnasium spec's `max_episode_steps`; an env with neither needs explicit schedules."""
    # spec first: every env has it (None outside gym.make), while asking an async worker for an
    # attribute its env lacks breaks that worker
    for getter in (
        lambda: vec.get_attr("spec")[0].max_episode_steps,
        lambda: vec.get_attr("max_steps")[0],
    ):
        try:
            value = getter()
        except Exception:  # noqa: BLE001 - async workers re-raise whatever the env raised
            continue
        if isinstance(value, int) and value > 0:
            return value
    raise CheckpointError(
        "the env's episode length is unknown (no max_steps / max_episode_steps): set "
        "dqn.exploration.decay_steps and dqn.replay.beta_anneal_steps explicitly"
    )


def _differing_keys(a: Any, b: Any, prefix: str = "") -> Iterator[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            yield from _differing_keys(a.get(key), b.get(key), f"{prefix}{key}.")
    elif a != b:
        yield prefix.rstrip(".")


def train(
    env_factory: EnvFactory,
    config: TrainingConfig,
    out_dir: str | Path,
    episodes: int,
    resume: bool = False,
    max_env_steps: int | None = None,
) -> TrainResult:
    """Train a DQN agent for `episodes` episodes (see `Trainer.run`)."""
    trainer = Trainer(env_factory, config, Path(out_dir))
    return trainer.run(episodes, resume=resume, max_env_steps=max_env_steps)
