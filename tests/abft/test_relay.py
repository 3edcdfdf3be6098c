"""Multipath key relay with tagged threshold shares, against the single-path baseline."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from control.abft.errors import ConfigurationError, KeyRelayError
from control.abft.relay import (
    Drop,
    MultipathRelay,
    RelayBehaviour,
    Tamper,
    disjoint_paths,
    single_path_relay,
)

MAC_KEY = bytes(range(32))


def grid() -> nx.Graph:
    """Source 0 and destination 9 joined through four disjoint relay chains."""
    g = nx.Graph()
    for chain in ([0, 1, 2, 9], [0, 3, 4, 9], [0, 5, 6, 9], [0, 7, 8, 9]):
        nx.add_path(g, chain)
    g.add_edge(1, 3)
    return g


def test_disjoint_paths_share_no_relay():
    paths = disjoint_paths(grid(), 0, 9)
    assert len(paths) == 4
    relays = [set(p[1:-1]) for p in paths]
    assert all(a.isdisjoint(b) for i, a in enumerate(relays) for b in relays[i + 1 :])
    only_trusted = disjoint_paths(grid(), 0, 9, trusted_links=[(0, 1), (1, 2), (2, 9)])
    assert only_trusted == [[0, 1, 2, 9]]
    with pytest.raises(ConfigurationError, match="no relay"):
        disjoint_paths(grid(), 0, 0)


@pytest.mark.parametrize("bits", [256, 4096])
def test_tampered_share_is_detected_and_key_still_delivered(bits):
    rng = np.random.default_rng(bits)
    key = rng.bytes(bits // 8)
    paths = disjoint_paths(grid(), 0, 9)
    relay = MultipathRelay(threshold=3)
    result = relay.relay(key, paths, MAC_KEY, b"key-1", rng, compromised={4: Tamper()})
    assert result.key == key
    assert result.lying_paths == [paths.index([0, 3, 4, 9])]
    assert result.missing_paths == []


def test_tampering_even_without_touching_the_tag_is_caught():
    rng = np.random.default_rng(3)
    key = rng.bytes(32)
    paths = disjoint_paths(grid(), 0, 9)
    result = MultipathRelay(2).relay(
        key, paths, MAC_KEY, b"k", rng, compromised={2: Tamper(forge_tag=False), 6: Drop()}
    )
    assert result.key == key and len(result.lying_paths) == 1 and len(result.missing_paths) == 1


def test_fewer_than_t_compromised_relays_never_make_the_receiver_accept_a_wrong_key():
    """Whatever t - 1 relays do to their shares, the receiver gets the right key or none."""
    paths = disjoint_paths(grid(), 0, 9)
    relay = MultipathRelay(threshold=3)
    behaviours = [RelayBehaviour(), Tamper(), Tamper(forge_tag=False), Drop()]
    rng = np.random.default_rng(7)
    outcomes = {"right": 0, "refused": 0}
    for trial in range(200):
        key = rng.bytes(32)
        hit = rng.choice([2, 4, 6, 8], size=2, replace=False)  # t - 1 = 2 relays on 2 paths
        compromised = {int(h): behaviours[int(rng.integers(0, 4))] for h in hit}
        result = relay.relay(key, paths, MAC_KEY, trial.to_bytes(4, "big"), rng, compromised)
        assert result.key in (key, None)
        outcomes["right" if result.key == key else "refused"] += 1
    assert outcomes["right"] > 0  # two honest paths + one untouched -> delivered most times


def test_too_many_bad_paths_refuse_the_key_with_the_reason():
    rng = np.random.default_rng(5)
    paths = disjoint_paths(grid(), 0, 9)
    compromised = {2: Tamper(), 4: Tamper()}
    result = MultipathRelay(3).relay(rng.bytes(32), paths, MAC_KEY, b"k", rng, compromised)
    assert result.key is None and "only 2 of 4 shares" in result.failure
    with pytest.raises(KeyRelayError, match="need 3"):
        MultipathRelay(3).relay_or_raise(rng.bytes(32), paths, MAC_KEY, b"k", rng, compromised)


def test_xor_relay_needs_all_paths_honest():
    rng = np.random.default_rng(6)
    key = rng.bytes(32)
    paths = disjoint_paths(grid(), 0, 9)
    assert MultipathRelay(1, scheme="xor").relay(key, paths, MAC_KEY, b"k", rng).key == key
    bad = MultipathRelay(1, scheme="xor").relay(key, paths, MAC_KEY, b"k", rng, {2: Tamper()})
    assert bad.key is None and bad.lying_paths == [0]


def test_baseline_single_path_leaks_and_accepts_a_tampered_key():
    rng = np.random.default_rng(8)
    key = rng.bytes(32)
    path = disjoint_paths(grid(), 0, 9)[0]
    spy = single_path_relay(key, path, rng, compromised={path[1]: RelayBehaviour()})
    assert spy.key == key and spy.observed[path[1]][0].data == key  # the relay read the key
    tampered = single_path_relay(key, path, rng, compromised={path[1]: Tamper()})
    assert tampered.key is not None and tampered.key != key  # accepted, wrong, undetected


def test_relay_refuses_impossible_parameters():
    with pytest.raises(ConfigurationError, match="threshold"):
        MultipathRelay(0)
    with pytest.raises(ConfigurationError, match="scheme"):
        MultipathRelay(2, scheme="rot13")
    with pytest.raises(ConfigurationError, match="cannot carry"):
        MultipathRelay(3).relay(b"k" * 32, [[0, 1, 9]], MAC_KEY, b"k", np.random.default_rng(0))
