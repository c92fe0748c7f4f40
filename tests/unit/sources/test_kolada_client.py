"""The Kolada client against recorded responses (httpx.MockTransport; no network)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tillit.sources.kolada import DEFAULT_BASE_URL, KoladaClient, KoladaUnavailable
from tillit.sources.kolada_meta import indicators_from_records
from tillit.sources.readers import kolada_entries_frame

DATA = Path(__file__).resolve().parents[2] / "data" / "kolada"


def load(name: str) -> object:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def recorded(request: httpx.Request) -> httpx.Response:
    """Route a request to a recorded response by path."""
    path = request.url.path
    if path.startswith("/v3/data/kpi/N00945"):
        page = request.url.params.get("page", "1")
        return httpx.Response(200, json=load(f"data_N00945_page{page}.json"))
    routes = {
        "/v3/kpi/N00945": "kpi_N00945.json",
        "/v3/municipality": "municipality.json",
        "/v3/municipality_groups": "municipality_groups.json",
        "/v3/ou": "ou_0180.json",
    }
    if path in routes:
        return httpx.Response(200, json=load(routes[path]))
    if path.startswith("/v3/oudata/kpi/U21401"):
        return httpx.Response(200, json=load("oudata_U21401.json"))
    return httpx.Response(404, json={"error": "not found"})


def client(handler=recorded, **kw: object) -> KoladaClient:
    return KoladaClient(
        DEFAULT_BASE_URL,
        transport=httpx.MockTransport(handler),
        sleep=lambda s: None,
        **kw,
    )


def test_values_follow_next_page() -> None:
    seen: list[str] = []

    def spy(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return recorded(request)

    with client(spy) as k:
        pages = list(k.values(["N00945"], ["0180", "1280", "1480"], range(2010, 2021)))
    assert len(pages) == 2 and len(seen) == 2
    assert "/data/kpi/N00945/municipality/0180,1280,1480/year/2010,2011" in seen[0]
    assert "per_page=5000" in seen[0] and "page=2" in seen[1]
    df = kolada_entries_frame([e for p in pages for e in p])
    assert len(df) == 33  # 3 municipalities x 11 years
    stockholm_2010 = df[(df.org_code == "0180") & (df.period == 2010)]
    assert stockholm_2010["value"].tolist() == [36.92185942]
    assert df["value"].isna().sum() == 1


def test_metadata_endpoints() -> None:
    with client() as k:
        kpis = indicators_from_records(k.kpis(["N00945"]))
        assert kpis[0].id == "N00945" and kpis[0].area == "Arbetsmarknad"
        assert kpis[0].unit_of_measure == "andel av antal dagar (%)"
        assert [m["id"] for m in k.municipalities()][:2] == ["0000", "0001"]
        groups = {g["id"]: g for g in k.municipality_groups()}
        assert len(groups["G92787"]["members"]) == 3
        assert {u["id"] for u in k.ous("0180")} == {"V15E018000301", "V15E018000302"}
        ou = list(k.ou_values(["U21401"], ["V15E018000301"], [2019, 2020]))
        assert ou[0][0]["ou"] == "V15E018000301"


def test_retries_429_and_5xx_with_backoff() -> None:
    calls = {"n": 0}
    waits: list[float] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            return httpx.Response(429, headers={"Retry-After": "3"})
        if calls["n"] == 2:
            return httpx.Response(503)
        return recorded(request)

    k = KoladaClient(
        transport=httpx.MockTransport(flaky), sleep=waits.append, backoff=0.25
    )
    assert k.municipalities()[0]["id"] == "0000"
    assert calls["n"] == 3
    assert waits == [3.0, 0.5]  # Retry-After honoured, then exponential backoff


def test_offline_is_a_clear_error() -> None:
    def offline(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Name or service not known", request=request)

    with client(offline, retries=2) as k, pytest.raises(KoladaUnavailable) as info:
        k.kpis()
    assert "cannot reach api.kolada.se" in info.value.message
    assert "3 attempts" in info.value.message and "network" in info.value.message


def test_timeouts_and_persistent_errors() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with (
        client(slow, retries=1) as k,
        pytest.raises(KoladaUnavailable, match="timed out"),
    ):
        k.municipalities()
    err500 = client(lambda r: httpx.Response(500), retries=1)
    with err500 as k, pytest.raises(KoladaUnavailable, match="HTTP 500"):
        k.municipalities()
    with client() as k, pytest.raises(KoladaUnavailable, match="404"):
        k.kpis(["NOPE"])
    html = client(lambda r: httpx.Response(200, text="<html>"))
    with html as k, pytest.raises(KoladaUnavailable, match="not JSON"):
        k.municipalities()


def test_base_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TILLIT_KOLADA_URL", "http://mirror.example/v2/")
    assert KoladaClient().base_url == "http://mirror.example/v2"
    monkeypatch.delenv("TILLIT_KOLADA_URL")
    assert KoladaClient().base_url == DEFAULT_BASE_URL


def test_long_id_lists_are_chunked() -> None:
    paths: list[str] = []

    def spy(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        return httpx.Response(200, json={"values": [], "next_page": None})

    codes = [f"{i:04d}" for i in range(1, 121)]
    with client(spy) as k:
        assert list(k.values(["N1"], codes, [2020])) == [[], [], []]
    assert len(paths) == 3 and paths[0].count(",") == 49
