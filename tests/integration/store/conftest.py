"""A fresh, seeded database per test module, on SQLite and on PostgreSQL.

The PostgreSQL variant creates its own database (``tillit_<random>``) on the server at
TILLIT_TEST_PG_URL and drops it afterwards, because other tests share that server.
(tests/integration/imports/conftest.py reuses it for the import tests.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tillit.services.catalog import seed_geography
from tillit.store.db import make_engine, upgrade

from ...conftest import fresh_pg_database as _pg_database


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A migrated database with the geography seeded."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "tillit.db"
        eng = make_engine(f"sqlite:///{path}")
        upgrade(eng)
        seed_geography(eng)
        yield eng
        eng.dispose()
        return
    gen = _pg_database(request.getfixturevalue("pg_url"))
    url = next(gen)
    eng = make_engine(url)
    try:
        upgrade(eng)
        seed_geography(eng)
        yield eng
    finally:
        eng.dispose()
        gen.close()
