"""The self-contained HTML report of a signal audit (English, like the CLI's JSON).

No external assets, scripts or fonts: the file can be mailed or archived as is.  It is
written from the audit's document (:func:`~tillit.services.audit.audit_document`);
its figures are SVG strings drawn by ``tillit.web.charts.audit.figures`` and passed
in, so no SVG is written here.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["MAIN_COLUMNS", "report_html"]

MAIN_COLUMNS = (
    "indicator",
    "rank",
    "action",
    "hours_per_year",
    "information",
    "icc",
    "unique_share",
    "validity",
    "keep_instead",
    "evidence",
)
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem;max-width:70rem;color:#222}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0 1.5rem}
th,td{border:1px solid #ccc;padding:.2rem .4rem;text-align:left;vertical-align:top}
td.ev{min-width:28rem} .wide{overflow-x:auto}
th{background:#f3f3f3} td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
svg{background:#fff;border:1px solid #ddd;margin:.5rem 0;max-width:100%;height:auto}
.note{color:#555;font-size:.9rem}
"""
_METHODS = """
<h2>Methods</h2>
<ul>
<li><b>Reliability</b>: one-way random-effects ANOVA per indicator after removing each year's
mean (Shrout &amp; Fleiss 1979; unbalanced panels with Searle's n0). ICC(1) is the share of a
single year's variance that is stable between municipalities; ICC(k) the reliability of a
municipality's mean over n0 years; CI from the F distribution. MDC: the smallest change a
pilot with the stated number of treated municipalities detects at the stated power.</li>
<li><b>Redundancy</b>: pairwise-complete correlations of municipality means and of yearly
changes; unique share = adjusted 1 - R&sup2; on all other indicators from the inverse
correlation matrix (Ledoit-Wolf-shrunk when indicators outnumber half the municipalities);
average-linkage clusters on 1 - |r|.</li>
<li><b>Validity</b>: correlation with each criterion between municipalities (Fisher z CI)
and within (cluster-robust by municipality), p-values adjusted together.</li>
<li><b>Gaming</b>: excess mass at the target against a polynomial fit of the histogram
outside a window (cluster-robust SE by municipality); Chow test for a level shift at the
target year against untargeted indicators.</li>
<li><b>Recommendation</b>: information = unique share x ICC x validity; score = hours saved
per year / max(information, 0.01); drop = unreliable or no valid association; slim =
redundant and not the most informative of its cluster; not assessed = a measure the
recommendation needs cannot be computed (e.g. one year of data), so nothing is
recommended.</li>
</ul>
"""


def _e(x: object) -> str:
    return html.escape(str(x), quote=True)


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else ""
    if isinstance(v, float):
        if not math.isfinite(v):
            return ""
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"
    return _e(v)


def _table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str] | None = None,
    max_rows: int = 500,
) -> str:
    if not rows:
        return "<p class='note'>None.</p>"
    cols = list(columns or rows[0].keys())
    head = "".join(f"<th>{_e(c)}</th>" for c in cols)
    body = []
    for r in rows[:max_rows]:
        cells = []
        for c in cols:
            v = r.get(c)
            num = isinstance(v, int | float) and not isinstance(v, bool)
            cls = "num" if num else ("ev" if c == "evidence" else "")
            cells.append(
                f"<td class='{cls}'>{_fmt(v)}</td>" if cls else f"<td>{_fmt(v)}</td>"
            )
        body.append(f"<tr>{''.join(cells)}</tr>")
    more = (
        f"<p class='note'>{len(rows) - max_rows} more rows in the CSV export.</p>"
        if len(rows) > max_rows
        else ""
    )
    return (
        f"<div class='wide'><table><tr>{head}</tr>{''.join(body)}</table></div>{more}"
    )


def report_html(
    doc: Mapping[str, Any], figures: Mapping[str, Any] | None = None
) -> str:
    """The audit as one HTML document: tables, notes, methods and ``figures``.

    ``figures`` has ``scatter``, ``icc``, ``heatmap`` (SVG strings) and ``histograms``
    (indicator -> SVG), as ``tillit.web.charts.audit.figures`` draws them; without it
    the report has the tables only.
    """
    fig = dict(figures or {})
    recs = list(doc.get("recommendations") or [])
    years = (doc.get("settings") or {}).get("years") or []
    crit = doc.get("criteria") or []
    span = f"years {_e(min(years))}&ndash;{_e(max(years))}" if years else "no years"
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<title>Tillit signal audit</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Indicator signal audit</h1>",
        f"<p>{len(doc.get('indicators') or [])} indicators, "
        f"{_e((doc.get('settings') or {}).get('n_units'))} municipalities, {span}"
        + (f"; criteria: {_e(', '.join(crit))}" if crit else "")
        + ".</p>",
    ]
    parts += [
        f"<p class='note'>Note: {_e(d)}</p>" for d in doc.get("diagnostics") or []
    ]
    parts += ["<h2>What to remove or slim</h2>", fig.get("scatter", "")]
    parts.append(_table(recs, MAIN_COLUMNS))
    parts += ["<h2>What to add</h2>", _table(doc.get("gaps") or [])]
    parts += ["<h2>Reliability</h2>", fig.get("icc", "")]
    parts += ["<h2>Redundancy</h2>", fig.get("heatmap", "")]
    parts.append(_table(doc.get("redundant_pairs") or []))
    parts += ["<h2>Validity</h2>", _table(doc.get("validity") or [])]
    parts += ["<h2>Gaming</h2>", _table(doc.get("gaming") or [])]
    parts += list((fig.get("histograms") or {}).values())
    every = [{k: v for k, v in r.items() if k != "evidence"} for r in recs]
    parts += ["<h2>All numbers per indicator</h2>", _table(every)]
    parts += [_METHODS, "</body></html>"]
    return "".join(parts)
