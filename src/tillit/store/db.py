"""Engine creation and schema upgrades for SQLite (embedded default) and PostgreSQL.

SQLite runs in WAL mode with ``synchronous=FULL`` and foreign keys on; every import is one
transaction, so a killed process leaves either the whole batch or none of it. SQLAlchemy, not
the sqlite3 module, emits ``BEGIN`` (the recipe in SQLAlchemy's SQLite dialect docs), so that
:func:`write_transaction` can take the write lock up front with ``BEGIN IMMEDIATE`` and a
read-then-write transaction never fails half-way on a lock upgrade.

Transactions: a public service function opens one with :func:`write_transaction` (or
:func:`read_transaction` for reads) and hands the :class:`Connection` to the repository
functions of ``tillit.store.<area>``; internal service functions take that connection.
``Connection`` and ``Engine`` are re-exported here so that services and routes can name
the types without importing SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, inspect

from tillit.store.errors import BUSY, CLASH, translated

__all__ = [
    "Connection",
    "Engine",
    "is_initialised",
    "make_engine",
    "read_transaction",
    "upgrade",
    "write_transaction",
]

_MIGRATIONS = Path(__file__).with_name("migrations")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = (
        None  # SQLAlchemy emits BEGIN itself (see _sqlite_begin)
    )
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute(
        "PRAGMA cache_size=-65536"
    )  # 64 MiB: bulk imports keep indexes in memory
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    immediate = conn.get_execution_options().get("sqlite_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for ``url``; for SQLite also create the parent directory."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def alembic_config(engine: Engine) -> Config:
    """An Alembic config bound to ``engine`` (no alembic.ini needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (default: the newest)."""
    command.upgrade(alembic_config(engine), revision)


def is_initialised(engine: Engine) -> bool:
    """True when the schema has been created by a migration."""
    return "alembic_version" in inspect(engine).get_table_names()


@contextmanager
def write_transaction(
    engine: Engine, *, busy: str = BUSY, clash: str = CLASH
) -> Iterator[Connection]:
    """One read-then-write transaction; on SQLite it holds the write lock from the start.

    Commits when the block ends normally and rolls back on any exception. A busy
    database or a key clash (also at commit) leaves as :class:`~tillit.core.errors.
    Conflict` with the words ``busy`` or ``clash`` (see
    :func:`tillit.store.errors.translated`).
    """
    with translated(busy=busy, clash=clash), engine.connect() as conn:
        conn = conn.execution_options(sqlite_immediate=True)
        with conn.begin():
            yield conn


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """One read transaction: every query of the block sees the same snapshot."""
    with translated(), engine.connect() as conn, conn.begin():
        yield conn
