"""`qkdnet reproduce`: write the scenarios and sweeps, train the agent if needed, run every task
(resumable: the sweep machinery skips finished ones), then the table, claims.md and figures.

Output folder:
    scenarios/<network>.yaml        the base scenario of each network
    specs/<network>-<arm>.yaml      the sweep file of each (network, arm): `qkdnet sweep` runs it
    sweep/                          every task's run and result (experiments/sweep/task.py)
    train/                          the agent's training run, when no --checkpoint was given
    results.parquet                 one row per task, with `network` and `arm` columns
    claims.md, figures/*.png|svg
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from experiments.reproduce import claims as claims_mod
from experiments.reproduce import figures
from experiments.reproduce.profiles import Profile
from experiments.reproduce.scenarios import (
    base_scenario,
    onset_of,
    sweep_spec,
    training_scenario,
    write_yaml,
)
from experiments.sweep.runner import execute
from experiments.sweep.spec import SweepSpec, SweepTask, expand
from experiments.sweep.table import build_table, write_table

TRAINING_CONFIG = (
    Path(__file__).resolve().parents[1] / "configs" / "training" / "six-node-quick.yaml"
)
BASELINE_EPISODES = 2


@dataclass(frozen=True)
class Outcome:
    table: pd.DataFrame
    claims_path: Path
    figures: list[Path]
    checkpoint: Path | None
    trained_here: bool
    ran: int  # tasks run by this call (the others were already done)
    total: int


def train_agent(scenario: str, out_dir: str, episodes: int) -> str:
    """Train the DQN (in a worker process: ns-3 and torch stay out of the parent), then run the
    static and greedy baselines on the same scenario for the training curve's reference line.
    Resumable: a finished run is not trained again; an interrupted one continues."""
    from functools import partial

    from bridge.env_factory import make_env
    from control.dra.config import load_training_config, parse_training_config
    from control.dra.evaluator import evaluate
    from control.dra.policies import make_policy
    from control.dra.trainer import train

    settings = load_training_config(TRAINING_CONFIG).model_dump(mode="json")
    settings["trainer"].update(
        {"seed": 1, "progress": False, "tensorboard": False, "checkpoint_every": 5}
    )
    config = parse_training_config(settings, source=str(TRAINING_CONFIG))
    factory = partial(make_env, scenario)
    result = train(factory, config, out_dir, episodes, resume=True)
    for name in ("static", "greedy"):
        path = Path(out_dir) / "baselines" / f"{name}.parquet"
        if not path.exists():
            evaluate(factory, make_policy(name), BASELINE_EPISODES, path, seed=7, progress=False)
    return str(result.checkpoint)


def baseline_returns(train_dir: Path) -> dict[str, float]:
    """Mean episode return of each baseline policy evaluated beside the training run."""
    from control.dra.evaluator import per_episode_table

    out = {}
    for path in sorted((train_dir / "baselines").glob("*.parquet")):
        steps = pd.read_parquet(path)
        out[path.stem] = float(per_episode_table(steps)["return"].mean())
    return out


def _spawn_pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


def reproduce(
    profile: Profile,
    out_dir: Path,
    *,
    workers: int = 2,
    checkpoint: Path | None = None,
    executor_name: str = "local",
    address: str | None = None,
    command: str = "",
) -> Outcome:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    spec_dir = out_dir / "specs"
    sweep_dir = out_dir / "sweep"
    specs: dict[tuple[str, str], tuple[SweepSpec, Path]] = {}
    scenario_files: dict[str, Path] = {}
    for net in profile.networks:
        base = base_scenario(profile, net)
        scenario_files[net.name] = write_yaml(out_dir / "scenarios" / f"{net.name}.yaml", base)

    def tasks_for(arm_filter) -> list[SweepTask]:
        found = []
        for net in profile.networks:
            for arm in net.arms:
                if not arm_filter(arm):
                    continue
                # the scenario named relative to the spec file: `qkdnet sweep specs/X.yaml`
                # runs it from anywhere, and the folder can be moved as a whole
                scenario = Path("..") / "scenarios" / scenario_files[net.name].name
                data = sweep_spec(profile, net, scenario, arm, checkpoint)
                spec = SweepSpec.model_validate(data)
                write_yaml(spec_dir / f"{net.name}-{arm}.yaml", data)
                specs[(net.name, arm)] = (spec, spec_dir)
                found.extend(expand(spec, spec_dir))
        # the slowest tasks (large networks with ABFT) first, so the pool ends together
        return sorted(found, key=lambda t: -_cost(t))

    # every task that needs no agent is expanded (and so validated) before anything starts
    plain = tasks_for(lambda arm: arm != "abft+agent")
    ran, total = 0, len(plain)

    # the agent: a given checkpoint, else a brief training run here (beside the other tasks)
    needs_agent = any("abft+agent" in net.arms for net in profile.networks)
    train_dir = out_dir / "train"
    trained_here = needs_agent and checkpoint is None
    training = None
    pool = None
    if trained_here:
        agent_net = next(net for net in profile.networks if "abft+agent" in net.arms)
        base = yaml.safe_load(scenario_files[agent_net.name].read_text())
        train_file = write_yaml(
            out_dir / "scenarios" / f"{agent_net.name}-train.yaml", training_scenario(profile, base)
        )
        pool = _spawn_pool(1)
        training = pool.submit(
            train_agent, str(train_file), str(train_dir), profile.training.episodes
        )

    try:
        ran += execute(
            plain,
            sweep_dir,
            workers=workers,
            executor_name=executor_name,
            address=address,
            desc=f"{profile.name}: baseline and ABFT",
        )[0]
        if training is not None:
            checkpoint = Path(training.result()).resolve()
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    if needs_agent:
        agent_tasks = tasks_for(lambda arm: arm == "abft+agent")
        total += len(agent_tasks)
        ran += execute(
            agent_tasks,
            sweep_dir,
            workers=workers,
            executor_name=executor_name,
            address=address,
            desc=f"{profile.name}: ABFT + agent",
        )[0]

    table = combined_table(specs, sweep_dir)
    write_table(table, out_dir)
    claims_path, figure_paths = write_report(
        profile, table, out_dir, sweep_dir, train_dir, checkpoint, trained_here, command
    )
    return Outcome(table, claims_path, figure_paths, checkpoint, trained_here, ran, total)


def _cost(task: SweepTask) -> float:
    """Rough relative cost of a task, for ordering only: steps x links, x10 with ABFT."""
    scale = 10.0 if task.scenario["control"]["mode"] == "abft" else 1.0
    return (
        task.scenario["steps"]
        * scale
        * (
            50
            if "waxman" in task.scenario["topology"] or "beijing" in task.scenario["topology"]
            else 8
        )
    )


def combined_table(
    specs: dict[tuple[str, str], tuple[SweepSpec, Path]], sweep_dir: Path
) -> pd.DataFrame:
    frames = []
    for (network, arm), (spec, base) in specs.items():
        frame = build_table(expand(spec, base), sweep_dir)
        if frame.empty:
            continue
        frame.insert(1, "network", network)
        frame.insert(2, "arm", arm)
        frames.append(frame.drop(columns=["agent"], errors="ignore"))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def write_report(
    profile: Profile,
    table: pd.DataFrame,
    out_dir: Path,
    sweep_dir: Path,
    train_dir: Path,
    checkpoint: Path | None,
    trained_here: bool,
    command: str,
) -> tuple[Path, list[Path]]:
    from qchannel import get_preset

    scenario = yaml.safe_load(next((out_dir / "scenarios").glob("six-node.yaml")).read_text())
    preset = scenario["link"]["preset"]
    intrinsic = get_preset(preset).misalignment_error
    episodes = None
    csv = (train_dir / "episodes.csv") if trained_here else None
    if csv is not None and csv.exists():
        episodes = pd.read_csv(csv)
    if trained_here:
        what = (
            f"trained here: {profile.training.episodes} episodes of "
            f"{profile.training.steps_per_episode} steps on the six-node network at 20 % "
            f"Byzantine ({train_dir})"
        )
    else:
        what = f"checkpoint given: {checkpoint}" if checkpoint else "no agent arm in this profile"
    rows = [
        *claims_mod.retention_claims(table, command),
        *claims_mod.qber_claim(table, command, intrinsic, preset),
        *claims_mod.availability_claims(table, command),
        claims_mod.convergence_claim(episodes, profile.training.episodes, command, what),
        *claims_mod.variance_claim(table, command),
    ]
    header = (
        f"# Paper claims vs qkdnet, profile `{profile.name}`\n\n"
        f"{len(table)} tasks; networks: "
        + ", ".join(
            f"{n.name} ({n.seeds} seeds, {n.steps} steps, fractions "
            f"{', '.join(f'{f:g}' for f in n.fractions)}, arms {', '.join(n.arms)})"
            for n in profile.networks
        )
        + f". Agent: {what}. "
        + " ".join(profile.notes)
        + f"\nMachine: {os.cpu_count()} CPUs. Intervals: 95 % Student t over seeds."
    )
    claims_path = out_dir / "claims.md"
    tmp = out_dir / ".claims.md.tmp"
    tmp.write_text(claims_mod.render(rows, header))
    os.replace(tmp, claims_path)

    fig_dir = out_dir / "figures"
    paths = figures.metric_vs_fraction(
        table, "retention", "key-rate retention", fig_dir, "retention_vs_fraction"
    )
    paths += figures.metric_vs_fraction(
        table,
        "availability_after_onset",
        "availability after onset",
        fig_dir,
        "availability_vs_fraction",
    )
    six = table[table.network == "six-node"]
    if not six.empty:
        nearest = min(
            (f for f in six["byzantine.fraction"].unique() if f > 0), key=lambda f: abs(f - 0.2)
        )
        runs = {
            arm: [sweep_dir / p for p in group["run_dir"]]
            for arm, group in six[six["byzantine.fraction"] == nearest].groupby("arm", sort=False)
        }
        title = f"six-node, Byzantine fraction {nearest:g}"
        onset_s = onset_of(profile, profile.network("six-node"))
        paths += figures.delivered_over_time(runs, onset_s, fig_dir, "delivered_over_time", title)
        paths += figures.qber_distribution(runs, fig_dir, "qber_distribution", title)
    if episodes is not None:
        paths += figures.training_curve(
            episodes, baseline_returns(train_dir), fig_dir, "training_curve"
        )
    return claims_path, paths
