"""Threshold secret sharing of keys: Shamir (t, n) over GF(2^8) and XOR n-of-n.

Shamir over GF(2^8) (the AES field, polynomial x^8 + x^4 + x^3 + x + 1) shares each key byte with
its own random polynomial of degree t - 1; the whole key is processed at once with numpy (log/exp
tables), so 4096-bit keys cost a handful of array operations. Any t shares give the key by
Lagrange interpolation at 0; any t - 1 shares are uniformly distributed whatever the key, so they
reveal nothing (information-theoretic). XOR n-of-n is the special case t = n with n - 1 random
pads; it is cheaper and is what trusted-node QKD relays classically use.

Randomness comes from a numpy Generator the caller supplies, so simulations are reproducible; a
deployment would pass a generator seeded from the OS entropy pool.

Default policy (`default_threshold`, `sharing_for`), used by the scenarios, the ns-3 relay and
`MultipathRelay` alike. Why n > t: with XOR n-of-n one dropping relay makes every key fail, so
the default is Shamir (t, n) with n = 3 node-disjoint routes where the graph has them and
t = max(2, n - 1): any one route can fail (drop, tamper, run out of key) and the key still
arrives, while no single relay ever holds t shares. Where the graph has fewer disjoint routes
the demand falls back to what it allows - (2, 2) over two routes (secrecy kept, no redundancy),
one route hop by hop - and the scenario records that it is short. t = 1 over several routes
would hand the whole key to every relay, so it is refused unless asked for by name.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bridge.scenario.sharing_policy import (  # noqa: F401 - the policy, re-exported here
    DEFAULT_PATHS,
    SharingError,
    check_threshold,
    default_threshold,
    sharing_for,
)


def _build_tables() -> tuple[np.ndarray, np.ndarray]:
    exp = np.zeros(512, dtype=np.uint8)
    log = np.zeros(256, dtype=np.int64)
    x = 1
    for i in range(255):
        exp[i] = x
        log[x] = i
        # multiply by the generator 3 = x + 1: x*2 (with reduction) xor x
        doubled = (x << 1) ^ (0x11B if x & 0x80 else 0)
        x = doubled ^ x
    exp[255:510] = exp[:255]
    return exp, log


_EXP, _LOG = _build_tables()


def gf_mul(a: np.ndarray, c: int) -> np.ndarray:
    """Multiply every byte of `a` by the field element c."""
    a = np.asarray(a, dtype=np.uint8)
    if c == 0:
        return np.zeros_like(a)
    out = _EXP[_LOG[a] + _LOG[c]]
    return np.where(a == 0, np.uint8(0), out).astype(np.uint8)


def gf_mul_scalar(a: int, b: int) -> int:
    if a == 0 or b == 0:
        return 0
    return int(_EXP[_LOG[a] + _LOG[b]])


def gf_inv(a: int) -> int:
    if a == 0:
        raise SharingError("zero has no inverse in GF(2^8)")
    return int(_EXP[255 - _LOG[a]])


@dataclass(frozen=True)
class Share:
    """Share number x (1..n) of a secret: the polynomial's values at x, one byte per key byte."""

    x: int
    data: bytes


def shamir_split(secret: bytes, n: int, t: int, rng: np.random.Generator) -> list[Share]:
    """Split into n shares, any t of which recover the secret."""
    if not 1 <= t <= n <= 255:
        raise SharingError(f"Shamir needs 1 <= t <= n <= 255, got t={t}, n={n}")
    if not secret:
        raise SharingError("cannot share an empty secret")
    s = np.frombuffer(secret, dtype=np.uint8)
    coeffs = rng.integers(0, 256, size=(t - 1, len(s)), dtype=np.uint8)
    shares = []
    for x in range(1, n + 1):
        y = np.zeros_like(s)
        for c in coeffs[::-1]:  # Horner, highest degree first
            y = gf_mul(y, x) ^ c
        y = gf_mul(y, x) ^ s
        shares.append(Share(x, y.tobytes()))
    return shares


def shamir_combine(shares: list[Share], t: int) -> bytes:
    """Recover the secret from the first t of `shares` (distinct x, equal lengths)."""
    use = shares[:t]
    if len(use) < t:
        raise SharingError(f"need {t} shares, got {len(shares)}")
    xs = [s.x for s in use]
    if len(set(xs)) != len(xs) or any(not 1 <= x <= 255 for x in xs):
        raise SharingError(f"share indices must be distinct and in 1..255, got {xs}")
    lengths = {len(s.data) for s in use}
    if len(lengths) != 1:
        raise SharingError(f"shares have different lengths {sorted(lengths)}")
    out = np.zeros(lengths.pop(), dtype=np.uint8)
    for j, share in enumerate(use):
        num, den = 1, 1
        for m, xm in enumerate(xs):
            if m != j:
                num = gf_mul_scalar(num, xm)
                den = gf_mul_scalar(den, xm ^ share.x)
        coeff = gf_mul_scalar(num, gf_inv(den))
        out ^= gf_mul(np.frombuffer(share.data, dtype=np.uint8), coeff)
    return out.tobytes()


def xor_split(secret: bytes, n: int, rng: np.random.Generator) -> list[Share]:
    """n-of-n: n - 1 uniformly random pads and the secret xor all of them."""
    if n < 1:
        raise SharingError(f"XOR sharing needs n >= 1, got {n}")
    s = np.frombuffer(secret, dtype=np.uint8)
    pads = rng.integers(0, 256, size=(n - 1, len(s)), dtype=np.uint8)
    last = s.copy()
    for p in pads:
        last ^= p
    return [Share(i + 1, p.tobytes()) for i, p in enumerate(pads)] + [Share(n, last.tobytes())]


def xor_combine(shares: list[Share], n: int) -> bytes:
    if len(shares) != n or sorted(s.x for s in shares) != list(range(1, n + 1)):
        raise SharingError(f"XOR sharing needs all {n} shares, got {len(shares)}")
    out = np.zeros(len(shares[0].data), dtype=np.uint8)
    for s in shares:
        out ^= np.frombuffer(s.data, dtype=np.uint8)
    return out.tobytes()
