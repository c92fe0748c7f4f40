"""The dialogue in a real browser: a contribution with Markdown and attack payloads is
rendered as text (no script runs, no dialog opens), links carry rel=nofollow noopener."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BODY = (
    "Vi behöver **mer tid** och *färre* mått.\n\n"
    "- <script>alert('xss')</script>\n"
    "- <img src=x onerror=alert(2)>\n"
    "- [farlig](javascript:alert(3)) och [SKR](https://skr.se)\n"
)


def test_contribution_is_rendered_safely(server, page, passwords) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(server + "/signin")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", passwords["admin"])
    page.click("form.stack button[type=submit]")
    page.wait_for_selector("text=Inloggad som")
    page.click("nav >> text=Dialog")
    page.fill("input[name=title]", "<b>Rubrik</b> utan HTML")
    page.fill("textarea[name=body]", BODY)
    page.click("form[action='/dialogue'] button[type=submit]")
    page.wait_for_selector("article.post h1")
    assert page.inner_text("article.post h1") == "<b>Rubrik</b> utan HTML"
    body = page.locator("article.post .post-body")
    assert body.locator("strong").inner_text() == "mer tid"
    assert body.locator("script, img").count() == 0
    assert "<script>alert('xss')</script>" in body.inner_text()
    links = body.locator("a")
    assert links.count() == 1
    assert links.get_attribute("href") == "https://skr.se"
    assert links.get_attribute("rel") == "nofollow noopener"
    page.fill("form[action$='/comment'] textarea[name=body]", "<svg onload=alert(4)>")
    page.click("form[action$='/comment'] button[type=submit]")
    page.wait_for_selector(".comment .post-body")
    assert page.locator(".comment svg").count() == 0
    page.reload()
    assert dialogs == []
    assert page.console_errors == []
