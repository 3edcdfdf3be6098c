"""MetricsRecorder writes the same tables from numpy columns as from pandas frames.

The recorder buffers columns in preallocated arrays (bridge/scenario/metrics.py); a run read back
must be what recording the frames of the same steps gives, across chunk boundaries and when a
column's dtype widens between steps (then a new buffer starts, and nothing is truncated).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bridge.scenario.metrics import MetricsRecorder, read_run


def _steps(n_steps: int, rows: int) -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(3)
    out = []
    for step in range(n_steps):
        counts = rng.integers(0, 1000, rows)
        out.append(
            {
                "link": np.arange(rows, dtype=np.int64),
                "time_s": np.full(rows, 0.1 * (step + 1)),
                # integer for a few steps, then fractional: the column must widen, not truncate
                "value": counts if step < 3 else counts + 0.5,
                "trusted": counts % 2 == 0,
                "protocol_name": np.array(["bb84-decoy", "mdi"] * (rows // 2)),
            }
        )
    return out


def test_columns_and_frames_give_the_same_run(tmp_path):
    steps = _steps(7, 4)
    by_columns = MetricsRecorder(tmp_path / "columns", metadata={}, flush_every=3)
    by_frames = MetricsRecorder(tmp_path / "frames", metadata={}, flush_every=3)
    pandas_way = []  # what the recorder wrote before it buffered columns: frames, concatenated
    for step, columns in enumerate(steps):
        by_columns.record(step, {"links": columns})
        frame = pd.DataFrame({k: v for k, v in columns.items() if k != "link"})
        frame.index.name = "link"
        by_frames.record(step, {"links": frame})
        flat = frame.reset_index()
        flat.insert(0, "step", step)
        pandas_way.append(flat)
    by_columns.close(complete=True)
    by_frames.close(complete=True)
    got = read_run(tmp_path / "columns")["links"]
    want = read_run(tmp_path / "frames")["links"]
    pd.testing.assert_frame_equal(got, want)
    pd.testing.assert_frame_equal(got, pd.concat(pandas_way, ignore_index=True))
    assert len(got) == 7 * 4
    assert got["value"].iloc[-1] % 1 == 0.5  # the fractional values survived
    assert list(got.columns) == ["step", "link", "time_s", "value", "trusted", "protocol_name"]
