"""`qkdnet train` / `qkdnet evaluate` with --env-id: the installed console script end to end, and
one-line errors with exit status 2 for bad input."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.conftest import qkdnet_command

TINY = """
dqn:
  network: {hidden_sizes: [16]}
  replay: {capacity: 200, batch_size: 8}
  learning_starts: 20
trainer: {tensorboard: false, progress: false, checkpoint_every: 2}
"""


def _qkdnet(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*qkdnet_command(), *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_train_then_evaluate_on_cartpole(tmp_path: Path) -> None:
    (tmp_path / "tiny.yaml").write_text(TINY)
    trained = _qkdnet(
        "train", "--env-id", "CartPole-v1", "--episodes", "4", "--config", "tiny.yaml",
        "--out", "run", "--seed", "3", cwd=tmp_path,
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    assert "4 episodes" in trained.stdout
    assert len((tmp_path / "run" / "episodes.csv").read_text().splitlines()) == 5
    evaluated = _qkdnet(
        "evaluate", "--env-id", "CartPole-v1", "--agent", "dqn", "--checkpoint", "run",
        "--episodes", "3", "--out", "eval.parquet", cwd=tmp_path,
    )  # fmt: skip
    assert evaluated.returncode == 0, evaluated.stderr
    assert "return" in evaluated.stdout and "95% CI" in evaluated.stdout
    assert pq.read_table(tmp_path / "eval.parquet").column("episode").to_pylist()[-1] == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--env-id", "NoSuchEnv-v0"], "unknown Gymnasium env id 'NoSuchEnv-v0'"),
        (["train"], "give a scenario YAML or --env-id"),
        (["train", "missing.yaml"], "scenario file not found: missing.yaml"),
        (["train", "--env-id", "Pendulum-v1", "--episodes", "1"], "needs a Discrete action"),
        (["evaluate", "--env-id", "CartPole-v1"], "--agent dqn needs --checkpoint"),
        (["evaluate", "--env-id", "CartPole-v1", "--agent", "smart"], "--agent must be one of"),
        (["evaluate", "--env-id", "CartPole-v1", "--agent", "greedy"], "baseline_action"),
    ],
)
def test_bad_input_is_one_line_with_status_2(
    args: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from cli.main import app

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("qkdnet: error:")]
    assert len(errors) == 1 and message in errors[0]


def test_importing_the_commands_stays_light() -> None:
    import sys

    code = "import sys, cli.dra; print('torch' in sys.modules, 'gymnasium' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["False", "False"], done.stderr
