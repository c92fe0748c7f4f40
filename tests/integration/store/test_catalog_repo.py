"""Catalog upserts and the read repository, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from tillit.core.errors import DataError, NotFound
from tillit.domain.geography import geography
from tillit.domain.records import Indicator
from tillit.services import catalog, imports
from tillit.store import followup as repo
from tillit.store.tables import organisations, peer_group_members, peer_groups

pytestmark = pytest.mark.integration


def test_seed_geography_is_complete_and_idempotent(engine: Engine) -> None:
    catalog.seed_geography(engine)  # second time (the fixture seeded once)
    with engine.connect() as conn:
        kinds = dict(
            conn.execute(
                select(organisations.c.kind, func.count()).group_by(
                    organisations.c.kind
                )
            ).all()
        )
        assert kinds == {"municipality": 290, "region": 21, "country": 1}
        org = repo.get_organisation(conn, "0180")
        assert (org["name"], org["kind"], org["county_code"]) == (
            "Stockholm",
            "municipality",
            "01",
        )
        groups = dict(
            conn.execute(
                select(peer_groups.c.kind, func.count()).group_by(peer_groups.c.kind)
            ).all()
        )
        assert groups["skr"] == 9 and groups["county"] == 21
        assert len(repo.peer_group_codes(conn, "county-01")) == 26
        skr = geography().query("kind == 'municipality'")
        a2 = sorted(skr[skr.skr_kolada_group_id == "G92793"]["code"])
        assert repo.peer_group_codes(conn, "G92793") == a2
        mine = repo.peer_groups_of(conn, repo.get_organisation(conn, "0114")["id"])
        assert {g["id"] for g in mine} >= {"G92793", "county-01"}
        n_members = int(
            conn.execute(select(func.count()).select_from(peer_group_members)).scalar()
            or 0
        )
    assert n_members == 290 * 2


def test_upsert_peer_groups_replaces_members(engine: Engine) -> None:
    groups = {"custom-1": ("My peers", "custom", ["0180", "1480"])}
    assert catalog.upsert_peer_groups(engine, groups) == 1
    assert catalog.upsert_peer_groups(engine, groups) == 0
    groups = {"custom-1": ("My peers", "custom", ["0180", "1280"])}
    assert catalog.upsert_peer_groups(engine, groups) == 1
    with engine.connect() as conn:
        assert repo.peer_group_codes(conn, "custom-1") == ["0180", "1280"]
        with pytest.raises(NotFound):
            repo.peer_group_codes(conn, "nope")
    with pytest.raises(DataError, match="9999"):
        catalog.upsert_peer_groups(engine, {"bad": ("x", "custom", ["9999"])})


def test_kolada_group_titles_survive_reseeding(engine: Engine) -> None:
    data = (
        "group_id,group_title,member_id,member_title\n"
        "G92787,Storstäder (ovägt medel),0180,Stockholm\n"
        "G92787,Storstäder (ovägt medel),1280,Malmö\n"
        "G92787,Storstäder (ovägt medel),1480,Göteborg\n"
        'G999,"Liknande kommuner äldreomsorg, Arboga, 2024",0180,Stockholm\n'
    )
    catalog.import_municipality_groups(engine, data.encode(), "g.csv")
    catalog.seed_geography(engine)
    with engine.connect() as conn:
        rows = dict(conn.execute(select(peer_groups.c.id, peer_groups.c.title)).all())
        kinds = dict(conn.execute(select(peer_groups.c.id, peer_groups.c.kind)).all())
    assert rows["G92787"] == "Storstäder (ovägt medel)"
    assert kinds["G999"] == "similar" and kinds["G92787"] == "skr"


def test_upsert_indicators_counts_changes(engine: Engine) -> None:
    rows = [Indicator("R1", "One"), Indicator("R2", "Two", divided_by_gender=True)]
    assert catalog.upsert_indicators(engine, rows) == 2
    assert catalog.upsert_indicators(engine, rows) == 0
    assert catalog.upsert_indicators(engine, [Indicator("R1", "One, kr/inv")]) == 1
    with pytest.raises(DataError):
        catalog.upsert_indicators(engine, [Indicator("R3", "")])


def test_repo_queries(engine: Engine) -> None:
    catalog.upsert_indicators(
        engine,
        [
            Indicator("Q1", "Public", area="Äldreomsorg"),
            Indicator("Q2", "Private", is_public=False),
        ],
    )
    data = (
        "indicator,municipality,period,gender,value\n"
        "Q1,0180,2019,T,1\nQ1,0180,2020,T,2\nQ1,0180,2020,K,3\nQ1,1480,2020,T,4\n"
        "Q2,0180,2020,T,9\n"
    )
    imports.import_bytes(engine, data.encode(), "q.csv")
    with engine.connect() as conn:
        s = repo.indicator_series(conn, "Q1")
        assert list(s.columns) == [
            "org_code",
            "org_name",
            "county_code",
            "year",
            "period",
            "gender",
            "value",
        ]
        assert s["value"].tolist() == [1.0, 2.0, 4.0]
        assert repo.indicator_series(conn, "Q1", org_ids=["1480"])[
            "value"
        ].tolist() == [4.0]
        assert repo.indicator_series(conn, "Q1", years=(2020, 2020))[
            "value"
        ].tolist() == [2.0, 4.0]
        assert repo.indicator_series(conn, "Q1", years=[2019])["value"].tolist() == [
            1.0
        ]
        assert len(repo.indicator_series(conn, "Q1", gender=None)) == 4
        oid = repo.get_organisation(conn, "1480")["id"]
        assert repo.indicator_series(conn, "Q1", org_ids=[oid])[
            "org_code"
        ].tolist() == ["1480"]
        pub = repo.list_indicators(conn, public_only=True)
        assert "Q2" not in {i["id"] for i in pub} and "Q1" in {i["id"] for i in pub}
        assert repo.indicator_years(conn, "Q1") == [2019, 2020]
        every = repo.list_indicators(conn, public_only=False)
        assert "Q2" in {i["id"] for i in every}
        with pytest.raises(NotFound):
            repo.get_organisation(conn, "9999")
        with pytest.raises(NotFound):
            repo.get_indicator(conn, "NOPE")
