"""The strict Markdown subset: what it renders, and that user HTML and script stay inert."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tillit.domain.markdown import has_link, render_markdown, safe_url

ALLOWED = {"p", "br", "strong", "em", "ul", "ol", "li", "a"}


def test_subset() -> None:
    assert render_markdown("hej *du* och **där**") == (
        "<p>hej <em>du</em> och <strong>där</strong></p>"
    )
    assert render_markdown("a\nb\n\nc") == "<p>a<br>b</p><p>c</p>"
    assert render_markdown("- x\n- y") == "<ul><li>x</li><li>y</li></ul>"
    assert render_markdown("1. x\n2. y") == "<ol><li>x</li><li>y</li></ol>"
    assert render_markdown("[SKR](https://skr.se/a?b=1&c=2)") == (
        '<p><a href="https://skr.se/a?b=1&amp;c=2" rel="nofollow noopener">SKR</a></p>'
    )
    assert render_markdown("snake_case_name") == "<p>snake_case_name</p>"
    assert render_markdown("") == ""


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "[x](vbscript:msgbox)",
        '[x](https://ok.se/"onmouseover="alert(1))',
        "[x](https://ok.se/'onmouseover='alert(1))",
        "[<b onclick=alert(1)>x</b>](https://ok.se)",
        "**<svg onload=alert(1)>**",
        "*<iframe src=//evil>*",
        "- <a href=javascript:alert(1)>x</a>",
        "[x](//evil.example/path)",
        "[x](https:alert(1))",
        "&lt;script&gt; &#x3C;script&#x3E;",
        "[x](https://ok.se\x00javascript:alert(1))",
        "``` <style>body{}</style> ```",
    ],
)
def test_attacks_are_inert(text: str) -> None:
    html = render_markdown(text)
    tags = re.findall(r"<\s*/?\s*([a-zA-Z0-9]+)", html)
    assert set(tags) <= ALLOWED, html
    for href in re.findall(r'href="([^"]*)"', html):
        assert href.startswith(("http://", "https://")), html
    attrs = re.findall(r"<a ([^>]*)>", html)
    for a in attrs:
        assert re.fullmatch(r'href="[^"<>]*" rel="nofollow noopener"', a), a
    assert html.count("<") == len(tags)  # every user '<' became &lt;


def test_safe_url() -> None:
    assert safe_url("https://a.se/x") == "https://a.se/x"
    for bad in ("javascript:alert(1)", "//a.se", "https://", "ftp://a.se", 'https://a"b',
                "https://a.se/ x", "http://a.se/\n"):  # fmt: skip
        assert safe_url(bad) is None, bad


def test_has_link() -> None:
    assert has_link("se [här](https://a.se)") and has_link("www.example.com")
    assert has_link("http://x.se") and not has_link("ingen länk här")


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("<>\"'&*_-[]()/:=.\n 1ajsvcriptJS")), max_size=80
    )
)
def test_fuzz_only_fixed_tags_and_quoted_attributes(text: str) -> None:
    html = render_markdown(text)
    tags = re.findall(r"<\s*/?\s*([a-zA-Z0-9]+)", html)
    assert set(tags) <= ALLOWED
    # every '<' in the output starts one of our tags; user '<' became &lt;
    assert html.count("<") == len(tags)
    for a in re.findall(r"<a ([^>]*)>", html):
        assert re.fullmatch(r'href="https?://[^"<>\s]+" rel="nofollow noopener"', a), a
