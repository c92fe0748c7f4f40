"""The compensation pages and API end to end: describe, simulate, compare, save a run,
turn it into a pilot draft and a burden requirement, import the register."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator

import pytest

from tillit.domain.records import Actor
from tillit.services import audit, pilots
from tillit.services.compensation.loop import _smallest_effect, predicted_change

from .conftest import PASSWORDS

with warnings.catch_warnings():
    from starlette.exceptions import StarletteDeprecationWarning

    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def client(web) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(web[0], raise_server_exceptions=False) as c:
        yield c


def token(client: TestClient, path: str = "/compensation") -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert m
    return m.group(1)


def sign_in(client: TestClient, user: str) -> None:
    r = client.post(
        "/signin",
        data={
            "username": user,
            "password": PASSWORDS[user],
            "csrf_token": token(client, "/signin"),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303


def form_values(html: str) -> dict[str, str]:
    out = {
        m.group(1): m.group(2)
        for m in re.finditer(r'<input name="([^"]+)" id="[^"]+" value="([^"]*)"', html)
    }
    for m in re.finditer(
        r'<select name="(m\d_\w+)" id="[^"]+">(.*?)</select>', html, re.S
    ):
        sel = re.search(r'<option value="([^"]*)" selected', m.group(2))
        out[m.group(1)] = sel.group(1) if sel else ""
    return out


def demo_form(client: TestClient, **extra: str) -> dict[str, str]:
    html = client.get("/compensation").text
    return {
        **form_values(html),
        "csrf_token": token(client),
        "population": "demo",
        "draws": "60",
        "seed": "1",
        **extra,
    }


def test_the_form_starts_from_the_demo_models(client: TestClient) -> None:
    html = client.get("/compensation?lang=sv").text
    assert html.count('<fieldset class="model">') == 6
    assert "Omvårdnad, dag (kr/tim)" in html and 'value="Beviljad tid"' in html
    assert (
        client.get("/compensation?lang=en").text.count("Personal care, day (kr/h)") == 6
    )


def test_an_anonymous_run_shows_results_charts_and_what_survives(
    client: TestClient,
) -> None:
    r = client.post("/compensation?lang=en", data=demo_form(client))
    assert r.status_code == 200, r.text[:500]
    html = r.text
    assert 'id="models-table"' in html and html.count("<tr>") >= 5
    assert html.count('role="img"') >= 5  # four charts and the tornado
    assert "DEMO" in html and 'id="survival"' in html
    assert 'id="pilot-form"' not in html and "Sign in as a member" in html


def test_a_bad_value_is_named_and_marked_in_the_form(client: TestClient) -> None:
    r = client.post("/compensation?lang=en", data=demo_form(client, m1_night="-5"))
    assert r.status_code == 422
    assert "models[1].rates.night" in r.text and "must not be negative" in r.text
    assert re.search(
        r'name="m1_night" id="m1_night" value="-5"[^>]*aria-invalid="true"', r.text
    )


def test_a_member_saves_a_run_and_drafts_a_pilot_and_a_ledger(
    client: TestClient, web
) -> None:  # type: ignore[no-untyped-def]
    engine = web[1]
    sign_in(client, "stockholm")
    r = client.post(
        "/compensation",
        data=demo_form(
            client, population="municipality", municipality="0180", draws="40"
        ),
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:400]
    url = r.headers["location"]
    rid = int(url.rsplit("/", 1)[1])
    page = client.get(url)
    assert (
        page.status_code == 200
        and 'id="pilot-form"' in page.text
        and "Stockholm" in page.text
    )
    run = client.get(f"/api/v1/compensation/runs/{rid}").json()
    result = {**run["result"], "run_id": rid}
    # the pilot: hypotheses and smallest effect from the simulator's prediction
    r = client.post(
        f"{url}/pilot",
        data={"candidate": "1", "csrf_token": token(client, url)},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/pilots/P-")
    code = r.headers["location"].rsplit("/", 1)[1]
    admin = Actor(role="admin")
    doc = pilots.get_pilot(engine, admin, code).document
    assert doc["change_kind"] == "new_compensation" and doc["primary_outcomes"] == [
        "N21006"
    ]
    assert doc["sites"][0]["org"] == "0180"
    want = _smallest_effect(predicted_change(result, 1, "cost_per_recipient"))
    assert doc["analysis"]["min_effect"] == pytest.approx(want)
    assert (
        any(f"#{rid}" in h for h in doc["hypotheses"]) and len(doc["hypotheses"]) >= 3
    )
    # the burden ledger: the requirement's hours are the run's registration hours
    r = client.post(
        f"{url}/burden",
        data={"model": "1", "csrf_token": token(client, url)},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/burden/")
    inv = int(r.headers["location"].rsplit("/", 1)[1])
    ledger = audit.inventory_ledger(engine, admin, inv)
    assert ledger is not None
    hours = float(ledger.tidy()["hours_per_year"].sum())
    assert hours == pytest.approx(result["models"][1]["registration_hours"], rel=1e-4)


def test_runs_are_private_to_their_organisation(client: TestClient) -> None:
    sign_in(client, "stockholm")
    r = client.post(
        "/compensation", data=demo_form(client, draws="5"), follow_redirects=False
    )
    url = r.headers["location"]
    client.post("/signout", data={"csrf_token": token(client)})
    sign_in(client, "goteborg")
    assert client.get(url).status_code == 403


def test_the_register_page_imports_and_compares(client: TestClient) -> None:
    sign_in(client, "admin")
    t = token(client, "/compensation/register")
    bad = b"municipality,year,basis\n0180,2022,granted_time\n0180,2022,hourly\n"
    r = client.post(
        "/compensation/register/import?lang=en",
        data={"csrf_token": t},
        files={"file": ("r.csv", bad, "text/csv")},
    )
    assert (
        r.status_code == 422
        and "row 2" in r.text
        and "basis" in r.text
        and "Nothing was imported" in r.text
    )
    good = b"municipality,year,basis,rate_day_kr\n0180,2022,granted_time,450\n1480,2022,per_service_level,\n"
    r = client.post(
        "/compensation/register/import",
        data={"csrf_token": t},
        files={"file": ("r.csv", good, "text/csv")},
        follow_redirects=False,
    )
    assert r.status_code == 303
    html = client.get("/compensation/register?lang=en&year=2022&municipality=0180").text
    assert 'id="not-causal"' in html and "not effects of the models" in html
    assert (
        'id="compare-table"' in html
        and 'id="register-rows"' in html
        and "Per service level" in html
    )
    prof = client.get("/municipalities/0180?lang=en").text
    assert (
        "compensation-profile" in prof
        and "2022: granted_time (Granted time), 450 kr/h" in prof
    )
    csv = client.get("/compensation/register.csv").text
    assert csv.splitlines()[0].startswith("municipality,year,basis")


def test_the_api_simulates_with_the_session_token(client: TestClient) -> None:
    t = token(client)  # the page creates the session and its token
    spec = {
        "models": [
            {"name": "A", "basis": "capitation", "capitation": 12000},
            {"name": "B", "basis": "per_visit", "visit_rate": 200},
        ]
    }
    r = client.post(
        "/api/v1/compensation/simulate",
        json={"spec": spec, "municipality": "1480", "draws": 20},
        headers={"x-csrf-token": t},
    )
    assert r.status_code == 200, r.text
    doc = r.json()
    assert [m["name"] for m in doc["models"]] == ["A", "B"] and "ci_low" in doc[
        "models"
    ][0]
    assert doc["population"]["municipality"] == "1480"
    bad = {"spec": {"models": [{"name": "A", "basis": "capitation", "capitation": -1}]}}
    r = client.post(
        "/api/v1/compensation/simulate", json=bad, headers={"x-csrf-token": t}
    )
    assert r.status_code == 422 and r.json()["field"] == "models[0].capitation"
    assert (
        client.get("/api/v1/compensation/behaviour").json()["parameters"]["staff_cost"][
            "source"
        ]
        == "assistant_nurse_wage"
    )
    assert (
        client.get("/api/v1/compensation/compare?year=2022").json()["causal"] is False
    )
