"""A small but real workspace for the web tests: all 290 municipalities with their
peer groups, three indicators (public with gender split, public lower-is-better,
non-public) over 2010-2024, four users; built once, copied per test module."""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, insert, select

from tillit.config import Settings
from tillit.services.auth import create_user
from tillit.services.catalog import seed_geography, upsert_peer_groups
from tillit.store.db import make_engine, upgrade
from tillit.store.tables import import_batches, indicators, observations, organisations
from tillit.web.app import create_app

with warnings.catch_warnings():
    # Starlette 1.x warns that its TestClient will move from httpx to httpx2
    from starlette.exceptions import StarletteDeprecationWarning

    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

YEARS = range(2010, 2025)
PASSWORDS = {
    "admin": "admin-pass-1",
    "stockholm": "stockholm-pass-1",
    "goteborg": "goteborg-pass-1",
    "researcher": "researcher-pass-1",
}


def build_workspace(engine: Engine) -> None:
    """Fill a migrated database with the test workspace (deterministic)."""
    seed_geography(engine)
    upsert_peer_groups(
        engine,
        {
            "G-sim-0180": (
                "Liknande kommuner som Stockholm",
                "similar",
                ["0180", "1480", "1280", "0380"],
            )
        },
    )
    rng = np.random.default_rng(2)
    with engine.begin() as conn:
        conn.execute(
            insert(indicators),
            [
                {"id": "N00001", "title": "Nöjdhet med hemtjänsten", "area": "Äldreomsorg",
                     "unit_of_measure": "%", "divided_by_gender": True, "higher_is_better": True,
                     "direction_source": "test workspace: higher is better", "source": "test", "is_public": True, "is_demo": True},
                {"id": "N00002", "title": "Sjukfrånvaro personal", "area": "Personal",
                     "unit_of_measure": "%", "divided_by_gender": False, "higher_is_better": False,
                     "direction_source": "test workspace: lower is better", "source": "test", "is_public": True, "is_demo": False},
                {"id": "X00003", "title": "Hemlig indikator", "area": "Intern",
                     "unit_of_measure": "st", "divided_by_gender": False, "higher_is_better": None,
                     "direction_source": "", "source": "test", "is_public": False, "is_demo": False},
            ],
        )  # fmt: skip
        bid = conn.execute(
            insert(import_batches).values(
                source="test", filename="fixture", sha256="0" * 64
            )
        ).inserted_primary_key[0]
        orgs = conn.execute(
            select(organisations.c.code, organisations.c.id).where(
                organisations.c.kind == "municipality"
            )
        ).all()
        rows = []
        for code, oid in orgs:
            level = rng.normal(80, 5)
            for y in YEARS:
                t = level + 0.3 * (y - 2010) + rng.normal(0, 1)
                if code == "0180" and y == 2012:
                    continue  # a gap in Stockholm's series
                rows.append((oid, "N00001", y, "T", round(t, 3)))
                rows.append((oid, "N00001", y, "K", round(t + 2, 3)))
                rows.append((oid, "N00001", y, "M", round(t - 2, 3)))
                rows.append((oid, "N00002", y, "T", round(rng.normal(7, 1.5), 3)))
                rows.append((oid, "X00003", y, "T", round(rng.normal(100, 10), 3)))
        conn.execute(
            insert(observations),
            [
                {"organisation_id": o, "indicator_id": i, "year": y, "period": str(y), "month": 0,
                     "unit_id": 0, "gender": g, "value": v, "batch_id": bid}
                for o, i, y, g, v in rows
            ],
        )  # fmt: skip
    for name, role, org in [
        ("admin", "admin", None),
        ("stockholm", "member", "0180"),
        ("goteborg", "member", "1480"),
        ("researcher", "researcher", None),
    ]:
        create_user(engine, name, PASSWORDS[name], role, organisation_code=org)


@pytest.fixture(scope="session")
def workspace_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of a built SQLite workspace (do not write to it; copy it)."""
    path = tmp_path_factory.mktemp("ws") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    build_workspace(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def _app_for(template: Path, tmp: Path, demo: bool = True) -> tuple[object, Engine]:
    db = tmp / "tillit.db"
    shutil.copy(template, db)
    engine = make_engine(f"sqlite:///{db}")
    settings = Settings(
        database_url=f"sqlite:///{db}", data_dir=tmp, secret_key="t" * 32, demo=demo
    )
    return create_app(settings, engine=engine), engine


@pytest.fixture(scope="module")
def app_engine(
    workspace_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[object, Engine]]:
    """An app on a private copy of the workspace (shared within a test module)."""
    app, engine = _app_for(workspace_template, tmp_path_factory.mktemp("app"))
    yield app, engine
    engine.dispose()


@pytest.fixture
def client(app_engine: tuple[object, Engine]) -> Iterator[TestClient]:
    """An anonymous client (fresh cookies per test)."""
    with TestClient(app_engine[0], raise_server_exceptions=False) as c:  # type: ignore[arg-type]
        yield c


def csrf_of(client: TestClient, path: str = "/signin") -> str:
    """The CSRF token from a page's form."""
    import re

    html = client.get(path).text
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, f"no CSRF field on {path}"
    return m.group(1)


def sign_in(client: TestClient, username: str) -> None:
    """Sign ``client`` in through the real form."""
    token = csrf_of(client)
    r = client.post(
        "/signin",
        data={
            "username": username,
            "password": PASSWORDS[username],
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
