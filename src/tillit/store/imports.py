"""Import bookkeeping: batches, and the codes an import resolves before it writes.

The observations themselves are read and written by :mod:`tillit.store.bulk`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, func, insert, select

from tillit.store.tables import import_batches, observations, organisations, units

__all__ = [
    "batch_indicators",
    "batch_with_content",
    "find_batch",
    "insert_batch",
    "latest_batch",
    "organisation_ids",
    "unit_owners",
]


def unit_owners(conn: Connection, codes: Iterable[str]) -> list[tuple[str, int, str]]:
    """``(unit code, unit id, organisation code)`` for the stored ones among ``codes``."""
    wanted = list(dict.fromkeys(codes))
    out: list[tuple[str, int, str]] = []
    for k in range(0, len(wanted), 500):
        rows = conn.execute(
            select(units.c.code, units.c.id, organisations.c.code)
            .join(organisations, organisations.c.id == units.c.organisation_id)
            .where(units.c.code.in_(wanted[k : k + 500]))
        ).all()
        out += [(str(c), int(i), str(o)) for c, i, o in rows]
    return out


def organisation_ids(conn: Connection) -> dict[str, int]:
    """Every organisation code -> id."""
    rows = conn.execute(select(organisations.c.code, organisations.c.id)).all()
    return {str(c): int(i) for c, i in rows}


def batch_with_content(conn: Connection, sha256: str) -> int | None:
    """The first batch with this content hash, or None."""
    found = conn.execute(
        select(import_batches.c.id)
        .where(import_batches.c.sha256 == sha256)
        .order_by(import_batches.c.id)
        .limit(1)
    ).scalar()
    return None if found is None else int(found)


def find_batch(conn: Connection, source: str, filename: str) -> int | None:
    """The first batch of ``source`` with this filename (the demo's marker), or None."""
    found = conn.execute(
        select(import_batches.c.id)
        .where(import_batches.c.source == source)
        .where(import_batches.c.filename == filename)
        .order_by(import_batches.c.id)
        .limit(1)
    ).scalar()
    return None if found is None else int(found)


def latest_batch(conn: Connection) -> int:
    """The newest batch id (0 when nothing was imported)."""
    return int(conn.execute(select(func.max(import_batches.c.id))).scalar() or 0)


def insert_batch(conn: Connection, **values: Any) -> int:
    """Record a batch (columns of ``import_batches``); returns its id."""
    if "filename" in values:
        values["filename"] = str(values["filename"])[:400]
    return int(
        conn.execute(
            insert(import_batches).values(**values).returning(import_batches.c.id)
        ).scalar_one()
    )


def batch_indicators(conn: Connection, batch_id: int) -> set[str]:
    """The indicators a batch wrote values of."""
    stmt = (
        select(observations.c.indicator_id)
        .where(observations.c.batch_id == batch_id)
        .distinct()
    )
    return {str(i) for i in conn.execute(stmt).scalars()}
