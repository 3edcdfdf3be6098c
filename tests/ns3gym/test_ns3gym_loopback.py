"""Our agent (`Ns3GymEnv`) driving our simulation (`serve` / `python -m bridge.ns3gym`) over tcp
on 127.0.0.1 gives exactly what driving the env directly gives, for the same seed and actions."""

from __future__ import annotations

import json
import subprocess
import warnings

import gymnasium as gym
import numpy as np
import pytest
from ns3gym_helpers import Background, sim_command
from ns3gym_toy_env import ToyNestedEnv

from bridge.ns3gym import Ns3GymEnv, loopback_env, run_steps, serve
from bridge.ns3gym.errors import Ns3GymError, Ns3GymSpaceError

pytestmark = pytest.mark.timeout(60)


def cartpole_actions(n: int, seed: int) -> list[int]:
    return np.random.default_rng(seed).integers(0, 2, n).tolist()


def direct_episode(env: gym.Env, actions, seed: int | None):
    obs, info = env.reset(seed=seed)
    trace = [(obs, info)]
    for action in actions:
        obs, reward, terminated, truncated, info = env.step(action)
        trace.append((obs, reward, terminated, truncated, info))
        if terminated or truncated:
            break
    return trace


def served_env(make_env, seed: int | None, episodes: int = 1, timeout_s: float = 20.0):
    """An Ns3GymEnv waiting on a free port, and the thread serving make_env() to it."""
    background: list[Background] = []

    def start(port: int) -> None:
        thread = Background(serve, make_env(), port, seed, timeout_s=timeout_s, episodes=episodes)
        thread.start()
        background.append(thread)

    env = Ns3GymEnv(on_bound=start, timeout_s=timeout_s, reuse_sim=episodes != 1)
    return env, background[0]


def test_cartpole_episode_matches_direct_play():
    seed, actions = 11, cartpole_actions(200, 1)
    expected = direct_episode(gym.make("CartPole-v1"), actions, seed)

    env, sim = served_env(lambda: gym.make("CartPole-v1"), seed)
    assert env.observation_space == gym.spaces.Box(-np.inf, np.inf, (4,), np.float32)
    assert env.action_space == gym.spaces.Discrete(2)
    obs, info = env.reset()
    assert obs.dtype == np.float32 and np.array_equal(obs, expected[0][0]) and info == {}
    for action, (exp_obs, exp_reward, exp_term, exp_trunc, _) in zip(
        actions, expected[1:], strict=False
    ):
        obs, reward, terminated, truncated, info = env.step(action)
        assert np.array_equal(obs, exp_obs)
        assert reward == exp_reward  # 1.0 is exact in float32
        assert (terminated, truncated) == (exp_term, exp_trunc)
    assert terminated and not truncated  # CartPole falls: reason GameOver
    with pytest.raises(Ns3GymError, match="episode is over"):
        env.step(0)
    env.close()
    result = sim.outcome()
    assert result.episodes == 1 and result.steps == len(expected) - 1


def test_time_limit_arrives_as_truncation():
    env, sim = served_env(lambda: gym.make("CartPole-v1", max_episode_steps=3), seed=0)
    env.reset()
    outcomes = [env.step(0)[2:4] for _ in range(3)]
    assert outcomes == [(False, False), (False, False), (False, True)]
    env.close()
    sim.outcome()


def test_nested_dict_tuple_spaces_match_direct_play():
    seed = 5
    native = ToyNestedEnv()
    native.action_space.seed(3)
    actions = [native.action_space.sample() for _ in range(6)]
    expected = direct_episode(ToyNestedEnv(), actions, seed)

    env, sim = served_env(ToyNestedEnv, seed)
    obs_space = env.observation_space
    assert set(obs_space.spaces) == {"pos", "count", "pair", "ints", "bits"}
    assert obs_space["count"] == gym.spaces.Discrete(7)  # start -2 stays on the simulation side
    assert obs_space["pos"].dtype == np.float64 and obs_space["pos"].low.min() == -3.0
    assert obs_space["ints"].dtype == np.int32
    assert isinstance(env.action_space[3], gym.spaces.Tuple)  # MultiDiscrete([2, 3])

    def check_obs(got, want):
        assert np.array_equal(got["pos"], want["pos"]) and got["pos"].dtype == np.float64
        assert got["count"] == want["count"] + 2
        assert got["pair"][0] == want["pair"][0]
        assert np.array_equal(got["pair"][1], want["pair"][1])
        assert np.array_equal(got["ints"], want["ints"])
        assert np.array_equal(got["bits"], want["bits"])
        assert obs_space.contains(got)

    obs, info = env.reset()
    check_obs(obs, expected[0][0])
    assert info == {"t": 0}
    for action, (exp_obs, exp_reward, exp_term, exp_trunc, exp_info) in zip(
        actions, expected[1:], strict=True
    ):
        wire_action = (*action[:3], tuple(int(x) for x in action[3]))
        obs, reward, terminated, truncated, info = env.step(wire_action)
        check_obs(obs, exp_obs)
        assert reward == float(np.float32(exp_reward))  # the wire's reward is a float32
        assert (terminated, truncated) == (exp_term, exp_trunc)
        assert info == json.loads(json.dumps(exp_info, default=lambda v: v.tolist()))
    assert terminated
    env.close()
    assert sim.outcome().steps == 6


def test_bad_action_is_refused_before_sending_and_env_stays_usable():
    env, sim = served_env(lambda: gym.make("CartPole-v1"), seed=0)
    env.reset()
    with pytest.raises(Ns3GymSpaceError, match="outside Discrete"):
        env.step(2)
    env.step(1)  # the conversation is intact
    env.close()
    assert sim.outcome().stopped_by_agent


def test_several_episodes_from_one_simulation_continue_its_rng():
    seed = 21
    direct = gym.make("CartPole-v1")
    env, sim = served_env(lambda: gym.make("CartPole-v1"), seed, episodes=0)
    for episode in range(3):
        want_obs, _ = direct.reset(seed=seed if episode == 0 else None)
        obs, _ = env.reset()
        assert np.array_equal(obs, want_obs)
        done = False
        while not done:
            obs, _, terminated, truncated, _ = env.step(0)
            want_obs, _, want_term, want_trunc, _ = direct.step(0)
            assert np.array_equal(obs, want_obs) and (terminated, truncated) == (
                want_term,
                want_trunc,
            )
            done = terminated or truncated
    env.close()
    result = sim.outcome()
    assert result.episodes == 3 and result.stopped_by_agent


def test_launched_simulation_reset_semantics():
    direct = gym.make("CartPole-v1")
    env = Ns3GymEnv(env_id="CartPole-v1", seed=4, timeout_s=20)
    try:
        first_pid = env.sim_pid
        obs, _ = env.reset(seed=4)  # the constructor's simulation already has seed 4
        assert env.sim_pid == first_pid
        assert np.array_equal(obs, direct.reset(seed=4)[0])
        while not any(env.step(1)[2:4]):
            pass
        obs, _ = env.reset()  # next episode from the same process, its RNG continued
        assert env.sim_pid == first_pid
        assert np.array_equal(obs, direct.reset()[0])
        env.step(0)
        obs, _ = env.reset(seed=9)  # explicit seed: a fresh process with --seed 9
        assert env.sim_pid != first_pid
        assert np.array_equal(obs, direct.reset(seed=9)[0])
    finally:
        env.close()


def test_reset_sequence_is_reproducible_from_the_first_seed():
    """A mid-episode reset() relaunches with a seed drawn from np_random: same in both runs."""

    def run() -> list[np.ndarray]:
        env = Ns3GymEnv(env_id="CartPole-v1", seed=2, timeout_s=20)
        try:
            seen = [env.reset(seed=2)[0]]
            env.step(0)
            seen.append(env.reset()[0])
            return seen
        finally:
            env.close()

    first, second = run(), run()
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    assert not np.array_equal(first[0], first[1])


def test_gymnasium_env_checker_accepts_the_wire_env():
    from gymnasium.utils.env_checker import check_env

    env = Ns3GymEnv(env_id="CartPole-v1", seed=0, timeout_s=20)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # CartPole's unbounded box, no render modes
            check_env(env, skip_render_check=True)
    finally:
        env.close()


def test_close_mid_episode_stops_the_launched_simulation_cleanly(tmp_path):
    log = tmp_path / "sim.log"
    env = Ns3GymEnv(env_id="CartPole-v1", seed=0, timeout_s=20, sim_log=log)
    env.reset()
    env.step(0)
    env.close()
    assert log.read_text().splitlines()[-1] == (
        "qkdnet gym-sim: done after 0 episode(s), 1 steps (the agent asked to stop)"
    )
    with pytest.raises(Ns3GymError, match="no longer usable"):
        env.reset()


def test_external_simulation_serving_several_episodes(tmp_path):
    processes: list[subprocess.Popen] = []
    log = tmp_path / "sim.log"

    def start(port: int) -> None:
        args = ["--env-id", "CartPole-v1", "--port", str(port), "--seed", "6", "--episodes", "2"]
        cmd = sim_command(*args)
        processes.append(subprocess.Popen(cmd, stderr=log.open("w")))

    direct = gym.make("CartPole-v1")
    env = Ns3GymEnv(on_bound=start, reuse_sim=True, timeout_s=20)
    try:
        with pytest.warns(UserWarning, match="external simulation chooses its own seed"):
            obs, _ = env.reset(seed=6)
        assert np.array_equal(obs, direct.reset(seed=6)[0])
        while not any(env.step(1)[2:4]):
            direct.step(1)
        obs, _ = env.reset()
        assert np.array_equal(obs, direct.reset()[0])
        while not any(env.step(0)[2:4]):
            pass
    finally:
        env.close()
    assert processes[0].wait(20) == 0
    assert "done after 2 episode(s)" in log.read_text()


def test_loopback_helpers_time_the_same_work_as_the_direct_env():
    direct = run_steps(gym.make("CartPole-v1"), 300, seed=1)
    with loopback_env(env_id="CartPole-v1", seed=1) as env:
        wire = run_steps(env, 300, seed=1)
    with loopback_env(make_env=lambda: gym.make("CartPole-v1"), seed=1) as env:
        threaded = run_steps(env, 300, seed=1)
    assert direct.steps == wire.steps == threaded.steps == 300
    assert direct.episodes == wire.episodes == threaded.episodes > 0  # identical trajectories
    assert wire.seconds > 0 and threaded.seconds > 0


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_stable_baselines3_dqn_trains_over_the_wire():
    from stable_baselines3 import DQN
    from stable_baselines3.common.env_checker import check_env

    with loopback_env(env_id="CartPole-v1", seed=0) as env:
        check_env(env, warn=False)
        model = DQN("MlpPolicy", env, learning_starts=100, seed=0, verbose=0)
        model.learn(2_000)
        assert model.num_timesteps == 2_000


def test_any_simulation_command_gets_the_ns3gym_launch_arguments():
    """A list sim_cmd is started like ns3-gym starts ns-3 (…--openGymPort=P --simSeed=S); without
    reuse_sim every episode is a new process, as in ns3-gym."""
    direct = gym.make("CartPole-v1")
    env = Ns3GymEnv(sim_cmd=sim_command("--env-id", "CartPole-v1"), seed=12, timeout_s=20)
    try:
        obs, _ = env.reset(seed=12)
        assert np.array_equal(obs, direct.reset(seed=12)[0])
        first_pid = env.sim_pid
        while not any(env.step(0)[2:4]):
            pass
        env.reset()
        assert env.sim_pid != first_pid
    finally:
        env.close()

    calls = []

    def build(port: int, seed: int | None) -> list[str]:
        calls.append(seed)
        return sim_command("--env-id", "CartPole-v1", "--port", str(port), "--seed", str(seed))

    env = Ns3GymEnv(sim_cmd=build, seed=3, timeout_s=20)
    try:
        assert np.array_equal(env.reset()[0], direct.reset(seed=3)[0]) and calls == [3]
    finally:
        env.close()
