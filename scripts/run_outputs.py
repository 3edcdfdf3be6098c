"""Dump every step's outputs of six-node runs, or compare two dumps bit for bit.

Why: a change meant only to make a step cheaper must not move a single number. `dump` runs the
six-node scenario with the baseline and with the ABFT control plane, keeps every step's tables
as `qkdnet run` records them (`StepResult.columns()`), the Parquet tables read back and the run
summary, and pickles them; `compare` checks two dumps for exact equality (same columns, dtypes
and bytes) and names every difference. Dump with the old code, dump with the new, compare:

    python scripts/run_outputs.py dump before.pkl --steps 80     # on the old checkout
    python scripts/run_outputs.py dump after.pkl --steps 80
    python scripts/run_outputs.py compare before.pkl after.pkl   # exit 0: identical
"""

from __future__ import annotations

import argparse
import math
import pickle
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

SIX_NODE = Path(__file__).resolve().parents[1] / "experiments" / "configs" / "six-node.yaml"
MODES = ("baseline", "abft")


def dump(out: Path, steps: int) -> None:
    from bridge.scenario.config import load_scenario
    from bridge.scenario.metrics import read_run
    from experiments.run import run_scenario

    data: dict[str, Any] = {}
    for mode in MODES:
        config = load_scenario(SIX_NODE, steps=steps)
        control = config.control.model_copy(update={"mode": mode})
        config = config.model_copy(update={"control": control})
        rows: list[dict] = []

        def keep(result: Any, rows: list[dict] = rows) -> None:
            rows.append(
                {
                    table: {name: np.array(values, copy=True) for name, values in columns.items()}
                    for table, columns in result.columns().items()
                }
            )

        with tempfile.TemporaryDirectory() as tmp:
            summary = run_scenario(config, Path(tmp) / "run", progress=False, on_step=keep)
            tables = read_run(Path(tmp) / "run")
        data[mode] = {"steps": rows, "tables": tables, "summary": summary.as_dict()}
    out.write_bytes(pickle.dumps(data))
    counts = ", ".join(f"{mode} {len(d['steps'])} steps" for mode, d in data.items())
    print(f"{out}: {counts}")


def differences(a: dict, b: dict) -> list[str]:
    """Every place where two dumps differ (empty: identical bit for bit)."""
    found = []
    for mode in MODES:
        steps_a, steps_b = a[mode]["steps"], b[mode]["steps"]
        if len(steps_a) != len(steps_b):
            found.append(f"{mode}: {len(steps_a)} vs {len(steps_b)} steps")
            continue
        for i, (x, y) in enumerate(zip(steps_a, steps_b, strict=True)):
            if list(x) != list(y):
                found.append(f"{mode} step {i}: tables {list(x)} vs {list(y)}")
                continue
            for table in x:
                if list(x[table]) != list(y[table]):
                    found.append(f"{mode} step {i} {table}: columns differ")
                    continue
                for name, u in x[table].items():
                    v = y[table][name]
                    same = u.dtype == v.dtype and u.shape == v.shape
                    if same and u.dtype.kind in "OU":
                        same = bool(np.array_equal(u, v))
                    elif same:
                        same = u.tobytes() == v.tobytes()
                    if not same:
                        found.append(f"{mode} step {i} {table}.{name}: {u!r} vs {v!r}")
        for table, frame in a[mode]["tables"].items():
            try:
                pd.testing.assert_frame_equal(frame, b[mode]["tables"][table], check_exact=True)
            except (AssertionError, KeyError) as exc:
                found.append(f"{mode} Parquet {table}: {str(exc).splitlines()[0]}")
        for key, x in a[mode]["summary"].items():
            y = b[mode]["summary"].get(key)
            if not (x == y or (isinstance(x, float) and math.isnan(x) and y != y)):
                found.append(f"{mode} summary {key}: {x} vs {y}")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump", help="run six-node baseline and ABFT, pickle every step")
    d.add_argument("out", type=Path)
    d.add_argument("--steps", type=int, default=80)
    c = sub.add_parser("compare", help="exit 0 when two dumps are identical")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    args = parser.parse_args()
    if args.command == "dump":
        dump(args.out, args.steps)
        return
    found = differences(pickle.loads(args.a.read_bytes()), pickle.loads(args.b.read_bytes()))
    for line in found[:50]:
        print(line)
    print("identical" if not found else f"{len(found)} differences")
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
