"""Seeded fibre drift and atmospheric fading: determinism, step/sample agreement, statistics.

Statistical tolerances are ~5 standard errors of the estimate with the effective number of
independent samples of a correlated series, n_eff ~ n (1 - rho) / (1 + rho); the seeds are fixed,
so the tests are deterministic and the tolerances only guard against a wrong model.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from qchannel import AtmosphericFading, FiberDrift, FreeSpaceLink, QChannelParameterError
from qchannel.processes import OrnsteinUhlenbeck


def _lag_correlation(x: np.ndarray, lag: int) -> float:
    x = x - x.mean(axis=0)
    return float(np.sum(x[:-lag] * x[lag:]) / np.sum(x * x))


def test_same_seed_same_values_and_different_seed_different_values():
    a = AtmosphericFading(25.0, 0.2, 0.01, seed=7).sample(1000, 0.001)
    b = AtmosphericFading(25.0, 0.2, 0.01, seed=7).sample(1000, 0.001)
    c = AtmosphericFading(25.0, 0.2, 0.01, seed=8).sample(1000, 0.001)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("size", [None, 3, (2, 2)])
def test_sample_equals_repeated_steps_bit_for_bit(size):
    stepped = FiberDrift(0.5, 30.0, seed=3, size=size)
    sampled = FiberDrift(0.5, 30.0, seed=3, size=size)
    steps = np.array([stepped.step(0.1) for _ in range(500)])
    np.testing.assert_array_equal(sampled.sample(500, 0.1), steps)
    # and they stay in step afterwards, whichever API is used next
    np.testing.assert_array_equal(sampled.step(0.25), stepped.step(0.25))


def test_ou_statistics_match_the_model():
    """Unit variance, zero mean, autocorrelation exp(-k dt / tau) at lags k = 1, 5, 20."""
    tau, dt, n = 1.0, 0.1, 100_000
    x = OrnsteinUhlenbeck(tau, seed=11, size=4).sample(n, dt)
    n_eff = 4 * n * (1 - math.exp(-dt / tau)) / (1 + math.exp(-dt / tau))  # ~ 19_000
    assert abs(x.mean()) < 5 / math.sqrt(n_eff)
    assert x.var() == pytest.approx(1.0, abs=5 * math.sqrt(2 / n_eff))
    for lag in (1, 5, 20):
        assert _lag_correlation(x, lag) == pytest.approx(math.exp(-lag * dt / tau), abs=0.02)


def test_ou_exact_update_allows_any_step():
    """A 0.5 s step and five 0.1 s steps have the same law: check the one-step correlation
    exp(-0.5) from 200k independent pairs (std error ~ 0.002)."""
    process = OrnsteinUhlenbeck(1.0, seed=5, size=200_000)
    before = np.array(process.state, copy=True)
    after = process.step(0.5)
    assert np.corrcoef(before, after)[0, 1] == pytest.approx(math.exp(-0.5), abs=0.01)
    assert process.time_s == 0.5


def test_fiber_drift_has_the_requested_spread():
    drift = FiberDrift(sigma_db=0.3, correlation_time_s=60.0, seed=2, size=200)
    offsets = drift.sample(2000, 10.0)
    assert offsets.std() == pytest.approx(0.3, rel=0.05)
    assert float(np.std(drift.offset_db)) == pytest.approx(0.3, rel=0.25)


def test_lognormal_fading_mean_scintillation_and_correlation():
    """E[T] = 10^(-loss/10), var(T)/E[T]^2 = SI, and corr(T_t, T_t+dt) =
    (exp(s^2 rho) - 1) / (exp(s^2) - 1) with s^2 = ln(1 + SI), rho = exp(-dt/tau)."""
    si, tau, dt = 0.3, 0.01, 0.002
    t = AtmosphericFading(20.0, si, tau, seed=4, size=8).sample(50_000, dt)
    assert np.all((t >= 0.0) & (t <= 1.0))
    assert t.mean() == pytest.approx(0.01, rel=0.03)
    assert t.var() / t.mean() ** 2 == pytest.approx(si, rel=0.15)
    rho, s2 = math.exp(-dt / tau), math.log1p(si)
    assert _lag_correlation(t, 1) == pytest.approx(math.expm1(s2 * rho) / math.expm1(s2), abs=0.02)


def test_beta_fading_mean_and_scintillation():
    t = AtmosphericFading(3.0, 0.5, 0.01, seed=9, distribution="beta", size=8).sample(50_000, 0.002)
    mean = 10**-0.3
    assert np.all((t >= 0.0) & (t <= 1.0))
    assert t.mean() == pytest.approx(mean, rel=0.03)
    assert t.var() / t.mean() ** 2 == pytest.approx(0.5, rel=0.15)


def test_no_scintillation_is_a_constant_channel():
    fading = AtmosphericFading(10.0, 0.0, 0.01, seed=1)
    assert fading.step(0.001) == pytest.approx(0.1)


def test_bad_fading_parameters():
    with pytest.raises(QChannelParameterError, match="too large for a beta law"):
        FreeSpaceLink(mean_loss_db=1.0, scintillation_index=1.0, distribution="beta")
    with pytest.raises(QChannelParameterError, match="unknown fading distribution 'gamma'"):
        FreeSpaceLink(mean_loss_db=10.0, distribution="gamma")  # type: ignore[arg-type]
    with pytest.raises(QChannelParameterError, match="correlation_time_s"):
        FiberDrift(0.1, 0.0, seed=1)
    with pytest.raises(QChannelParameterError, match="dt_s"):
        FiberDrift(0.1, 1.0, seed=1).step(-1.0)
    with pytest.raises(QChannelParameterError, match="seed must be a non-negative int"):
        FiberDrift(0.1, 1.0, seed=-3)
    with pytest.raises(QChannelParameterError, match="n_steps must be a positive int"):
        FiberDrift(0.1, 1.0, seed=1).sample(0, 1.0)


def test_free_space_link_builds_its_process():
    link = FreeSpaceLink(mean_loss_db=30.0, scintillation_index=0.1, correlation_time_s=0.05)
    assert link.mean_transmittance == pytest.approx(1e-3)
    a = link.process(seed=1, size=2).sample(10, 0.01)
    b = AtmosphericFading(30.0, 0.1, 0.05, seed=1, size=2).sample(10, 0.01)
    np.testing.assert_array_equal(a, b)
