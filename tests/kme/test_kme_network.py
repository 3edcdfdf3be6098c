"""The key bytes behind the counters: what ns-3 hands to the KMEs each step is exactly the key
its demands served (count and bits agree with the unchanged counters), never a key that was
rebuilt wrong, and the same seed gives the same bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from kme.network import KeyDeliveryNetwork, sae_directory
from tests.kme._service import chain_config

pytestmark = pytest.mark.ns3


def _run(config, steps: int) -> tuple[list[tuple[int, int, bytes]], KeyDeliveryNetwork]:
    records = []
    with KeyDeliveryNetwork(config) as network:
        for _ in range(steps):
            network.scenario.step()
            records.extend(network.take_delivered_keys())
        return records, network


def test_delivered_bytes_match_served_counters_and_repeat(tmp_path: Path) -> None:
    config = chain_config(tmp_path, steps=15)
    records, network = _run(config, 15)
    demands = network.scenario.runtime.demand_frame()
    for demand in (0, 1):  # relayed N0 -> N2, direct N0 -> N1
        mine = [key for d, _, key in records if d == demand]
        assert len(mine) == demands.served[demand] > 0
        assert 8 * sum(len(key) for key in mine) == demands.delivered_bits[demand]
        ids = [key_id for d, key_id, _ in records if d == demand]
        assert ids == sorted(set(ids))
    again, _ = _run(config, 15)
    assert again == records  # same seed, same key bytes


def test_keys_rebuilt_wrong_never_reach_the_store(tmp_path: Path) -> None:
    """Without share authentication the destination accepts keys a tampering relay corrupted
    (the model counts them as `corrupted`); the end-to-end confirmation keeps them out."""
    config = chain_config(
        tmp_path,
        steps=12,
        demands=[
            {
                "src": "N0",
                "dst": "N2",
                "rate_bps": 20_000,
                "routing": {"authenticate": False},
                "saes": ["sae-a", "sae-c"],
            }
        ],
        byzantine={"nodes": ["N1"], "behaviour": {"onset_s": 0.5, "tamper": 1.0}},
    )
    records, network = _run(config, 12)
    demands = network.scenario.runtime.demand_frame()
    assert demands.corrupted[0] > 0 and demands.served[0] > 0
    assert len(records) == demands.served[0]  # only the keys that arrived right


def test_sae_names_default_and_conflicts(tmp_path: Path) -> None:
    from bridge.scenario import load_plan

    config = chain_config(tmp_path, demands=[{"src": "N0", "dst": "N2", "rate_bps": 1000}], steps=2)
    directory = sae_directory(config, load_plan(config))
    assert set(directory.saes) == {"sae-N0", "sae-N2"}
    assert directory.saes["sae-N2"].kme_id == "N2"
    assert set(directory.kmes) == {"N0", "N1", "N2"}
    clash = chain_config(
        tmp_path,
        steps=2,
        demands=[
            {"src": "N0", "dst": "N2", "rate_bps": 1000, "saes": ["x", "y"]},
            {"src": "N1", "dst": "N2", "rate_bps": 1000, "saes": ["x", "z"]},
        ],
    )
    with pytest.raises(ValueError, match="'x' is attached to both N0 and N1"):
        sae_directory(clash, load_plan(clash))
