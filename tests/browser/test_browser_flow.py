"""Sign in, import a CSV through the web form, open a follow-up page and read its plot."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CSV = (
    "indicator,municipality,period,gender,value\n"
    "N00002,0180,2025,T,3.25\n"
    "N00002,0180,2026,T,3.5\n"
)


def test_sign_in_import_and_follow_up(server, page, passwords, tmp_path) -> None:
    page.goto(server + "/")
    page.click("text=Logga in")
    page.fill("input[name=username]", "stockholm")
    page.fill("input[name=password]", passwords["stockholm"])
    page.click("form.stack button[type=submit]")
    page.wait_for_selector("text=Inloggad som")
    assert "stockholm" in page.inner_text("header")

    # import through the web form
    page.click("nav >> text=Importera")
    upload = tmp_path / "sthlm.csv"
    upload.write_text(CSV, encoding="utf-8")
    page.set_input_files("input[type=file]", str(upload))
    page.click("form.stack button[type=submit]")
    page.wait_for_selector("#import-report")
    assert page.inner_text("#n-rows") == "2" and page.inner_text("#n-new") == "2"

    # the follow-up page shows the new years in its plot
    page.goto(server + "/followup/N00002/0180?peers=county")
    chart = page.locator("#followup-chart svg")
    assert chart.get_attribute("role") == "img"
    series = page.locator("#followup-chart g[data-series]")
    assert series.count() == 2
    assert series.nth(1).get_attribute("data-series") == "Stockholm"
    tips = page.locator("#followup-chart g[data-series='Stockholm'] circle title")
    texts = [tips.nth(i).text_content() for i in range(tips.count())]
    assert "Stockholm 2025: 3.25" in texts and "Stockholm 2026: 3.5" in texts
    assert len(texts) == 16  # 2010-2024 without 2012, plus the two imported years
    box = chart.bounding_box()
    assert box is not None and box["width"] > 500 and box["height"] > 200
    page.screenshot(path=str(tmp_path / "followup.png"), full_page=True)
    assert page.console_errors == []  # no CSP violations or script errors


def test_public_reader_cannot_reach_the_import_page(server, page) -> None:
    page.goto(server + "/import")
    assert page.url.startswith(server + "/signin")
    page.goto(server + "/indicators/X00003")
    assert "403" in page.title() or "Fel" in page.inner_text("main")
    page.goto(server + "/lang/en?next=/indicators")
    assert page.locator("h1").inner_text() == "Indicators"
    # the 403 above is logged as a failed load; nothing else may be
    assert [e for e in page.console_errors if "status of 403" not in e] == []
