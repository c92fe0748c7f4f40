"""The follow-up views and role rules on PostgreSQL (same app, same workspace)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tillit.config import Settings
from tillit.services import jobs
from tillit.store.db import make_engine, upgrade
from tillit.web.app import create_app

from .conftest import TestClient, build_workspace, sign_in

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


@pytest.fixture(scope="module")
def pg_client(
    pg_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    name = f"tillit_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    try:
        upgrade(engine)
        build_workspace(engine)
        app = create_app(
            Settings(
                database_url=url,
                data_dir=tmp_path_factory.mktemp("pg"),
                secret_key="p" * 32,
                demo=False,
            ),
            engine=engine,
        )
        with TestClient(app, raise_server_exceptions=False) as client:
            yield client
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_views_and_api_on_postgres(pg_client: TestClient) -> None:
    body = pg_client.get(
        "/api/v1/series", params={"indicator": "N00002", "org": "1480", "peers": "skr"}
    ).json()
    assert len(body["years"]) == 15 and body["years"][0]["n"] == len(
        body["peers"]["codes"]
    )
    rows = pg_client.get("/api/v1/indicators/N00001/ranking").json()["rows"]
    assert len(rows) == 290 and rows[0]["rank"] == 1
    prof = pg_client.get("/api/v1/profile", params={"org": "0180"}).json()
    assert {r["indicator"] for r in prof["rows"]} == {"N00001", "N00002"}
    for path in (
        "/followup/N00001/0180?peers=similar",
        "/municipalities/0180",
        "/indicators",
    ):
        assert pg_client.get(path).status_code == 200, path
    assert pg_client.get("/api/v1/indicators/X00003").status_code == 403


def test_member_import_on_postgres(pg_client: TestClient) -> None:
    sign_in(pg_client, "goteborg")
    token = pg_client.get("/api/v1/session").json()["csrf_token"]
    csv = b"indicator,municipality,period,gender,value\nN00002,1480,2030,T,5.5\n"
    r = pg_client.post(
        "/api/v1/import",
        files={"file": ("g.csv", csv)},
        headers={"X-CSRF-Token": token},
    )
    assert r.status_code == 202, r.text
    engine = pg_client.app.state.engine  # type: ignore[attr-defined]
    jobs.work(engine)
    done = pg_client.get(r.json()["status_url"]).json()
    assert done["status"] == "done" and done["result"]["n_new"] == 1
    bad = b"indicator,municipality,period,gender,value\nN00002,0180,2030,T,5.5\n"
    r = pg_client.post(
        "/api/v1/import",
        files={"file": ("s.csv", bad)},
        headers={"X-CSRF-Token": token},
    )
    assert r.status_code == 202
    jobs.work(engine)
    failed = pg_client.get(r.json()["status_url"]).json()
    assert failed["status"] == "failed" and "own organisation" in failed["error"]
    assert failed["result"]["status"] == 403 and failed["attempts"] == 1
