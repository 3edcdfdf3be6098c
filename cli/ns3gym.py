"""`qkdnet gym-sim`: run a scenario (or any Gymnasium env) as an ns3-gym simulation.

Top-level imports stay light (typer, stdlib): the command body imports numpy, gymnasium, zmq
and the scenario factory, so `qkdnet --help` stays instant. The same command runs standalone as
`python -m bridge.ns3gym`, which is what `Ns3GymEnv` launches.
"""

from __future__ import annotations

import math
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

PROG = "qkdnet gym-sim"
DEFAULT_PORT = 5555  # ns3-gym's default openGymPort
MAX_TIMEOUT_S = 2_000_000.0  # zmq takes milliseconds as a C int: 2^31 ms is ~24.8 days


def _fail(message: str, code: int = 1) -> typer.Exit:
    """Print a one-line error and return the Exit to raise (code 2: bad usage, 1: failure)."""
    one_line = " ".join(message.split())
    typer.echo(f"{PROG}: error: {one_line}", err=True)
    return typer.Exit(code)


def _pick(name: str, ours: int | None, ns3gym_name: str, theirs: int | None) -> int | None:
    if ours is not None and theirs is not None and ours != theirs:
        raise _fail(f"{name} {ours} and {ns3gym_name} {theirs} disagree; give one", 2)
    return ours if ours is not None else theirs


def gym_sim(
    scenario: Annotated[
        Path | None, typer.Argument(help="Scenario YAML to simulate (or use --env-id).")
    ] = None,
    env_id: Annotated[
        str | None, typer.Option("--env-id", help="Serve a registered Gymnasium env instead.")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option("--port", min=1, max=65535, help=f"Agent's port (default {DEFAULT_PORT})."),
    ] = None,
    open_gym_port: Annotated[
        int | None,
        typer.Option("--openGymPort", min=1, max=65535, help="ns3-gym's spelling of --port."),
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", min=0, help="Seed of the first episode.")
    ] = None,
    sim_seed: Annotated[
        int | None, typer.Option("--simSeed", min=0, help="ns3-gym's spelling of --seed.")
    ] = None,
    timeout_s: Annotated[
        float, typer.Option("--timeout-s", help="Longest wait for the agent, in seconds.")
    ] = 600.0,
    episodes: Annotated[
        int, typer.Option("--episodes", min=0, help="Episodes to serve; 0: until told to stop.")
    ] = 1,
    host: Annotated[str, typer.Option("--host", help="Where the agent listens.")] = "localhost",
) -> None:
    """Run a scenario as the simulation side of the ns3-gym protocol.

    Connects to the agent listening on --port (ns3-gym's Ns3Env or bridge.Ns3GymEnv).
    """
    port = _pick("--port", port, "--openGymPort", open_gym_port) or DEFAULT_PORT
    seed = _pick("--seed", seed, "--simSeed", sim_seed)
    if not (timeout_s > 0 and math.isfinite(timeout_s)):  # zmq's timeout is a C int of ms
        raise _fail(f"--timeout-s must be > 0 and finite, got {timeout_s}", 2)
    if timeout_s > MAX_TIMEOUT_S:
        raise _fail(
            f"--timeout-s must be at most {MAX_TIMEOUT_S:g} s (24 days), got {timeout_s:g}", 2
        )
    if (scenario is None) == (env_id is None):
        raise _fail("give a SCENARIO file or --env-id (one of them)", 2)
    if scenario is not None and not scenario.is_file():
        raise _fail(f"scenario file not found: {scenario}", 2)

    env = _make_env(scenario, env_id, seed)
    # SIGTERM (Ns3GymEnv.close on a stuck simulation) unwinds through `finally`, so the env
    # closes and keeps what it wrote.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    from bridge.ns3gym.errors import Ns3GymError
    from bridge.ns3gym.sim_server import EpisodeSummary, serve

    def report(summary: EpisodeSummary) -> None:
        end = "terminated" if summary.terminated else "truncated"
        typer.echo(
            f"{PROG}: episode {summary.index}: {summary.steps} steps, "
            f"return {summary.return_:.6g} ({end})",
            err=True,
        )

    typer.echo(f"{PROG}: serving to the agent at tcp://{host}:{port}", err=True)
    try:
        result = serve(
            env,
            port,
            seed,
            host=host,
            timeout_s=timeout_s,
            episodes=episodes,
            on_episode_end=report,
        )
    except Ns3GymError as exc:
        raise _fail(str(exc)) from None
    except Exception as exc:  # the env itself failed: one line, not a traceback
        raise _fail(f"the simulation failed: {type(exc).__name__}: {exc}") from None
    finally:
        env.close()
    why = "the agent asked to stop" if result.stopped_by_agent else "all episodes done"
    summary = f"done after {result.episodes} episode(s), {result.steps} steps ({why})"
    typer.echo(f"{PROG}: {summary}", err=True)


def _make_env(scenario: Path | None, env_id: str | None, seed: int | None):
    """Build the env to serve: the scenario's (bridge.env_factory) or a registered Gymnasium id."""
    if env_id is not None:
        import gymnasium as gym

        try:
            return gym.make(env_id)
        except Exception as exc:  # unknown id, missing dependency, bad module:Id
            raise _fail(f"cannot make env {env_id!r}: {exc}") from None
    try:
        from bridge.env_factory import make_env
    except ImportError as exc:
        raise _fail(f"scenario support is not available (bridge.env_factory: {exc})") from None
    try:
        return make_env(str(scenario), seed)
    except Exception as exc:
        raise _fail(f"cannot build scenario {scenario}: {type(exc).__name__}: {exc}") from None


def main() -> None:
    """Entry point of `python -m bridge.ns3gym`."""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command()(gym_sim)
    app(prog_name=PROG)
