"""Shared setup of the env tests: the small scenario (tests/env/data/small.yaml) and its env.

ns-3 is one simulation per process: every env a test opens is closed by the fixture (or by the
test), before the next one resets.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from bridge.env import QkdNetworkEnv

DATA = Path(__file__).resolve().parent / "data"
SMALL = DATA / "small.yaml"


@pytest.fixture
def small_env() -> Iterator[QkdNetworkEnv]:
    env = QkdNetworkEnv(SMALL)
    yield env
    env.close()


def rollout(env, actions: list[int], seed: int) -> list[tuple]:
    """(obs, reward, terminated, truncated, info) of reset(seed) then every action in turn."""
    obs, info = env.reset(seed=seed)
    out = [(obs, 0.0, False, False, info)]
    for action in actions:
        out.append(env.step(action))
    return out


def same_info(a: dict, b: dict) -> bool:
    """Two info dicts hold the same values (arrays compared element by element, NaN == NaN)."""
    if a.keys() != b.keys():
        return False
    for key in a:
        x, y = np.asarray(a[key]), np.asarray(b[key])
        if x.shape != y.shape:
            return False
        if x.dtype.kind == "f" or y.dtype.kind == "f":
            if not np.array_equal(x.astype(float), y.astype(float), equal_nan=True):
                return False
        elif not np.array_equal(x, y):
            return False
    return True
