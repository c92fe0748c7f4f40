"""A followed pilot in the browser: register, run the analysis in the background, see the
results page (status, estimates, SVG plots), then the public what-works page."""

from __future__ import annotations

import re
import time

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _sign_in(page, server: str, user: str, password: str) -> None:
    page.goto(server + "/signin")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("form.stack button[type=submit]")
    page.wait_for_selector("text=Inloggad som")


def test_followed_pilot_results_and_what_works(server, page, passwords) -> None:
    _sign_in(page, server, "stockholm", passwords["stockholm"])
    page.goto(server + "/pilots/new")
    page.fill("input[name=title]", "Följt försök i hemtjänsten")
    page.select_option("select[name=change_kind]", "trust_based_care")
    page.fill("textarea[name=change]", "Tillitsbaserad styrning utan minuttid.")
    page.fill("textarea[name=sites]", "0180, 2018")
    page.fill("textarea[name=hypotheses]", "Brukarna blir nöjdare")
    page.fill("input[name=primary_outcomes]", "N00001")
    page.fill("input[name=control_group]", "kommuner som aldrig inför (never treated)")
    page.click("form.stack button[type=submit]")
    page.wait_for_selector(".status-draft")
    code = re.search(r"/pilots/(P-\d+)$", page.url).group(1)
    page.click("form[action$='/register'] button")
    page.wait_for_selector(".status-registered")

    page.click("text=Resultat och uppföljning")
    page.wait_for_selector("#job-status")
    page.click("form[action$='/results/run'] button")
    deadline = time.monotonic() + 180
    while not page.locator(".job-done, .job-failed").count():
        assert time.monotonic() < deadline, page.inner_text("#job-status")
        time.sleep(1)
        page.reload()
    assert page.locator(".job-done").count() == 1, page.inner_text("#job-status")
    table = page.inner_text("table.estimates")
    assert "N00001" in table and "förregistrerat" in table
    assert page.locator("svg.line-chart").count() >= 1
    assert page.locator("p.verdict").count() >= 1

    # the public what-works page, anonymous, in English
    page.context.clear_cookies()
    page.goto(f"{server}/evidence/what-works/trust_based_care?lang=en")
    assert code in page.inner_text("main")
    assert page.locator("svg.forest").count() >= 1
    page.goto(f"{server}/evidence?lang=en")
    assert page.locator("svg.gap-map rect[data-status]").count() > 0
    assert page.console_errors == []
