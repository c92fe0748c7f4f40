"""Fixtures of the compensation area: a migrated database on SQLite and PostgreSQL with
the 290 municipalities, users, and home-care indicators (N21006, N21826, U21401,
U21461, U21477) for 2016-2022 generated deterministically (test data, not Kolada's)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine

from tillit.domain.records import Indicator
from tillit.services.auth import create_user
from tillit.services.catalog import seed_geography, upsert_indicators
from tillit.services.imports import import_frame
from tillit.store.tables import organisations

from ...conftest import BACKENDS, migrated_database

PASSWORDS = {
    "admin": "admin-pass-1",
    "stockholm": "stockholm-pass-1",
    "goteborg": "goteborg-pass-1",
}
KPIS = {"N21006": "Kostnad hemtjänst äldreomsorg, kr/hemtjänsttagare", "N21826": "Beviljade timmar",
        "U21401": "Personalkontinuitet", "U21461": "Tillräckligt med tid", "U21477": "Förtroende",
        "N21702": "Hemtjänsttagare 65+", "N21804": "Andel i enskild regi"}  # fmt: skip


def fill(engine: Engine) -> None:
    """Geography, users and five home-care indicators."""
    seed_geography(engine)
    upsert_indicators(
        engine,
        [Indicator(k, v, area="Äldreomsorg", source="test") for k, v in KPIS.items()],
    )
    with engine.connect() as conn:
        codes = sorted(
            conn.execute(
                organisations.select()
                .with_only_columns(organisations.c.code)
                .where(organisations.c.kind == "municipality")
            ).scalars()
        )
    rng = np.random.default_rng(15)
    rows = []
    for code in codes:
        base = rng.normal(300_000, 50_000)
        for y in range(2016, 2023):
            rows += [("N21006", code, str(y), "T", round(base * 1.03 ** (y - 2016))),
                     ("N21826", code, str(y), "T", round(rng.normal(33, 6), 1)),
                     ("U21401", code, str(y), "T", round(rng.normal(16, 3), 1)),
                     ("U21461", code, str(y), "T", round(rng.normal(85, 5))),
                     ("U21477", code, str(y), "T", round(rng.normal(90, 4))),
                     ("N21702", code, str(y), "T", int(rng.integers(100, 900))),
                     ("N21804", code, str(y), "T", round(rng.uniform(0, 40), 1))]  # fmt: skip
    df = pd.DataFrame(
        rows, columns=["indicator", "org_code", "period", "gender", "value"]
    ).assign(unit_code="")
    import_frame(engine, df, source="test", filename="compensation-fixture")
    for name, role, org in [
        ("admin", "admin", None),
        ("stockholm", "member", "0180"),
        ("goteborg", "member", "1480"),
    ]:
        create_user(engine, name, PASSWORDS[name], role, organisation_code=org)


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, Engine]]:
    """The app on a filled SQLite database (shared within a test module)."""
    from tillit.config import Settings
    from tillit.store.db import make_engine, upgrade
    from tillit.web.app import create_app

    tmp = tmp_path_factory.mktemp("compensation-web")
    url = f"sqlite:///{tmp / 'tillit.db'}"
    eng = make_engine(url)
    upgrade(eng)
    fill(eng)
    app = create_app(
        Settings(database_url=url, data_dir=tmp, secret_key="c" * 32), engine=eng
    )
    yield app, eng
    eng.dispose()


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A filled database on SQLite and on PostgreSQL."""
    yield from migrated_database(request, tmp_path, fill)
