"""A small pilot workspace per test module, on SQLite and on PostgreSQL.

All 290 municipalities, three indicators with a municipality panel 2010-2024 (so the design
help has data), one home-care unit in Stockholm, and five users: an administrator, members
of Stockholm (0180) and Göteborg (1480), and two researchers. The PostgreSQL variant makes
its own database (``tillit_<random>``) on TILLIT_TEST_PG_URL and drops it afterwards.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine, insert, select

from tillit.config import Settings
from tillit.domain.records import Actor
from tillit.services.auth import create_user, get_user
from tillit.services.catalog import seed_geography
from tillit.store.tables import (
    import_batches,
    indicators,
    observations,
    organisations,
    units,
    users,
)
from tillit.web.app import create_app

from ...conftest import BACKENDS, csrf_of, migrated_database

with warnings.catch_warnings():
    from starlette.exceptions import StarletteDeprecationWarning

    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

PASSWORDS = {
    "admin": "admin-pass-1",
    "stockholm": "stockholm-pass-1",
    "goteborg": "goteborg-pass-1",
    "researcher": "researcher-pass-1",
    "researcher2": "researcher2-pass-1",
}


def build(engine: Engine) -> None:
    """Fill a migrated database with the pilot workspace (deterministic)."""
    seed_geography(engine)
    rng = np.random.default_rng(5)
    with engine.begin() as conn:
        conn.execute(
            insert(indicators),
            [
                {
                    "id": "N00001",
                    "title": "Nöjdhet med hemtjänsten",
                    "area": "Äldreomsorg",
                },
                {"id": "N00002", "title": "Sjukfrånvaro personal", "area": "Personal"},
                {
                    "id": "N00003",
                    "title": "Tid för rapportering",
                    "area": "Administration",
                },
            ],
        )
        bid = conn.execute(
            insert(import_batches).values(source="test", filename="f", sha256="0" * 64)
        ).inserted_primary_key[0]
        orgs = conn.execute(
            select(organisations.c.code, organisations.c.id).where(
                organisations.c.kind == "municipality"
            )
        ).all()
        rows = []
        for _code, oid in orgs:
            level = rng.normal(80, 5)
            for y in range(2010, 2025):
                for ind, v in (("N00001", level + rng.normal(0, 1)),
                               ("N00002", rng.normal(7, 1.5))):  # fmt: skip
                    rows.append({"organisation_id": oid, "indicator_id": ind, "year": y,
                                 "period": str(y), "month": 0, "unit_id": 0, "gender": "T",
                                 "value": round(float(v), 3), "batch_id": bid})  # fmt: skip
        conn.execute(insert(observations), rows)
        sthlm = dict(orgs)["0180"]
        conn.execute(
            insert(units),
            [
                {
                    "code": "V15E018000301",
                    "name": "Hemtjänst Söder",
                    "organisation_id": sthlm,
                },
                {
                    "code": "V15E018000302",
                    "name": "Hemtjänst Norr",
                    "organisation_id": sthlm,
                },
            ],
        )
    for name, role, org in [
        ("admin", "admin", None),
        ("stockholm", "member", "0180"),
        ("goteborg", "member", "1480"),
        ("researcher", "researcher", None),
        ("researcher2", "researcher", None),
    ]:
        create_user(engine, name, PASSWORDS[name], role, organisation_code=org)


@pytest.fixture(scope="module", params=BACKENDS)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A migrated database holding the pilot workspace."""
    yield from migrated_database(request, tmp_path_factory.mktemp("pilots"), build)


@pytest.fixture(scope="module")
def actors(engine: Engine) -> dict[str, Actor]:
    """The workspace's users as actors, plus ``public``."""
    with engine.connect() as conn:
        ids = dict(conn.execute(select(users.c.username, users.c.id)).all())
    out = {name: get_user(engine, uid).actor() for name, uid in ids.items()}
    out["public"] = Actor()
    return out


@pytest.fixture(scope="module")
def app(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The web app on the module's database."""
    settings = Settings(
        database_url=str(engine.url),
        data_dir=tmp_path_factory.mktemp("data"),
        secret_key="t" * 32,
        demo=False,
    )
    return create_app(settings, engine=engine)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    """An anonymous client (fresh cookies per test)."""
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def sign_in(client: TestClient, username: str) -> str:
    """Sign in through the form; returns the session's CSRF token."""
    r = client.post(
        "/signin",
        data={"username": username, "password": PASSWORDS[username],
              "csrf_token": csrf_of(client)},
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 303, r.text
    return csrf_of(client, "/pilots")


DRAFT = {
    "title": "Tillitsbaserad hemtjänst i Söder",
    "change_kind": "trust_based_care",
    "change": "Hemtjänsten planerar utan minuttid.",
    "sites": [{"org": "0180", "unit": "", "start": "2025"}],
    "hypotheses": ["Rapporteringstiden minskar"],
    "primary_outcomes": ["N00001"],
    "secondary_outcomes": ["N00002"],
    "design": "staggered_adoption",
    "analysis": {"estimator": "did", "control_group": "not yet treated",
                 "covariates": [], "min_effect": 2.0},
    "preconditions": {"competence": 4, "leadership": 3},
}  # fmt: skip
