"""Driver errors become :mod:`tillit.core.errors` here, inside the store.

SQLAlchemy wraps DB-API errors in :class:`sqlalchemy.exc.DBAPIError`; the bulk paths
(:mod:`tillit.store.bulk`) go below SQLAlchemy and meet raw ``sqlite3`` and ``psycopg``
errors.  :func:`translated` catches both kinds and raises a
:class:`~tillit.core.errors.Conflict` for a busy (locked) database, a serialisation
failure or a unique-key clash, so services and routes only ever see the error tree.
Every :func:`tillit.store.db.write_transaction` runs inside it; a repository that
expects a particular clash passes its own message.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy.exc import DBAPIError, IntegrityError

from tillit.core.errors import Conflict

__all__ = ["BUSY", "CLASH", "is_busy", "is_clash", "translated"]

BUSY = "the database is busy with another write; try again in a moment"
CLASH = "another change wrote the same record at the same time; try again"


_DRIVER_ERRORS = (
    sqlite3.OperationalError,
    sqlite3.IntegrityError,
    psycopg.IntegrityError,
    psycopg.errors.SerializationFailure,
    psycopg.errors.LockNotAvailable,
    psycopg.errors.DeadlockDetected,
)


def is_busy(exc: BaseException) -> bool:
    """A lock or serialisation failure: the same write may succeed when repeated."""
    orig = getattr(exc, "orig", None) or exc
    if isinstance(orig, sqlite3.OperationalError):
        return "locked" in str(orig).lower() or "busy" in str(orig).lower()
    return isinstance(
        orig,
        psycopg.errors.SerializationFailure
        | psycopg.errors.LockNotAvailable
        | psycopg.errors.DeadlockDetected,
    )


def is_clash(exc: BaseException) -> bool:
    """A unique-key or foreign-key violation (two writers, or a stale read)."""
    orig = getattr(exc, "orig", None) or exc
    return isinstance(
        orig, IntegrityError | sqlite3.IntegrityError | psycopg.IntegrityError
    ) or isinstance(exc, IntegrityError)


@contextmanager
def translated(*, busy: str = BUSY, clash: str = CLASH) -> Iterator[None]:
    """Run a block; busy-database and key-clash errors leave it as :class:`Conflict`.

    Other driver errors (a broken connection, a bug in a statement) pass unchanged:
    they are not the user's to fix and the web layer answers them with a 500.
    """
    try:
        yield
    except (DBAPIError, *_DRIVER_ERRORS) as exc:
        if is_busy(exc):
            raise Conflict(busy) from exc
        if is_clash(exc):
            raise Conflict(clash) from exc
        raise
