"""A member uploads the burden template in the browser, sees the ledger with its charts,
and opens the signal-audit report that counts the inventory's hours."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TEMPLATE = (
    "requirement_id,title,demanded_by,staff_group,unit,frequency_per_year,"
    "minutes_per_occurrence,reporters,hourly_cost_sek,indicator_ids,inventory,dimension\n"
    "B1,Visit notes,state,assistant nurse,home care,220,12,10,400,N00001,,continuity\n"
    "B2,Board report,municipal_board,unit manager,all,12,90,2,650,N00002,,safety\n"
)


def test_upload_template_and_open_audit_report(
    server, page, passwords, tmp_path
) -> None:
    page.goto(server + "/signin")
    page.fill("input[name=username]", "stockholm")
    page.fill("input[name=password]", passwords["stockholm"])
    page.click("form.stack button[type=submit]")
    page.wait_for_selector("text=Inloggad som")
    page.click("nav >> text=Regelbörda")
    csv = tmp_path / "inventering.csv"
    csv.write_text(TEMPLATE, encoding="utf-8")
    page.fill("#import-form input[name=label]", "Webbläsartest")
    page.fill("#import-form input[name=date]", "2026-03-01")
    page.set_input_files("#import-form input[name=file]", str(csv))
    page.click("#import-form button[type=submit]")
    page.wait_for_selector("#total-hours")
    assert page.inner_text("#total-hours").strip() == "476"  # 440 + 36 hours a year
    assert page.locator("svg.bar-chart").count() >= 3
    assert page.locator("#requirements tbody tr").count() == 2

    # a malformed file: the error names the row and the field, nothing is saved
    page.click("nav >> text=Regelbörda")
    csv.write_text(TEMPLATE.replace(",90,2,", ",ninety,2,"), encoding="utf-8")
    page.fill("#import-form input[name=label]", "Trasig")
    page.fill("#import-form input[name=date]", "2026-03-02")
    page.set_input_files("#import-form input[name=file]", str(csv))
    page.click("#import-form button[type=submit]")
    msg = page.inner_text(".error-message")
    assert "row 2" in msg and "minutes_per_occurrence" in msg
    page.goto(server + "/burden")
    assert "Trasig" not in page.inner_text("main")

    # the audit report with the inventory's hours
    page.click("text=Signalgranskning av indikatorer")
    page.select_option("#audit-form select[name=area]", "Äldreomsorg")
    page.select_option("#audit-form select[name=inventory]", label="0180 Webbläsartest")
    page.click("#audit-form button[type=submit]")
    page.wait_for_selector("#ranking")
    assert "N00001" in page.inner_text("#ranking")
    assert page.locator("main svg").count() >= 2
    with page.expect_download() as dl:
        page.click("#export-html")
    html = dl.value.path().read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<script" not in html
    errors = page.console_errors  # type: ignore[attr-defined]
    assert [e for e in errors if "422" not in e] == []  # 422: the malformed upload
