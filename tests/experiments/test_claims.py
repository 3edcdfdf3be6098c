"""Verdict rules and the convergence / variance-reduction statistics of claims.md."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from experiments.reproduce.claims import (
    convergence_episode,
    describe,
    paired_reduction,
    variance_claim,
    verdict_at_least,
    verdict_at_most,
    verdict_near,
)


def test_verdicts_compare_the_interval_with_the_paper_value():
    assert verdict_at_least((0.97, 0.96, 0.98, 5), 0.95) == "reproduced"
    assert verdict_at_least((0.94, 0.90, 0.96, 5), 0.95) == "consistent"
    assert verdict_at_least((0.80, 0.70, 0.90, 5), 0.95) == "not reproduced"
    assert verdict_at_least((math.nan, math.nan, math.nan, 0), 0.95) == "not measured"
    assert verdict_at_least((0.99, math.nan, math.nan, 1), 0.95) == "reproduced (one value)"
    assert verdict_at_most((0.033, 0.032, 0.034, 9), 0.01) == "not reproduced"
    assert verdict_at_most((0.005, 0.004, 0.006, 9), 0.01) == "reproduced"
    assert verdict_near((0.52, 0.45, 0.60, 5), 0.5, 0.0) == "consistent"
    assert verdict_near((0.90, 0.85, 0.95, 5), 0.5, 0.1) == "not reproduced"


def test_describe_clips_a_fraction_interval_to_its_range():
    text, (_, low, high, n) = describe([1.0, 1.0, 0.4], bounds=(0.0, 1.0))
    assert n == 3 and high == 1.0 and low >= 0.0
    assert "(n = 3)" in text


def test_convergence_needs_a_plateau_not_just_the_last_episode():
    rising = list(range(20))  # never settles
    assert convergence_episode(rising, window=3) is None
    settled = [0, 2, 4, 6, 8] + [10] * 15
    assert convergence_episode(settled, window=3) == 7  # the moving mean reaches 10 - band there
    assert convergence_episode([1.0] * 5, window=3) is None  # too short to show a plateau


def test_variance_reduction_is_one_minus_the_ratio_of_means_with_a_bootstrap_interval():
    agent = np.array([1.0, 2.0, 3.0, 2.0])
    base = np.array([2.0, 4.0, 6.0, 4.0])
    value, low, high, n = paired_reduction(agent, base)
    assert (value, n) == (0.5, 4)
    assert low == high == 0.5  # every resample has the same ratio
    again = paired_reduction(np.array([1.0, 3.0, 2.0]), np.array([2.0, 2.0, 4.0]))
    assert again == paired_reduction(np.array([1.0, 3.0, 2.0]), np.array([2.0, 2.0, 4.0]))


def test_variance_claim_pairs_runs_by_network_fraction_and_seed():
    table = pd.DataFrame(
        {
            "network": ["n"] * 4,
            "arm": ["baseline", "baseline", "abft+agent", "abft+agent"],
            "byzantine.fraction": [0.0, 0.0, 0.0, 0.0],
            "seed": [1, 2, 2, 1],
            "qber_variance_fluctuation": [4.0, 2.0, 1.0, 2.0],
        }
    )
    (claim,) = variance_claim(table, "cmd")
    assert claim.measured.startswith("50.00 %")
    assert claim.verdict == "reproduced"
