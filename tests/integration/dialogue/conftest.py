"""The dialogue tests use the barometer's workspace (tests/integration/surveys/conftest.py):
all 290 municipalities, units in Stockholm and Göteborg, an administrator, two members and
a researcher, on SQLite and on PostgreSQL (a fresh database per module)."""

from __future__ import annotations

from ..surveys.conftest import (
    PASSWORDS,
    UNITS,
    actors,
    app,
    build,
    client,
    csrf_of,
    engine,
    sign_in,
)

__all__ = [
    "PASSWORDS",
    "UNITS",
    "actors",
    "app",
    "build",
    "client",
    "csrf_of",
    "engine",
    "sign_in",
]
