"""A pilot walked through the UI: draft -> registered -> amended -> concluded, then the
downloaded registry verifies."""

from __future__ import annotations

import re

import httpx
import pytest

from tillit.domain.registry import read_jsonl, verify_chain

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _sign_in(page, server: str, user: str, password: str) -> None:
    page.goto(server + "/signin")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("form.stack button[type=submit]")
    page.wait_for_selector("text=Inloggad som")


def test_pilot_from_draft_to_concluded(server, page, browser, passwords) -> None:
    _sign_in(page, server, "stockholm", passwords["stockholm"])
    page.click("nav >> text=Försök")
    page.click("text=Nytt försök")
    page.fill("input[name=title]", "Hemtjänst utan minuttid i Söder")
    page.select_option("select[name=change_kind]", "trust_based_care")
    page.fill("textarea[name=change]", "Grupperna planerar själva utan minutstyrning.")
    page.fill("textarea[name=sites]", "0180, 2025")
    page.fill("textarea[name=hypotheses]", "Brukarna blir nöjdare")
    page.fill("input[name=primary_outcomes]", "N00001")
    page.fill("input[name=secondary_outcomes]", "N00002")
    page.fill("input[name=control_group]", "kommuner i samma SKR-grupp")
    page.select_option("select[name=pre_leadership]", "4")
    page.click("form.stack button[type=submit]")
    page.wait_for_selector(".status-draft")
    code = re.search(r"/pilots/(P-\d+)$", page.url).group(1)

    # attach the researcher, then register (freeze)
    page.fill("form[action$='/researchers'] input[name=username]", "researcher")
    page.click("form[action$='/researchers'] button")
    page.wait_for_selector("text=(researcher)")
    page.click("form[action$='/register'] button")
    page.wait_for_selector(".status-registered")
    assert page.locator("table.versions tbody tr").count() == 1

    # amend: a new secondary outcome with a reason; the origin is shown
    page.click("text=Ändra (tillägg till registreringen)")
    page.fill("input[name=secondary_outcomes]", "N00002, X00003")
    page.fill("textarea[name=reason]", "Vi följer också den interna indikatorn")
    page.click("form.stack button[type=submit]")
    page.wait_for_selector("text=tillagt i version 2")
    assert page.locator("table.outcomes .origin.pre").count() == 2
    page.click("table.versions >> text=v2")
    assert "secondary_outcomes" in page.inner_text("table.diff")
    assert "Vi följer också den interna indikatorn" in page.inner_text("main")

    # the attached researcher concludes
    ctx = browser.new_context()
    rp = ctx.new_page()
    _sign_in(rp, server, "researcher", passwords["researcher"])
    rp.goto(f"{server}/pilots/{code}")
    rp.fill("textarea[name=verdict]", "Nöjdheten ökade något; osäkert.")
    rp.click("form[action$='/conclude'] button")
    rp.wait_for_selector(".status-concluded")
    assert "Nöjdheten ökade något" in rp.inner_text(".verdict")
    ctx.close()

    # anyone downloads the registry and it verifies; the registry page explains how
    entries = read_jsonl(httpx.get(server + "/api/v1/registry.jsonl").text)
    mine = [e["kind"] for e in entries if e["pilot_id"] == code]
    assert mine == ["registration", "amendment", "conclusion"]
    assert verify_chain(entries).ok
    page.click("nav >> text=Försök")
    page.click("main >> text=Registret")
    assert "tillit registry verify registry.jsonl" in page.inner_text("main")
    assert page.console_errors == []
