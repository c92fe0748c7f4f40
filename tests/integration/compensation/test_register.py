"""The register of municipalities' models on SQLite and PostgreSQL: all-or-nothing
imports with row and field errors, replacement, permissions, the descriptive comparison."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from tillit.core.errors import DataError, PermissionDenied
from tillit.domain.records import Actor
from tillit.services import compensation as cs
from tillit.services.demo.compensation import demo_register, load_demo_compensation

pytestmark = pytest.mark.integration

ADMIN = Actor(role="admin")
CSV = (
    "municipality,year,basis,name,rate_day_kr,goal_related,source\n"
    "0180,2021,performed_time_electronic,Hemtjänst,450,no,Beslut 2020-11\n"
    "0180,2022,performed_time_electronic,Hemtjänst,465,no,Beslut 2021-11\n"
    "1480,2022,granted_time,Hemtjänst,455,ja,\n"
)


def member(engine: Engine, username: str) -> Actor:
    from tillit.services.auth import authenticate, get_actor

    from .conftest import PASSWORDS

    user = authenticate(engine, username, PASSWORDS[username])
    assert user is not None
    return get_actor(engine, user.id)


def test_import_writes_all_rows_and_replaces_by_key(engine: Engine) -> None:
    rep = cs.import_register(engine, ADMIN, CSV.encode(), "r.csv")
    assert (rep.written, rep.replaced, rep.municipalities, rep.years) == (
        3,
        0,
        2,
        (2021, 2022),
    )
    again = cs.import_register(
        engine, ADMIN, CSV.replace(",465,", ",470,").encode(), "r.csv"
    )
    assert again.replaced == 3
    rows = cs.register_rows(engine, codes=["0180"])
    assert rows["rate_day_kr"].tolist() == [450.0, 470.0]
    assert [e.year for e in cs.municipality_register(engine, "0180")] == [2022, 2021]


@pytest.mark.parametrize(
    ("bad", "row", "field"),
    [
        ("0180,2022,hourly,X,,,\n", 4, "basis"),
        ("9999,2022,granted_time,X,,,\n", 4, "municipality"),
        ("0180,20x2,granted_time,X,,,\n", 4, "year"),
        ("0180,2022,granted_time,X,-3,,\n", 4, "rate_day_kr"),
        ("0180,2021,granted_time,Hemtjänst,,,\n", 4, "name"),
    ],
)
def test_a_bad_row_writes_nothing_and_names_row_and_field(
    engine: Engine, bad: str, row: int, field: str
) -> None:
    with pytest.raises(DataError) as err:
        cs.import_register(engine, ADMIN, (CSV + bad).encode(), "r.csv")
    assert (err.value.file, err.value.row, err.value.field) == ("r.csv", row, field)
    assert cs.register_rows(engine).empty


def test_members_write_their_own_municipality_only(engine: Engine) -> None:
    sthlm = member(engine, "stockholm")
    with pytest.raises(PermissionDenied, match="1480"):
        cs.import_register(engine, sthlm, CSV.encode(), "r.csv")
    assert cs.register_rows(engine).empty
    own = "\n".join(CSV.splitlines()[:3]) + "\n"
    assert cs.import_register(engine, sthlm, own.encode(), "own.csv").written == 2


def test_comparison_is_descriptive_and_counts_municipalities(engine: Engine) -> None:
    assert load_demo_compensation(engine) == len(demo_register())
    assert load_demo_compensation(engine) == 0  # idempotent
    out = cs.compare(engine, year=2022)
    assert out["causal"] is False and out["is_demo"] is True
    assert sum(r["municipalities"] for r in out["rows"]) == 290
    for r in out["rows"]:
        assert r["N21006_n"] == r["municipalities"]  # every municipality has the KPI
    reg = cs.register_rows(engine, years=(2022, 2022))
    granted = set(reg[reg["basis"] == "granted_time"]["municipality"])
    pts = [p["N21006"] for p in out["points"] if p["basis"] == "granted_time"]
    assert len(pts) == len(granted)
