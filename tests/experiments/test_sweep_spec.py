"""Sweep files: expansion into (cell, seed) tasks, stable task ids, one-line errors (no ns-3)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from bridge.scenario.config import ScenarioError
from experiments.sweep.spec import expand, load_spec, set_field
from tests.conftest import qkdnet_command

SIX_NODE = Path(__file__).resolve().parents[2] / "experiments" / "configs" / "six-node.yaml"


def write_spec(tmp_path: Path, **fields) -> Path:
    spec = {"name": "t", "scenario": str(SIX_NODE), "set": {"byzantine.nodes": [], "steps": 8}}
    spec.update(fields)
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_grid_times_seeds_in_order(tmp_path):
    path = write_spec(
        tmp_path,
        grid={"byzantine.fraction": [0.0, 0.3], "control.mode": ["baseline", "abft"]},
        seeds=[1, 2, 3],
    )
    tasks = expand(*load_spec(path))
    assert len(tasks) == 12
    assert [(t.cell, t.seed) for t in tasks[:4]] == [(0, 1), (0, 2), (0, 3), (1, 1)]
    assert tasks[3].fields == {"byzantine.fraction": 0.0, "control.mode": "abft"}
    config = tasks[3].config()
    assert (config.steps, config.seed, config.control.mode) == (8, 1, "abft")
    assert config.byzantine.nodes == []
    assert len({t.task_id for t in tasks}) == 12


def test_task_ids_are_stable_and_follow_the_content(tmp_path):
    path = write_spec(tmp_path, grid={"byzantine.fraction": [0.0, 0.3]}, seeds={"count": 2})
    first = [t.task_id for t in expand(*load_spec(path))]
    assert first == [t.task_id for t in expand(*load_spec(path))]
    # adding a grid value keeps the ids of the tasks already there (a sweep can grow)
    path = write_spec(tmp_path, grid={"byzantine.fraction": [0.0, 0.3, 0.5]}, seeds={"count": 2})
    grown = [t.task_id for t in expand(*load_spec(path))]
    assert grown[:4] == first


def test_a_bad_grid_value_names_the_field(tmp_path):
    path = write_spec(tmp_path, grid={"control.mode": ["abft", "magic"]})
    with pytest.raises(ScenarioError, match="control.mode"):
        expand(*load_spec(path))


def test_unknown_field_is_refused(tmp_path):
    path = write_spec(tmp_path, grid={"link.rate_bsp": [1.0]})
    with pytest.raises(ScenarioError, match="rate_bsp"):
        expand(*load_spec(path))


def test_duplicate_seeds_are_refused(tmp_path):
    with pytest.raises(ScenarioError, match="seeds"):
        load_spec(write_spec(tmp_path, seeds=[1, 1]))


def test_a_key_given_twice_is_refused_not_overwritten(tmp_path):
    """PyYAML keeps the last of two equal keys silently: `steps` twice would sweep one of them."""
    path = tmp_path / "spec.yaml"
    path.write_text(f"name: t\nscenario: {SIX_NODE}\nseeds: [1, 2]\nseeds: [3]\n")
    with pytest.raises(ScenarioError, match=r"duplicate key 'seeds' \(first on line 3\)") as info:
        load_spec(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_set_field_creates_groups_and_refuses_scalars():
    data = {"a": {"b": 1}}
    set_field(data, "a.c.d", 2)
    assert data == {"a": {"b": 1, "c": {"d": 2}}}
    with pytest.raises(ScenarioError):
        set_field(data, "a.b.x", 3)


def test_cli_bad_spec_is_one_line_and_exit_2(tmp_path):
    path = write_spec(tmp_path, grid={"control.mode": ["magic"]})
    proc = subprocess.run(
        [*qkdnet_command(), "sweep", str(path), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qkdnet: error:") and "control.mode" in lines[0]
    assert not (tmp_path / "out").exists()


def test_cli_dry_run_lists_tasks(tmp_path):
    path = write_spec(tmp_path, grid={"byzantine.fraction": [0.0, 0.3]}, seeds=[4])
    proc = subprocess.run(
        [*qkdnet_command(), "sweep", str(path), "--out", str(tmp_path / "out"), "--dry-run"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 2 and all("[todo]" in line and "seed 4" in line for line in lines)


def test_agent_counts_by_checkpoint_content_not_path(tmp_path):
    from experiments.sweep.spec import agent_fingerprint

    run = tmp_path / "train"
    (run / "checkpoints").mkdir(parents=True)
    (run / "checkpoints" / "ckpt-ep00000005-step000000000150.pt").write_bytes(b"old")
    (run / "checkpoints" / "ckpt-ep00000010-step000000000300.pt").write_bytes(b"new")
    copy = tmp_path / "copy.pt"
    copy.write_bytes(b"new")
    assert agent_fingerprint(str(run)) == agent_fingerprint(str(copy))  # the latest one
    copy.write_bytes(b"retrained")
    assert agent_fingerprint(str(run)) != agent_fingerprint(str(copy))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ScenarioError, match="no checkpoint in this folder"):
        agent_fingerprint(str(tmp_path / "empty"))
    with pytest.raises(ScenarioError, match="no such checkpoint"):
        agent_fingerprint(str(tmp_path / "missing.pt"))
