"""The import tests use the store tests' fixture (tests/integration/store/conftest.py): a
fresh, migrated and seeded database per module, on SQLite and on PostgreSQL."""

from __future__ import annotations

from ..store.conftest import engine

__all__ = ["engine"]
