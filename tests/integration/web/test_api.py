"""The JSON API: numbers against a direct computation, exports, bounds, error shape."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from tillit.store.tables import observations, organisations
from tillit.web.api import routes

pytestmark = pytest.mark.integration


def _direct(engine, indicator: str, codes: list[str] | None) -> pd.DataFrame:
    """Yearly T values straight from the tables (the obvious computation)."""
    stmt = (
        select(organisations.c.code, observations.c.year, observations.c.value)
        .join(organisations)
        .where(
            observations.c.indicator_id == indicator,
            observations.c.gender == "T",
            observations.c.unit_id == 0,
            organisations.c.kind == "municipality",
        )
    )
    with engine.connect() as conn:
        df = pd.DataFrame(conn.execute(stmt).all(), columns=["org", "year", "value"])
    return df if codes is None else df[df["org"].isin(codes)]


def test_series_matches_a_direct_computation(client, app_engine) -> None:
    engine = app_engine[1]
    r = client.get(
        "/api/v1/series",
        params={"indicator": "N00002", "org": "1480", "peers": "county"},
    )
    assert r.status_code == 200
    body = r.json()
    codes = body["peers"]["codes"]
    assert "1480" in codes and all(c.startswith("14") for c in codes)
    df = _direct(engine, "N00002", codes)
    for row in body["years"]:
        year = df[df["year"] == row["year"]]
        own = year[year["org"] == "1480"]["value"].iloc[0]
        assert row["value"] == pytest.approx(own)
        assert row["median"] == pytest.approx(np.median(year["value"]))
        assert row["q1"] == pytest.approx(np.quantile(year["value"], 0.25))
        # lower is better: rank = 1 + number of peers with a strictly lower value
        assert row["rank"] == 1 + int((year["value"] < own).sum())
        assert row["n"] == len(year)
    assert body["trend"]["n"] == 5 and body["trend"]["last_year"] == 2024
    assert body["genders"] == []


def test_series_gender_split_and_year_window(client) -> None:
    r = client.get(
        "/api/v1/series",
        params={
            "indicator": "N00001",
            "org": "0180",
            "from": 2015,
            "to": 2020,
            "gender": "K",
        },
    )
    body = r.json()
    assert [y["year"] for y in body["years"]] == list(range(2015, 2021))
    g = {row["year"]: row for row in body["genders"]}
    assert g[2016]["gap"] == pytest.approx(4.0, abs=1e-6)  # K = T + 2, M = T - 2
    assert body["years"][1]["value"] == pytest.approx(g[2016]["K"])


def test_ranking_profile_organisations_and_peer_groups(client) -> None:
    r = client.get("/api/v1/indicators/N00001/ranking", params={"year": 2020}).json()
    assert r["year"] == 2020 and len(r["rows"]) == 290
    assert r["rows"][0]["rank"] == 1 and r["rows"][0]["percentile"] == 100
    assert r["rows"][0]["value"] == max(x["value"] for x in r["rows"])
    prof = client.get("/api/v1/profile", params={"org": "0180"}).json()
    assert {row["indicator"] for row in prof["rows"]} == {"N00001", "N00002"}
    orgs = client.get("/api/v1/organisations", params={"kind": "region"}).json()
    assert len(orgs) == 21
    assert client.get("/api/v1/organisations/0180").json()["name"] == "Stockholm"
    groups = client.get("/api/v1/peer-groups", params={"org": "0180"}).json()
    kinds = [g["kind"] for g in groups]
    assert kinds[:2] == ["all", "county"] and "skr" in kinds and "similar" in kinds
    assert groups == client.get("/api/v1/organisations/0180/peer-groups").json()
    ind = client.get("/api/v1/indicators/N00001").json()
    assert ind["years"] == list(range(2010, 2025))


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_exports_round_trip(client, fmt: str) -> None:
    params = {"indicator": "N00001", "org": "0180", "peers": "skr"}
    body = client.get("/api/v1/series", params=params).json()
    r = client.get(f"/api/v1/export/series.{fmt}", params=params)
    assert r.status_code == 200
    assert "attachment" in r.headers["content-disposition"]
    df = (
        pd.read_csv(io.BytesIO(r.content))
        if fmt == "csv"
        else pd.read_parquet(io.BytesIO(r.content))
    )
    assert list(df["year"]) == [y["year"] for y in body["years"]]
    np.testing.assert_allclose(
        df["median"].to_numpy(), [y["median"] for y in body["years"]], rtol=1e-12
    )
    got = df["value"].to_numpy(dtype=float)
    want = np.array(
        [np.nan if y["value"] is None else y["value"] for y in body["years"]]
    )
    np.testing.assert_allclose(got, want, rtol=1e-12)
    ranking = client.get(f"/api/v1/export/ranking/N00002.{fmt}", params={"year": 2015})
    rk = (
        pd.read_csv(io.BytesIO(ranking.content), dtype={"org": str})
        if fmt == "csv"
        else pd.read_parquet(io.BytesIO(ranking.content))
    )
    api = client.get("/api/v1/indicators/N00002/ranking", params={"year": 2015}).json()
    assert list(rk["org"]) == [x["org"] for x in api["rows"]]
    peers = client.get(f"/api/v1/export/peer-values.{fmt}", params=params)
    assert peers.status_code == 200
    prof = client.get(f"/api/v1/export/profile/0180.{fmt}")
    assert prof.status_code == 200
    inds = client.get(f"/api/v1/export/indicators.{fmt}")
    assert inds.status_code == 200


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/indicators", {"limit": 10001}),
        ("/api/v1/indicators", {"offset": -1}),
        ("/api/v1/indicators/N00001/ranking", {"year": 99999999999999999999999}),
        ("/api/v1/indicators/N00001/ranking", {"year": 1899}),
        ("/api/v1/series", {"indicator": "N00001", "org": "0180", "from": 2101}),
        ("/api/v1/series", {"indicator": "N00001", "org": "0" * 17}),
        ("/api/v1/series", {"indicator": "N00001", "org": "01 80"}),
        ("/api/v1/series", {"indicator": "N00001", "org": "0180", "gender": "X"}),
        (
            "/api/v1/series",
            {"indicator": "N00001", "org": "0180", "from": 2020, "to": 2010},
        ),
        ("/api/v1/organisations", {"kind": "planet"}),
        ("/api/v1/export/series.xlsx", {"indicator": "N00001", "org": "0180"}),
    ],
)
def test_parameters_are_bounded(client, path: str, params: dict) -> None:
    r = client.get(path, params=params)
    assert r.status_code in (404, 422), r.text
    body = r.json()
    assert body["ok"] is False and body["status"] == r.status_code and body["error"]


def test_unknown_things_are_404_json(client) -> None:
    for path in (
        "/api/v1/indicators/N99999",
        "/api/v1/organisations/9999",
        "/api/v1/nothing",
    ):
        r = client.get(path)
        assert r.status_code == 404 and r.json() == {
            "ok": False,
            "error": r.json()["error"],
            "status": 404,
        }


def test_unexpected_errors_are_generic_500(client, monkeypatch) -> None:
    def boom(*_a, **_k):
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(routes.fu, "list_indicators", boom)
    r = client.get("/api/v1/indicators")
    assert r.status_code == 500
    assert r.json() == {"ok": False, "error": "internal server error", "status": 500}
    r = client.get("/indicators")
    assert r.status_code == 500
    assert "secret" not in r.text and "Traceback" not in r.text
    assert "Något gick fel" in r.text


def test_openapi_description(client) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    paths = set(spec["paths"])
    assert {
        "/api/v1/indicators",
        "/api/v1/indicators/{indicator_id}",
        "/api/v1/series",
        "/api/v1/profile",
        "/api/v1/peer-groups",
        "/api/v1/import",
        "/api/v1/export/series.{fmt}",
    } <= paths
    assert not any(p.startswith("/followup") for p in paths)  # pages stay out
    year = next(
        p
        for p in spec["paths"]["/api/v1/indicators/{indicator_id}/ranking"]["get"][
            "parameters"
        ]
        if p["name"] == "year"
    )
    assert year["schema"]["anyOf"][0]["maximum"] == 2100


def test_docs_list_every_endpoint(client) -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[3] / "docs" / "api.md").read_text("utf-8")
    spec = client.get("/api/v1/openapi.json").json()
    ours = [
        path
        for path, item in spec["paths"].items()
        if any("api" in op.get("tags", []) for op in item.values())
    ]
    assert len(ours) >= 15
    for path in ours:
        shown = path.replace("{indicator_id}", "{id}").replace("{fmt}", "{fmt}")
        assert shown in doc, f"docs/api.md does not describe {path}"
