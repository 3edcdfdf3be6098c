"""Compare the tables (results.parquet) of two sweep folders: exit 0 when they are equal.

Why: a sweep run on a Ray cluster must give the same table as the same sweep on a local pool
(same seeds, same tasks); this is the check scripts/ray-cluster.sh runs. Every value must be
equal exactly, except `run_dir`, which names each sweep's own folder.

    python scripts/compare_sweep_tables.py SWEEP_DIR_A SWEEP_DIR_B
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

TABLE = "results.parquet"
#: Columns that differ by design between two output folders.
FOLDER_COLUMNS = ("run_dir",)


def load(folder: Path) -> pd.DataFrame:
    path = folder / TABLE
    if not path.is_file():
        raise SystemExit(f"compare: no {TABLE} in {folder}")
    table = pd.read_parquet(path).drop(columns=list(FOLDER_COLUMNS), errors="ignore")
    return table.sort_values("task_id").reset_index(drop=True)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    a, b = (Path(arg) for arg in argv)
    left, right = load(a), load(b)
    try:
        pd.testing.assert_frame_equal(left, right, check_exact=True)
    except AssertionError as exc:
        print(f"compare: the tables of {a} and {b} differ:\n{exc}", file=sys.stderr)
        return 1
    print(
        f"compare: tables match exactly ({len(left)} rows x {left.shape[1]} columns,"
        f" {', '.join(FOLDER_COLUMNS)} aside): {a} == {b}"
    )
    print(left.to_string(max_cols=12, max_colwidth=18))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
