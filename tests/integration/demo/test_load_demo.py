"""load_demo on SQLite and PostgreSQL: everything lands, values round-trip, a second call
changes nothing."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from tillit.domain.demo import generate_demo
from tillit.services.demo import demo_filename, demo_pilots, load_demo
from tillit.store.tables import (
    import_batches,
    indicators,
    observations,
    organisations,
    units,
)

pytestmark = pytest.mark.integration


def _count(engine, table, *where) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(table).where(*where)
            ).scalar_one()
        )


def _stored(engine) -> pd.DataFrame:
    q = (
        select(
            observations.c.indicator_id.label("indicator"),
            organisations.c.code.label("org_code"),
            func.coalesce(units.c.code, "").label("unit_code"),
            observations.c.period,
            observations.c.gender,
            observations.c.value,
        )
        .join(organisations, organisations.c.id == observations.c.organisation_id)
        .outerjoin(units, units.c.id == observations.c.unit_id)
    )
    with engine.connect() as conn:
        return pd.DataFrame(
            conn.execute(q).all(), columns=list(q.selected_columns.keys())
        )


def test_small_demo_round_trips_and_is_idempotent(engine, tmp_path) -> None:
    ticks: list[tuple[int, int]] = []
    pilots_path = tmp_path / "pilots.json"
    first = load_demo(
        engine,
        scale=0.1,
        n_years=6,
        progress=lambda d, t: ticks.append((d, t)),
        pilots_path=pilots_path,
    )
    ws = generate_demo(scale=0.1, n_years=6)
    assert first["skipped"] is False
    assert first["n_observations"] == first["n_new"] == len(ws.observations)
    assert (
        first["filename"]
        == demo_filename(2016, 0.1, 6)
        == "demo-workspace-seed-2016-scale-0.1-years-6"
    )
    assert ticks and ticks[-1][0] == ticks[-1][1] == len(ws.observations)
    stored = _stored(engine)
    key = ["indicator", "org_code", "unit_code", "period", "gender"]
    both = ws.observations.merge(
        stored, on=key, how="outer", suffixes=("", "_db"), indicator=True
    )
    assert (both["_merge"] == "both").all()
    np.testing.assert_allclose(both["value"], both["value_db"], rtol=0, atol=1e-9)
    with engine.connect() as conn:
        flags = dict(conn.execute(select(indicators.c.id, indicators.c.is_demo)).all())
        demo_orgs = set(
            conn.execute(
                select(organisations.c.code).where(organisations.c.is_demo)
            ).scalars()
        )
        batch = conn.execute(
            select(import_batches.c.source, import_batches.c.filename)
        ).one()
    assert all(flags[i.id] for i in ws.indicators)
    assert demo_orgs == set(ws.organisations["code"])
    assert tuple(batch) == ("demo", first["filename"])
    assert _count(engine, units) == len(ws.units)
    assert _count(engine, organisations) == 312  # geography seeded: 290 + 21 + country
    doc = json.loads(pilots_path.read_text(encoding="utf-8"))
    assert doc["pilots"] == demo_pilots(2016, 0.1) == ws.pilots

    second = load_demo(engine, scale=0.1, n_years=6)
    assert second["skipped"] is True, second
    assert second["batch_id"] == first["batch_id"]
    assert _count(engine, import_batches) == 1
    assert _count(engine, observations) == len(ws.observations)


def test_scaled_demo_adds_flagged_clone_organisations(engine) -> None:
    report = load_demo(engine, scale=1.02, seed=3, n_years=2)
    assert report["filename"] == "demo-workspace-seed-3-scale-1.02-years-2"
    assert report["n_organisations"] == 296
    assert _count(engine, organisations, organisations.c.code.like("D%")) == 6
    assert _count(engine, organisations, organisations.c.is_demo) == 296
    assert _count(engine, observations) == report["n_observations"]


@pytest.mark.slow
def test_full_demo_loads_and_second_call_skips(sqlite_engine) -> None:
    """The default workspace (timed in benchmarks/bench_demo_load.py, not here)."""
    report = load_demo(sqlite_engine)
    assert report["n_organisations"] == 290 and report["n_indicators"] >= 28
    assert 300_000 <= report["n_observations"] <= 600_000
    assert _count(sqlite_engine, observations) == report["n_observations"]
    again = load_demo(sqlite_engine)
    assert again["skipped"] is True
    assert _count(sqlite_engine, import_batches) == 1
