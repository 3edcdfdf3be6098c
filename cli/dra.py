"""`qkdnet train` and `qkdnet evaluate`: the DQN agent and baselines from the command line.

Either a scenario YAML (the QKD env, built by `bridge.env_factory.make_env(path, seed)`) or any
registered Gymnasium env (`--env-id CartPole-v1`) is accepted. `evaluate` takes several agents
(`--agent dqn --agent static --agent greedy --agent random`, or `--agent all`), runs each on the
same episode seeds and prints one comparison table (return, delivered key rate, QBER,
availability, each with its 95% t-interval), keeping one per-step Parquet file per agent.
Top-level imports stay light (typer, stdlib): torch and gymnasium load inside the command bodies
so `qkdnet --help` stays instant.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Annotated

import typer

from cli.errors import fail, user_errors

AGENTS = ("baseline", "static", "greedy", "random", "abft", "oracle", "dqn", "sb3")
# agents 'all' means: every one that needs no file, plus dqn/sb3 when their file is given
ALWAYS = ("baseline", "static", "greedy", "random", "abft", "oracle")
# agents that exist only in a scenario env (no control plane or Byzantine set elsewhere)
SCENARIO_ONLY = ("baseline", "abft", "oracle")
EXIT_INTERRUPTED = 130

ScenarioArg = Annotated[
    Path | None, typer.Argument(help="Scenario YAML of the QKD network (or use --env-id).")
]
EnvIdOption = Annotated[
    str | None,
    typer.Option("--env-id", help="A registered Gymnasium env instead of a scenario."),
]


def env_factory_for(
    scenario: Path | None, env_id: str | None, env_options: dict[str, str] | None = None
) -> tuple[Callable, str]:
    """The env factory and a short name for output paths, from exactly one of the two sources;
    `env_options` are the QKD env's settings (routing, control mode) for a scenario."""
    if (scenario is None) == (env_id is None):
        raise fail("give a scenario YAML or --env-id, not both and not neither")
    if env_id is not None:
        import gymnasium as gym

        try:
            gym.spec(env_id)
        except gym.error.Error:
            raise fail(f"unknown Gymnasium env id {env_id!r}") from None
        if env_options:
            raise fail(f"{', '.join(env_options)} only apply to scenario environments")
        from bridge.env_factory import make_gym_env

        return partial(make_gym_env, env_id), env_id.replace("/", "_")
    if not scenario.is_file():
        raise fail(f"scenario file not found: {scenario}")
    try:
        from bridge.env_factory import make_env
    except ImportError as exc:
        raise fail(f"scenario environments are not available (bridge.env_factory: {exc})") from None
    return partial(make_env, str(scenario), **(env_options or {})), scenario.stem


def train(
    scenario: ScenarioArg = None,
    env_id: EnvIdOption = None,
    episodes: Annotated[int, typer.Option("--episodes", min=1, help="Episodes to train.")] = 100,
    config: Annotated[
        Path | None, typer.Option("--config", help="YAML of DQN and trainer settings.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Run directory (default runs/train/NAME-seedS).")
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue from the run directory's last checkpoint.")
    ] = False,
    seed: Annotated[int | None, typer.Option("--seed", min=0, help="Run seed.")] = None,
    checkpoint_every: Annotated[
        int | None, typer.Option("--checkpoint-every", min=1, help="Episodes between checkpoints.")
    ] = None,
    num_envs: Annotated[
        int | None, typer.Option("--num-envs", min=1, help="Sub-environments stepped together.")
    ] = None,
    routing: Annotated[
        str,
        typer.Option(
            "--routing",
            help="Who routes demands in a scenario env: abft+agent (the agent on top of the "
            "ABFT decision), agent (the agent alone), abft (the coordinator alone).",
        ),
    ] = "abft+agent",
    eval_every: Annotated[
        int | None,
        typer.Option(
            "--eval-every",
            min=1,
            help="Every K episodes, evaluate the greedy agent on held-out seeds (curve.csv).",
        ),
    ] = None,
    eval_episodes: Annotated[
        int | None, typer.Option("--eval-episodes", min=2, help="Held-out episodes per point.")
    ] = None,
    compare: Annotated[
        Path | None,
        typer.Option(
            "--compare",
            help="A `qkdnet evaluate` comparison.csv (run with --seed = this run's seed): report "
            "where the held-out curve reaches the best deployable baseline's interval.",
        ),
    ] = None,
) -> None:
    """Train the DQN agent; per-episode CSV, checkpoints, Ctrl-C saves and --resume continues."""
    with user_errors():
        from control.dra.config import (
            TrainingConfig,
            load_training_config,
            parse_training_config,
        )
        from control.dra.trainer import train as run_training

        check_routing(routing)
        options = {"routing": routing} if scenario is not None else None
        factory, name = env_factory_for(scenario, env_id, options)
        settings = load_training_config(config) if config is not None else TrainingConfig()
        overrides = {
            "seed": seed,
            "checkpoint_every": checkpoint_every,
            "num_envs": num_envs,
            "eval_every": eval_every,
            "eval_episodes": eval_episodes,
        }
        data = settings.model_dump(mode="json")
        data["trainer"].update({k: v for k, v in overrides.items() if v is not None})
        settings = parse_training_config(data, source=str(config or "options"))
        out_dir = out or Path("runs") / "train" / f"{name}-seed{settings.trainer.seed}"
        result = run_training(factory, settings, out_dir, episodes, resume=resume)
    print(
        f"{result.episodes_done} episodes, {result.env_steps} env steps, "
        f"{result.grad_steps} gradient steps"
    )
    print(f"episode log: {result.csv_path}")
    print(f"checkpoint: {result.checkpoint}")
    if settings.trainer.eval_every is not None:
        print(f"held-out learning curve: {out_dir / 'curve.csv'}")
        if compare is not None:
            with user_errors():
                _print_crossing(out_dir, compare)
    if result.interrupted:
        raise typer.Exit(EXIT_INTERRUPTED)


def evaluate(
    scenario: ScenarioArg = None,
    env_id: EnvIdOption = None,
    agent: Annotated[
        list[str] | None,
        typer.Option(
            "--agent",
            help=(
                f"One of {', '.join(AGENTS)}, or 'all'. Repeat it (or separate by commas) to "
                "compare several on the same episode seeds in one table, e.g. --agent dqn "
                "--agent static --agent greedy --agent random (= --agent all)."
            ),
        ),
    ] = None,
    checkpoint: Annotated[
        Path | None,
        typer.Option("--checkpoint", help="DQN checkpoint file or training run directory."),
    ] = None,
    sb3_model: Annotated[
        Path | None,
        typer.Option("--sb3-model", help="A saved Stable-Baselines3 DQN model (.zip) for sb3."),
    ] = None,
    episodes: Annotated[int, typer.Option("--episodes", min=1, help="Episodes to run.")] = 10,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help=(
                "Per-step Parquet file (one agent; default runs/eval/NAME-AGENT-seedS.parquet), or "
                "with several agents a directory that gets NAME-AGENT-seedS.parquet for each and "
                "comparison.csv (default runs/eval)."
            ),
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Evaluation seed.")] = 0,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue an interrupted evaluation.")
    ] = False,
) -> None:
    """Run policies for N episodes; per-step Parquet and mean metrics with 95% t-intervals.

    Every agent runs the same episode seeds, so several agents are compared on equal terms:
    mean return, key rate (delivered bit/s), QBER and availability, one row per agent.
    """
    agents = parse_agents(agent, has_dqn=checkpoint is not None, has_sb3=sb3_model is not None)
    if checkpoint is not None and "dqn" not in agents:
        raise fail(f"--checkpoint only applies to --agent dqn, not {', '.join(agents)}")
    if sb3_model is not None and "sb3" not in agents:
        raise fail(f"--sb3-model only applies to --agent sb3, not {', '.join(agents)}")
    with user_errors():
        from control.dra.evaluator import evaluate as run_evaluation
        from control.dra.policies import ENV_SETTINGS, make_policy

        if env_id is not None:
            scenario_only = [a for a in agents if a in SCENARIO_ONLY]
            if scenario_only:
                raise fail(f"agents {', '.join(scenario_only)} need a scenario, not --env-id")
        files = {"dqn": checkpoint, "sb3": sb3_model}
        policies = {a: make_policy(a, files.get(a)) for a in agents}
        results = {}
        for label, policy in policies.items():
            options = ENV_SETTINGS.get(label) if scenario is not None else None
            factory, name = env_factory_for(scenario, env_id, options)
            file_name = f"{name}-{label}-seed{seed}.parquet"
            if len(agents) == 1:
                out_path = out or Path("runs") / "eval" / file_name
            else:
                out_path = (out or Path("runs") / "eval") / file_name
            results[label] = result = run_evaluation(
                factory, policy, episodes, out_path, seed=seed, resume=resume
            )
            if result.interrupted:
                break
    if len(agents) == 1:
        _print_summary(results[agents[0]], agents[0])
    else:
        csv_path = (out or Path("runs") / "eval") / COMPARISON_CSV
        _print_comparison(results, episodes, seed, csv_path)
    if any(r.interrupted for r in results.values()):
        raise typer.Exit(EXIT_INTERRUPTED)


COMPARISON_CSV = "comparison.csv"


def check_routing(routing: str) -> None:
    from bridge.env import ROUTING_MODES

    if routing not in ROUTING_MODES:
        raise fail(f"--routing must be one of {', '.join(ROUTING_MODES)}, got {routing!r}")


def _print_crossing(run_dir: Path, comparison: Path) -> None:
    """The held-out curve against the best deployable baseline of `comparison`."""
    from control.dra.held_out import CURVE_NAME, best_baseline, crossing_episode, read_curve

    best = best_baseline(comparison)
    rows = read_curve(run_dir / CURVE_NAME)
    print(
        f"best deployable baseline: {best.agent}, return {best.mean:.4g} "
        f"(95% interval [{best.ci_low:.4g}, {best.ci_high:.4g}])"
    )
    for row in rows:
        mark = ">=" if float(row["return_mean"]) >= best.ci_low else "< "
        print(
            f"  episode {int(row['episode']):5d}: held-out return {float(row['return_mean']):9.4g}"
            f" [{float(row['ci_low']):.4g}, {float(row['ci_high']):.4g}] {mark} {best.ci_low:.4g}"
        )
    crossing = crossing_episode(rows, best.ci_low)
    if crossing is None:
        print("the agent's held-out return does not reach and stay within that interval")
    else:
        print(f"reaches the baseline's interval at episode {crossing} and stays there")


def curve(
    run_dir: Annotated[Path, typer.Argument(help="A training run directory with curve.csv.")],
    compare: Annotated[
        Path,
        typer.Option("--compare", help="A `qkdnet evaluate` comparison.csv on the same seeds."),
    ],
) -> None:
    """Print a run's held-out learning curve and where it reaches the best baseline."""
    with user_errors():
        _print_crossing(run_dir, compare)


# (column of the evaluator's per-episode table, heading) in the order the comparison shows them;
# a column the env does not report (e.g. the QKD metrics on a Gymnasium env) is left out.
COMPARISON_METRICS = (
    ("return", "return"),
    ("delivered_bps", "key rate (delivered bit/s)"),
    ("qber", "QBER"),
    ("availability", "availability"),
)


def parse_agents(values: list[str] | None, has_dqn: bool = True, has_sb3: bool = True) -> list[str]:
    """The agents named by repeated and/or comma-separated --agent values ('all' = every
    baseline, plus dqn / sb3 when their checkpoint / model is given)."""
    everything = list(ALWAYS) + (["dqn"] if has_dqn else []) + (["sb3"] if has_sb3 else [])
    agents: list[str] = []
    for value in values or ["dqn"]:
        for part in value.split(","):
            name = part.strip()
            names = everything if name == "all" else [name]
            for one in names:
                if one not in AGENTS:
                    raise fail(f"--agent must be one of {', '.join(AGENTS)}, got {one!r}")
                if one not in agents:
                    agents.append(one)
    return agents


def _cell(summary) -> str:
    if summary.episodes == 0:
        return "-"
    if summary.episodes < 2:
        return f"{summary.mean:.4g}"
    return f"{summary.mean:.4g} +/- {summary.half_width:.2g}"


def _print_comparison(results: dict, episodes: int, seed: int, csv_path: Path) -> None:
    """One row per agent: mean +/- 95% t-interval half-width of each metric; also as CSV."""
    import csv

    from rich.console import Console
    from rich.table import Table

    metrics = [
        (column, heading)
        for column, heading in COMPARISON_METRICS
        if any(column in r.summaries for r in results.values())
    ]
    table = Table(
        title=f"{episodes} episodes per agent, evaluation seed {seed} "
        "(per-episode mean +/- 95% t-interval half-width)"
    )
    table.add_column("agent")
    table.add_column("episodes", justify="right")
    for _, heading in metrics:
        table.add_column(heading, justify="right")
    rows = []
    for label, result in results.items():
        cells = [label, str(result.episodes)]
        for column, _ in metrics:
            summary = result.summaries.get(column)
            cells.append(_cell(summary) if summary is not None else "-")
            if summary is not None:
                rows.append(
                    {
                        "agent": label,
                        "metric": column,
                        "mean": summary.mean,
                        "ci_low": summary.ci_low,
                        "ci_high": summary.ci_high,
                        "episodes": summary.episodes,
                    }
                )
        table.add_row(*cells)
    Console(file=sys.stdout, width=max(120, len(metrics) * 28)).print(table)
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    with csv_path.open("w", newline="") as handle:
        writer = csv.DictWriter(
            handle, fieldnames=["agent", "metric", "mean", "ci_low", "ci_high", "episodes"]
        )
        writer.writeheader()
        writer.writerows(rows)
    for label, result in results.items():
        print(f"per-step metrics ({label}): {result.out_path}")
    print(f"comparison: {csv_path}")


def _print_summary(result, agent: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{agent}: {result.episodes} episodes (mean, 95% t-interval)")
    for column in ("metric", "mean", "95% CI low", "95% CI high"):
        table.add_column(column, justify="right" if column != "metric" else "left")
    for summary in result.summaries.values():
        table.add_row(
            summary.name,
            f"{summary.mean:.6g}",
            f"{summary.ci_low:.6g}",
            f"{summary.ci_high:.6g}",
        )
    Console(file=sys.stdout).print(table)
    print(f"per-step metrics: {result.out_path}")


def train_sb3(
    scenario: ScenarioArg = None,
    env_id: EnvIdOption = None,
    episodes: Annotated[int, typer.Option("--episodes", min=1, help="Episodes to train.")] = 100,
    out: Annotated[Path, typer.Option("--out", help="Model file to write (.zip).")] = Path(
        "runs/sb3/model.zip"
    ),
    seed: Annotated[int, typer.Option("--seed", min=0, help="Run seed.")] = 0,
    learning_rate: Annotated[float, typer.Option("--lr", min=1e-8, help="Adam lr.")] = 1e-3,
    routing: Annotated[
        str, typer.Option("--routing", help="Who routes demands (as for train).")
    ] = "abft+agent",
) -> None:
    """Train Stable-Baselines3's DQN on the same env and training seeds (for --agent sb3)."""
    with user_errors():
        from control.dra.sb3_baseline import train_sb3 as run_sb3

        check_routing(routing)
        options = {"routing": routing} if scenario is not None else None
        factory, _ = env_factory_for(scenario, env_id, options)
        path = run_sb3(factory, episodes, out, seed=seed, learning_rate=learning_rate)
    print(f"SB3 model: {path}")
