"""Replay buffers: ring storage, and prioritized replay's sampling proportions and importance-
sampling weights checked exactly on small cases (Schaul et al. 2015, Algorithm 1: P(i) =
p_i^alpha / sum_k p_k^alpha, w_i = (N P(i))^-beta / max_j w_j)."""

from __future__ import annotations

import numpy as np
import pytest

from control.dra.replay import PrioritizedReplayBuffer, ReplayBuffer


def _fill(buffer: ReplayBuffer, count: int, start: int = 0) -> None:
    ids = np.arange(start, start + count, dtype=np.float32)
    buffer.add(
        obs=np.stack([ids, -ids], axis=1),
        actions=np.arange(start, start + count) % 3,
        rewards=ids,
        next_obs=np.stack([ids + 1, -ids - 1], axis=1),
        terminated=(np.arange(start, start + count) % 2 == 0),
    )


def _per_with_priorities(priorities: list[float], alpha: float = 1.0) -> PrioritizedReplayBuffer:
    """A buffer holding len(priorities) transitions whose stored p^alpha are exactly given.

    With alpha = 1 and epsilon = 0.5, TD errors p - 0.5 give priorities p exactly.
    """
    buffer = PrioritizedReplayBuffer(
        16, obs_dim=2, rng=np.random.default_rng(0), alpha=alpha, priority_epsilon=0.5
    )
    _fill(buffer, len(priorities))
    buffer.update_priorities(np.arange(len(priorities)), np.array(priorities) - 0.5)
    return buffer


def test_ring_buffer_overwrites_the_oldest_and_keeps_fields_aligned() -> None:
    buffer = ReplayBuffer(5, obs_dim=2, rng=np.random.default_rng(1))
    _fill(buffer, 4)
    _fill(buffer, 3, start=4)  # wraps: slots 4, 0, 1 now hold transitions 4, 5, 6
    assert len(buffer) == 5
    batch = buffer.sample(200)
    ids = batch.rewards
    assert set(ids.tolist()) == {2.0, 3.0, 4.0, 5.0, 6.0}
    assert np.array_equal(batch.obs[:, 0], ids) and np.array_equal(batch.next_obs[:, 0], ids + 1)
    assert np.array_equal(batch.actions, ids.astype(np.int64) % 3)
    assert np.array_equal(batch.terminated, (ids % 2 == 0).astype(np.float32))
    assert np.all(batch.weights == 1.0)


def test_stratified_batch_holds_each_transition_in_exact_proportion() -> None:
    # priorities 1, 2, 3, 4 and a batch of 10: each of the 10 strata [k, k+1) lies inside one
    # transition's interval, so every batch has exactly 1, 2, 3, 4 copies whatever the draws
    buffer = _per_with_priorities([1.0, 2.0, 3.0, 4.0])
    for _ in range(5):
        batch = buffer.sample(10, beta=0.5)
        assert np.bincount(batch.indices, minlength=4).tolist() == [1, 2, 3, 4]


def test_probabilities_follow_priority_to_the_alpha() -> None:
    # alpha = 0.5: stored p^alpha of (|TD| + eps) = 4, 16 are 2, 4 -> P = 1/3, 2/3
    buffer = PrioritizedReplayBuffer(8, 2, np.random.default_rng(0), alpha=0.5, priority_epsilon=1)
    _fill(buffer, 2)
    buffer.update_priorities(np.array([0, 1]), np.array([3.0, -15.0]))  # |TD| is used
    assert buffer.probabilities(np.array([0, 1])).tolist() == [1 / 3, 2 / 3]


def test_importance_weights_exact() -> None:
    # P = 0.1, 0.2, 0.3, 0.4 with N = 4: w_i = (N P_i)^-beta / (N P_min)^-beta = (P_i/0.1)^-beta
    buffer = _per_with_priorities([1.0, 2.0, 3.0, 4.0])
    slots = np.arange(4)
    np.testing.assert_allclose(
        buffer.importance_weights(slots, beta=1.0), [1.0, 1 / 2, 1 / 3, 1 / 4], rtol=1e-15
    )
    np.testing.assert_allclose(
        buffer.importance_weights(slots, beta=0.5),
        [1.0, 2**-0.5, 3**-0.5, 0.5],
        rtol=1e-15,
    )
    assert buffer.importance_weights(slots, beta=0.0).tolist() == [1.0, 1.0, 1.0, 1.0]
    batch = buffer.sample(10, beta=1.0)  # what sample() returns is the same, as float32
    np.testing.assert_allclose(batch.weights, 1.0 / (batch.indices + 1.0), rtol=1e-7)


def test_weights_are_normalised_by_the_whole_buffer_not_the_batch() -> None:
    # the smallest priority (1) is not in this batch, yet it sets the normaliser
    buffer = _per_with_priorities([1.0, 8.0, 8.0])
    assert buffer.importance_weights(np.array([1, 2]), beta=1.0).tolist() == [0.125, 0.125]


def test_new_transitions_get_the_largest_priority_seen() -> None:
    buffer = _per_with_priorities([1.0, 6.0])
    assert buffer.max_priority == 6.0
    _fill(buffer, 1, start=2)
    assert buffer.tree.get(np.array([2]))[0] == 6.0
    assert buffer.probabilities(np.array([2]))[0] == 6.0 / 13.0


def test_sampling_frequencies_match_probabilities_over_many_batches() -> None:
    rng = np.random.default_rng(5)
    priorities = rng.integers(1, 20, size=12).astype(float)
    buffer = _per_with_priorities(priorities.tolist())
    counts = np.zeros(12)
    for _ in range(400):
        counts += np.bincount(buffer.sample(32, beta=0.4).indices, minlength=12)
    expected = priorities / priorities.sum() * counts.sum()
    # stratified sampling has lower variance than multinomial: a 4-sigma multinomial bound is loose
    sigma = np.sqrt(expected * (1 - priorities / priorities.sum()))
    assert np.all(np.abs(counts - expected) < 4 * sigma)


@pytest.mark.parametrize("prioritized", [False, True])
def test_state_round_trip_continues_identically(prioritized: bool) -> None:
    def make() -> ReplayBuffer:
        rng = np.random.default_rng(9)
        if prioritized:
            return PrioritizedReplayBuffer(20, 2, rng, alpha=0.6, priority_epsilon=1e-6)
        return ReplayBuffer(20, 2, rng)

    original = make()
    _fill(original, 13)
    first = original.sample(8, beta=0.5)
    original.update_priorities(first.indices, np.linspace(0.1, 3.0, 8))
    copy = make()
    copy.load_state_dict(original.state_dict())
    _fill(original, 9, start=13)
    _fill(copy, 9, start=13)
    a, b = original.sample(16, beta=0.7), copy.sample(16, beta=0.7)
    for field in ("indices", "weights", "obs", "next_obs", "rewards", "actions", "terminated"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field


def test_misuse_is_refused_with_a_message() -> None:
    buffer = PrioritizedReplayBuffer(4, 2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="empty"):
        buffer.sample(2)
    _fill(buffer, 2)
    with pytest.raises(ValueError, match="beta"):
        buffer.importance_weights(np.array([0]), beta=1.5)
    with pytest.raises(ValueError, match="capacity"):
        _fill(buffer, 5)
    other = ReplayBuffer(4, 2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="prioritized"):
        other.load_state_dict(buffer.state_dict())
