"""Load on the ETSI GS QKD 014 API: N concurrent master SAEs for a minute over HTTPS (mutual TLS)
on 127.0.0.1, each key fetched again by its slave; checks no key is handed out twice or lost, and
prints the API's latency percentiles (enc_keys and dec_keys requests together).

The scenario is a 4-node chain with a demand between every pair of nodes (6 SAE pairs, 12
masters with both directions); the simulation runs at `--speed` times real time in this process.
Stops by itself after `--duration-s`.

Run: .venv/bin/python benchmarks/bench_kme_load.py [--duration-s 60] [--workers-per-pair 1]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from kme.loadtest import run_load_scenario


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration-s", type=float, default=60.0)
    parser.add_argument("--workers-per-pair", type=int, default=1)
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--number", type=int, default=4, help="keys per enc_keys request")
    parser.add_argument("--size-bits", type=int, default=256)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        report, simulated_s = run_load_scenario(
            Path(tmp),
            duration_s=args.duration_s,
            speed=args.speed,
            workers_per_pair=args.workers_per_pair,
            number=args.number,
            size_bits=args.size_bits,
        )
    print(f"simulated {simulated_s:.1f} s in {report.duration_s:.1f} s wall")
    for line in report.lines():
        print(line)
    for error in report.errors[:10]:
        print("error:", error)
    ok = not (report.duplicate_ids or report.duplicate_keys or report.mismatches)
    ok = ok and report.lost_bytes == 0 and not report.errors
    print("OK: no key duplicated or lost" if ok else "FAILED")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
