"""The `qkdnet` command line.

Each sub-command lives in its own module of this `cli` package (the top layer: it imports the
libraries, they never import it); this file only wires them into one Typer app. Modules
registered here must keep their top-level imports light (typer, stdlib): ns-3 takes
seconds to load and torch is heavy, so they are imported inside the command bodies. That keeps
`qkdnet --help` and argument errors instant.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="qkdnet",
    help="Co-simulator for resilient QKD networks: ns-3 + QKD physics + ABFT + DQN.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    """Attach every sub-command. One line per command; keep the imports light (see module doc)."""
    from cli import demo as demo_cli

    app.command("demo")(demo_cli.demo)
    app.command("build-module")(demo_cli.build_module)

    from cli import run as run_cli

    app.command("run")(run_cli.run)

    from cli import sweep as sweep_cli

    app.command("sweep")(sweep_cli.sweep)

    from cli import reproduce as reproduce_cli

    app.command("reproduce")(reproduce_cli.reproduce)

    from cli import ns3gym as ns3gym_cli

    app.command("gym-sim")(ns3gym_cli.gym_sim)

    from cli import physics as qchannel_cli

    app.command("keyrate")(qchannel_cli.keyrate)
    app.command("fading")(qchannel_cli.fading)

    from cli import dra as dra_cli

    app.command("train")(dra_cli.train)
    app.command("evaluate")(dra_cli.evaluate)
    app.command("curve")(dra_cli.curve)
    app.command("train-sb3")(dra_cli.train_sb3)

    from cli import topology as topology_cli

    app.add_typer(topology_cli.app, name="topologies")

    from cli import kme as kme_cli

    app.command("kme")(kme_cli.kme)


_register()


def main() -> None:
    """Console-script entry: usage errors become one line (`qkdnet: error: ...`), exit 2.

    Click's default prints a usage block and a boxed message; the project rule is one clear line
    naming the problem, so we run Typer in non-standalone mode and format its errors ourselves.
    """
    import sys

    usage_error, abort, exit_ = _click_exceptions()
    try:
        code = app(standalone_mode=False)
    except usage_error as exc:
        ctx = getattr(exc, "ctx", None)
        where = f"{ctx.command_path}: " if ctx is not None else ""
        if type(exc).__name__ == "NoArgsIsHelpError":
            print(exc.format_message(), file=sys.stderr)
            sys.exit(2)
        print(f"qkdnet: error: {where}{exc.format_message()}", file=sys.stderr)
        sys.exit(2)
    except abort:
        print("qkdnet: aborted", file=sys.stderr)
        sys.exit(130)
    except exit_ as exc:
        sys.exit(getattr(exc, "exit_code", 0))
    sys.exit(code if isinstance(code, int) else 0)


def _click_exceptions() -> tuple[type[BaseException], ...]:
    """Typer >= 0.20 vendors click as typer._click; older releases use click itself."""
    try:
        from typer._click.exceptions import UsageError
    except ImportError:  # pragma: no cover - depends on the installed typer
        from click.exceptions import UsageError
    return UsageError, typer.Abort, typer.Exit


if __name__ == "__main__":  # pragma: no cover
    main()
