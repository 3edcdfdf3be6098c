"""Envs and runs that clean up after themselves, and a watchdog that stops a stalled step
(issue 14): a dropped env frees ns-3, `qkdnet train --num-envs 2` works, a step whose simulated
clock stops ends the process with one line."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import qkdnet_command

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "experiments" / "configs" / "dra-small.yaml"
SMALL_TRAINING = ROOT / "experiments" / "configs" / "training" / "dra-small.yaml"

pytestmark = [pytest.mark.ns3, pytest.mark.timeout(300)]


def _drop_an_env_mid_episode() -> None:
    from bridge.env import QkdNetworkEnv

    env = QkdNetworkEnv(SMALL)
    env.reset(seed=1)
    env.step(0)
    # no close(): the env goes out of scope here, with its ns-3 scenario still running


def test_dropped_env_releases_the_simulator(ns):
    from bridge.env import QkdNetworkEnv

    _drop_an_env_mid_episode()
    env = QkdNetworkEnv(SMALL)  # would raise SimulatorBusyError before issue 14
    try:
        env.reset(seed=2)
        _, reward, *_ = env.step(0)
        assert reward == reward  # a number, not NaN
    finally:
        env.close()


def test_dropped_env_after_gc_collect_releases_the_simulator(ns):
    from bridge.scenario import QkdScenario
    from bridge.scenario.config import load_scenario
    from bridge.scenario.runtime import _live

    _drop_an_env_mid_episode()
    gc.collect()
    assert len(_live) == 0
    with QkdScenario(load_scenario(SMALL), watchdog_s=0) as scenario:
        scenario.step()


def test_open_scenario_still_refuses_a_second(ns):
    from bridge.scenario import QkdScenario
    from bridge.scenario.config import load_scenario
    from bridge.scenario.runtime import SimulatorBusyError

    config = load_scenario(SMALL)
    with QkdScenario(config, watchdog_s=0), pytest.raises(SimulatorBusyError):
        QkdScenario(config, watchdog_s=0)


def test_train_with_two_envs_works_from_the_command_line(tmp_path: Path):
    done = subprocess.run(
        [
            *qkdnet_command(),
            "train",
            str(SMALL),
            "--config",
            str(SMALL_TRAINING),
            "--episodes",
            "2",
            "--num-envs",
            "2",
            "--out",
            str(tmp_path / "run"),
        ],
        capture_output=True,
        text=True,
        timeout=280,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "2 episodes, 40 env steps" in done.stdout


STALL = textwrap.dedent(
    """
    from bridge.scenario import QkdScenario
    from bridge.scenario.config import load_scenario

    scenario = QkdScenario(load_scenario({small!r}), watchdog_s=1.0)
    scenario.step()
    # past validation, on purpose: a frame of 1e6 pulses at 1e300 Hz lasts 0 ns, so ns-3's
    # clock never moves again (what `link.pulse_rate_hz: 1e300` did before issue 14)
    scenario.physics.pulse_rate_hz[:] = 1e300
    scenario.physics._cache = None
    scenario.step()
    print("not reached")
    """
)


def test_watchdog_stops_a_step_whose_clock_stands_still(tmp_path: Path):
    done = subprocess.run(
        [sys.executable, "-c", STALL.format(small=str(SMALL))],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    from bridge.scenario.watchdog import EXIT_WATCHDOG

    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == EXIT_WATCHDOG, done.stderr
    assert "not reached" not in done.stdout
    assert len(lines) == 1, done.stderr
    assert "watchdog" in lines[0] and "dra-small.yaml: step 2 of" in lines[0], lines[0]


def test_watchdog_leaves_a_progressing_step_alone(ns):
    """Steps whose clock moves are not stopped (the limit is far below the default)."""
    from bridge.scenario import QkdScenario
    from bridge.scenario.config import load_scenario

    config = load_scenario(SMALL)
    with QkdScenario(config, watchdog_s=2.0) as scenario:
        for _ in range(5):
            scenario.step()
        assert scenario.step_index == 5
