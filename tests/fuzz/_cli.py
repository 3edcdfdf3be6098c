"""Run the real `qkdnet` command line in this process or in a child, and keep what it printed.

Why both: in-process runs cost milliseconds, so the whole corpus stays fast; a child process is
the only way to show that a case which used to kill ns-3 natively (a floating-point exception,
an NS_FATAL abort) now ends with one line and a normal exit status.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import qkdnet_command

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Outcome:
    code: int
    stderr: str

    @property
    def lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def run_in_process(args: list[str], capsys) -> Outcome:
    """`qkdnet ARGS` through the console script's entry point, in this process."""
    from cli.main import main

    saved = sys.argv
    sys.argv = ["qkdnet", *args]
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.argv = saved
    return Outcome(code, capsys.readouterr().err)


def run_child(args: list[str], timeout_s: float, env: dict[str, str] | None = None) -> Outcome:
    """`qkdnet ARGS` as a child process (killed, and the test failed, after `timeout_s`)."""
    done = subprocess.run(
        [*qkdnet_command(), *args],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        cwd=REPO,
        env=env,
    )
    return Outcome(done.returncode, done.stderr)


def assert_one_line(outcome: Outcome, *fragments: str) -> str:
    """Exit status != 0, exactly one line on stderr, naming every fragment."""
    assert outcome.code != 0, outcome.stderr
    assert len(outcome.lines) == 1, outcome.stderr
    line = outcome.lines[0]
    assert line.startswith("qkdnet"), line
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    return line
