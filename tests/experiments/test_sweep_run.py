"""`qkdnet sweep` end to end on tiny real scenarios: local pool, resume, Ray, the table."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from experiments.sweep.runner import run_sweep
from experiments.sweep.spec import expand, load_spec
from experiments.sweep.task import TASKS_DIR

SIX_NODE = Path(__file__).resolve().parents[2] / "experiments" / "configs" / "six-node.yaml"

pytestmark = pytest.mark.ns3


def tiny_spec(tmp_path: Path) -> Path:
    spec = {
        "name": "tiny",
        "scenario": str(SIX_NODE),
        "set": {
            "byzantine.nodes": [],
            "steps": 12,
            "byzantine.behaviour.onset_s": 0.5,
            "control.mode": "baseline",
        },
        "grid": {"byzantine.fraction": [0.0, 0.3]},
        "seeds": [1, 2],
        "metrics": {"warmup_steps": 2},
    }
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The tiny sweep run once on the local pool (two workers)."""
    tmp_path = tmp_path_factory.mktemp("sweep")
    spec, base = load_spec(tiny_spec(tmp_path))
    tasks = expand(spec, base)
    outcome = run_sweep(spec.name, tasks, tmp_path / "out", workers=2, progress=False)
    return tmp_path, spec, tasks, outcome


def test_table_has_one_row_per_task_with_fields_metrics_and_byzantine_names(reference):
    _, _, tasks, outcome = reference
    table = outcome.table
    assert outcome.ran == 4 and outcome.skipped == 0
    assert len(table) == 4
    assert table["byzantine.fraction"].tolist() == [0.0, 0.0, 0.3, 0.3]
    assert table["seed"].tolist() == [1, 2, 1, 2]
    attacked = table[table["byzantine.fraction"] == 0.3]
    # 0.3 of six nodes rounds to 2; only GUD and FRM are not demand endpoints
    assert attacked["byzantine_count"].tolist() == [2, 2]
    assert set(attacked["byzantine_nodes"]) == {"GUD,FRM"}  # in node order
    assert (table.loc[table["byzantine.fraction"] == 0.0, "retention"] == 1.0).all()
    assert attacked["retention"].between(0.0, 1.5).all()
    assert table["requests"].gt(0).all() and table["availability"].between(0, 1).all()
    assert outcome.table_path.exists()
    pd.testing.assert_frame_equal(pd.read_parquet(outcome.table_path), table)


def test_rerun_skips_finished_tasks_and_redoes_only_missing_ones(reference):
    tmp_path, spec, tasks, outcome = reference
    out = tmp_path / "out"
    again = run_sweep(spec.name, tasks, out, workers=2, progress=False)
    assert (again.ran, again.skipped) == (0, 4)
    pd.testing.assert_frame_equal(again.table, outcome.table)
    # a task killed in flight leaves no result file (and maybe half a run folder)
    lost = tasks[2].task_id
    (out / TASKS_DIR / f"{lost}.json").unlink()
    manifest_path = out / "runs" / lost / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest_path.write_text(json.dumps({**manifest, "complete": False}))  # killed mid-run
    redone = run_sweep(spec.name, tasks, out, workers=1, progress=False)
    assert (redone.ran, redone.skipped) == (1, 3)
    pd.testing.assert_frame_equal(redone.table, outcome.table)  # same seed, same numbers


def test_out_dir_of_another_sweep_is_refused(reference):
    tmp_path, _, tasks, _ = reference
    with pytest.raises(ValueError, match="holds sweep"):
        run_sweep("other", tasks, tmp_path / "out", progress=False)


@pytest.mark.slow  # starting Ray takes a minute or more on a loaded 2-core machine
def test_ray_executor_gives_the_same_table(reference, tmp_path):
    pytest.importorskip("ray")
    _, spec, tasks, outcome = reference
    ray_out = run_sweep(
        spec.name, tasks, tmp_path / "ray", workers=2, executor_name="ray", progress=False
    )
    assert ray_out.ran == 4
    pd.testing.assert_frame_equal(ray_out.table, outcome.table)
