"""Fixture: the KME service of `_service.py` on a 3-node chain, torn down after each test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kme._service import Service, chain_config, start_service


@pytest.fixture
def chain_service(tmp_path: Path) -> Iterator[Service]:
    with start_service(chain_config(tmp_path), tmp_path / "certs") as service:
        yield service
