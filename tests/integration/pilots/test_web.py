"""The pilot and network pages and the registry API through the TestClient."""

from __future__ import annotations

import re

import pytest

from tillit.domain.registry import read_jsonl, verify_chain

pytestmark = pytest.mark.integration

FORM = {
    "title": "Färre rapporteringskrav i hemtjänsten",
    "change_kind": "removed_reporting",
    "change": "Månadsrapporten tas bort.",
    "sites": "0180, 2025\n0180, V15E018000301, 2025-03",
    "hypotheses": "Mer tid hos brukarna\nNöjdare personal",
    "primary_outcomes": "N00001",
    "secondary_outcomes": "N00002",
    "design": "staggered_adoption",
    "estimator": "did",
    "control_group": "kommuner som inte ändrar",
    "covariates": "",
    "min_effect": "1,5",
    "pre_competence": "4",
    "pre_leadership": "",
    "pre_shared_goal": "3",
    "pre_shared_values": "",
}


def _new_pilot(client, token: str, **changes) -> str:
    r = client.post(
        "/pilots/new",
        data={**FORM, **changes, "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return r.headers["location"].rsplit("/", 1)[1]


def test_pilot_from_draft_to_concluded_through_the_forms(app, client) -> None:
    from fastapi.testclient import TestClient

    from .conftest import sign_in

    token = sign_in(client, "stockholm")
    code = _new_pilot(client, token)
    page = client.get(f"/pilots/{code}").text
    assert "Färre rapporteringskrav" in page and "V15E018000301" in page
    assert 'action="/pilots/' + code + '/register"' in page
    # others cannot see the draft
    with TestClient(app, raise_server_exceptions=False) as anon:
        r = anon.get(f"/pilots/{code}")
        assert r.status_code == 403 and "draft" in r.text
        assert code not in anon.get("/pilots").text
        assert code not in anon.get("/api/v1/pilots").text
    # a bad edit shows the form again with the message, nothing saved
    r = client.post(
        f"/pilots/{code}/edit",
        data={**FORM, "primary_outcomes": "ZZZ9", "csrf_token": token},
    )
    assert r.status_code == 422 and "unknown indicator" in r.text
    r = client.post(
        f"/pilots/{code}/register", data={"csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303
    r = client.post(
        f"/pilots/{code}/researchers",
        data={"username": "researcher", "csrf_token": token},
    )
    assert r.status_code == 200
    # amendment: needs a reason, creates v2, shows the diff and the origin of outcomes
    amended = {**FORM, "secondary_outcomes": "N00002, N00003", "csrf_token": token}
    r = client.post(f"/pilots/{code}/edit", data={**amended, "reason": ""})
    assert r.status_code == 422 and "reason" in r.text
    r = client.post(
        f"/pilots/{code}/edit",
        data={**amended, "reason": "lägger till N00003"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = client.get(f"/pilots/{code}").text
    assert "förregistrerat" in page and "tillagt i version 2" in page
    diff = client.get(f"/pilots/{code}/v/2?lang=en").text
    assert "secondary_outcomes" in diff and "lägger till N00003" in diff
    v1 = client.get(f"/pilots/{code}/v/1").text
    assert "N00003" not in v1
    with TestClient(app, raise_server_exceptions=False) as res_client:
        rtoken = sign_in(res_client, "researcher")
        r = res_client.post(
            f"/pilots/{code}/conclude",
            data={"verdict": "Tydlig effekt.", "csrf_token": rtoken},
            follow_redirects=False,
        )
        assert r.status_code == 303
    page = client.get(f"/pilots/{code}").text
    assert "Tydlig effekt." in page and "Avslutat" in page
    body = client.get(f"/api/v1/pilots/{code}").json()
    assert body["status"] == "concluded" and [e["kind"] for e in body["entries"]] == [
        "registration", "amendment", "conclusion"]  # fmt: skip
    origins = {o["indicator"]: o["pre_registered"] for o in body["outcome_origins"]}
    assert origins == {"N00001": True, "N00002": True, "N00003": False}


def test_other_municipality_gets_a_clear_403(app, client) -> None:
    from fastapi.testclient import TestClient

    from .conftest import sign_in

    code = _new_pilot(client, sign_in(client, "stockholm"))
    with TestClient(app, raise_server_exceptions=False) as other:
        token = sign_in(other, "goteborg")
        for path in (f"/pilots/{code}", f"/pilots/{code}/edit"):
            r = other.get(path)
            assert (
                r.status_code == 403 and "<h1>" in r.text and "Traceback" not in r.text
            )
        r = other.post(f"/pilots/{code}/register", data={"csrf_token": token})
        assert r.status_code == 403
        r = other.post(f"/pilots/{code}/edit", data={**FORM, "csrf_token": token})
        assert r.status_code == 403
    client.post(f"/pilots/{code}/register", data={"csrf_token": csrf(client)})
    with TestClient(app, raise_server_exceptions=False) as other:
        token = sign_in(other, "goteborg")
        assert other.get(f"/pilots/{code}").status_code == 200  # now public
        r = other.get(f"/pilots/{code}/edit")
        assert r.status_code == 403 and "only members of the pilot" in r.text
        r = other.post(
            f"/pilots/{code}/edit", data={**FORM, "reason": "x", "csrf_token": token}
        )
        assert r.status_code == 403


def csrf(client) -> str:
    from .conftest import csrf_of

    return csrf_of(client, "/network/apply")


def test_forms_need_csrf_and_anonymous_cannot_write(client) -> None:
    from .conftest import sign_in

    r = client.get("/pilots/new", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/signin")
    r = client.post("/pilots/new", data={**FORM, "csrf_token": csrf(client)})
    assert r.status_code == 403
    sign_in(client, "stockholm")
    r = client.post("/pilots/new", data=FORM)
    assert r.status_code == 403 and "CSRF" in r.text
    r = client.post(
        "/network/apply",
        data={"organisation": "0581", "contact_name": "x", "motivation": "y"},
    )
    assert r.status_code == 403


def test_registry_download_verifies_and_page_explains(client) -> None:
    from .conftest import sign_in

    token = sign_in(client, "stockholm")  # one registration of its own, so that the
    code = _new_pilot(client, token)  # test does not depend on the ones before it
    r = client.post(
        f"/pilots/{code}/register", data={"csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    r = client.get("/api/v1/registry.jsonl")
    assert r.status_code == 200 and r.headers["content-type"].startswith(
        "application/x-ndjson"
    )
    assert "attachment" in r.headers["content-disposition"]
    entries = read_jsonl(r.text)
    assert entries and verify_chain(entries).ok
    page = client.get("/registry?lang=en").text
    assert (
        "tillit registry verify registry.jsonl" in page and entries[-1]["hash"] in page
    )


def test_network_apply_and_admin_decides(app, client) -> None:
    from fastapi.testclient import TestClient

    from .conftest import sign_in

    token = csrf(client)
    data = {"organisation": "2480", "contact_name": "Eva", "contact_email": "eva@umea.se",
            "motivation": "Vi vill pröva tillitsbaserad styrning.", "csrf_token": token}  # fmt: skip
    r = client.post("/network/apply", data=data, follow_redirects=False)
    assert r.status_code == 303
    r = client.post("/network/apply", data=data)
    assert r.status_code == 409 and "pending" in r.text
    assert client.get("/admin/network").status_code == 403
    with TestClient(app, raise_server_exceptions=False) as admin:
        atoken = sign_in(admin, "admin")
        page = admin.get("/admin/network").text
        assert "eva@umea.se" in page
        aid = re.search(r'action="/admin/network/(\d+)"', page).group(1)
        r = admin.post(
            f"/admin/network/{aid}",
            data={"decision": "decline", "reason": "", "csrf_token": atoken},
        )
        assert r.status_code == 422
        r = admin.post(
            f"/admin/network/{aid}",
            data={"decision": "approve", "csrf_token": atoken},
            follow_redirects=False,
        )
        assert r.status_code == 303
    members = client.get("/network").text
    assert "2480" in members and "eva@umea.se" not in members


def test_design_help_page_and_randomise(client) -> None:
    from .conftest import sign_in

    token = sign_in(client, "stockholm")
    code = _new_pilot(
        client, token, sites="0180, 2025\n1480, 2025\n1280, 2025", design="randomised"
    )
    page = client.get(f"/pilots/{code}/design").text
    assert re.search(r'class="mde-value">[0-9.,]+<', page)
    r = client.post(
        f"/pilots/{code}/randomise", data={"seed": "abc", "csrf_token": token}
    )
    assert r.status_code == 422
    r = client.post(
        f"/pilots/{code}/randomise",
        data={"seed": "42", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert '<code class="seed">42</code>' in client.get(f"/pilots/{code}").text
