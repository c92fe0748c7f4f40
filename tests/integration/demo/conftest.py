"""A fresh migrated database per test, on SQLite and (marker ``postgres``) PostgreSQL.

The PostgreSQL variant creates its own database (``tillit_<random>``) on the server at
TILLIT_TEST_PG_URL and drops it afterwards, because other tests share that server.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from tillit.store.db import make_engine, upgrade


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path) -> Iterator[Engine]:
    """An empty, migrated database (no geography: load_demo seeds it)."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
        upgrade(eng)
        yield eng
        eng.dispose()
        return
    url = request.getfixturevalue("pg_url")
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"tillit_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    eng = make_engine(
        make_url(url).set(database=name).render_as_string(hide_password=False)
    )
    try:
        upgrade(eng)
        yield eng
    finally:
        eng.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_engine(tmp_path) -> Iterator[Engine]:
    """An empty, migrated SQLite database."""
    eng = make_engine(f"sqlite:///{tmp_path / 'demo-full.db'}")
    upgrade(eng)
    yield eng
    eng.dispose()
