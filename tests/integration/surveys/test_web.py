"""Survey pages through the TestClient: links, answering, erasing, CSRF, import, API."""

from __future__ import annotations

import re

import pytest

from tillit.services import surveys as sv

from .conftest import csrf_of, sign_in

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _links(client, token: str, code: str, n: int, **extra: str) -> list[str]:
    r = client.post(f"/surveys/{code}/links",
                    data={"n": str(n), "csrf_token": token, **extra})  # fmt: skip
    assert r.status_code == 200, r.text
    urls = re.findall(r"<code>(http[^<]+/s/[^<]+)</code>", r.text)
    assert len(urls) == n
    return [u.rsplit("/", 1)[1] for u in urls]


def test_round_answered_by_link_then_results_and_erasure(
    app, client, engine, actors
) -> None:
    token = sign_in(client, "stockholm")
    r = client.post("/surveys/new", data={"period": "2019", "audience": "staff",
                                          "title": "Enkät 2019", "csrf_token": token},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    code = r.headers["location"].rsplit("/", 1)[1]
    links = _links(client, token, code, 6, unit="U-S1", staff_group="A")
    from fastapi.testclient import TestClient

    for i, link in enumerate(links):
        with TestClient(app) as resp:  # a respondent: no account, own cookies
            form = resp.get(f"/s/{link}")
            assert form.status_code == 200 and 'name="tm1"' in form.text
            tok = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
            answers = {
                "tm1": str(2 + i % 4),
                "tm2": "4",
                "doc_hours": "5",
                "csrf_token": tok,
            }
            ok = resp.post(f"/s/{link}", data=answers)
            assert ok.status_code == 200 and "Tack för dina svar" in ok.text
            again = resp.post(f"/s/{link}", data=answers)
            assert again.status_code == 409
    # CSRF: an answer without the session's token is refused and not stored
    with TestClient(app) as forger:
        extra = sv.issue_links(engine, actors["stockholm"], code, 1)[0]
        r = forger.post(f"/s/{extra}", data={"tm1": "1", "csrf_token": "forged"})
        assert r.status_code == 403
        assert sv.link_info(engine, extra)["state"] == "new"
    r = client.post(
        f"/surveys/{code}/close", data={"csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303
    page = client.get(f"/surveys/{code}").text
    assert "Hela organisationen" in page
    api = client.get(f"/api/v1/surveys/{code}/results").json()
    tm = next(x for x in api["total"] if x["scale"] == "trust_manager")
    assert tm["n"] == 6 and not tm["suppressed"]
    # a respondent erases their answers with the link
    with TestClient(app) as resp:
        tok = csrf_of(resp, f"/s/{links[0]}")
        r = resp.post(f"/s/{links[0]}/erase", data={"csrf_token": tok})
        assert r.status_code == 200 and "raderade" in r.text
    assert sv.get_round(engine, actors["public"], code).n_responses == 5


def test_csrf_and_permissions_on_management(app, client, engine, actors) -> None:
    code = sv.create_round(engine, actors["stockholm"], "0180", "2018", "staff")
    token = sign_in(client, "goteborg")
    r = client.post(f"/surveys/{code}/links", data={"n": "2", "csrf_token": token})
    assert r.status_code == 403
    r = client.post(f"/surveys/{code}/close", data={"csrf_token": "nope"})
    assert r.status_code == 403
    own = sign_in(client, "stockholm")
    r = client.post(f"/surveys/{code}/threshold", data={"k": "3", "csrf_token": own})
    assert r.status_code == 403  # only administrators
    admin = sign_in(client, "admin")
    r = client.post(f"/surveys/{code}/threshold", data={"k": "4", "csrf_token": admin})
    assert r.status_code == 422
    r = client.post(f"/surveys/{code}/threshold", data={"k": "7", "csrf_token": admin},
                    follow_redirects=False)  # fmt: skip
    assert (
        r.status_code == 303
        and sv.get_round(engine, actors["public"], code).threshold == 7
    )


def test_csv_upload_errors_name_row_and_field(client, engine, actors) -> None:
    code = sv.create_round(engine, actors["stockholm"], "0180", "2017", "staff")
    token = sign_in(client, "stockholm")
    bad = b"unit,tm1\nU-S1,4\nU-S1,x\n"
    r = client.post(f"/surveys/{code}/import", data={"csrf_token": token},
                    files={"file": ("svar.csv", bad, "text/csv")})  # fmt: skip
    assert r.status_code == 422 and "row 2" in r.text and "tm1" in r.text
    good = b"unit,tm1\nU-S1,4\nU-S2,3\n"
    r = client.post(f"/surveys/{code}/import", data={"csrf_token": token},
                    files={"file": ("svar.csv", good, "text/csv")}, follow_redirects=False)  # fmt: skip
    assert (
        r.status_code == 303
        and sv.get_round(engine, actors["public"], code).n_responses == 2
    )


def test_open_round_shows_no_results_anywhere(client, engine, actors) -> None:
    code = sv.create_round(engine, actors["stockholm"], "0180", "2016", "staff")
    sv.import_csv(engine, actors["stockholm"], code, "tm1\n" + "5\n" * 6)
    assert client.get(f"/api/v1/surveys/{code}/results").status_code == 409
    assert client.get(f"/surveys/{code}/results.csv").status_code == 409
    assert client.get(f"/api/v1/surveys/{code}/query").status_code == 409
    assert "publiceras när" in client.get(f"/surveys/{code}").text
