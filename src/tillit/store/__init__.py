"""Tillit's store: the only layer that speaks SQL.

Layout
------
``db``           engines, migrations, :func:`~tillit.store.db.write_transaction` and
                 :func:`~tillit.store.db.read_transaction`; re-exports ``Engine`` and
                 ``Connection`` so that services name the types without SQLAlchemy
``errors``       driver errors (SQLAlchemy, ``sqlite3``, ``psycopg``) into the
                 :mod:`tillit.core.errors` tree
``tables/``      SQLAlchemy Core tables, one module per area, all on one ``metadata``
``<area>.py``    the repository of an area: every query and write of that area, each
                 a function taking a :class:`~sqlalchemy.Connection` first and
                 returning plain values, dicts, frozen records or DataFrames (never
                 SQLAlchemy rows)
``migrations/``  the Alembic chain

Services own the transaction: a public service function opens it
(``with write_transaction(engine) as conn``) and passes ``conn`` to repository
functions; a repository function never opens or commits a transaction of its own.
"""
