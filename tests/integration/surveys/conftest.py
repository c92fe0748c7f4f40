"""A small barometer workspace per test module, on SQLite and on PostgreSQL.

All 290 municipalities, three units in Stockholm (0180) and one in Göteborg (1480), and
four users: an administrator, members of Stockholm and Göteborg, and a researcher. The
PostgreSQL variant makes its own database (``tillit_<random>``) on TILLIT_TEST_PG_URL and
drops it afterwards.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, insert, select

from tillit.services.auth import create_user
from tillit.services.catalog import seed_geography
from tillit.store.tables import organisations, units

from ...conftest import BACKENDS, csrf_of, migrated_database
from ..pilots.conftest import actors, app, client  # the same fixtures, on this engine

__all__ = [
    "PASSWORDS",
    "UNITS",
    "actors",
    "app",
    "build",
    "client",
    "csrf_of",
    "engine",
]

with warnings.catch_warnings():
    from starlette.exceptions import StarletteDeprecationWarning

    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

PASSWORDS = {
    "admin": "admin-pass-1",
    "stockholm": "stockholm-pass-1",
    "goteborg": "goteborg-pass-1",
    "researcher": "researcher-pass-1",
}
UNITS = [("U-S1", "Hemtjänst Söder", "0180"), ("U-S2", "Hemtjänst Norr", "0180"),
         ("U-S3", "Hemtjänst Väst", "0180"), ("U-G1", "Hemtjänst Centrum", "1480")]  # fmt: skip


def build(engine: Engine) -> None:
    """Fill a migrated database with the workspace."""
    seed_geography(engine)
    with engine.begin() as conn:
        ids = dict(conn.execute(select(organisations.c.code, organisations.c.id)).all())
        conn.execute(
            insert(units),
            [{"code": c, "name": n, "organisation_id": ids[o]} for c, n, o in UNITS],
        )
    for name, role, org in [
        ("admin", "admin", None),
        ("stockholm", "member", "0180"),
        ("goteborg", "member", "1480"),
        ("researcher", "researcher", None),
    ]:
        create_user(engine, name, PASSWORDS[name], role, organisation_code=org)


@pytest.fixture(scope="module", params=BACKENDS)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A migrated database holding the workspace."""
    yield from migrated_database(request, tmp_path_factory.mktemp("surveys"), build)


def sign_in(client: TestClient, username: str) -> str:
    """Sign in through the form; returns the session's CSRF token."""
    r = client.post(
        "/signin",
        data={"username": username, "password": PASSWORDS[username],
              "csrf_token": csrf_of(client)},
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 303, r.text
    return csrf_of(client, "/signin")
