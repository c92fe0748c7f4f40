"""Burden ledger and signal audit through the web app (TestClient on SQLite)."""

from __future__ import annotations

import io
import re

import pandas as pd
import pytest
from sqlalchemy import Engine, func, select

from tillit.store.tables import burden_inventories, burden_requirements

from .conftest import csrf_of, sign_in

pytestmark = pytest.mark.integration

HEADER = (
    "requirement_id,title,demanded_by,staff_group,unit,frequency_per_year,"
    "minutes_per_occurrence,reporters,hourly_cost_sek,indicator_ids,inventory,dimension\n"
)
GOOD = HEADER + (
    "R1,Visit notes,state,assistant nurse,home care,220,12,10,400,N00001,,continuity\n"
    "R2,Time stamps,purchaser,assistant nurse,home care,240,6,10,400,N00001;N00002,,cost\n"
    "R3,Board report,municipal_board,unit manager,all,12,90,2,650,,,safety\n"
)
# hand-computed Standard Cost Model: minutes/60 x frequency x reporters
HOURS = {"R1": 12 / 60 * 220 * 10, "R2": 6 / 60 * 240 * 10, "R3": 90 / 60 * 12 * 2}
COST = HOURS["R1"] * 400 + HOURS["R2"] * 400 + HOURS["R3"] * 650


def _counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return (
            conn.execute(
                select(func.count()).select_from(burden_inventories)
            ).scalar_one(),
            conn.execute(
                select(func.count()).select_from(burden_requirements)
            ).scalar_one(),
        )


def _upload(client, label: str, body: str, org: str = "", name: str = "inv.csv"):
    token = csrf_of(client, "/burden")
    return client.post(
        "/burden/import",
        data={
            "csrf_token": token,
            "label": label,
            "date": "2026-03-01",
            "organisation": org,
        },
        files={"file": (name, body.encode(), "text/csv")},
        follow_redirects=False,
    )


def test_public_sees_only_public_pages(client) -> None:
    assert client.get("/burden").status_code == 403
    assert client.get("/api/v1/burden/inventories").json() == []
    r = client.get("/audit")
    assert r.status_code == 200 and "audit-form" in r.text
    assert "/burden" not in re.findall(r'href="(/burden)"', r.text)


def test_member_imports_for_own_organisation(client, app_engine) -> None:
    sign_in(client, "stockholm")
    r = _upload(client, "Inventering A", GOOD)
    assert r.status_code == 303, r.text
    page = client.get(r.headers["location"])
    assert page.status_code == 200
    total = re.search(r'id="total-hours">([^<]+)<', page.text).group(1)
    assert total == f"{sum(HOURS.values()):.0f}"
    api = client.get(
        "/api/v1" + r.headers["location"].replace("/burden", "/burden/inventories")
    )
    doc = api.json()
    assert doc["total_hours"] == pytest.approx(sum(HOURS.values()))
    assert doc["total_cost"] == pytest.approx(COST)
    by = {x["demanded_by"]: x["hours_per_year"] for x in doc["by"]["demanded_by"]}
    assert by == pytest.approx({"state": HOURS["R1"], "purchaser": HOURS["R2"],
                                "municipal_board": HOURS["R3"]})  # fmt: skip
    links = {x["requirement_id"]: x["indicator_ids"] for x in doc["requirements"]}
    assert links == {"R1": "N00001", "R2": "N00001;N00002", "R3": ""}


def test_member_cannot_import_for_another_organisation(client, app_engine) -> None:
    before = _counts(app_engine[1])
    sign_in(client, "stockholm")
    r = _upload(client, "Göteborgs", GOOD, org="1480")
    assert r.status_code == 403
    assert _counts(app_engine[1]) == before


@pytest.mark.parametrize(
    ("body", "row", "field"),
    [
        (
            GOOD.replace("R3,Board report,municipal_board", "R3,Board report,the king"),
            3,
            "demanded_by",
        ),
        (
            GOOD.replace(",12,10,400,N00001", ",ten,10,400,N00001"),
            1,
            "minutes_per_occurrence",
        ),
        (GOOD.replace("N00001;N00002", "N00001;NOPE99"), 2, "indicator_ids"),
        (GOOD.replace("R2,Time", "R1,Time"), 2, "requirement_id"),
        (GOOD.replace(",2,650,", ",-2,650,"), 3, "reporters"),
    ],
)
def test_malformed_template_names_row_and_field_and_writes_nothing(
    client, app_engine, body: str, row: int, field: str
) -> None:
    before = _counts(app_engine[1])
    sign_in(client, "stockholm")
    r = _upload(client, f"Bad {field}", body, name="bad.csv")
    assert r.status_code == 422, r.text
    assert f"row {row}" in r.text and field in r.text and "bad.csv" in r.text
    assert _counts(app_engine[1]) == before


def test_form_entry_edit_delete_staff_and_compare(client, app_engine) -> None:
    sign_in(client, "stockholm")
    token = csrf_of(client, "/burden")
    r = client.post("/burden/import", data={"csrf_token": token, "label": "Formulär",
                    "date": "2026-04-01"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    url = r.headers["location"]
    inv_id = int(url.rsplit("/", 1)[1])
    fields = {"requirement_id": "F1", "title": "Weekly report", "demanded_by": "region",
              "staff_group": "nurse", "unit": "all", "frequency_per_year": "52",
              "minutes_per_occurrence": "30", "reporters": "4", "hourly_cost_sek": "500",
              "indicator_ids": "N00002", "dimension": "safety"}  # fmt: skip
    token = csrf_of(client, url)
    assert client.post(url + "/requirement", data={**fields, "csrf_token": token},
                       follow_redirects=False).status_code == 303  # fmt: skip
    doc = client.get(f"/api/v1/burden/inventories/{inv_id}").json()
    assert doc["total_hours"] == pytest.approx(0.5 * 52 * 4)
    pk = doc["requirements"][0]["pk"]
    bad = client.post(
        url + "/requirement", data={**fields, "reporters": "x", "csrf_token": token}
    )
    assert bad.status_code == 422 and "reporters" in bad.text
    client.post(url + "/requirement", data={**fields, "minutes_per_occurrence": "15",
                "pk": str(pk), "csrf_token": token})  # fmt: skip
    doc = client.get(f"/api/v1/burden/inventories/{inv_id}").json()
    assert len(doc["requirements"]) == 1 and doc["total_hours"] == pytest.approx(52.0)
    client.post(url + "/staff", data={"staff": "staff_group,employees\nnurse,8\n",
                                      "csrf_token": token})  # fmt: skip
    doc = client.get(f"/api/v1/burden/inventories/{inv_id}").json()
    assert doc["per_employee"][0]["hours_per_employee"] == pytest.approx(52.0 / 8)
    assert "per-employee" in client.get(url).text
    # compare with the first inventory (A): everything differs
    invs = {
        i["label"]: i["id"] for i in client.get("/api/v1/burden/inventories").json()
    }
    cmp = client.get(
        f"/api/v1/burden/compare?old={invs['Inventering A']}&new={inv_id}"
    ).json()
    assert cmp["counts"] == {"added": 1, "removed": 3, "changed": 0, "unchanged": 0}
    assert cmp["hours_per_year_delta"] == pytest.approx(52.0 - sum(HOURS.values()))
    page = client.get(f"/burden/compare?old={invs['Inventering A']}&new={inv_id}")
    assert page.status_code == 200 and "hours-delta" in page.text
    client.post(f"{url}/requirement/{pk}/delete", data={"csrf_token": token})
    assert (
        client.get(f"/api/v1/burden/inventories/{inv_id}").json()["requirements"] == []
    )


def test_read_rules(client, app_engine) -> None:
    sign_in(client, "goteborg")
    assert client.get("/api/v1/burden/inventories").json() == []
    assert client.get("/burden/1").status_code == 403
    client.post("/signout", data={"csrf_token": csrf_of(client, "/burden")})
    sign_in(client, "researcher")
    assert len(client.get("/api/v1/burden/inventories").json()) >= 1
    assert client.get("/burden/1").status_code == 200
    token = csrf_of(client, "/burden/1")
    r = client.post("/burden/1/staff", data={"staff": "staff_group,employees\na,1\n",
                                             "csrf_token": token})  # fmt: skip
    assert r.status_code == 403


def test_audit_report_exports_and_cache(client, app_engine) -> None:
    sign_in(client, "stockholm")
    q = "run=1&criterion=N00002&target=N00001%3E%3D85&inventory=1"
    page = client.get(f"/audit?{q}")
    assert page.status_code == 200, page.text
    for anchor in ("ranking", "reliability", "redundancy", "validity", "gaming-table"):
        assert f'id="{anchor}"' in page.text
    assert page.text.count("<svg") >= 3
    assert "demo-banner" in page.text  # N00001 is a demo indicator
    plain = client.get("/audit?run=1&indicator=N00002&indicator=X00003")
    assert plain.status_code == 200 and "demo-banner" not in plain.text
    csv = client.get(f"/audit/report.csv?{q}")
    df = pd.read_csv(io.StringIO(csv.text))
    assert set(df["indicator"]) == {"N00001", "X00003"}
    assert {"rank", "action", "hours_per_year", "icc", "evidence"} <= set(df.columns)
    # N00001 is linked by R1 (whole) and R2 (half of it)
    h = df.set_index("indicator")["hours_per_year"]
    assert h["N00001"] == pytest.approx(440 + 240 / 2)
    html = client.get(f"/audit/report.html?{q}").text
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html
    assert not re.search(r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//""", html)
    assert "<script" not in html and "<link" not in html and "url(" not in html
    api = client.get(f"/api/v1/audit?{q.replace('run=1&', '')}").json()
    assert api["cached"] is True and api["criteria"] == ["N00002"]


def test_public_audit_uses_public_indicators_only(client) -> None:
    r = client.get("/api/v1/audit?indicator=X00003")
    assert r.status_code == 404
    doc = client.get("/api/v1/audit").json()
    assert set(doc["indicators"]) == {"N00001", "N00002"}
    assert client.get("/api/v1/audit?inventory=1").status_code == 403
