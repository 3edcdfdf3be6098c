"""Training runs: a resumed run equals an uninterrupted one bit for bit (episode CSV and every
tensor, buffer slot and generator state), whether it stopped between episodes, by Ctrl-C in the
middle of an episode, or with several sub-environments; and bad use is refused clearly."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import pytest
from dra_helpers import (
    SigintAfter,
    assert_same_state,
    cartpole,
    final_state,
    interrupting_cartpole,
    tiny_config,
    unseeded_interrupting_cartpole,
)

from control.dra.checkpoint import list_checkpoints, load_checkpoint
from control.dra.errors import CheckpointError, RunDirectoryError, UnsupportedEnvError
from control.dra.trainer import train

EPISODES = 10


@pytest.fixture(autouse=True)
def _disarm_sigint() -> None:
    SigintAfter.remaining, SigintAfter.mid_episode = None, False
    yield
    SigintAfter.remaining, SigintAfter.mid_episode = None, False


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("uninterrupted")
    return train(cartpole, tiny_config(), out, EPISODES)


@pytest.fixture(scope="module")
def uninterrupted_two_envs(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("uninterrupted2")
    return train(cartpole, tiny_config(num_envs=2), out, EPISODES)


def _assert_same_run(a, b) -> None:
    assert a.csv_path.read_bytes() == b.csv_path.read_bytes()
    assert (a.episodes_done, a.env_steps, a.grad_steps) == (
        b.episodes_done,
        b.env_steps,
        b.grad_steps,
    )
    assert_same_state(final_state(a), final_state(b))


def test_the_run_learns_and_logs_every_episode(uninterrupted) -> None:
    lines = uninterrupted.csv_path.read_text().splitlines()
    assert lines[0].startswith("episode,seed,return,length,env_steps,grad_steps")
    assert len(lines) == EPISODES + 1
    assert uninterrupted.grad_steps > 0 and not uninterrupted.interrupted
    state = final_state(uninterrupted)
    assert state["replay"]["size"] == 150  # capacity reached: the ring wrapped
    assert state["counters"]["next_target_sync"] > 40  # the target net was synced
    assert state["round"] is None


def test_resume_between_episodes_equals_uninterrupted(uninterrupted, tmp_path: Path) -> None:
    first = train(cartpole, tiny_config(), tmp_path, 3)
    assert first.episodes_done == 3
    resumed = train(cartpole, tiny_config(), tmp_path, EPISODES, resume=True)
    _assert_same_run(resumed, uninterrupted)


def test_ctrl_c_mid_episode_saves_and_resume_equals_uninterrupted(uninterrupted, tmp_path: Path):
    SigintAfter.remaining = 57  # a real SIGINT to this process during the 57th env step
    stopped = train(interrupting_cartpole, tiny_config(), tmp_path, EPISODES)
    assert stopped.interrupted and stopped.episodes_done < EPISODES
    assert load_checkpoint(stopped.checkpoint)["round"] is not None  # really mid-episode
    resumed = train(interrupting_cartpole, tiny_config(), tmp_path, EPISODES, resume=True)
    _assert_same_run(resumed, uninterrupted)


def test_vector_env_interrupted_mid_round_resumes_identically(uninterrupted_two_envs, tmp_path):
    SigintAfter.remaining = 45  # counts steps of both sub-environments
    stopped = train(interrupting_cartpole, tiny_config(num_envs=2), tmp_path, EPISODES)
    assert stopped.interrupted
    assert load_checkpoint(stopped.checkpoint)["round"] is not None
    resumed = train(interrupting_cartpole, tiny_config(num_envs=2), tmp_path, EPISODES, resume=True)
    _assert_same_run(resumed, uninterrupted_two_envs)


def test_async_sub_environments_give_the_same_run_as_sync(uninterrupted_two_envs, tmp_path):
    config = tiny_config(num_envs=2, vectorization="async", async_start_method="fork")
    hosted = train(cartpole, config, tmp_path, EPISODES)
    assert hosted.csv_path.read_bytes() == uninterrupted_two_envs.csv_path.read_bytes()
    sync_state, async_state = final_state(uninterrupted_two_envs), final_state(hosted)
    for part in ("agent", "replay", "counters", "global_rng"):
        assert_same_state(async_state[part], sync_state[part], part)


def test_episode_count_rounds_up_to_whole_rounds(tmp_path: Path) -> None:
    result = train(cartpole, tiny_config(num_envs=3), tmp_path, 4)
    assert result.episodes_done == 6
    assert len(result.csv_path.read_text().splitlines()) == 7


def test_checkpoints_are_periodic_and_pruned(tmp_path: Path) -> None:
    train(cartpole, tiny_config(checkpoint_every=2, keep_checkpoints=2), tmp_path, 7)
    names = [path.name for path in list_checkpoints(tmp_path / "checkpoints")]
    assert len(names) == 2 and names[-1].startswith("ckpt-ep00000007")
    assert names[0].startswith("ckpt-ep00000006")


def test_nondeterministic_env_cannot_be_resumed_mid_episode(tmp_path: Path) -> None:
    SigintAfter.remaining, SigintAfter.mid_episode = 30, True  # episode lengths are random here
    stopped = train(unseeded_interrupting_cartpole, tiny_config(), tmp_path, EPISODES)
    assert stopped.interrupted
    assert load_checkpoint(stopped.checkpoint)["round"] is not None  # really mid-episode
    with pytest.raises(CheckpointError, match="not deterministic"):
        train(unseeded_interrupting_cartpole, tiny_config(), tmp_path, EPISODES, resume=True)


def test_existing_run_is_not_overwritten(uninterrupted) -> None:
    before = uninterrupted.csv_path.read_bytes()
    with pytest.raises(RunDirectoryError, match="already holds a training run"):
        train(cartpole, tiny_config(), uninterrupted.csv_path.parent, EPISODES)
    assert uninterrupted.csv_path.read_bytes() == before


def test_resume_with_other_settings_names_them(tmp_path: Path) -> None:
    train(cartpole, tiny_config(), tmp_path, 2)
    other = tiny_config(seed=5)
    with pytest.raises(CheckpointError, match="seed"):
        train(cartpole, other, tmp_path, 4, resume=True)


def test_unsupported_spaces_are_refused_before_training(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedEnvError, match="Discrete action space, got Box"):
        train(lambda seed: gym.make("Pendulum-v1"), tiny_config(), tmp_path, 1)
    with pytest.raises(UnsupportedEnvError, match="Box observation space, got Discrete"):
        train(lambda seed: gym.make("FrozenLake-v1"), tiny_config(), tmp_path / "b", 1)
    assert not (tmp_path / "episodes.csv").exists()


def test_tensorboard_events_are_written_when_enabled(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    train(cartpole, tiny_config(tensorboard=True), tmp_path, 2)
    assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))


def test_env_step_budget_stops_after_the_round_that_reaches_it(tmp_path: Path) -> None:
    result = train(cartpole, tiny_config(), tmp_path, 10_000, max_env_steps=150)
    assert not result.interrupted and result.env_steps >= 150
    lengths = [int(line.split(",")[3]) for line in result.csv_path.read_text().splitlines()[1:]]
    assert sum(lengths) == result.env_steps and result.env_steps - lengths[-1] < 150


def test_the_callers_sigint_handler_is_restored(tmp_path: Path) -> None:
    import signal

    before = signal.getsignal(signal.SIGINT)
    train(cartpole, tiny_config(), tmp_path, 1)
    assert signal.getsignal(signal.SIGINT) is before
