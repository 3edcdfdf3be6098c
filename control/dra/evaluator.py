"""Evaluation: run a policy for N seeded episodes, write every step to Parquet, summarise.

Columns of the Parquet file, one row per env step:
    episode, step, seed (the episode's reset seed), action, reward, terminated, truncated,
    then one float64 column per scalar entry of the step's `info` dict (bools as 0/1), fixed by the
    first step evaluated (an entry missing later is null; entries appearing later are ignored).
For the QKD env these info entries carry the metrics the CLI reports (key rate, QBER,
availability); for Gymnasium's own envs there may be none, and the summary covers return and
length only.

Why one Parquet row group per finished episode, written to `<out>.partial` and renamed at the end:
the file is valid after every episode (Ctrl-C closes it cleanly; the half-finished episode is
dropped), an interrupted evaluation resumes from its completed episodes, and a file at `out_path`
is always a finished evaluation. The summary is a mean over episodes with a Student-t 95% interval.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from numbers import Number
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from control.dra import seeding
from control.dra.errors import DraError, RunDirectoryError
from control.dra.interrupts import sigint_requests_stop
from control.dra.policies import Policy
from control.dra.stats import MetricSummary, summarise
from control.dra.threads import torch_threads
from control.dra.vector import EnvFactory

STEP_COLUMNS: dict[str, pa.DataType] = {
    "episode": pa.int64(),
    "step": pa.int64(),
    "seed": pa.int64(),
    "action": pa.int64(),
    "reward": pa.float64(),
    "terminated": pa.bool_(),
    "truncated": pa.bool_(),
}
_META_SEED = b"qkdnet.seed"
_META_POLICY = b"qkdnet.policy"
_META_INFO = b"qkdnet.info_columns"


@dataclass(frozen=True)
class EvaluationResult:
    """What `evaluate` wrote and its per-episode table and summaries."""

    out_path: Path
    episodes: int
    interrupted: bool
    per_episode: pd.DataFrame
    summaries: dict[str, MetricSummary]


def scalar_info(info: dict[str, Any]) -> dict[str, float]:
    """The entries of a step's info dict that are numeric scalars, as floats."""
    found = {}
    for key, value in info.items():
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value.item()
        if isinstance(value, complex | np.complexfloating):
            continue
        if isinstance(value, bool | np.bool_ | Number | np.number):
            found[str(key)] = float(value)
    return found


_EPISODE_COLUMNS = ("return", "length")


def _info_column(key: str) -> str:
    """Column of an info entry; prefixed only where it would clash with our own columns."""
    return f"info.{key}" if key in STEP_COLUMNS or key in _EPISODE_COLUMNS else key


class _EpisodeRows:
    """Collects one episode's step rows, then hands them to the writer as one table."""

    def __init__(self, info_keys: list[str]) -> None:
        self.info_keys = info_keys
        self.columns: dict[str, list] = {name: [] for name in STEP_COLUMNS}
        for key in info_keys:
            self.columns[_info_column(key)] = []

    def add(self, episode, step, seed, action, reward, terminated, truncated, info) -> None:
        values = scalar_info(info)
        row = (episode, step, seed, action, float(reward), bool(terminated), bool(truncated))
        for name, value in zip(STEP_COLUMNS, row, strict=True):
            self.columns[name].append(value)
        for key in self.info_keys:
            self.columns[_info_column(key)].append(values.get(key))

    def table(self, schema: pa.Schema) -> pa.Table:
        return pa.Table.from_pydict(self.columns, schema=schema)


def _schema(info_keys: list[str], seed: int, policy: str) -> pa.Schema:
    fields = [pa.field(name, kind) for name, kind in STEP_COLUMNS.items()]
    fields += [pa.field(_info_column(key), pa.float64()) for key in info_keys]
    metadata = {
        _META_SEED: str(seed).encode(),
        _META_POLICY: policy.encode(),
        _META_INFO: json.dumps(info_keys).encode(),
    }
    return pa.schema(fields, metadata=metadata)


def _as_action(action: Any) -> int:
    array = np.asarray(action)
    if array.ndim != 0 or not np.issubdtype(array.dtype, np.integer):
        raise DraError(f"evaluation records Discrete (integer) actions; got {action!r}")
    return int(array)


def per_episode_table(steps: pd.DataFrame) -> pd.DataFrame:
    """Return, length and the mean of every info metric, per episode."""
    grouped = steps.groupby("episode", sort=True)
    table = pd.DataFrame({"return": grouped["reward"].sum(), "length": grouped["step"].count()})
    for column in steps.columns:
        if column not in STEP_COLUMNS:
            table[column] = grouped[column].mean()
    return table


def summarise_episodes(per_episode: pd.DataFrame) -> dict[str, MetricSummary]:
    """Mean with 95% t-interval of each per-episode column."""
    return {name: summarise(name, per_episode[name].to_numpy()) for name in per_episode.columns}


class Evaluator:
    """Runs `policy` on one env from `env_factory` for seeded episodes (see module doc)."""

    def __init__(
        self,
        env_factory: EnvFactory,
        policy: Policy,
        out_path: str | Path,
        seed: int = 0,
        progress: bool = True,
    ) -> None:
        self.env_factory = env_factory
        self.policy = policy
        self.out_path = Path(out_path)
        self.partial_path = self.out_path.with_name(self.out_path.name + ".partial")
        self.seed = seed
        self.progress = progress

    def run(self, episodes: int, resume: bool = False) -> EvaluationResult:
        if episodes < 1:
            raise ValueError(f"episodes must be >= 1, got {episodes}")
        previous = self._previous(resume)
        done = 0 if previous is None else int(previous.column("episode").to_numpy().max()) + 1
        info_keys = None if previous is None else json.loads(previous.schema.metadata[_META_INFO])
        self.out_path.parent.mkdir(parents=True, exist_ok=True)
        writer: pq.ParquetWriter | None = None
        interrupted = False
        with torch_threads(1):
            env = self.env_factory(seeding.env_construction_seed(self.seed, 0))
            bar = tqdm(
                total=episodes,
                initial=min(done, episodes),
                unit="ep",
                desc=f"evaluating {self.policy.name}",
                disable=not self.progress,
            )
            try:
                if previous is not None:
                    writer = self._open(previous.schema)
                    writer.write_table(previous)
                with sigint_requests_stop() as stop:
                    for episode in range(done, episodes):
                        rows, info_keys = self._episode(env, episode, info_keys, stop)
                        if rows is None:
                            interrupted = True
                            break
                        if writer is None:
                            writer = self._open(_schema(info_keys, self.seed, self.policy.name))
                        writer.write_table(rows.table(writer.schema))
                        bar.update(1)
            finally:
                bar.close()
                env.close()
                if writer is not None:
                    writer.close()
        if not interrupted:
            os.replace(self.partial_path, self.out_path)
        written = self.partial_path if interrupted else self.out_path
        if interrupted:
            print(
                f"interrupted: completed episodes kept in {written}; continue with resume",
                file=sys.stderr,
            )
        steps = pq.read_table(written).to_pandas() if written.exists() else None
        per_episode = per_episode_table(steps) if steps is not None else pd.DataFrame()
        return EvaluationResult(
            out_path=written,
            episodes=len(per_episode),
            interrupted=interrupted,
            per_episode=per_episode,
            summaries=summarise_episodes(per_episode),
        )

    def _previous(self, resume: bool) -> pa.Table | None:
        """Completed episodes of an earlier call (with resume), after checking it is this run."""
        source = next((p for p in (self.partial_path, self.out_path) if p.exists()), None)
        if source is None:
            return None
        if not resume:
            raise RunDirectoryError(f"{source} already exists; remove it or resume that evaluation")
        try:
            table = pq.read_table(source)
        except (pa.ArrowInvalid, OSError) as exc:
            raise DraError(f"{source}: unreadable Parquet, cannot resume ({exc})") from None
        meta = table.schema.metadata or {}
        if (
            meta.get(_META_SEED) != str(self.seed).encode()
            or meta.get(_META_POLICY) != self.policy.name.encode()
        ):
            raise DraError(
                f"{source}: written by another evaluation (seed/agent differ); cannot resume it"
            )
        if source == self.out_path:
            os.replace(self.out_path, self.partial_path)
        return table

    def _open(self, schema: pa.Schema) -> pq.ParquetWriter:
        """A writer on a fresh file that then takes the `.partial` name (atomic swap)."""
        fresh = self.partial_path.with_name(self.partial_path.name + ".new")
        writer = pq.ParquetWriter(fresh, schema)
        os.replace(fresh, self.partial_path)
        return writer

    def _episode(self, env, episode: int, info_keys, stop) -> tuple[_EpisodeRows | None, list]:
        seed = seeding.episode_seed(self.seed, episode, evaluation=True)
        obs, info = env.reset(seed=seed)
        self.policy.reset(env, seed)
        rows: _EpisodeRows | None = None
        step = 0
        while True:
            action = self.policy.act(obs, info)
            obs, reward, terminated, truncated, info = env.step(action)
            if info_keys is None:
                info_keys = sorted(scalar_info(info))
            if rows is None:
                rows = _EpisodeRows(info_keys)
            rows.add(episode, step, seed, _as_action(action), reward, terminated, truncated, info)
            step += 1
            if stop.requested:
                return None, info_keys
            if terminated or truncated:
                return rows, info_keys


def evaluate(
    env_factory: EnvFactory,
    policy: Policy,
    episodes: int,
    out_path: str | Path,
    seed: int = 0,
    resume: bool = False,
    progress: bool = True,
) -> EvaluationResult:
    """Run `policy` for `episodes` episodes; per-step Parquet at `out_path` (see module doc)."""
    return Evaluator(env_factory, policy, out_path, seed, progress).run(episodes, resume=resume)
