"""The signal audit's self-contained HTML report and its figures (services + web charts)."""

from __future__ import annotations

import json
import re

from tillit.core.audit import IndicatorPanel, audit_signals, planted_panel, random_panel
from tillit.services.audit import audit_document, report_html
from tillit.web.charts.audit import bar_chart, figures


def _doc(seed: int = 4) -> dict:
    panel, truth = planted_panel(seed=seed, n_units=120, n_years=12, target_year=2006)
    res = audit_signals(panel, criteria=truth["criteria"], targets=truth["targets"])
    return audit_document(res)


def test_html_report_is_self_contained() -> None:
    doc = _doc()
    json.dumps(doc, allow_nan=False)
    html = report_html(doc, figures(doc))
    assert html.startswith("<!DOCTYPE html>") and html.count("<svg") >= 4
    assert not re.search(r"""(src|href)\s*=\s*['"]?(https?:)?//""", html)
    assert "<script" not in html and "@import" not in html
    assert "noise" in html and "What to add" in html
    assert 'role="img"' in html and "<desc>" in html


def test_the_report_without_figures_has_its_tables() -> None:
    html = report_html(_doc())
    assert "<svg" not in html and "All numbers per indicator" in html


def test_html_escapes_indicator_names() -> None:
    p = random_panel(3, 40, 5, seed=1)
    p = IndicatorPanel(p.values, ("<b>x</b>", "a&b", "c"), p.units, p.years)
    doc = audit_document(audit_signals(p))
    html = report_html(doc, figures(doc))
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html


def test_figures_name_their_actions_in_words_and_swedish() -> None:
    doc = _doc()
    en, sv = figures(doc, "en"), figures(doc, "sv")
    assert "drop" in en["scatter"] and "stryk" in sv["scatter"]
    assert "<title>" in en["icc"] and "<desc>" in en["heatmap"]
    assert all(h.startswith("<svg") for h in en["histograms"].values())


def test_bar_chart_escapes_and_skips_missing() -> None:
    svg = bar_chart([("<a>", 3.0), ("b", float("nan"))], title="T & t", unit="h")
    assert "&lt;a&gt;" in svg and "T &amp; t" in svg and svg.count("<rect") == 1
