"""CSRF is one app-level dependency: every unsafe route refuses a missing or wrong token.

The routes are enumerated from the app itself, so a route added later is covered
without touching this test.
"""

from __future__ import annotations

import re

import pytest
from fastapi.routing import iter_route_contexts

from tillit.web.deps import require_csrf

from .conftest import csrf_of, sign_in

pytestmark = pytest.mark.integration

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _routes(app) -> list:
    """Every route with an unsafe method, as FastAPI resolves it (included routers too)."""
    return [r for r in iter_route_contexts(app.routes) if set(r.methods or ()) & UNSAFE]


def _unsafe_routes(app) -> list[tuple[str, str]]:
    return [(m, r.path) for r in _routes(app) for m in sorted(set(r.methods) & UNSAFE)]


def _concrete(path: str) -> str:
    """A request path for a route template (every parameter filled with ``1``)."""
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_unsafe_route_depends_on_the_one_check(app_engine) -> None:
    app = app_engine[0]
    routes = _routes(app)
    assert len(routes) >= 31
    for route in routes:
        calls = [d.call for d in route.dependant.dependencies]
        assert require_csrf in calls, route.path


def test_every_unsafe_route_refuses_a_missing_or_wrong_token(
    app_engine, client
) -> None:
    routes = _unsafe_routes(app_engine[0])
    refused = 0
    for method, path in routes:
        # signed in as admin (again: /signout and /signin end the session), so a refusal
        # is not about the role
        token = client.get("/api/v1/session").json()["csrf_token"]
        if token is None:
            sign_in(client, "admin")
            token = client.get("/api/v1/session").json()["csrf_token"]
        url = _concrete(path)
        for data in ({}, {"csrf_token": "x" * 43}):
            r = client.request(method, url, data=data, follow_redirects=False)
            assert r.status_code == 403, (method, path, r.status_code, r.text[:200])
            assert "CSRF" in r.text, (method, path)
            refused += 1
        r = client.request(
            method, url, headers={"x-csrf-token": "y" * 43}, follow_redirects=False
        )
        assert r.status_code == 403 and "CSRF" in r.text, (method, path)
        # the right token passes the check (whatever the route then answers)
        r = client.request(
            method, url, data={"csrf_token": token}, follow_redirects=False
        )
        assert "CSRF" not in r.text, (method, path, r.status_code)
        assert r.status_code != 500, (method, path, r.text[:300])
    assert refused == 2 * len(routes)


def test_anonymous_forms_are_checked_too(client) -> None:
    r = client.post("/signin", data={"username": "admin", "password": "x" * 10})
    assert r.status_code == 403 and "CSRF" in r.text
    token = csrf_of(client)
    r = client.post(
        "/signin",
        data={"username": "admin", "password": "x" * 10, "csrf_token": token},
    )
    assert r.status_code == 401


def test_json_clients_send_the_header(client) -> None:
    sign_in(client, "stockholm")
    token = client.get("/api/v1/session").json()["csrf_token"]
    files = {"file": ("x.csv", b"kpi,municipality,period,value\n", "text/csv")}
    r = client.post("/api/v1/import", files=files)
    assert r.status_code == 403 and "CSRF" in r.json()["error"]
    r = client.post("/api/v1/import", files=files, headers={"x-csrf-token": token})
    assert r.status_code != 403, r.text
