"""Shared test fixtures.

Resources a fresh clone may lack (../shared/data, PostgreSQL, Chromium) skip with a stated
reason, except under ``TILLIT_STRICT=1`` (set by .ci/run), where their absence fails.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from tillit.store.db import make_engine, upgrade

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(
    os.environ.get("TILLIT_SHARED_DATA", REPO.parent / "shared" / "data")
)
STRICT = os.environ.get("TILLIT_STRICT") == "1"


def need(available: bool, reason: str) -> None:
    """Skip (or fail under TILLIT_STRICT=1) when a resource is missing."""
    if available:
        return
    if STRICT:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path to ../shared/data (real public data); skips in a clone without it."""
    need(
        SHARED_DATA.is_dir(),
        f"real public data not found at {SHARED_DATA} (a fresh clone has no ../shared)",
    )
    return SHARED_DATA


@pytest.fixture(scope="session")
def pg_url() -> str:
    """URL of the test PostgreSQL server started by ./dev test."""
    url = os.environ.get("TILLIT_TEST_PG_URL", "")
    need(
        bool(url), "TILLIT_TEST_PG_URL not set (./dev test starts a PostgreSQL server)"
    )
    return url


def fresh_pg_database(url: str) -> Iterator[str]:
    """Create a fresh database ``tillit_<random>`` on the server at ``url``; yield its URL.

    A generator: ``gen = fresh_pg_database(url); db_url = next(gen)`` ... ``gen.close()``
    drops the database again (other workers and helpers share the server).
    """
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"tillit_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
"""Parameters of a database fixture that runs on SQLite and on PostgreSQL."""


def migrated_database(
    request: pytest.FixtureRequest,
    directory: Path,
    fill: Callable[[Engine], None] | None = None,
) -> Iterator[Engine]:
    """A migrated database, filled by ``fill``, for a fixture parametrised by BACKENDS.

    SQLite: a file in ``directory``. PostgreSQL: a fresh database on the test server
    (:func:`fresh_pg_database`), dropped afterwards. Use as ``yield from`` in a fixture.
    """
    gen = None
    if request.param == "sqlite":
        url = f"sqlite:///{directory / 'tillit.db'}"
    else:
        gen = fresh_pg_database(request.getfixturevalue("pg_url"))
        url = next(gen)
    eng = make_engine(url)
    try:
        upgrade(eng)
        if fill is not None:
            fill(eng)
        yield eng
    finally:
        eng.dispose()
        if gen is not None:
            gen.close()


def csrf_of(client: Any, path: str = "/signin") -> str:
    """The CSRF token in a page's form (``client``: a FastAPI TestClient)."""
    html = client.get(path).text
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, f"no CSRF field on {path}"
    return m.group(1)
