"""A fresh migrated database per test, on SQLite and (marker ``postgres``) PostgreSQL.

The PostgreSQL variant creates its own database (``tillit_<random>``) on the server at
TILLIT_TEST_PG_URL and drops it afterwards, because other tests share that server.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tillit.store.db import make_engine, upgrade

from ...conftest import BACKENDS, migrated_database


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty, migrated database (no geography: load_demo seeds it)."""
    yield from migrated_database(request, tmp_path)


@pytest.fixture
def sqlite_engine(tmp_path) -> Iterator[Engine]:
    """An empty, migrated SQLite database."""
    eng = make_engine(f"sqlite:///{tmp_path / 'demo-full.db'}")
    upgrade(eng)
    yield eng
    eng.dispose()
