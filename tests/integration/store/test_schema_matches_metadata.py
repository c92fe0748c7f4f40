"""The migrated schema is the schema the code declares (one home for the schema).

Alembic's ``compare_metadata`` lists every difference between the tables, columns,
indexes and constraints that ``alembic upgrade head`` produced and ``tables.metadata``;
a migration that forgets a column, or a table declared without its migration, fails here
on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from tillit.store.tables import metadata

from ...conftest import BACKENDS, migrated_database

pytestmark = pytest.mark.integration


@pytest.fixture(params=BACKENDS)
def migrated(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    yield from migrated_database(request, tmp_path)


def _differences(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": False}
        )
        diffs = compare_metadata(ctx, metadata)
    # alembic's own bookkeeping table is not part of the declared metadata
    return [d for d in diffs if "alembic_version" not in repr(d)]


def test_migrations_produce_the_declared_schema(migrated: Engine) -> None:
    diffs = _differences(migrated)
    assert diffs == [], "migrated schema differs from tables.metadata:\n" + "\n".join(
        repr(d) for d in diffs
    )


def test_the_comparison_sees_a_missing_column(migrated: Engine) -> None:
    from sqlalchemy import Column, Integer, MetaData

    extended = MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(extended)
    extended.tables["users"].append_column(Column("not_migrated", Integer))
    with migrated.connect() as conn:
        ctx = MigrationContext.configure(conn)
        diffs = compare_metadata(ctx, extended)
    assert any("not_migrated" in repr(d) for d in diffs)
