"""Run one sweep task in this process and write its result atomically.

Layout under the sweep's output folder:
    runs/<task_id>/        the run's own tables (Parquet parts, manifest.json), as `qkdnet run`
    tasks/<task_id>.json   the task's result: its cell, seed, metrics, Byzantine nodes

The result file is written last, through a temporary file and a rename, so it exists only for a
finished task: a rerun skips exactly the tasks that have one, and a task killed half-way is run
again from the start (its run folder is cleared; the same seed gives the same numbers).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from experiments.sweep.spec import SweepTask

RUNS_DIR = "runs"
TASKS_DIR = "tasks"


def result_path(out_dir: Path, task_id: str) -> Path:
    return out_dir / TASKS_DIR / f"{task_id}.json"


def is_finished(out_dir: Path, task_id: str) -> bool:
    return result_path(out_dir, task_id).is_file()


def run_task(task_data: dict[str, Any], out_dir: str) -> dict[str, Any]:
    """Run the task (a `SweepTask.as_dict()`) and write its result file; returns the result.

    Takes and returns plain data so any executor (a process pool, Ray) can ship it.
    """
    from bridge.scenario import load_plan
    from bridge.scenario.metrics import read_run
    from experiments.metrics import FluctuationRule, MetricWindow, task_metrics

    task = SweepTask.from_dict(task_data)
    root = Path(out_dir)
    run_dir = root / RUNS_DIR / task.task_id
    config = task.config()
    plan = load_plan(config)
    if run_dir.exists():
        shutil.rmtree(run_dir)  # no result file: a task killed in flight; start it again
    started = time.perf_counter()
    if task.agent is None:
        _run_plain(config, run_dir)
    else:
        _run_agent(config, plan, task.agent, run_dir)
    wall_s = time.perf_counter() - started

    settings = task.metrics
    window = MetricWindow(
        step_s=config.step_s,
        warmup_steps=int(settings["warmup_steps"]),
        onset_s=config.byzantine.behaviour.onset_s,
    )
    rule = FluctuationRule(
        loss_db=float(settings["fluctuation_loss_db"]),
        rate_fraction=float(settings["fluctuation_rate_fraction"]),
    )
    byzantine = sorted(plan.byzantine)
    link_ends = {link.index: (link.a, link.b) for link in plan.links}
    metrics = task_metrics(read_run(run_dir), window, link_ends, byzantine, rule)
    labels = [node.label for node in plan.nodes]
    result = {
        "task_id": task.task_id,
        "cell": task.cell,
        "seed": task.seed,
        "fields": task.fields,
        "agent": task.agent,
        "nodes": len(plan.nodes),
        "trusted_nodes": sum(1 for n in plan.nodes if n.trusted),
        "links": len(plan.links),
        "demands": len(plan.demands),
        "steps": config.steps,
        "byzantine_count": len(byzantine),
        "byzantine_nodes": [labels[i] for i in byzantine],
        "metrics": metrics.as_dict(),
        "wall_s": wall_s,
        "run_dir": str(Path(RUNS_DIR) / task.task_id),
    }
    write_json_atomic(result_path(root, task.task_id), result)
    return result


def _run_plain(config, run_dir: Path) -> None:
    """The scenario with its control plane (ABFT or baseline) choosing routes, as `qkdnet run`."""
    from experiments.run import run_scenario

    run_scenario(config, run_dir, overwrite=True, progress=False)


def _run_agent(config, plan, checkpoint: str, run_dir: Path) -> None:
    """The scenario as the Gymnasium env, a trained DQN choosing an action every step; every
    step's tables are recorded exactly as `qkdnet run` records them."""
    from bridge.env import QkdNetworkEnv
    from bridge.scenario.metrics import MetricsRecorder
    from control.dra.policies import make_policy

    policy = make_policy("dqn", checkpoint)
    env = QkdNetworkEnv(config, plan=plan)
    metadata = {"scenario": config.model_dump(mode="json"), "agent": checkpoint}
    recorder = MetricsRecorder(run_dir, metadata=metadata, flush_every=50, overwrite=True)
    complete = False
    try:
        obs, info = env.reset(seed=config.seed)
        policy.reset(env, config.seed)
        for _ in range(config.steps):
            obs, _reward, terminated, truncated, info = env.step(policy.act(obs, info))
            last = env.scenario._last_result  # the StepResult this step produced
            assert last is not None
            recorder.record(last.step, last.tables())
            if terminated:
                break
        complete = True
    finally:
        env.close()
        recorder.close(complete=complete)


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write JSON through a temporary file and a rename: readers see all of it or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True, default=_plain))
    os.replace(tmp, path)


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else str(value)
