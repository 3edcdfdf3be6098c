"""The sweep file: a base scenario, fixed changes, a grid of changes, seeds.

    name: byzantine-fraction
    scenario: ../six-node.yaml          # base scenario, relative to this file (or a built-in path)
    set:                                # changes applied to every task (dotted scenario fields)
      steps: 60
      byzantine.nodes: []
    grid:                               # every combination is one cell
      byzantine.fraction: [0.0, 0.2, 0.4]
      control.mode: [baseline, abft]
      topology: [secoqc-vienna, "waxman:n=50,seed=1"]
      agent: [none, runs/train/six-node-seed1]   # optional: a DQN checkpoint routes the demands
    seeds: [1, 2, 3]                    # or {count: 5, first: 1}
    metrics: {warmup_steps: 5}

Why dotted scenario fields and not a fixed list of axes: the question the user brings next
(channel drift, buffer size, demand rate...) is always another field; any field of
`bridge/scenario/config.py` can be swept, and every task's config is validated by the same
pydantic model before anything runs, so a typo in the grid stops the sweep with its name.
`agent` is the one key that is not a scenario field: `none`, or a training run directory or
checkpoint file whose DQN chooses the routes and intensities (the ABFT plane still decides trust).
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from bridge.scenario.config import ScenarioConfig, ScenarioError, load_scenario, parse_scenario
from bridge.yaml_unique import load_unique_yaml

AGENT_KEY = "agent"
NO_AGENT = "none"


class SeedRange(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    count: int = Field(..., ge=1)
    first: int = Field(1, ge=0)


class MetricsSettings(BaseModel):
    """How a task's metrics are computed (experiments/metrics.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    warmup_steps: int = Field(5, ge=0, description="first steps left out of every metric")
    fluctuation_loss_db: float = Field(0.1, ge=0.0)
    fluctuation_rate_fraction: float = Field(0.05, ge=0.0)


class SweepSpec(BaseModel):
    """A validated sweep file (see the module doc)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = "sweep"
    scenario: str
    set: dict[str, Any] = Field(default_factory=dict)
    grid: dict[str, list[Any]] = Field(default_factory=dict)
    seeds: list[int] | SeedRange = Field(default_factory=lambda: [1])
    metrics: MetricsSettings = MetricsSettings()

    @field_validator("grid")
    @classmethod
    def _non_empty(cls, grid: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for key, values in grid.items():
            if not values:
                raise ValueError(f"grid.{key}: needs at least one value")
        return grid

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, seeds: list[int] | SeedRange) -> list[int] | SeedRange:
        if isinstance(seeds, list):
            if not seeds:
                raise ValueError("needs at least one seed")
            if any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
                raise ValueError("seeds must be distinct integers >= 0")
        return seeds

    def seed_list(self) -> list[int]:
        if isinstance(self.seeds, SeedRange):
            return list(range(self.seeds.first, self.seeds.first + self.seeds.count))
        return list(self.seeds)


@dataclass(frozen=True)
class SweepTask:
    """One (cell, seed): the fully resolved scenario and, optionally, the agent that drives it."""

    task_id: str
    cell: int
    seed: int
    fields: dict[str, Any]  # the grid's values for this cell (dotted name -> value)
    scenario: dict[str, Any]  # the validated scenario as JSON data
    agent: str | None  # checkpoint file or training run directory
    metrics: dict[str, Any]

    def config(self) -> ScenarioConfig:
        return ScenarioConfig.model_validate(self.scenario)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SweepTask:
        return cls(**data)


def load_spec(path: str | Path) -> tuple[SweepSpec, Path]:
    """Read a sweep file; returns the spec and the folder relative paths are taken from."""
    path = Path(path)
    try:
        data = load_unique_yaml(path.read_text())
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such sweep file") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: a sweep file is a YAML mapping of fields")
    from pydantic import ValidationError

    try:
        return SweepSpec.model_validate(data), path.parent.resolve()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "sweep"
        raise ScenarioError(f"{path}: {where}: {first.get('msg', 'invalid')}") from None


def set_field(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set `a.b.c` in nested dicts (intermediate mappings are created)."""
    parts = dotted.split(".")
    node = data
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise ScenarioError(f"{dotted}: {part} is not a group of fields")
        node = child
    node[parts[-1]] = copy.deepcopy(value)


def _resolve_path(value: str, base: Path) -> str:
    """A relative checkpoint path is taken from the sweep file's folder when it exists there."""
    if value == NO_AGENT:
        return value
    candidate = base / value
    return (
        str(candidate.resolve()) if not Path(value).is_absolute() and candidate.exists() else value
    )


def expand(spec: SweepSpec, base: Path) -> list[SweepTask]:
    """Every (cell, seed) task, cells in grid order (last key fastest), seeds innermost.

    Each task's scenario is validated here, before anything runs, so a bad grid value fails
    the whole sweep at once with the field's name.
    """
    scenario_path = Path(spec.scenario)
    if not scenario_path.is_absolute():
        scenario_path = base / scenario_path
    base_config = load_scenario(scenario_path)
    keys = list(spec.grid)
    tasks = []
    for cell, values in enumerate(itertools.product(*(spec.grid[k] for k in keys))):
        fields = dict(zip(keys, values, strict=True))
        data = base_config.model_dump(mode="json")
        for dotted, value in spec.set.items():
            set_field(data, dotted, value)
        agent = None
        for dotted, value in fields.items():
            if dotted == AGENT_KEY:
                agent = None if value in (None, NO_AGENT) else _resolve_path(str(value), base)
                continue
            set_field(data, dotted, value)
        if AGENT_KEY in fields:
            fields[AGENT_KEY] = NO_AGENT if agent is None else str(fields[AGENT_KEY])
        for seed in spec.seed_list():
            data["seed"] = seed
            label = ", ".join(f"{k}={v}" for k, v in fields.items()) or "base"
            config = parse_scenario(
                copy.deepcopy(data), source=f"{spec.name} cell {cell} ({label})"
            )
            scenario = config.model_dump(mode="json")
            metrics = spec.metrics.model_dump(mode="json")
            tasks.append(
                SweepTask(
                    task_id=task_id(scenario, agent, metrics),
                    cell=cell,
                    seed=seed,
                    fields=fields,
                    scenario=scenario,
                    agent=agent,
                    metrics=metrics,
                )
            )
    return tasks


def task_id(scenario: dict[str, Any], agent: str | None, metrics: dict[str, Any]) -> str:
    """A stable name for a task: the hash of everything that determines its result, so a rerun
    with an edited spec never takes an old result for a changed task. The agent counts by its
    checkpoint's content, not its path: a moved folder keeps its results, a retrained agent
    does not."""
    fingerprint = None if agent is None else agent_fingerprint(agent)
    blob = json.dumps(
        {"scenario": scenario, "agent": fingerprint, "metrics": metrics}, sort_keys=True
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def agent_fingerprint(agent: str) -> str:
    """SHA-256 of the checkpoint the agent would load: the file itself, or the latest
    `ckpt-*.pt` of a training run folder (names sort by episode and step, as the loader's)."""
    path = Path(agent)
    if path.is_dir():
        found = sorted(path.glob("checkpoints/ckpt-*.pt")) or sorted(path.glob("ckpt-*.pt"))
        if not found:
            raise ScenarioError(f"agent {agent}: no checkpoint in this folder")
        path = found[-1]
    if not path.is_file():
        raise ScenarioError(f"agent {agent}: no such checkpoint file or training folder")
    return hashlib.sha256(path.read_bytes()).hexdigest()
