"""Pages render for a public reader, with charts, peers, gender split and the demo banner."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from tillit.web.app import SECURITY_HEADERS

pytestmark = pytest.mark.integration

NS = "{http://www.w3.org/2000/svg}"


def _svgs(html: str) -> list[ET.Element]:
    return [ET.fromstring(m) for m in re.findall(r"<svg .*?</svg>", html, flags=re.S)]


def test_home_and_lists(client) -> None:
    r = client.get("/")
    assert r.status_code == 200 and "Tillit" in r.text
    r = client.get("/indicators")
    assert "Nöjdhet med hemtjänsten" in r.text and "Sjukfrånvaro personal" in r.text
    assert "Hemlig indikator" not in r.text
    r = client.get("/indicators", params={"q": "sjuk"})
    assert "Sjukfrånvaro" in r.text and "Nöjdhet" not in r.text
    r = client.get("/indicators", params={"area": "Äldreomsorg"})
    assert "Nöjdhet" in r.text and "Sjukfrånvaro" not in r.text
    r = client.get("/municipalities", params={"q": "stock"})
    assert "/municipalities/0180" in r.text and "/municipalities/1480" not in r.text


def test_indicator_page_ranks_all_municipalities_and_highlights(client) -> None:
    r = client.get("/indicators/N00002", params={"year": 2020, "highlight": "0180"})
    assert r.status_code == 200
    (svg,) = _svgs(r.text)
    assert len(svg.findall(f".//{NS}circle[@class='dot']")) == 289
    assert svg.find(f".//{NS}g[@class='highlight']/{NS}text").text == "Stockholm"
    assert r.text.count('<tr class="hl">') == 1
    # lower is better: rank 1 is the lowest sick leave
    ranks = re.findall(r"<tr(?: class=\"hl\")?><td>(\d+)</td>", r.text)
    assert ranks[0] == "1" and len(ranks) == 290


@pytest.mark.parametrize("peers", ["all", "county", "skr", "similar", "G-sim-0180"])
def test_followup_page_for_every_peer_set(client, peers: str) -> None:
    r = client.get("/followup/N00001/0180", params={"peers": peers})
    assert r.status_code == 200, r.text
    chart = _svgs(r.text)[0]
    names = [g.get("data-series") for g in chart.findall(f"{NS}g[@data-series]")]
    assert names == ["Jämförelsegruppens median", "Stockholm"]
    assert chart.find(f"{NS}polygon[@class='band']") is not None
    # 15 years, one (2012) missing for Stockholm
    points = chart.findall(f"{NS}g[@data-series='Stockholm']/{NS}circle")
    assert len(points) == 14
    assert "DEMODATA" in r.text  # N00001 is a demo indicator


def test_followup_custom_peer_set_and_gender_split(client) -> None:
    r = client.get(
        "/followup/N00001/0180",
        params=[("peers", "custom"), ("peer", "1480"), ("peer", "1280")],
    )
    assert r.status_code == 200
    assert "3 kommuner i gruppen" in r.text
    assert re.search(r"/ 3</td>", r.text)  # ranks out of three
    gender = _svgs(r.text)[1]
    assert [g.get("data-series") for g in gender.findall(f"{NS}g[@data-series]")] == [
        "Kvinnor",
        "Män",
        "Totalt",
    ]


def test_followup_without_gender_split_and_without_demo_banner(client) -> None:
    r = client.get("/followup/N00002/1480")
    assert r.status_code == 200
    assert len(_svgs(r.text)) == 1 and "DEMODATA" not in r.text


def test_profile_page(client) -> None:
    r = client.get("/municipalities/0180", params={"peers": "skr"})
    assert r.status_code == 200
    assert "Nöjdhet med hemtjänsten" in r.text and "Hemlig indikator" not in r.text
    assert r.text.count('class="sparkline"') == 2
    assert "bland de 25 %" in r.text or "i mellersta hälften" in r.text


def test_english_toggle(client) -> None:
    assert "Logga in" in client.get("/").text
    r = client.get("/lang/en", params={"next": "/indicators"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/indicators"
    page = client.get("/followup/N00001/0180").text
    assert "Sign in" in page and "Peer median" in page and "DEMO DATA" in page
    assert "Logga in" in client.get("/?lang=sv").text
    page = client.get("/followup/N00001/0180", params={"peers": "county"}).text
    assert "/lang/sv?next=/followup/N00001/0180%3Fpeers%3Dcounty" in page


def test_errors_are_pages_without_tracebacks(client) -> None:
    r = client.get("/no/such/page")
    assert r.status_code == 404 and "Sidan finns inte" in r.text
    r = client.get("/followup/N99999/0180")
    assert r.status_code == 404 and "N99999" in r.text
    r = client.get("/followup/N00001/0180", params={"peers": "nope"})
    assert r.status_code == 404
    r = client.get("/indicators/N00001", params={"year": 99999999999999999999})
    assert r.status_code == 422 and "Traceback" not in r.text


def test_security_headers_and_cookie_flags(client) -> None:
    r = client.get("/signin")
    for k, v in SECURITY_HEADERS.items():
        assert r.headers[k] == v
    assert "'unsafe-inline'" not in r.headers["content-security-policy"]
    cookie = r.headers["set-cookie"].lower()
    assert cookie.startswith("tillit_session=")
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert "<script" not in r.text  # no inline (or any) script
    # public pages without a form set no cookie at all
    client.cookies.clear()
    fresh = client.get("/indicators")
    assert "set-cookie" not in fresh.headers


def test_static_assets_are_local(client) -> None:
    assert client.get("/static/tillit.css").status_code == 200
    html = client.get("/followup/N00001/0180").text
    assert not re.search(r"(src|href)=\"https?://", html)
