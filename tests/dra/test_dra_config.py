"""Settings files: defaults from the issue, and one-line errors naming the bad field."""

from __future__ import annotations

from pathlib import Path

import pytest

from control.dra.config import TrainingConfig, load_training_config
from control.dra.errors import DraError


def test_defaults_follow_the_issue() -> None:
    dqn = TrainingConfig().dqn
    assert dqn.learning_rate == 1e-3 and dqn.gamma == 0.99 and dqn.double_dqn
    assert dqn.replay.prioritized and dqn.replay.alpha == 0.6 and dqn.replay.beta_end == 1.0


def test_yaml_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "dqn.yaml"
    path.write_text("dqn:\n  network: {hidden_sizes: [32]}\ntrainer: {num_envs: 4}\n")
    config = load_training_config(path)
    assert config.dqn.network.hidden_sizes == (32,) and config.trainer.num_envs == 4


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("dqn: {learnin_rate: 0.1}", "dqn.learnin_rate: Extra inputs are not permitted"),
        ("dqn: {gamma: 1.5}", "dqn.gamma: Input should be less than 1"),
        ("dqn: {replay: {beta_start: 0.9, beta_end: 0.5}}", "beta_end must be >= beta_start"),
        ("dqn: {exploration: {epsilon_end: 0.9, epsilon_start: 0.1}}", "epsilon_end must be <="),
        ("dqn: {network: {hidden_sizes: [64, 0]}}", "hidden_sizes must be positive"),
        ("trainer: {vectorization: threads}", "trainer.vectorization"),
        ("[1, 2]", "a training config is a YAML mapping"),
        ("dqn: {", "not valid YAML"),
        ("dqn: {gamma: 0.9}\ndqn: {gamma: 0.5}\n", "duplicate key 'dqn' \\(first on line 1\\)"),
    ],
)
def test_bad_files_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(DraError, match=message.replace("[", r"\[")) as raised:
        load_training_config(path)
    assert "\n" not in str(raised.value) and str(path) in str(raised.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DraError, match="no such config file"):
        load_training_config(tmp_path / "absent.yaml")
