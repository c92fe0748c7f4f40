"""A survey round through the real server: a member creates it and makes single-use
links, respondents answer (one in the browser, the rest over HTTP), the member closes
the round and reads the results; the browser respondent then erases their answers."""

from __future__ import annotations

import re

import httpx
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _answer_over_http(url: str, level: int) -> None:
    with httpx.Client(timeout=30) as c:
        form = c.get(url)
        assert form.status_code == 200
        tok = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        data = {"csrf_token": tok, "doc_hours": "6"}
        data |= {q: str(level) for q in ("tm1", "tm2", "to1", "to2", "au1", "au2")}
        r = c.post(url, data=data)
        assert r.status_code == 200 and "Tack för dina svar" in r.text


def test_answer_by_link_and_read_results(server, page, browser, passwords) -> None:
    page.goto(server + "/signin")
    page.fill("input[name=username]", "stockholm")
    page.fill("input[name=password]", passwords["stockholm"])
    page.click("form.stack button[type=submit]")
    page.wait_for_selector("text=Inloggad som")
    page.click("nav >> text=Tillitsbarometern")
    page.fill("input[name=period]", "2026")
    page.fill("input[name=title]", "Medarbetarenkät 2026")
    page.click("form[action='/surveys/new'] button")
    page.wait_for_selector("form[action$='/links']")
    code = re.search(r"/surveys/(S-\d+)$", page.url).group(1)
    page.fill("form[action$='/links'] input[name=n]", "6")
    page.fill("form[action$='/links'] input[name=staff_group]", "Undersköterska")
    page.click("form[action$='/links'] button")
    urls = [u.strip() for u in page.locator("ol.links code").all_inner_texts()]
    assert len(urls) == 6 and len(set(urls)) == 6

    # one respondent in a fresh browser context (no account, no cookies shared)
    ctx = browser.new_context()
    resp = ctx.new_page()
    resp.goto(urls[0])
    assert "IP-adress" in resp.inner_text("main")
    for q in ("tm1", "tm2", "to1", "to2", "au1", "au2"):
        resp.check(f"input[name={q}][value='4']")
    resp.fill("input[name=doc_hours]", "7,5")
    resp.fill("textarea[name=free]", "Mer tid med brukarna")
    resp.click("form.survey button[type=submit]")
    resp.wait_for_selector("text=Tack för dina svar!")
    resp.goto(urls[0])
    resp.wait_for_selector("text=Den här länken har redan använts.")
    for i, url in enumerate(urls[1:]):
        _answer_over_http(url, 2 + i % 4)

    page.goto(f"{server}/surveys/{code}")
    page.click("form[action$='/close'] button")
    page.wait_for_selector("text=Hela organisationen")
    total = page.locator("h3:has-text('Hela organisationen') + table tbody tr")
    assert total.count() >= 3
    first = total.nth(0).inner_text()
    assert "6" in first.split("\t")[1]
    assert "Mer tid med brukarna" in page.inner_text(
        "main"
    )  # the member sees free text
    assert page.locator(".chart-box svg[role=img]").count() == 1

    # the public sees the indices but not the free text
    anon = browser.new_context().new_page()
    anon.goto(f"{server}/surveys/{code}")
    assert "Hela organisationen" in anon.inner_text("main")
    assert "Mer tid med brukarna" not in anon.content()

    # the browser respondent erases their answers with the link
    resp.goto(urls[0])
    resp.click("form[action$='/erase'] button")
    resp.wait_for_selector("text=Dina svar är raderade.")
    ctx.close()
    rounds = httpx.get(server + "/api/v1/surveys", timeout=30).json()
    assert next(r for r in rounds if r["code"] == code)["status"] == "closed"
