"""Directions in the web app: shown with their source, set by administrators only."""

from __future__ import annotations

import pytest

from .conftest import csrf_of, sign_in

pytestmark = pytest.mark.integration


def test_the_indicator_page_names_the_direction_and_its_source(client) -> None:
    page = client.get("/indicators/N00002").text
    assert "Lägre värde är bättre" in page and "test workspace: lower is better" in page
    assert 'id="direction-form"' not in page  # the public has no form


def test_only_an_administrator_sets_a_direction(client) -> None:
    sign_in(client, "stockholm")
    token = csrf_of(client, "/indicators/N00001")
    assert 'id="direction-form"' not in client.get("/indicators/N00001").text
    r = client.post(
        "/indicators/N00001/direction",
        data={"direction": "lower", "source": "x", "csrf_token": token},
    )
    assert r.status_code == 403
    client.post("/signout", data={"csrf_token": token})
    sign_in(client, "admin")
    token = csrf_of(client, "/indicators/N00001")
    assert 'id="direction-form"' in client.get("/indicators/N00001").text
    r = client.post(
        "/indicators/N00001/direction",
        data={"direction": "higher", "source": "", "csrf_token": token},
    )
    assert r.status_code == 422 and "source" in r.text
    r = client.post(
        "/indicators/N00001/direction",
        data={
            "direction": "neither",
            "source": "Styrelsebeslut 2026-01",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    api = client.get("/api/v1/indicators/N00001").json()
    assert api["direction"] == "neither" and api["higher_is_better"] is None
    assert api["direction_source"].startswith("Styrelsebeslut 2026-01 (admin, ")
    page = client.get("/indicators/N00001?year=2020").text
    assert "bästa" not in page and "sämsta" not in page
    # back as it was, for the other tests of this module
    client.post(
        "/indicators/N00001/direction",
        data={
            "direction": "higher",
            "source": "test workspace: higher is better",
            "csrf_token": token,
        },
    )
