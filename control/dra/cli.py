"""`qkdnet train` and `qkdnet evaluate`: the DQN agent and baselines from the command line.

Either a scenario YAML (the QKD env, built by `bridge.env_factory.make_env(path, seed)`) or any
registered Gymnasium env (`--env-id CartPole-v1`) is accepted. Top-level imports stay light (typer,
stdlib): torch and gymnasium load inside the command bodies so `qkdnet --help` stays instant.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Annotated

import typer

from experiments.cli_errors import fail, user_errors

AGENTS = ("dqn", "static", "greedy", "random")
EXIT_INTERRUPTED = 130

ScenarioArg = Annotated[
    Path | None, typer.Argument(help="Scenario YAML of the QKD network (or use --env-id).")
]
EnvIdOption = Annotated[
    str | None,
    typer.Option("--env-id", help="A registered Gymnasium env instead of a scenario."),
]


def make_gym_env(env_id: str, seed: int):
    """A registered Gymnasium env; `seed` is unused (episodes are seeded through reset)."""
    import gymnasium as gym

    del seed
    return gym.make(env_id)


def env_factory_for(scenario: Path | None, env_id: str | None) -> tuple[Callable, str]:
    """The env factory and a short name for output paths, from exactly one of the two sources."""
    if (scenario is None) == (env_id is None):
        raise fail("give a scenario YAML or --env-id, not both and not neither")
    if env_id is not None:
        import gymnasium as gym

        try:
            gym.spec(env_id)
        except gym.error.Error:
            raise fail(f"unknown Gymnasium env id {env_id!r}") from None
        return partial(make_gym_env, env_id), env_id.replace("/", "_")
    if not scenario.is_file():
        raise fail(f"scenario file not found: {scenario}")
    try:
        from bridge.env_factory import make_env
    except ImportError as exc:
        raise fail(f"scenario environments are not available (bridge.env_factory: {exc})") from None
    return partial(make_env, str(scenario)), scenario.stem


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
) -> None:
    """Train the DQN agent; per-episode CSV, checkpoints, Ctrl-C saves and --resume continues."""
    with user_errors():
        from control.dra.config import (
            TrainingConfig,
            load_training_config,
            parse_training_config,
        )
        from control.dra.trainer import train as run_training

        factory, name = env_factory_for(scenario, env_id)
        settings = load_training_config(config) if config is not None else TrainingConfig()
        overrides = {"seed": seed, "checkpoint_every": checkpoint_every, "num_envs": num_envs}
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
    if result.interrupted:
        raise typer.Exit(EXIT_INTERRUPTED)


def evaluate(
    scenario: ScenarioArg = None,
    env_id: EnvIdOption = None,
    agent: Annotated[str, typer.Option("--agent", help=f"One of {', '.join(AGENTS)}.")] = "dqn",
    checkpoint: Annotated[
        Path | None,
        typer.Option("--checkpoint", help="DQN checkpoint file or training run directory."),
    ] = None,
    episodes: Annotated[int, typer.Option("--episodes", min=1, help="Episodes to run.")] = 10,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Per-step Parquet (default runs/eval/NAME-AGENT-seedS.parquet)."
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Evaluation seed.")] = 0,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue an interrupted evaluation.")
    ] = False,
) -> None:
    """Run a policy for N episodes; per-step Parquet and mean metrics with 95% t-intervals."""
    if agent not in AGENTS:
        raise fail(f"--agent must be one of {', '.join(AGENTS)}, got {agent!r}")
    with user_errors():
        from control.dra.evaluator import evaluate as run_evaluation
        from control.dra.policies import make_policy

        factory, name = env_factory_for(scenario, env_id)
        policy = make_policy(agent, checkpoint)
        out_path = out or Path("runs") / "eval" / f"{name}-{agent}-seed{seed}.parquet"
        result = run_evaluation(factory, policy, episodes, out_path, seed=seed, resume=resume)
    _print_summary(result, agent)
    if result.interrupted:
        raise typer.Exit(EXIT_INTERRUPTED)


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
