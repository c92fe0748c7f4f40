"""Self-contained HTML report of a signal audit: tables and inline SVG plots.

No external assets, scripts or fonts: the file can be mailed or archived as is. The SVG is
written by hand (no plotting library), so the statistical core stays numpy/pandas only.
"""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from tillit.core.audit.signals import SignalAudit

__all__ = ["render_html"]

_COLOURS = {
    "drop": "#c0392b",
    "slim": "#e67e22",
    "review target": "#8e44ad",
    "keep": "#27ae60",
    "not assessed": "#6b6b6b",
}
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem;max-width:70rem;color:#222}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0 1.5rem}
th,td{border:1px solid #ccc;padding:.2rem .4rem;text-align:left;vertical-align:top}
td.num{white-space:nowrap} td.ev{min-width:28rem} .wide{overflow-x:auto}
th{background:#f3f3f3} td.num{text-align:right;font-variant-numeric:tabular-nums}
svg{background:#fff;border:1px solid #ddd;margin:.5rem 0} .note{color:#555;font-size:.9rem}
"""


def _e(x: object) -> str:
    """HTML-escape."""
    return html.escape(str(x), quote=True)


def _fmt(v: Any) -> str:
    """Format a table cell."""
    if isinstance(v, bool | np.bool_):
        return "yes" if v else ""
    if isinstance(v, float | np.floating):
        if not math.isfinite(float(v)):
            return ""
        a = abs(float(v))
        return f"{v:,.0f}" if a >= 1000 else f"{v:.3g}"
    return _e(v)


def _table(df: pd.DataFrame, max_rows: int = 500) -> str:
    """An HTML table of a DataFrame (numbers right-aligned)."""
    if df.empty:
        return "<p class='note'>None.</p>"
    head = "".join(f"<th>{_e(c)}</th>" for c in df.columns)
    rows = []
    for rec in df.head(max_rows).itertuples(index=False):
        cells = "".join(
            f"<td class='num'>{_fmt(v)}</td>"
            if isinstance(v, int | float | np.number) and not isinstance(v, bool)
            else f"<td class='ev'>{_fmt(v)}</td>"
            if c == "evidence"
            else f"<td>{_fmt(v)}</td>"
            for c, v in zip(df.columns, rec, strict=True)
        )
        rows.append(f"<tr>{cells}</tr>")
    more = (
        f"<p class='note'>{len(df) - max_rows} more rows in the CSV export.</p>"
        if len(df) > max_rows
        else ""
    )
    return (
        f"<div class='wide'><table><tr>{head}</tr>{''.join(rows)}</table></div>{more}"
    )


def _svg(w: int, h: int, body: str, title: str) -> str:
    """Wrap SVG elements."""
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{w}' height='{h}' "
        f"viewBox='0 0 {w} {h}' role='img' aria-label='{_e(title)}'>"
        f"<title>{_e(title)}</title>{body}</svg>"
    )


def _scale(v: np.ndarray, lo: float, hi: float, a: float, b: float) -> np.ndarray:
    """Map [lo, hi] to [a, b]."""
    span = hi - lo if hi > lo else 1.0
    return a + (np.asarray(v, float) - lo) / span * (b - a)


def _scatter(rec: pd.DataFrame) -> str:
    """Hours per year against information, coloured by action."""
    w, h, m = 640, 360, 50
    info = rec["information"].to_numpy(float)
    hrs = rec["hours_per_year"].to_numpy(float)
    hmax = max(float(np.nanmax(hrs)) if hrs.size else 0.0, 1.0)
    xs = _scale(info, 0, 1, m, w - 20)
    ys = _scale(hrs, 0, hmax, h - m, 20)
    out = [
        f"<line x1='{m}' y1='{h - m}' x2='{w - 20}' y2='{h - m}' stroke='#333'/>",
        f"<line x1='{m}' y1='20' x2='{m}' y2='{h - m}' stroke='#333'/>",
        f"<text x='{w / 2}' y='{h - 10}' text-anchor='middle' font-size='12'>"
        "information (unique x reliability x validity)</text>",
        f"<text x='12' y='{h / 2}' font-size='12' transform='rotate(-90 12 {h / 2})' "
        f"text-anchor='middle'>hours per year (max {hmax:,.0f})</text>",
    ]
    for ind, x, y, act in zip(rec.index, xs, ys, rec["action"], strict=True):
        if not (math.isfinite(x) and math.isfinite(y)):
            continue
        col = _COLOURS.get(act, "#555")
        out.append(
            f"<circle cx='{x:.1f}' cy='{y:.1f}' r='4' fill='{col}'>"
            f"<title>{_e(ind)}: {_e(act)}</title></circle>"
        )
        if len(rec) <= 40:
            out.append(
                f"<text x='{x + 5:.1f}' y='{y - 5:.1f}' font-size='10'>{_e(ind)}</text>"
            )
    return _svg(w, h, "".join(out), "Hours per year against information carried")


def _icc_plot(rec: pd.DataFrame, max_n: int = 60) -> str:
    """ICC with its confidence interval, one row per indicator."""
    r = rec.sort_values("icc").tail(max_n)
    n = len(r)
    w, row, m = 640, 16, 150
    h = n * row + 40

    def xs(v: float) -> float:
        return float(_scale(np.asarray(v), -0.2, 1.0, m, w - 20))

    out = [
        f"<line x1='{xs(0):.1f}' y1='10' x2='{xs(0):.1f}' y2='{h - 25}' stroke='#aaa'/>"
    ]
    for k, tick in enumerate((0.0, 0.25, 0.5, 0.75, 1.0)):
        out.append(
            f"<text x='{xs(tick):.1f}' y='{h - 8}' font-size='10' "
            f"text-anchor='middle'>{tick:g}</text>"
        )
        del k
    for j, (ind, v) in enumerate(r.iterrows()):
        y = 20 + j * row
        lo, hi, c = (
            float(np.clip(v[k], -0.2, 1.0)) for k in ("icc_low", "icc_high", "icc")
        )
        col = _COLOURS.get(str(v["action"]), "#555")
        out.append(
            f"<text x='{m - 6}' y='{y + 4}' font-size='10' text-anchor='end'>{_e(ind)}</text>"
        )
        if math.isfinite(lo) and math.isfinite(hi):
            out.append(
                f"<line x1='{xs(lo):.1f}' y1='{y}' x2='{xs(hi):.1f}' y2='{y}' stroke='{col}'/>"
            )
        if math.isfinite(c):
            out.append(f"<circle cx='{xs(c):.1f}' cy='{y}' r='3.5' fill='{col}'/>")
    return _svg(w, h, "".join(out), "Intra-class correlation with confidence interval")


def _heatmap(r: np.ndarray, names: tuple[str, ...]) -> str:
    """Between-municipality correlation matrix as coloured cells."""
    n = len(names)
    cell = max(6, min(24, 480 // max(n, 1)))
    m = 110
    w = h = m + n * cell + 10
    out = []
    for i in range(n):
        out.append(
            f"<text x='{m - 4}' y='{m + i * cell + cell * 0.7:.1f}' font-size='9' "
            f"text-anchor='end'>{_e(names[i])}</text>"
        )
        out.append(
            f"<text x='{m + i * cell + cell * 0.7:.1f}' y='{m - 4}' font-size='9' "
            f"transform='rotate(-60 {m + i * cell + cell * 0.7:.1f} {m - 4})'>"
            f"{_e(names[i])}</text>"
        )
        for j in range(n):
            v = r[i, j]
            if not math.isfinite(v):
                col = "#eee"
            else:
                a = min(abs(v), 1.0)
                col = (
                    f"rgb(255,{255 - int(200 * a)},{255 - int(200 * a)})"
                    if v > 0
                    else f"rgb({255 - int(200 * a)},{255 - int(200 * a)},255)"
                )
            out.append(
                f"<rect x='{m + j * cell}' y='{m + i * cell}' width='{cell}' "
                f"height='{cell}' fill='{col}'><title>{_e(names[i])} ~ "
                f"{_e(names[j])}: r={v:.2f}</title></rect>"
            )
    return _svg(w, h, "".join(out), "Correlation of municipality means")


def _histogram(name: str, hist: dict[str, Any], threshold: float) -> str:
    """Observed counts (bars) and the smooth counterfactual (line) around a target."""
    counts, fitted, edges = (
        np.asarray(hist[k], float) for k in ("counts", "fitted", "edges")
    )
    if counts.size == 0:
        return ""
    w, h, m = 640, 260, 40
    top = max(float(counts.max()), float(np.nanmax(fitted)), 1.0)

    def xs(v: float) -> float:
        return float(_scale(np.asarray(v), edges[0], edges[-1], m, w - 10))

    def ys(v: float) -> float:
        return float(_scale(np.asarray(v), 0, top, h - 30, 15))

    out = []
    for k, c in enumerate(counts):
        x0, x1 = xs(edges[k]), xs(edges[k + 1])
        out.append(
            f"<rect x='{x0:.1f}' y='{ys(c):.1f}' width='{max(x1 - x0 - 1, 1):.1f}' "
            f"height='{ys(0) - ys(c):.1f}' fill='#9bb7d4'/>"
        )
    mids = (edges[:-1] + edges[1:]) / 2
    pts = " ".join(
        f"{xs(a):.1f},{ys(max(b, 0)):.1f}" for a, b in zip(mids, fitted, strict=True)
    )
    out.append(
        f"<polyline points='{pts}' fill='none' stroke='#c0392b' stroke-width='2'/>"
    )
    out.append(
        f"<line x1='{xs(threshold):.1f}' y1='10' x2='{xs(threshold):.1f}' "
        f"y2='{h - 30}' stroke='#333' stroke-dasharray='4 3'/>"
    )
    out.append(f"<text x='{m}' y='{h - 10}' font-size='10'>{edges[0]:.4g}</text>")
    out.append(
        f"<text x='{w - 10}' y='{h - 10}' font-size='10' text-anchor='end'>"
        f"{edges[-1]:.4g}</text>"
    )
    out.append(
        f"<text x='{xs(threshold):.1f}' y='{h - 10}' font-size='10' "
        f"text-anchor='middle'>target {threshold:g}</text>"
    )
    return _svg(w, h, "".join(out), f"Distribution of {name} around its target")


_MAIN = [
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
]
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
redundant and not the most informative of its cluster.</li>
</ul>
"""


def render_html(res: SignalAudit) -> str:
    """Render the audit as one HTML document (see module docstring)."""
    rec = res.recommendations
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<title>Tillit signal audit</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Indicator signal audit</h1>",
        f"<p>{len(res.indicators)} indicators, {res.settings.get('n_units')} municipalities, "
        f"years {_e(min(res.settings['years']))}&ndash;{_e(max(res.settings['years']))}"
        + (f"; criteria: {_e(', '.join(res.criteria))}" if res.criteria else "")
        + ".</p>",
    ]
    parts += [f"<p class='note'>Note: {_e(d)}</p>" for d in res.diagnostics]
    tidy = res.tidy()
    parts += ["<h2>What to remove or slim</h2>", _scatter(rec), _table(tidy[_MAIN])]
    parts += ["<h2>What to add</h2>", _table(res.gaps)]
    parts += ["<h2>Reliability</h2>", _icc_plot(rec)]
    parts += ["<h2>Redundancy</h2>"]
    if len(res.indicators) <= 60:
        parts.append(_heatmap(res.redundancy.r_between, res.indicators))
    parts.append(_table(res.redundancy.pairs()))
    parts += ["<h2>Validity</h2>", _table(res.validity)]
    parts += ["<h2>Gaming</h2>", _table(res.gaming)]
    for row in res.gaming.to_dict(orient="records"):
        hist = res.histograms.get(str(row["indicator"]))
        if hist is not None:
            parts.append(
                _histogram(str(row["indicator"]), hist, float(row["threshold"]))
            )
    parts += [
        "<h2>All numbers per indicator</h2>",
        _table(tidy.drop(columns="evidence")),
    ]
    parts += [_METHODS, "</body></html>"]
    return "\n".join(parts)
