"""An upload becomes a visible job: the progress page follows it to the report or to
the error with its row and field; axe-core finds no WCAG 2.1 AA violation on the upload
and job pages; at 1366 and 390 pixels wide they do not scroll sideways."""

from __future__ import annotations

from pathlib import Path

import pytest

from .a11y import no_sideways_scroll, violations

pytestmark = [pytest.mark.browser, pytest.mark.slow]

GOOD = "indicator,municipality,period,gender,value\nN00002,0180,2027,T,4.5\n"
BAD = "indicator,municipality,period,gender,value\nN00002,0180,2028,T,abc\n"


@pytest.mark.parametrize("width", [1366, 390])
def test_upload_follow_the_job_and_read_the_error(
    browser, server, passwords, axe_js: str, width: int, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    ctx = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(server + "/signin?next=/import")
        page.fill("input[name=username]", "stockholm")
        page.fill("input[name=password]", passwords["stockholm"])
        page.click("form.stack button[type=submit]")
        page.wait_for_url("**/import")
        no_sideways_scroll(page)
        assert violations(page, axe_js) == []
        good = tmp_path / f"good-{width}.csv"
        good.write_text(GOOD, encoding="utf-8")
        page.set_input_files("input[type=file]", str(good))
        page.click("form.stack button[type=submit]")
        page.wait_for_url("**/jobs/*")
        page.wait_for_selector("#import-report", timeout=60_000)
        assert page.locator("#job").get_attribute("data-status") == "done"
        assert page.inner_text("#n-rows") == "1"
        no_sideways_scroll(page)
        assert violations(page, axe_js) == []
        bad = tmp_path / f"bad-{width}.csv"
        bad.write_text(BAD, encoding="utf-8")
        page.goto(server + "/import")
        assert f"good-{width}.csv" in page.inner_text("main")  # the recent jobs
        page.set_input_files("input[type=file]", str(bad))
        page.click("form.stack button[type=submit]")
        page.wait_for_selector("#import-error", timeout=60_000)
        text = page.inner_text("#import-error")
        assert f"bad-{width}.csv" in text and "row 1, field 'value'" in text
        assert page.locator("#job").get_attribute("data-status") == "failed"
        no_sideways_scroll(page)
        assert violations(page, axe_js) == []
        assert errors == []
    finally:
        ctx.close()
