"""`qkdnet reproduce --profile quick`: the whole paper experiment at its quick size (slow: about
15 minutes on a 2-core machine), then a rerun after losing some results, which must run only
those."""

from __future__ import annotations

import subprocess

import pandas as pd
import pytest

from tests.conftest import qkdnet_command

pytestmark = [pytest.mark.slow, pytest.mark.ns3]


def test_quick_profile_writes_claims_and_figures_and_resumes(tmp_path):
    out = tmp_path / "repro"
    command = [*qkdnet_command(), "reproduce", "--profile", "quick", "--out", str(out)]
    first = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    assert first.returncode == 0, first.stderr[-3000:]
    claims = (out / "claims.md").read_text()
    for claim in ("95 %", "QBER < 1 %", "99.99 %", "500 episodes", "35 %"):
        assert claim in claims
    assert "| claim | paper | measured" in claims
    for name in (
        "retention_vs_fraction",
        "availability_vs_fraction",
        "delivered_over_time",
        "qber_distribution",
        "training_curve",
    ):
        assert (out / "figures" / f"{name}.png").stat().st_size > 0
        assert (out / "figures" / f"{name}.svg").stat().st_size > 0
    table = pd.read_parquet(out / "results.parquet")
    assert set(table["arm"]) == {"baseline", "abft", "abft+agent"}
    assert set(table["network"]) == {"six-node", "beijing-shanghai", "waxman-50"}

    # lose two results (as a kill would) and rerun: only those two run, the table is the same
    lost = table["task_id"].iloc[[0, -1]].tolist()
    for task_id in lost:
        (out / "sweep" / "tasks" / f"{task_id}.json").unlink()
    second = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "ran 2 of" in second.stdout
    pd.testing.assert_frame_equal(pd.read_parquet(out / "results.parquet"), table)
