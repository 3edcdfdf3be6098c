"""Shamir (t, n) over GF(2^8) and XOR n-of-n: correctness and (statistically) perfect secrecy."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.stats import chi2_contingency

from control.abft.errors import SharingError
from control.abft.sharing import (
    Share,
    gf_inv,
    gf_mul_scalar,
    shamir_combine,
    shamir_split,
    xor_combine,
    xor_split,
)


def test_field_arithmetic_matches_the_aes_field():
    # FIPS-197 section 4.2: {57} * {83} = {c1}, and {53} and {ca} are inverses.
    assert gf_mul_scalar(0x57, 0x83) == 0xC1
    assert gf_inv(0x53) == 0xCA
    assert all(gf_mul_scalar(a, gf_inv(a)) == 1 for a in range(1, 256))


@pytest.mark.parametrize("bits", [256, 1024, 4096])
@pytest.mark.parametrize(("t", "n"), [(1, 1), (2, 3), (3, 5), (5, 5), (4, 9)])
def test_any_t_shares_recover_the_key(bits, t, n):
    rng = np.random.default_rng(bits + 10 * t + n)
    key = rng.bytes(bits // 8)
    shares = shamir_split(key, n, t, rng)
    assert len(shares) == n and all(len(s.data) == len(key) for s in shares)
    for subset in itertools.islice(itertools.combinations(shares, t), 20):
        assert shamir_combine(list(subset), t) == key


def test_xor_sharing_needs_every_share():
    rng = np.random.default_rng(1)
    key = rng.bytes(64)
    shares = xor_split(key, 4, rng)
    assert xor_combine(shares, 4) == key
    with pytest.raises(SharingError, match="all 4 shares"):
        xor_combine(shares[:3], 4)


def test_bad_parameters_raise_clear_errors():
    rng = np.random.default_rng(0)
    with pytest.raises(SharingError, match="t <= n"):
        shamir_split(b"k", 3, 4, rng)
    with pytest.raises(SharingError, match="empty"):
        shamir_split(b"", 3, 2, rng)
    with pytest.raises(SharingError, match="distinct"):
        shamir_combine([Share(1, b"a"), Share(1, b"b")], 2)
    with pytest.raises(SharingError, match="need 3"):
        shamir_combine([Share(1, b"a")], 3)


def _independence_p_value(observed: np.ndarray, secret_bit: np.ndarray) -> float:
    """Chi-square test of independence between a byte value and which secret was shared."""
    table = np.zeros((2, 256))
    np.add.at(table, (secret_bit, observed), 1)
    table = table[:, table.sum(axis=0) > 0]
    return float(chi2_contingency(table)[1])


@pytest.mark.parametrize(("scheme", "t", "n"), [("shamir", 3, 5), ("shamir", 2, 2), ("xor", 4, 4)])
def test_fewer_than_t_shares_carry_no_information_about_the_key(scheme, t, n):
    """t - 1 colluding relays see t - 1 shares. Sharing one of two very different keys (all
    zeros, all ones) many times, the bytes they see - each share, and a mix of their shares -
    must be independent of which key it was (chi-square, 1e-3 level). With t shares the same
    test must detect the key (the test has power)."""
    rng = np.random.default_rng(2024)
    keys = [bytes(16), bytes([0xFF]) * 16]
    trials = 3000
    bits = rng.integers(0, 2, trials)
    seen = np.zeros((trials, n, 16), dtype=np.uint8)
    for i, b in enumerate(bits):
        split = xor_split(keys[b], n, rng) if scheme == "xor" else shamir_split(keys[b], n, t, rng)
        seen[i] = [np.frombuffer(s.data, dtype=np.uint8) for s in split]
    position = 5
    if t > 1:
        colluders = seen[:, : t - 1, position]
        for j in range(t - 1):
            assert _independence_p_value(colluders[:, j], bits) > 1e-3
        mixed = np.bitwise_xor.reduce(colluders, axis=1)
        assert _independence_p_value(mixed, bits) > 1e-3
    full = seen[:, :t, position]
    if scheme == "xor":
        recovered = np.bitwise_xor.reduce(full, axis=1)
    else:
        recovered = np.array(
            [
                shamir_combine([Share(x + 1, bytes([row[x]])) for x in range(t)], t)[0]
                for row in full
            ]
        )
    assert _independence_p_value(recovered, bits) < 1e-6
