"""Fast bulk reads and writes of observations, inside a caller's transaction.

SQLite: DB-API ``executemany`` with plain tuples in chunks of 100,000 rows.
PostgreSQL: ``COPY ... FROM STDIN`` (psycopg 3) with a text buffer written by pandas.
Neither path builds an ORM object or runs Python code per row beyond tuple creation.

Both paths talk to the DB-API driver directly, so they meet raw ``sqlite3`` and
``psycopg`` errors: each function translates them into
:class:`~tillit.core.errors.Conflict` (:func:`tillit.store.errors.translated`, with the
import's own words), so that nothing above the store sees a driver error.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, func, select
from sqlalchemy.schema import AddConstraint, DropConstraint

from tillit.store.errors import translated
from tillit.store.tables import observations

__all__ = [
    "BULK_MIN",
    "BUSY",
    "CHUNK",
    "CLASH",
    "INSERT_COLUMNS",
    "bulk_load",
    "count_observations",
    "existing_observations",
    "insert_observations",
    "update_observations",
]

CHUNK = 100_000
BULK_MIN = 100_000
INSERT_COLUMNS = (
    "indicator_id",
    "organisation_id",
    "unit_id",
    "period",
    "year",
    "month",
    "gender",
    "value",
    "count",
    "status",
    "batch_id",
)
_EXISTING = (
    "id",
    "indicator_id",
    "organisation_id",
    "unit_id",
    "period",
    "gender",
    "value",
    "count",
    "status",
)

Progress = Callable[[int], None]
BUSY = "the database is busy with another import; try again in a moment"
CLASH = (
    "another import wrote some of these observations at the same time; "
    "import the file again"
)


def _in_list(n: int, dialect: str) -> str:
    return ",".join(["?" if dialect == "sqlite" else "%s"] * n)


def _existing_observations(
    conn: Connection, indicator_ids: Sequence[str], org_ids: Sequence[int] | None
) -> pd.DataFrame:
    """:func:`existing_observations` without the error translation."""
    dialect = conn.dialect.name
    cur = conn.connection.cursor()
    rows: list[tuple[Any, ...]] = []
    ind = list(indicator_ids)
    orgs = list(org_ids) if org_ids is not None else None
    for k in range(0, len(ind), 500):
        part = ind[k : k + 500]
        sql = (
            f"SELECT {', '.join(_EXISTING)} FROM observations "
            f"WHERE indicator_id IN ({_in_list(len(part), dialect)})"
        )
        params: list[Any] = list(part)
        if orgs is not None and len(orgs) <= 500:
            sql += f" AND organisation_id IN ({_in_list(len(orgs), dialect)})"
            params += orgs
        cur.execute(sql, params)
        rows += cur.fetchall()
    cur.close()
    cols = list(zip(*rows, strict=True)) if rows else [()] * len(_EXISTING)
    kinds = {"id": np.int64, "organisation_id": np.int64, "unit_id": np.int64}
    data: dict[str, Any] = {}
    for name, col in zip(_EXISTING, cols, strict=True):
        if name in kinds:
            data[name] = np.array(col, dtype=np.int64)
        elif name in ("value", "count"):
            data[name] = np.array(col, dtype=float)  # None -> NaN
        else:  # object dtype: no per-row conversion to Arrow strings
            data[name] = pd.Series(col, dtype=object)
    return pd.DataFrame(data)


def _nullable(arr: np.ndarray, as_int: bool = False) -> list[Any]:
    """float array -> Python list with None for NaN (ints when ``as_int``)."""
    nan = np.isnan(arr)
    if as_int:
        obj = np.where(nan, 0, arr).astype(np.int64).astype(object)
    else:
        obj = arr.astype(object)
    obj[nan] = None
    out: list[Any] = obj.tolist()
    return out


def _tuples(frame: pd.DataFrame, columns: Sequence[str]) -> list[tuple[Any, ...]]:
    cols = []
    for c in columns:
        s = frame[c]
        if c == "value":
            cols.append(_nullable(s.to_numpy(dtype=float)))
        elif c == "count":
            cols.append(_nullable(s.to_numpy(dtype=float), as_int=True))
        elif s.dtype.kind in "iu":
            cols.append(s.to_numpy().tolist())
        else:
            cols.append(s.tolist())
    return list(zip(*cols, strict=True))


def _copy_text(frame: pd.DataFrame) -> str:
    """The frame as PostgreSQL COPY text (tab separated, \\N for NULL)."""
    out = frame[list(INSERT_COLUMNS)].copy()
    out["count"] = out["count"].astype("Int64")
    buf = io.StringIO()
    out.to_csv(
        buf,
        sep="\t",
        header=False,
        index=False,
        na_rep="\\N",
        quoting=csv.QUOTE_NONE,
        float_format=None,
    )
    return buf.getvalue()


def _insert_observations(
    conn: Connection, frame: pd.DataFrame, progress: Progress | None = None
) -> int:
    """:func:`insert_observations` without the error translation."""
    n = len(frame)
    if n == 0:
        return 0
    dbapi = conn.connection.dbapi_connection
    if conn.dialect.name == "postgresql":
        cols = ", ".join(INSERT_COLUMNS)
        with dbapi.cursor() as cur:  # type: ignore[union-attr]
            for k in range(0, n, CHUNK * 2):
                part = frame.iloc[k : k + CHUNK * 2]
                with cur.copy(f"COPY observations ({cols}) FROM STDIN") as cp:
                    cp.write(_copy_text(part))
                if progress:
                    progress(len(part))
        return n
    sql = (
        f"INSERT INTO observations ({', '.join(INSERT_COLUMNS)}) "
        f"VALUES ({_in_list(len(INSERT_COLUMNS), 'sqlite')})"
    )
    cur = dbapi.cursor()  # type: ignore[union-attr]
    try:
        for k in range(0, n, CHUNK):
            part = frame.iloc[k : k + CHUNK]
            cur.executemany(sql, _tuples(part, INSERT_COLUMNS))
            if progress:
                progress(len(part))
    finally:
        cur.close()
    return n


def _update_observations(
    conn: Connection, frame: pd.DataFrame, progress: Progress | None = None
) -> int:
    """:func:`update_observations` without the error translation."""
    n = len(frame)
    if n == 0:
        return 0
    ph = "?" if conn.dialect.name == "sqlite" else "%s"
    sql = (
        f"UPDATE observations SET value = {ph}, count = {ph}, status = {ph}, "
        f"batch_id = {ph} WHERE id = {ph}"
    )
    cur = conn.connection.cursor()
    try:
        for k in range(0, n, CHUNK):
            part = frame.iloc[k : k + CHUNK]
            cur.executemany(
                sql, _tuples(part, ("value", "count", "status", "batch_id", "id"))
            )
            if progress:
                progress(len(part))
    finally:
        cur.close()
    return n


def count_observations(conn: Connection) -> int:
    """Rows in the observations table."""
    return int(
        conn.execute(select(func.count()).select_from(observations)).scalar() or 0
    )


@contextmanager
def bulk_load(conn: Connection, n_new: int) -> Iterator[bool]:
    """For a load at least :data:`BULK_MIN` rows and as large as the table, drop the
    observations indexes (and on PostgreSQL its foreign keys) and rebuild them at the end.

    Building an index by sorting is several times faster than growing it row by row, and
    PostgreSQL then checks each foreign key once for the whole table instead of once per
    row. Everything happens inside the caller's transaction: if the load fails or the
    process dies, the drop is rolled back with it. Rebuilding the unique natural-key
    index re-checks that no key was written twice. On PostgreSQL the table is locked
    against readers until the transaction ends, which is why small loads into a large
    table keep the indexes. Yields whether bulk mode is on.
    """
    if n_new < BULK_MIN or n_new < count_observations(conn):
        yield False
        return
    pg = conn.dialect.name == "postgresql"
    fks = list(observations.foreign_key_constraints) if pg else []
    for fk in fks:
        conn.execute(DropConstraint(fk))
    for ix in observations.indexes:
        ix.drop(conn)
    yield True
    for ix in sorted(observations.indexes, key=lambda i: str(i.name)):
        ix.create(conn)
    for fk in fks:
        conn.execute(AddConstraint(fk))


def existing_observations(
    conn: Connection, indicator_ids: Sequence[str], org_ids: Sequence[int] | None
) -> pd.DataFrame:
    """Stored observations of these indicators (and organisations, when given).

    Returns a DataFrame with columns ``id, indicator_id, organisation_id, unit_id, period,
    gender, value, count, status``; ``value`` and ``count`` are float64 with NaN for NULL.
    """
    with translated(busy=BUSY, clash=CLASH):
        return _existing_observations(conn, indicator_ids, org_ids)


def insert_observations(
    conn: Connection, frame: pd.DataFrame, progress: Progress | None = None
) -> int:
    """Insert rows of ``frame`` (columns :data:`INSERT_COLUMNS`); return rows inserted.

    ``progress(n)`` is called after each chunk with the number of rows just written.
    The natural-key unique index rejects a key that already exists (the caller diffs
    first): a concurrent import that wrote the same key is a ``Conflict``.
    """
    with translated(busy=BUSY, clash=CLASH):
        return _insert_observations(conn, frame, progress)


def update_observations(
    conn: Connection, frame: pd.DataFrame, progress: Progress | None = None
) -> int:
    """Set value, count, status and batch_id of existing rows (``frame.id``)."""
    with translated(busy=BUSY, clash=CLASH):
        return _update_observations(conn, frame, progress)
