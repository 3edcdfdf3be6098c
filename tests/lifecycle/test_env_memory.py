"""Memory stays flat over 10,000 env steps (issue 14): runs benchmarks/bench_env_memory.py, which
prints RSS every 1000 steps, and bounds the growth per step over the second half of the run.

Slow (minutes): run with `pytest -m slow tests/lifecycle/test_env_memory.py -s` to see the RSS.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "benchmarks" / "bench_env_memory.py"
# before issue 14: ~15 KB per step; 1 KB/step over 5000 steps would still be 5 MB
MAX_GROWTH_KB_PER_STEP = 1.0


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_rss_is_flat_over_10000_env_steps():
    done = subprocess.run(
        [sys.executable, str(BENCH), "--steps", "10000", "--episode", "100", "--every", "1000"],
        capture_output=True,
        text=True,
        timeout=3500,
        cwd=ROOT,
    )
    print(done.stdout)
    assert done.returncode == 0, done.stderr
    match = re.search(r"RSS growth over the second half: (-?[\d.]+) KB/step", done.stdout)
    assert match, done.stdout
    assert float(match.group(1)) < MAX_GROWTH_KB_PER_STEP, done.stdout
