"""A fresh migrated database per test on SQLite and PostgreSQL (the queue's tests)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from ...conftest import BACKENDS, migrated_database


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty database."""
    yield from migrated_database(request, tmp_path)
