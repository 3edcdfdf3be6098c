"""The two-node scenario: one QKD link sampled frame by frame in ns-3, stepped from Python.

Statistical checks use 5-sigma binomial bounds: each check fails by chance with probability
below 1e-6, and the seeds are fixed, so the suite is deterministic anyway.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from bridge.two_node import TwoNodeConfig, TwoNodeScenario

SIGMAS = 5.0


def binomial_bound(n: float, p: float) -> float:
    return SIGMAS * math.sqrt(n * p * (1.0 - p))


def run(config: TwoNodeConfig, steps: int) -> pd.DataFrame:
    with TwoNodeScenario(config) as scenario:
        return scenario.run(steps)


@pytest.fixture(scope="module")
def config() -> TwoNodeConfig:
    return TwoNodeConfig(
        pulse_rate_hz=1e9,
        frame_pulses=1_000_000,
        block_size_bits=100_000,
        gain=2e-3,
        qber=0.03,
        sifting_ratio=0.5,
        secret_fraction=0.4,
        step_s=0.1,
        seed=11,
    )


def test_key_grows_at_the_rate_gain_and_pulse_rate_imply(ns, config):
    steps = 10
    frame = run(config, steps)
    pulses = config.pulse_rate_hz * config.step_s * steps
    detections = frame.detections.sum()
    assert abs(detections - pulses * config.gain) <= binomial_bound(pulses, config.gain)
    p_sift = config.gain * config.sifting_ratio  # Bin(Bin(N, g), s) = Bin(N, g s)
    sifted = frame.sifted_bits.sum()
    assert abs(sifted - pulses * p_sift) <= binomial_bound(pulses, p_sift)
    # Key = floor(secret fraction x sifted) per finished block; at most one block is still open.
    key = frame.key_bits_a.iloc[-1]
    blocks = frame.key_bits_a.diff().fillna(frame.key_bits_a.iloc[0]).gt(0).sum()
    assert key <= config.secret_fraction * sifted
    assert key >= config.secret_fraction * (sifted - 2 * config.block_size_bits) - blocks
    assert (frame.key_bits_b == frame.key_bits_a).all(), "both ends hold the same key"
    assert frame.key_bits_a.is_monotonic_increasing
    assert frame.key_bits_a.iloc[-1] > frame.key_bits_a.iloc[1] > 0


def test_measured_qber_matches_the_set_qber(ns, config):
    frame = run(config, 10)
    sifted = frame.sifted_bits.sum()
    errors = frame.error_bits.sum()
    assert abs(errors - config.qber * sifted) <= binomial_bound(sifted, config.qber)
    per_step_bound = SIGMAS * np.sqrt(config.qber * (1 - config.qber) / frame.sifted_bits)
    assert (np.abs(frame.qber_measured - config.qber) <= per_step_bound).all()


def test_same_seed_same_run_other_seed_differs(ns, config):
    first = run(config, 5)
    again = run(config, 5)
    other = run(config.model_copy(update={"seed": 12}), 5)
    pd.testing.assert_frame_equal(first, again, check_exact=True)
    assert not first.detections.equals(other.detections)


def test_gain_change_mid_run_changes_the_rate_from_that_moment(ns, config):
    low, high = 1e-3, 4e-3
    with TwoNodeScenario(config.model_copy(update={"gain": low})) as scenario:
        before = scenario.run(4)
        scenario.set_operating_point(gain=high)
        after = scenario.run(4)
    pulses_per_step = config.pulse_rate_hz * config.step_s
    for detections in before.detections:
        assert abs(detections - pulses_per_step * low) <= binomial_bound(pulses_per_step, low)
    # The very first step after the change already runs at the new gain: no lag.
    for detections in after.detections:
        assert abs(detections - pulses_per_step * high) <= binomial_bound(pulses_per_step, high)


def test_high_qber_blocks_are_aborted_and_give_no_key(ns, config):
    frame = run(config.model_copy(update={"qber": 0.2}), 5)
    assert frame.blocks_aborted_total.iloc[-1] > 0
    assert frame.key_bits_a.iloc[-1] == 0


def test_step_crosses_into_cpp_once(ns, config):
    with TwoNodeScenario(config) as scenario:
        scenario.step()
        calls: list[str] = []
        real = scenario.runtime.network

        class Counting:
            def __getattr__(self, name):
                calls.append(name)
                return getattr(real, name)

        scenario.runtime.network = Counting()
        scenario.step()
        scenario.runtime.network = real
    assert calls == ["Step"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("length_km", -1.0, "length_km"),
        ("qber", 0.6, "qber"),
        ("gain", 1.5, "gain"),
        ("secret_fraction", -0.1, "secret_fraction"),
        ("pulse_rate_hz", 0.0, "pulse_rate_hz"),
    ],
)
def test_bad_parameters_are_rejected_by_name(field, value, message):
    with pytest.raises(ValidationError, match=message):
        TwoNodeConfig(**{field: value})


def test_bad_operating_point_mid_run_is_a_clear_error(ns, config):
    with TwoNodeScenario(config) as scenario:
        scenario.step()
        with pytest.raises(ValueError, match=r"link 0: QkdLink: qber = 0.7 is outside \[0, 0.5\]"):
            scenario.set_operating_point(qber=0.7)
        record = scenario.step()  # the scenario is still usable with its previous inputs
        assert record.detections > 0
