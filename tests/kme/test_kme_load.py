"""A short, bounded version of the load test (the minute-long one: benchmarks/bench_kme_load.py
and the slow test below): concurrent SAEs over HTTPS on 127.0.0.1, every key checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from kme.loadtest import run_load_scenario

pytestmark = pytest.mark.ns3


def _check(duration_s: float, tmp_path: Path, **options) -> None:
    report, simulated_s = run_load_scenario(tmp_path, duration_s=duration_s, **options)
    for line in report.lines():
        print(line)  # p99 latency, shown with -s
    assert report.workers == 12 * options.get("workers_per_pair", 1)  # 6 pairs, both ways
    assert report.keys > 0
    assert report.errors == []
    assert report.duplicate_ids == 0 and report.duplicate_keys == 0
    assert report.mismatches == 0
    assert report.lost_bytes == 0
    assert simulated_s > 0


def test_short_load_no_key_duplicated_or_lost(tmp_path: Path) -> None:
    _check(3.0, tmp_path)


@pytest.mark.slow
def test_minute_load_no_key_duplicated_or_lost(tmp_path: Path) -> None:
    _check(60.0, tmp_path, workers_per_pair=2)
