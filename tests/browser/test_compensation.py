"""The compensation comparison page in a real browser: simulate the demo models, see the
table, the charts and the sensitivity; axe-core finds no WCAG 2.1 AA violation; at
1366 and 390 pixels wide the page does not scroll sideways."""

from __future__ import annotations

from pathlib import Path

import pytest

from .a11y import no_sideways_scroll, violations

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.parametrize("width", [1366, 390])
def test_compare_demo_models_accessibly(
    browser, server, axe_js: str, width: int, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    ctx = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(server + "/compensation?lang=sv")
        assert page.locator("fieldset.model").count() == 6
        no_sideways_scroll(page)
        assert violations(page, axe_js) == []
        page.fill("input[name=draws]", "200")
        page.click("#simulate")
        page.wait_for_selector("#models-table")
        rows = page.locator("#models-table tbody tr")
        assert rows.count() == 4
        assert "kr" in rows.first.inner_text() and "DEMO" in page.inner_text("#results")
        assert page.locator("#results svg[role=img]").count() >= 5
        assert page.locator("#survival li").count() == 3
        no_sideways_scroll(page)
        found = violations(page, axe_js)
        assert found == [], found
        # one tornado per model against the baseline; the first is open
        assert page.locator("details.tornado").count() == 3
        assert page.locator("details.tornado[open] svg.tornado-chart").count() == 1
        page.locator("details.tornado summary").nth(1).click()
        assert (
            page.locator("details.tornado")
            .nth(1)
            .locator("svg.tornado-chart")
            .is_visible()
        )
        assert violations(page, axe_js) == []
        page.screenshot(
            path=str(tmp_path / f"compensation-{width}.png"), full_page=True
        )
        assert errors == []
    finally:
        ctx.close()


def test_register_page_accessibly(browser, server, axe_js: str) -> None:  # type: ignore[no-untyped-def]
    ctx = browser.new_context(viewport={"width": 390, "height": 900}, bypass_csp=True)
    page = ctx.new_page()
    try:
        page.goto(server + "/compensation/register?lang=en")
        assert "Descriptive, not causal." in page.inner_text(
            "#not-causal"
        ) or "No register rows" in page.inner_text("main")
        no_sideways_scroll(page)
        assert violations(page, axe_js) == []
    finally:
        ctx.close()
