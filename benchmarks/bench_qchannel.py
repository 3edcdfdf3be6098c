"""Throughput of the vectorised decoy-BB84 key rate against a per-point Python loop.

Both sides evaluate the same formula (LMC05 decoy BB84 with infinite decoys, GYS parameters) on
the same random (distance, mu) points in this run; the loop is plain Python with `math`, the
fastest per-point baseline (calling numpy per point would be slower still). The results are
compared so the speed-up is not bought with a different answer.

A second, smaller comparison times the full operating point with the optimal mu (vectorised
golden-section search) against scipy's minimize_scalar called per point, on a subset.

    .venv/bin/python benchmarks/bench_qchannel.py [--points 1000000] [--opt-points 2000]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
from scipy.optimize import minimize_scalar

from qchannel.operating_point import operating_point_from_preset
from qchannel.protocols.bb84 import bb84_decoy_infinite

ALPHA_DB_PER_KM, ETA_BOB, Y0, E_D, F_EC, Q = 0.21, 0.045, 1.7e-6, 0.033, 1.22, 0.5


def _h2(p: float) -> float:
    if p <= 0.0 or p >= 1.0:
        return 0.0
    return -p * math.log2(p) - (1.0 - p) * math.log2(1.0 - p)


def rate_per_point(length_km: float, mu: float) -> float:
    """The same model as qchannel.protocols.bb84.bb84_decoy_infinite, one point, math only."""
    eta = ETA_BOB * 10.0 ** (-ALPHA_DB_PER_KM * length_km / 10.0)
    signal = -math.expm1(-eta * mu)
    gain = Y0 + (1.0 - Y0) * signal
    qber = (0.5 * Y0 * (1.0 - signal) + E_D * signal) / gain
    y1 = Y0 + (1.0 - Y0) * eta
    e1 = min((0.5 * Y0 * (1.0 - eta) + E_D * eta) / y1, 0.5)
    rate = Q * (y1 * mu * math.exp(-mu) * (1.0 - _h2(e1)) - F_EC * gain * _h2(qber))
    return max(rate, 0.0)


def vectorised(length_km: np.ndarray, mu: np.ndarray) -> np.ndarray:
    eta = ETA_BOB * 10.0 ** (-ALPHA_DB_PER_KM * length_km / 10.0)
    return bb84_decoy_infinite(eta, mu, Y0, E_D, F_EC, Q).key_rate_bits_per_pulse


def best_of(repeats: int, fn, *args) -> tuple[float, object]:
    best, result = math.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn(*args)
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--opt-points", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.points < 1 or args.opt_points < 1:
        parser.error("--points and --opt-points must be >= 1")

    rng = np.random.default_rng(args.seed)
    length = rng.uniform(0.0, 150.0, args.points)
    mu = rng.uniform(0.05, 1.0, args.points)

    t_vec, rates = best_of(3, vectorised, length, mu)
    lengths_list, mu_list = length.tolist(), mu.tolist()
    start = time.perf_counter()
    loop_rates = [rate_per_point(d, m) for d, m in zip(lengths_list, mu_list, strict=True)]
    t_loop = time.perf_counter() - start
    loop_rates = np.asarray(loop_rates)
    scale = np.maximum(np.abs(loop_rates), 1e-12)
    agree = float(np.max(np.abs(rates - loop_rates) / scale))

    print(f"decoy-BB84 key rate (fixed mu), {args.points:,} points, GYS parameters")
    print(f"  vectorised numpy : {t_vec:8.3f} s  {args.points / t_vec:14,.0f} points/s (best of 3)")
    print(f"  per-point loop   : {t_loop:8.3f} s  {args.points / t_loop:14,.0f} points/s")
    print(f"  speed-up         : {t_loop / t_vec:8.1f} x   (max relative difference {agree:.1e})")

    n = args.opt_points
    sub_length, big_length = length[:n], length
    t_opt_vec, point = best_of(1, operating_point_from_preset, "gys-2004", big_length)

    def per_point_optimum(d: float) -> float:
        found = minimize_scalar(
            lambda m: -rate_per_point(d, m), bounds=(1e-3, 3.0), method="bounded"
        )
        return -found.fun

    start = time.perf_counter()
    loop_opt = np.array([per_point_optimum(d) for d in sub_length.tolist()])
    t_opt_loop = time.perf_counter() - start
    positive = loop_opt > 0
    opt_agree = float(
        np.max(
            np.abs(point.key_rate_bits_per_pulse[:n][positive] - loop_opt[positive])
            / loop_opt[positive]
        )
    )
    vec_rate, loop_rate = args.points / t_opt_vec, n / t_opt_loop
    print("decoy-BB84 with optimal mu (full operating point), GYS parameters")
    print(
        f"  vectorised search: {args.points:,} points in {t_opt_vec:.3f} s  {vec_rate:12,.0f} pts/s"
    )
    print(f"  scipy per point  : {n:,} points in {t_opt_loop:.3f} s  {loop_rate:12,.0f} pts/s")
    print(
        f"  speed-up         : {vec_rate / loop_rate:8.1f} x   (max relative difference "
        f"{opt_agree:.1e}; scipy's default mu tolerance is 1e-5)"
    )


if __name__ == "__main__":
    main()
