"""The default (t, n) sharing policy, and MultipathRelay following it (issue 12, "Sharing")."""

from __future__ import annotations

import numpy as np
import pytest

from control.abft import ConfigurationError, Drop, MultipathRelay, disjoint_paths
from control.abft.errors import SharingError
from control.abft.sharing import DEFAULT_PATHS, check_threshold, default_threshold, sharing_for
from tests.abft.test_relay import MAC_KEY, grid


def test_default_threshold_tolerates_one_lost_route_and_no_relay_alone_holds_the_key():
    assert DEFAULT_PATHS == 3
    assert [default_threshold(n) for n in (1, 2, 3, 4)] == [1, 2, 2, 3]
    with pytest.raises(SharingError):
        default_threshold(0)


def test_sharing_falls_back_to_what_the_graph_allows_unless_paths_are_configured():
    assert sharing_for(5, None, None) == (2, 3)
    assert sharing_for(2, None, None) == (2, 2)
    assert sharing_for(1, None, None) == (1, 1)
    assert sharing_for(4, 4, None) == (3, 4)
    assert sharing_for(3, 3, 3) == (3, 3)  # XOR-like n-of-n when asked for
    with pytest.raises(SharingError, match="only 2 node-disjoint routes, 3 asked"):
        sharing_for(2, 3, None)
    with pytest.raises(SharingError, match="allow_single_share_reconstruction"):
        sharing_for(3, None, 1)
    assert sharing_for(3, None, 1, allow_single_share=True) == (1, 3)
    check_threshold(1, 1)  # one path, hop by hop: nothing to refuse
    with pytest.raises(SharingError, match="not in 1..2"):
        check_threshold(3, 2)


def test_multipath_relay_defaults_to_2_of_3_and_survives_one_dropping_relay():
    rng = np.random.default_rng(12)
    key = rng.bytes(32)
    paths = disjoint_paths(grid(), 0, 9, max_paths=3)
    assert len(paths) == 3
    relay = MultipathRelay()
    assert relay.threshold_for(3) == 2
    dropper = paths[1][1]
    result = relay.relay(key, paths, MAC_KEY, b"k", rng, compromised={dropper: Drop()})
    assert result.key == key and result.missing_paths == [1]
    xor = MultipathRelay(scheme="xor").relay(key, paths, MAC_KEY, b"k", rng, {dropper: Drop()})
    assert xor.key is None  # n-of-n: one dropping relay, no key


def test_multipath_relay_refuses_threshold_one_over_several_paths_unless_asked():
    rng = np.random.default_rng(13)
    paths = disjoint_paths(grid(), 0, 9, max_paths=3)
    with pytest.raises(ConfigurationError, match="allow_single_share_reconstruction"):
        MultipathRelay(1).relay(b"k" * 32, paths, MAC_KEY, b"k", rng)
    key = rng.bytes(32)
    assert MultipathRelay(1, allow_single_share=True).relay(key, paths, MAC_KEY, b"k", rng).key
