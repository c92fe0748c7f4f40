"""Roles, sign-in, CSRF and imports through the web form and the API."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tillit.services import jobs
from tillit.store.tables import observations

from .conftest import PASSWORDS, csrf_of, sign_in

pytestmark = pytest.mark.integration

CSV_0180 = b"indicator,municipality,period,gender,value\nN00002,0180,2030,T,6.5\n"
CSV_1480 = b"indicator,municipality,period,gender,value\nN00002,1480,2030,T,6.5\n"


def _upload(client, engine, token: str, name: str, data: bytes):
    """Upload through the form, run the queued import job, open its page."""
    r = client.post(
        "/import",
        data={"csrf_token": token},
        files={"file": (name, data)},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/jobs/"), r.text
    queued = client.get(r.headers["location"])
    assert queued.status_code == 200 and 'data-status="queued"' in queued.text
    jobs.work(engine)
    return client.get(r.headers["location"])


def _count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(observations)).scalar_one()


def test_public_reader_sees_public_data_only(client) -> None:
    assert client.get("/indicators/X00003").status_code == 403
    r = client.get("/api/v1/indicators/X00003")
    assert r.status_code == 403
    assert r.json()["ok"] is False and r.json()["status"] == 403
    assert "X00003" not in {i["id"] for i in client.get("/api/v1/indicators").json()}
    r = client.get("/api/v1/series", params={"indicator": "X00003", "org": "0180"})
    assert r.status_code == 403
    assert "Hemlig" not in client.get("/api/v1/profile", params={"org": "0180"}).text


def test_researcher_reads_non_public_but_cannot_import(client) -> None:
    sign_in(client, "researcher")
    assert client.get("/indicators/X00003").status_code == 200
    ids = {i["id"] for i in client.get("/api/v1/indicators").json()}
    assert "X00003" in ids
    token = csrf_of(client, "/indicators")  # the sign-out form carries the token
    r = client.post(
        "/import", data={"csrf_token": token}, files={"file": ("a.csv", CSV_0180)}
    )
    assert r.status_code == 403


def test_public_cannot_import(client, app_engine) -> None:
    r = client.get("/import", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/signin")
    token = csrf_of(client)
    r = client.post(
        "/import", data={"csrf_token": token}, files={"file": ("a.csv", CSV_0180)}
    )
    assert r.status_code == 403
    r = client.post("/api/v1/import", files={"file": ("a.csv", CSV_0180)})
    assert r.status_code == 403 and r.json()["ok"] is False


def test_member_imports_for_own_organisation_only(client, app_engine) -> None:
    engine = app_engine[1]
    sign_in(client, "stockholm")
    token = csrf_of(client, "/import")
    before = _count(engine)
    r = _upload(client, engine, token, "gbg.csv", CSV_1480)
    assert 'id="import-error"' in r.text and "own organisation" in r.text
    assert _count(engine) == before
    r = _upload(client, engine, token, "sthlm.csv", CSV_0180)
    assert r.status_code == 200, r.text
    assert re.search(r'id="n-new">1<', r.text)
    assert _count(engine) == before + 1
    # the same file again changes nothing
    r = _upload(client, engine, token, "sthlm.csv", CSV_0180)
    assert re.search(r'id="n-new">0<', r.text) and _count(engine) == before + 1
    # the import page lists the member's own jobs
    assert "sthlm.csv" in client.get("/import").text


def test_bad_import_names_file_row_and_field(client, app_engine) -> None:
    sign_in(client, "stockholm")
    token = csrf_of(client, "/import")
    bad = b"indicator,municipality,period,gender,value\nN00002,0180,2031,T,abc\n"
    r = _upload(client, app_engine[1], token, "bad.csv", bad)
    assert "bad.csv" in r.text and "value" in r.text and "Traceback" not in r.text
    assert 'id="import-error"' in r.text and 'data-status="failed"' in r.text


def test_jobs_are_seen_by_their_owner_only(client, app_engine) -> None:
    sign_in(client, "stockholm")
    token = csrf_of(client, "/import")
    r = client.post(
        "/import",
        data={"csrf_token": token},
        files={"file": ("own.csv", CSV_0180)},
        follow_redirects=False,
    )
    where = r.headers["location"]
    api = "/api/v1" + where
    assert client.get(api).json()["status"] == "queued"
    client.post("/signout", data={"csrf_token": token})
    assert client.get(api).status_code == 403
    assert client.get(where).status_code == 403
    sign_in(client, "goteborg")
    assert client.get(api).status_code == 403
    sign_in(client, "admin")
    assert client.get(api).status_code == 200
    assert client.get("/api/v1/jobs/999999").status_code == 404
    jobs.work(app_engine[1])
    done = client.get(api).json()
    assert done["status"] == "done" and done["result"]["filename"] == "own.csv"


def test_csrf_is_refused(client) -> None:
    sign_in(client, "stockholm")
    before = client.get("/api/v1/session").json()
    assert before["role"] == "member"
    for data in ({}, {"csrf_token": "forged-token-forged-token"}):
        r = client.post("/import", data=data, files={"file": ("a.csv", CSV_0180)})
        assert r.status_code == 403 and "CSRF" in r.text
    # sign-out needs the token too
    assert client.post("/signout").status_code == 403
    # sign-in form without a token is refused
    other = client.post(
        "/signin", data={"username": "admin", "password": PASSWORDS["admin"]}
    )
    assert other.status_code == 403
    # the JSON API: cookie-authenticated write without / with the header
    r = client.post("/api/v1/import", files={"file": ("a.csv", CSV_0180)})
    assert r.status_code == 403 and r.json()["status"] == 403
    r = client.post(
        "/api/v1/import",
        files={"file": ("a.csv", CSV_0180)},
        headers={"X-CSRF-Token": before["csrf_token"]},
    )
    assert r.status_code == 202, r.text
    assert r.json()["ok"] is True and r.json()["job"]["status"] == "queued"
    url = r.json()["status_url"]
    jobs.work(client.app.state.engine)
    done = client.get(url).json()
    assert done["status"] == "done" and done["result"]["n_rows"] == 1


def test_sign_in_out_and_wrong_password(client) -> None:
    token = csrf_of(client)
    r = client.post(
        "/signin",
        data={"username": "admin", "password": "wrong-password", "csrf_token": token},
    )
    assert r.status_code == 401 and "Fel användarnamn" in r.text
    r = client.post(
        "/signin",
        data={
            "username": "admin",
            "password": PASSWORDS["admin"],
            "csrf_token": token,
            "next": "//evil.example/x",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert "admin" in client.get("/").text
    token = csrf_of(client, "/")
    client.post("/signout", data={"csrf_token": token})
    assert client.get("/api/v1/session").json()["role"] == "public"


def test_admin_manages_users(client) -> None:
    sign_in(client, "stockholm")
    assert client.get("/admin/users").status_code == 403
    client.cookies.clear()
    sign_in(client, "admin")
    page = client.get("/admin/users")
    assert page.status_code == 200 and "goteborg" in page.text
    token = csrf_of(client, "/admin/users")
    r = client.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "username": "uppsala",
            "password": "uppsala-pass-1",
            "role": "member",
            "organisation": "0380",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = client.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "username": "x",
            "password": "short",
            "role": "member",
        },
    )
    assert r.status_code == 422 and "username" in r.text
    client.cookies.clear()
    token = csrf_of(client)
    r = client.post(
        "/signin",
        data={"username": "uppsala", "password": "uppsala-pass-1", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    me = client.get("/api/v1/session").json()
    assert me["role"] == "member" and me["username"] == "uppsala"


def test_demo_accounts_are_shown_only_in_demo_mode(
    client, workspace_template, tmp_path
) -> None:
    from .conftest import TestClient, _app_for

    assert "demo-admin" in client.get("/signin").text  # the module app is in demo mode
    app, engine = _app_for(workspace_template, tmp_path, demo=False)
    with TestClient(app) as c:
        assert "demo-admin" not in c.get("/signin").text
    engine.dispose()
