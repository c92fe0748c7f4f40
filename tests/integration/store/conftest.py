"""A fresh, seeded database per test module, on SQLite and on PostgreSQL.

The PostgreSQL variant creates its own database (``tillit_<random>``) on the server at
TILLIT_TEST_PG_URL and drops it afterwards, because other tests share that server.
(tests/integration/imports/conftest.py reuses it for the import tests.)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from tillit.services.catalog import seed_geography

from ...conftest import BACKENDS, migrated_database


@pytest.fixture(scope="module", params=BACKENDS)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A migrated database with the geography seeded."""
    yield from migrated_database(request, tmp_path_factory.mktemp("db"), seed_geography)
