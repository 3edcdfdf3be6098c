"""The paper's metrics (experiments/metrics.py) on small hand-made run tables written as Parquet.

Every expected value below is worked out by hand from the rows in the test, so a change of a
definition (window, reference, pooling) shows up here.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from bridge.scenario.metrics import read_run
from experiments.metrics import (
    Availability,
    FluctuationRule,
    MetricWindow,
    active_byzantine_nodes,
    add_retention,
    authentication_key,
    availability,
    delivered_bits,
    honest_links,
    mean_interval,
    pooled_qber,
    qber_variance_in_fluctuation,
    retention,
    task_metrics,
    window_mask,
)

STEP_S = 0.1


def write_run(root: Path, tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Write tables as a run directory (one Parquet part each) and read them back."""
    root.mkdir(parents=True)
    files = [f"{name}/part-00000.parquet" for name in tables]
    manifest = {"complete": True, "steps_written": 0, "files": files}
    (root / "manifest.json").write_text(json.dumps(manifest))
    for name, frame in tables.items():
        (root / name).mkdir()
        frame.to_parquet(root / name / "part-00000.parquet", index=False)
    return read_run(root)


def demand_rows(
    delivered_per_step: list[float], served: list[int], requests: list[int]
) -> pd.DataFrame:
    """One demand's cumulative counters from per-step amounts (steps 1..n)."""
    rows, total_d, total_s, total_r = [], 0.0, 0, 0
    for i, (d, s, r) in enumerate(zip(delivered_per_step, served, requests, strict=True), start=1):
        total_d, total_s, total_r = total_d + d, total_s + s, total_r + r
        rows.append(
            {
                "step": i,
                "demand": 0,
                "time_s": round(i * STEP_S, 10),
                "delivered_bits": total_d,
                "served": float(total_s),
                "requests": float(total_r),
                "auth_key_bits": 10.0 * i,
            }
        )
    return pd.DataFrame(rows)


def link_rows(per_link: dict[int, list[tuple[float, float, float, float]]]) -> pd.DataFrame:
    """Links' cumulative counters from per-step (sifted, errors, loss_db, pulse_rate_hz)."""
    rows = []
    for link, steps in per_link.items():
        sifted = errors = 0.0
        for i, (s, e, loss, rate) in enumerate(steps, start=1):
            sifted, errors = sifted + s, errors + e
            rows.append(
                {
                    "step": i,
                    "link": link,
                    "time_s": round(i * STEP_S, 10),
                    "sifted_bits": sifted,
                    "error_bits": errors,
                    "loss_db": loss,
                    "pulse_rate_hz": rate,
                    "auth_a_bits": 64.0 * i,
                    "auth_b_bits": 64.0 * i,
                    "secret_bits": 100.0 * i,
                }
            )
    # shuffled on purpose: the metrics must not depend on row order
    return pd.DataFrame(rows).sample(frac=1.0, random_state=3).reset_index(drop=True)


def test_delivered_key_window_excludes_warmup_and_steps_before_onset(tmp_path):
    # steps 1..6 deliver 1, 2, 4, 8, 16, 32 bits; warm-up 1 step; onset at 0.3 s: steps that
    # start at or after 0.3 s are 4, 5, 6 (step 3 runs 0.2-0.3 s, before the onset)
    tables = write_run(
        tmp_path / "r", {"demands": demand_rows([1, 2, 4, 8, 16, 32], [1] * 6, [1] * 6)}
    )
    window = MetricWindow(step_s=STEP_S, warmup_steps=1, onset_s=0.3)
    assert delivered_bits(tables["demands"], window, after_onset=True) == 8 + 16 + 32
    assert delivered_bits(tables["demands"], window, after_onset=False) == 2 + 4 + 8 + 16 + 32


def test_onset_inside_a_step_leaves_that_step_out(tmp_path):
    tables = write_run(tmp_path / "r", {"demands": demand_rows([1, 2, 4, 8], [1] * 4, [1] * 4)})
    window = MetricWindow(step_s=STEP_S, warmup_steps=0, onset_s=0.25)  # inside step 3 (0.2-0.3)
    assert delivered_bits(tables["demands"], window, after_onset=True) == 8


def test_retention_is_against_the_no_byzantine_run_not_the_pre_onset_window():
    assert retention(45.0, 50.0) == pytest.approx(0.9)
    assert math.isnan(retention(5.0, 0.0))


def test_add_retention_pairs_same_cell_and_seed_with_fraction_zero():
    table = pd.DataFrame(
        {
            "control.mode": ["abft", "abft", "abft", "abft", "baseline", "baseline"],
            "byzantine.fraction": [0.0, 0.2, 0.0, 0.2, 0.0, 0.2],
            "seed": [1, 1, 2, 2, 1, 1],
            "delivered_bits_after_onset": [100.0, 95.0, 200.0, 150.0, 100.0, 40.0],
        }
    )
    out = add_retention(table, ["control.mode", "byzantine.fraction"], "byzantine.fraction")
    assert out["retention"].tolist() == pytest.approx([1.0, 0.95, 1.0, 0.75, 1.0, 0.4])
    assert out["reference_delivered_bits"].tolist() == [100.0, 100.0, 200.0, 200.0, 100.0, 100.0]


def test_add_retention_without_reference_gives_nan():
    table = pd.DataFrame(
        {"byzantine.fraction": [0.2], "seed": [1], "delivered_bits_after_onset": [10.0]}
    )
    out = add_retention(table, ["byzantine.fraction"], "byzantine.fraction")
    assert math.isnan(out["retention"].iloc[0])


def test_availability_is_served_over_requested_demand_time_with_its_resolution(tmp_path):
    # 10 steps x 1000 requests (a 0.1 ms demand interval); one request unserved in step 7,
    # and the first (warm-up) step serves nothing
    served = [0] + [1000] * 5 + [999] + [1000] * 3
    tables = write_run(tmp_path / "r", {"demands": demand_rows([0] * 10, served, [1000] * 10)})
    window = MetricWindow(step_s=STEP_S, warmup_steps=1)
    result = availability(tables["demands"], window, after_onset=False)
    assert result == Availability(served=8999.0, requests=9000.0)
    assert result.value == pytest.approx(0.99988888)
    assert result.resolution == pytest.approx(1 / 9000)
    with_warmup = availability(tables["demands"], MetricWindow(step_s=STEP_S), after_onset=False)
    assert with_warmup.value == pytest.approx(8999 / 10000)


def test_availability_without_requests_is_nan():
    assert math.isnan(Availability(0.0, 0.0).value)


def test_pooled_qber_over_honest_and_all_links(tmp_path):
    # link 0 (honest): 1000 sifted, 30 errors per step; link 1 (a Byzantine end): 500 / 100
    steps0 = [(1000.0, 30.0, 5.0, 1e9)] * 3
    steps1 = [(500.0, 100.0, 5.0, 1e9)] * 3
    tables = write_run(tmp_path / "r", {"links": link_rows({0: steps0, 1: steps1})})
    links = tables["links"]
    window = MetricWindow(step_s=STEP_S, warmup_steps=1)
    honest = honest_links(links, {0: (0, 1), 1: (1, 2)}, byzantine=[2])
    assert honest == [0]
    assert pooled_qber(links, window, after_onset=False, only=honest) == pytest.approx(0.03)
    assert pooled_qber(links, window, after_onset=False) == pytest.approx(260 / 3000)


def test_qber_variance_uses_only_fluctuation_steps_per_link(tmp_path):
    # link 0: loss 5 dB except steps 3 and 4 (6 dB and 7 dB): those two are its fluctuation
    # steps, QBER 0.02 and 0.04 there -> variance 1e-4. Link 1 never moves: no fluctuation step.
    steps0 = [
        (1000.0, 30.0, 5.0, 1e9),
        (1000.0, 30.0, 5.0, 1e9),
        (1000.0, 20.0, 6.0, 1e9),
        (1000.0, 40.0, 7.0, 1e9),
        (1000.0, 30.0, 5.0, 1e9),
    ]
    steps1 = [(1000.0, 10.0, 3.0, 1e9)] * 5
    tables = write_run(tmp_path / "r", {"links": link_rows({0: steps0, 1: steps1})})
    window = MetricWindow(step_s=STEP_S, warmup_steps=0)
    variance, counted = qber_variance_in_fluctuation(
        tables["links"], window, FluctuationRule(0.1, 0.05)
    )
    assert counted == 1
    assert variance == pytest.approx(1e-4)


def test_source_rate_drift_counts_as_fluctuation(tmp_path):
    steps = [(1000.0, 30.0, 5.0, 1e9)] * 3 + [(500.0, 10.0, 5.0, 0.5e9), (500.0, 20.0, 5.0, 0.5e9)]
    tables = write_run(tmp_path / "r", {"links": link_rows({0: steps})})
    variance, counted = qber_variance_in_fluctuation(
        tables["links"], MetricWindow(step_s=STEP_S), FluctuationRule(0.1, 0.05)
    )
    assert counted == 1
    assert variance == pytest.approx(((0.02 - 0.03) ** 2 + (0.04 - 0.03) ** 2) / 2)


def test_authentication_key_counts_both_link_ends_and_relay_tags(tmp_path):
    tables = write_run(
        tmp_path / "r",
        {
            "links": link_rows({0: [(1.0, 0.0, 5.0, 1e9)] * 4}),
            "demands": demand_rows([0] * 4, [1] * 4, [1] * 4),
        },
    )
    auth = authentication_key(tables["links"], tables["demands"], MetricWindow(STEP_S, 1))
    assert auth.post_processing_bits == 3 * 2 * 64  # steps 2..4, both ends, 64 bits each
    assert auth.relay_bits == 3 * 10
    assert auth.total_bits == 384 + 30


def test_active_byzantine_nodes_from_the_nodes_table(tmp_path):
    nodes = pd.DataFrame(
        {
            "step": [1, 1, 1, 2, 2, 2],
            "node": [0, 1, 2, 0, 1, 2],
            "time_s": [0.1] * 3 + [0.2] * 3,
            "byzantine_active": [0.0, 0.0, 0.0, 0.0, 1.0, 0.0],
        }
    )
    tables = write_run(tmp_path / "r", {"nodes": nodes})
    assert active_byzantine_nodes(tables["nodes"]) == [1]


def test_task_metrics_puts_it_together(tmp_path):
    tables = write_run(
        tmp_path / "r",
        {
            "links": link_rows({0: [(1000.0, 30.0, 5.0, 1e9)] * 4}),
            "demands": demand_rows([5, 5, 5, 5], [1, 1, 1, 0], [1, 1, 1, 1]),
            "nodes": pd.DataFrame(
                {"step": [1], "node": [0], "time_s": [0.1], "byzantine_active": [0.0]}
            ),
        },
    )
    window = MetricWindow(step_s=STEP_S, warmup_steps=1, onset_s=0.2)
    m = task_metrics(tables, window, {0: (0, 1)}, byzantine=[])
    assert m.delivered_bits_after_onset == 10.0  # steps 3 and 4
    assert m.availability == pytest.approx(2 / 3)
    assert m.availability_after_onset == pytest.approx(1 / 2)
    assert m.qber_honest == pytest.approx(0.03)
    assert m.window_after_onset_s == pytest.approx(0.2)
    assert m.byzantine_active_count == 0


def test_window_mask_tolerates_float_step_ends():
    frame = pd.DataFrame({"step": [3], "time_s": [0.30000000000000004 + 0.1 - 1e-12]})
    assert window_mask(frame, MetricWindow(STEP_S, 0, 0.3), after_onset=True).all()


def test_mean_interval_is_a_student_t_interval():
    mean, low, high, n = mean_interval([1.0, 2.0, 3.0])
    assert (mean, n) == (2.0, 3)
    # t_{0.975, 2} = 4.302653; sem = 1 / sqrt(3)
    assert high - mean == pytest.approx(4.302653 / math.sqrt(3), rel=1e-5)
    assert low == pytest.approx(2 * mean - high)
    assert mean_interval([float("nan"), 4.0])[3] == 1
