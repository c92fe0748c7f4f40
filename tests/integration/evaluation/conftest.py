"""A small planted workspace for evaluation tests, on SQLite and on PostgreSQL.

All 290 municipalities, one outcome ``Y0001`` (higher is better, area "Hemtjänst") and one
``Y0002`` (area "Personal"), yearly 2010-2020 in one batch. Three registered pilots of the
same kind of change with planted effects on ``Y0001`` from their start year: A +3.0 (12
municipalities from 2016), B +2.0 (10 from 2017), C 0 (8 from 2016); preconditions differ.
Users: admin, a Stockholm member, two researchers (``researcher`` is attached to A).
The PostgreSQL variant creates its own database and drops it afterwards.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, insert, select

from tillit.config import Settings
from tillit.domain.records import Actor
from tillit.services import network as net
from tillit.services import pilots as ps
from tillit.services.auth import create_user, get_user
from tillit.services.catalog import seed_geography
from tillit.store.tables import (
    import_batches,
    indicators,
    observations,
    organisations,
    users,
)

from ...conftest import BACKENDS, migrated_database

with warnings.catch_warnings():
    from starlette.exceptions import StarletteDeprecationWarning

    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

PASSWORDS = {"admin": "admin-pass-1", "stockholm": "stockholm-pass-1",
             "researcher": "researcher-pass-1", "researcher2": "researcher2-pass-1"}  # fmt: skip
EFFECTS = {"A": 3.0, "B": 2.0, "C": 0.0}
PRE = {"A": (5, 5, 4, 4), "B": (4, 4, 4, 3), "C": (2, 2, 3, 2)}


def municipalities(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(organisations.c.code).where(
            organisations.c.kind == "municipality")).scalars())  # fmt: skip


def assignment(codes: list[str]) -> dict[str, tuple[list[str], int]]:
    """Treated municipalities and start year of each pilot (disjoint, deterministic)."""
    pool = [c for c in codes if c != "0180"]
    return {
        "A": (pool[0:60:5], 2016),
        "B": (pool[1:51:5], 2017),
        "C": (pool[2:42:5], 2016),
    }


def values(codes: list[str], years: range, seed: int = 7) -> pd.DataFrame:
    """Planted panel: municipality level + trend + AR noise + pilot effects."""
    rng = np.random.default_rng(seed)
    eff = {}
    for p, (treated, start) in assignment(codes).items():
        for c in treated:
            eff[c] = (EFFECTS[p], start)
    rows = []
    level = dict(zip(codes, rng.normal(70, 6, len(codes)), strict=True))
    for c in codes:
        for y in years:
            e, s = eff.get(c, (0.0, 9999))
            v = (
                level[c]
                + 0.4 * (y - 2010)
                + rng.normal(0, 0.8)
                + (e if y >= s else 0.0)
            )
            rows.append((c, y, "Y0001", round(v, 3)))
            rows.append((c, y, "Y0002", round(rng.normal(6, 1), 3)))
    df = pd.DataFrame(rows, columns=["org_code", "period", "indicator", "value"])
    df["period"] = df["period"].astype(str)
    df["unit_code"] = ""
    df["gender"] = "T"
    return df


def build(engine: Engine) -> None:
    seed_geography(engine)
    with engine.begin() as conn:
        conn.execute(insert(indicators), [
            {"id": "Y0001", "title": "Brukarnöjdhet", "area": "Hemtjänst",
             "unit_of_measure": "%", "higher_is_better": True},
            {"id": "Y0002", "title": "Sjukfrånvaro", "area": "Personal",
             "unit_of_measure": "%", "higher_is_better": False}])  # fmt: skip
        bid = conn.execute(insert(import_batches).values(
            source="test", filename="base", sha256="1" * 64)).inserted_primary_key[0]  # fmt: skip
        ids = dict(conn.execute(select(organisations.c.code, organisations.c.id)).all())
        df = values(municipalities_from(conn), range(2010, 2021))
        conn.execute(insert(observations), [
            {"organisation_id": ids[r.org_code], "indicator_id": r.indicator,
             "year": int(r.period), "period": r.period, "month": 0, "unit_id": 0,
             "gender": "T", "value": r.value, "batch_id": bid}
            for r in df.itertuples()])  # fmt: skip
    for name, role, org in [("admin", "admin", None), ("stockholm", "member", "0180"),
                            ("researcher", "researcher", None),
                            ("researcher2", "researcher", None)]:  # fmt: skip
        create_user(engine, name, PASSWORDS[name], role, organisation_code=org)


def municipalities_from(conn: Any) -> list[str]:
    return sorted(conn.execute(select(organisations.c.code).where(
        organisations.c.kind == "municipality")).scalars())  # fmt: skip


def register_pilots(engine: Engine) -> dict[str, str]:
    """Register pilots A, B, C (owned by admin for their first municipality)."""
    admin = Actor(role="admin", username="admin", user_id=None)
    out = {}
    for p, (treated, start) in assignment(municipalities(engine)).items():
        doc = {
            "title": f"Pilot {p}", "change_kind": "trust_based_care",
            "change": "Tillitsbaserad styrning", "hypotheses": ["Nöjdheten ökar"],
            "sites": [{"org": c, "unit": "", "start": str(start)} for c in treated],
            "primary_outcomes": ["Y0001"], "secondary_outcomes": ["Y0002"],
            "design": "staggered_adoption",
            "analysis": {"estimator": "did", "control_group": "never treated",
                         "covariates": [], "min_effect": 1.0},
            "preconditions": dict(zip(("competence", "leadership", "shared_goal",
                                       "shared_values"), PRE[p], strict=True)),
        }  # fmt: skip
        code = ps.create_draft(engine, admin, doc, treated[0])
        ps.register(engine, admin, code)
        out[p] = code
    return out


@pytest.fixture(scope="module", params=BACKENDS)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A migrated database with the planted workspace and pilots A, B, C registered."""
    yield from migrated_database(request, tmp_path_factory.mktemp("eval"), build)


@pytest.fixture(scope="module")
def codes(engine: Engine) -> dict[str, str]:
    """Pilot codes of A, B, C; researcher attached to A."""
    out = register_pilots(engine)
    net.attach_researcher(engine, Actor(role="admin", username="admin"), out["A"],
                          "researcher")  # fmt: skip
    return out


@pytest.fixture(scope="module")
def actors(engine: Engine, codes: dict[str, str]) -> dict[str, Actor]:
    with engine.connect() as conn:
        ids = dict(conn.execute(select(users.c.username, users.c.id)).all())
    out = {name: get_user(engine, uid).actor() for name, uid in ids.items()}
    out["public"] = Actor()
    return out


@pytest.fixture(scope="module")
def app(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from tillit.web.app import create_app

    settings = Settings(database_url=str(engine.url), data_dir=tmp_path_factory.mktemp("d"),
                        secret_key="t" * 32, demo=False)  # fmt: skip
    return create_app(settings, engine=engine)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
