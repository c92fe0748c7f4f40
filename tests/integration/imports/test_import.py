"""Imports end to end on SQLite and PostgreSQL: validation, atomicity, idempotency, roles."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, func, select

from tillit.core.errors import DataError, PermissionDenied
from tillit.domain.records import Actor, Indicator, Unit
from tillit.services import catalog, imports
from tillit.store import bulk
from tillit.store import followup as repo
from tillit.store.tables import import_batches, observations, organisations

pytestmark = pytest.mark.integration

_ids = itertools.count(1)


@pytest.fixture
def ind(engine: Engine) -> str:
    """A fresh indicator id, so tests sharing a module database stay independent."""
    iid = f"T{next(_ids):05d}"
    catalog.upsert_indicators(engine, [Indicator(iid, f"Test indicator {iid}")])
    return iid


def counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        n_obs = conn.execute(select(func.count()).select_from(observations)).scalar()
        n_bat = conn.execute(select(func.count()).select_from(import_batches)).scalar()
    return int(n_obs or 0), int(n_bat or 0)


def csv(
    ind: str,
    rows: list[str],
    header: str = "indicator,municipality,period,gender,value",
) -> bytes:
    return (header + "\n" + "\n".join(f"{ind},{r}" for r in rows) + "\n").encode()


def series(engine: Engine, ind: str, gender: str | None = None) -> pd.DataFrame:
    with engine.connect() as conn:
        return repo.indicator_series(conn, ind, gender=gender)


def test_import_then_read_back_exactly(engine: Engine, ind: str) -> None:
    values = [0.1, 1e-300, 123456789.123456789, -0.5, 2 / 3]
    rows = [f"0180,{2010 + k},T,{v!r}" for k, v in enumerate(values)]
    rows += ["0180,2010,K,", "1480,2011-06,M,7"]
    rep = imports.import_bytes(engine, csv(ind, rows), "a.csv")
    assert (rep.n_rows, rep.n_new, rep.n_updated, rep.n_unchanged) == (7, 7, 0, 0)
    s = series(engine, ind, "T")
    assert s["value"].tolist() == values  # bit-exact round trip
    assert s["org_name"].iat[0] == "Stockholm" and s["county_code"].iat[0] == "01"
    allg = series(engine, ind)
    assert math.isnan(allg[(allg.gender == "K")]["value"].iat[0])
    assert allg[allg.org_code == "1480"]["period"].tolist() == ["2011-06"]


def test_same_content_twice_changes_nothing(engine: Engine, ind: str) -> None:
    data = csv(ind, ["0180,2020,T,1", "0180,2021,T,2"])
    first = imports.import_bytes(engine, data, "a.csv")
    before = counts(engine)
    again = imports.import_bytes(engine, data, "a-copy.csv")
    assert counts(engine) == before
    assert (again.n_new, again.n_updated, again.n_unchanged) == (0, 0, 2)
    assert again.duplicate_of == first.batch_id == again.batch_id
    # the same rows in another order and with another separator: same content hash
    other = (
        f"indicator;municipality;period;value\n{ind};0180;2021;2,0\n{ind};0180;2020;1\n"
    )
    third = imports.import_bytes(engine, other.encode(), "b.csv")
    assert third.duplicate_of == first.batch_id and counts(engine) == before


def test_changed_value_is_an_update_in_the_new_batch(engine: Engine, ind: str) -> None:
    imports.import_bytes(engine, csv(ind, ["0180,2020,T,1", "0180,2021,T,2"]), "a.csv")
    rep = imports.import_bytes(
        engine, csv(ind, ["0180,2020,T,1", "0180,2021,T,2.5", "0180,2022,T,3"]), "b.csv"
    )
    assert (rep.n_new, rep.n_updated, rep.n_unchanged) == (1, 1, 1)
    assert rep.duplicate_of is None
    with engine.connect() as conn:
        rows = conn.execute(
            select(observations.c.period, observations.c.value, observations.c.batch_id)
            .where(observations.c.indicator_id == ind)
            .order_by(observations.c.period)
        ).all()
        batch = conn.execute(
            select(import_batches).where(import_batches.c.id == rep.batch_id)
        ).one()
    assert [r.value for r in rows] == [1.0, 2.5, 3.0]
    assert rows[0].batch_id != rep.batch_id  # unchanged rows keep their batch
    assert rows[1].batch_id == rep.batch_id == rows[2].batch_id
    assert (batch.n_rows, batch.n_new, batch.n_updated, batch.n_unchanged) == (
        3,
        1,
        1,
        1,
    )


def test_failure_on_last_row_leaves_database_unchanged(
    engine: Engine, ind: str
) -> None:
    imports.import_bytes(engine, csv(ind, ["0180,2019,T,1"]), "ok.csv")
    before = counts(engine)
    rows = [
        f"{code},2020,T,{k}" for k, code in enumerate(["0180", "1480", "1280", "0114"])
    ]
    for bad in ("9999,2020,T,1", "0180,2020,X,1", "0180,20,T,1", "0180,2021,T,x"):
        with pytest.raises(DataError) as info:
            imports.import_bytes(engine, csv(ind, [*rows, bad]), "bad.csv")
        assert info.value.row == 5 and info.value.file == "bad.csv"
        assert counts(engine) == before


def test_unknown_municipality_mentions_lost_zero(engine: Engine, ind: str) -> None:
    with pytest.raises(DataError, match="leading zero of 0180"):
        imports.import_bytes(engine, csv(ind, ["180,2020,T,1"]), "x.csv")


def test_database_error_mid_write_rolls_back(
    engine: Engine, ind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure after rows were written (here: in the update step) undoes the batch."""
    imports.import_bytes(engine, csv(ind, ["0180,2019,T,1"]), "a.csv")
    before = counts(engine)

    def boom(*a: object, **k: object) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(bulk, "update_observations", boom)
    with pytest.raises(RuntimeError):
        imports.import_bytes(
            engine, csv(ind, ["0180,2019,T,2", "0180,2020,T,1"]), "b.csv"
        )
    assert counts(engine) == before


def test_conflicting_duplicate_names_both_rows(engine: Engine, ind: str) -> None:
    rows = ["0180,2020,T,1", "1480,2020,T,1", "0180,2020,T,2"]
    with pytest.raises(DataError) as info:
        imports.import_bytes(engine, csv(ind, rows), "dup.csv")
    assert info.value.row == 3 and "row 1" in info.value.message
    # an exact repeat is harmless
    rep = imports.import_bytes(
        engine, csv(ind, ["0180,2020,T,1", "0180,2020,T,1"]), "rep.csv"
    )
    assert (rep.n_rows, rep.n_new) == (1, 1)


def test_unknown_indicator_needs_metadata(engine: Engine) -> None:
    data = b"indicator,municipality,period,value\nZZ999,0180,2020,1\n"
    with pytest.raises(DataError, match="unknown indicator 'ZZ999'") as info:
        imports.import_bytes(engine, data, "u.csv")
    assert info.value.field == "indicator"
    rep = imports.import_bytes(
        engine, data, "u.csv", indicators_meta=[Indicator("ZZ999", "Brought along")]
    )
    assert rep.n_new == 1
    with engine.connect() as conn:
        assert repo.get_indicator(conn, "ZZ999")["title"] == "Brought along"


def test_roles(engine: Engine, ind: str) -> None:
    with engine.connect() as conn:
        sthlm = conn.execute(
            select(organisations.c.id).where(organisations.c.code == "0180")
        ).scalar_one()
    member = Actor(role="member", user_id=None, organisation_id=sthlm)
    ok = imports.import_bytes(
        engine, csv(ind, ["0180,2020,T,1"]), "m.csv", actor=member
    )
    assert ok.n_new == 1
    before = counts(engine)
    with pytest.raises(PermissionDenied, match="'1480'"):
        imports.import_bytes(
            engine, csv(ind, ["0180,2021,T,1", "1480,2021,T,1"]), "m.csv", actor=member
        )
    for role in ("public", "researcher"):
        with pytest.raises(PermissionDenied):
            imports.import_bytes(
                engine, csv(ind, ["0180,2022,T,1"]), "p.csv", actor=Actor(role=role)
            )
    with pytest.raises(PermissionDenied):
        imports.import_bytes(
            engine,
            csv(ind, ["0180,2022,T,1"]),
            "p.csv",
            actor=member,
            indicators_meta=[Indicator("NEW1", "x")],
        )
    assert counts(engine) == before
    admin = Actor(role="admin", user_id=None)
    assert (
        imports.import_bytes(
            engine, csv(ind, ["1480,2021,T,1"]), "a.csv", actor=admin
        ).n_new
        == 1
    )


def test_units(engine: Engine, ind: str) -> None:
    n = catalog.upsert_units(
        engine,
        [
            Unit("HT0180A", "Hemtjänst A", "0180", "home-care"),
            Unit("HT1480A", "Hemtjänst G", "1480"),
        ],
    )
    assert n == 2
    assert (
        catalog.upsert_units(
            engine, [Unit("HT0180A", "Hemtjänst A", "0180", "home-care")]
        )
        == 0
    )
    data = csv(
        ind,
        ["HT0180A,2020,T,5", ",2020,T,6"],
        header="indicator,unit,municipality,period,gender,value",
    )
    data = data.replace(f"{ind},,2020".encode(), f"{ind},,0180,2020".encode())
    data = data.replace(f"{ind},HT0180A,2020".encode(), f"{ind},HT0180A,,2020".encode())
    rep = imports.import_bytes(engine, data, "units.csv")
    assert rep.n_new == 2
    with engine.connect() as conn:
        s = repo.indicator_series(conn, ind)  # organisation level only
        assert s["value"].tolist() == [6.0]
        assert repo.list_units(conn, "0180")["code"].tolist() == ["HT0180A"]
    clash = f"indicator,unit,municipality,period,value\n{ind},HT1480A,0180,2020,1\n".encode()
    with pytest.raises(DataError, match="belongs to organisation '1480'"):
        imports.import_bytes(engine, clash, "c.csv")
    with pytest.raises(DataError, match="unknown unit"):
        imports.import_bytes(
            engine,
            f"indicator,unit,period,value\n{ind},NOPE,2020,1\n".encode(),
            "c.csv",
        )
    with pytest.raises(DataError, match="unknown organisation"):
        catalog.upsert_units(engine, [Unit("X", "x", "9999")])


def test_kolada_json(engine: Engine, ind: str) -> None:
    doc = {
        "count": 2,
        "values": [
            {
                "kpi": ind,
                "municipality": "0180",
                "period": 2020,
                "values": [
                    {"gender": "T", "status": "", "value": 12.3, "count": 1},
                    {"gender": "K", "status": "Missing", "value": None, "count": 0},
                ],
            },
            {
                "kpi": ind,
                "municipality": "0001",
                "period": 2020,
                "values": [{"gender": "T", "status": "", "value": 3, "count": 1}],
            },
        ],
        "next_page": None,
    }
    rep = imports.import_bytes(engine, json.dumps(doc).encode(), "k.json")
    assert rep.n_new == 3 and rep.source == "kolada-json"
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                observations.c.gender,
                observations.c.value,
                observations.c.count,
                observations.c.status,
            )
            .where(observations.c.indicator_id == ind)
            .order_by(observations.c.organisation_id, observations.c.gender)
        ).all()
    assert {tuple(r) for r in rows} == {
        ("T", 3.0, 1, ""),
        ("K", None, 0, "Missing"),
        ("T", 12.3, 1, ""),
    }
    doc["values"][1]["values"][0]["gender"] = "W"
    with pytest.raises(DataError) as info:
        imports.import_bytes(engine, json.dumps(doc).encode(), "k.json")
    assert info.value.row == "values[1].values[0]" and info.value.field == "gender"


def test_import_frame_in_chunks_reports_progress(
    engine: Engine, ind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "CHUNK", 1000)
    codes = catalog.organisation_codes(engine)[:250]
    years = np.arange(2001, 2021)
    df = pd.DataFrame(
        {
            "indicator": ind,
            "org_code": np.repeat(codes, len(years)),
            "unit_code": "",
            "period": np.tile(years, len(codes)).astype(str),
            "gender": "T",
            "value": np.linspace(0, 1, len(codes) * len(years)),
        }
    )
    seen: list[tuple[int, int]] = []
    rep = imports.import_frame(
        engine, df, source="demo", progress=lambda d, t: seen.append((d, t))
    )
    assert rep.n_new == 5000 and seen[-1] == (5000, 5000) and len(seen) >= 3
    df.loc[df.index[-1200:], "value"] += 1
    rep = imports.import_frame(engine, df, source="demo")
    assert (rep.n_new, rep.n_updated, rep.n_unchanged) == (0, 1200, 3800)
    s = series(engine, ind)
    assert np.allclose(
        np.sort(s["value"].to_numpy()), np.sort(df["value"].to_numpy()), rtol=0, atol=0
    )


def test_busy_database_and_concurrent_writes_are_conflicts(
    engine: Engine, ind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Raw driver errors below SQLAlchemy become Conflict inside the store."""
    import sqlite3

    import psycopg
    from sqlalchemy.exc import OperationalError

    from tillit.core.errors import Conflict

    def locked(*a: object, **k: object) -> None:
        raise sqlite3.OperationalError("database is locked")

    def wrapped_locked(*a: object, **k: object) -> None:
        raise OperationalError(
            "BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked")
        )

    def raced(*a: object, **k: object) -> None:
        raise sqlite3.IntegrityError(
            "UNIQUE constraint failed: observations.indicator_id"
        )

    def pg_raced(*a: object, **k: object) -> None:
        raise psycopg.errors.UniqueViolation("duplicate key value")

    data = csv(ind, ["0180,2020,T,1"])
    for fail, words in (
        (locked, "busy"),
        (wrapped_locked, "busy"),
        (raced, "again"),
        (pg_raced, "again"),
    ):
        monkeypatch.setattr(bulk, "_existing_observations", fail)
        with pytest.raises(Conflict, match=words) as info:
            imports.import_bytes(engine, data, "a.csv")
        assert "import" in info.value.message
    monkeypatch.undo()
    monkeypatch.setattr(bulk, "_insert_observations", raced)
    with pytest.raises(Conflict, match="import the file again"):
        imports.import_bytes(engine, data, "a.csv")


def test_report_shape() -> None:
    rep = imports.ImportReport(
        batch_id=None, n_rows=2, n_new=0, n_updated=0, n_unchanged=2, duplicate_of=7
    )
    assert list(rep.to_dict()) == [
        "batch_id",
        "n_rows",
        "n_new",
        "n_updated",
        "n_unchanged",
        "duplicate_of",
        "source",
        "filename",
    ]
    assert "same content as batch 7" in rep.summary()
    with pytest.raises(AttributeError):
        rep.n_new = 1  # type: ignore[misc]
