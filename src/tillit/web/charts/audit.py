"""Charts of the burden ledger and the signal audit (SVG strings).

Every function takes plain numbers (the audit's JSON document, the ledger view) and
returns one ``<svg>`` with ``role="img"``, ``<title>`` and ``<desc>``; colours of the
audit's actions come with a legend that also names them in words.  :func:`figures`
draws all of an audit report's figures from its document, for the page, the HTML
download and ``tillit audit --html``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from tillit.i18n import N_, tr
from tillit.web.charts import PALETTE, fmt_number, open_svg

__all__ = [
    "ACTION_COLOURS",
    "ACTION_NAMES",
    "bar_chart",
    "figures",
    "heatmap",
    "histogram",
    "icc_plot",
    "scatter",
]

ACTION_NAMES = (
    N_("drop"),
    N_("slim"),
    N_("review target"),
    N_("keep"),
    N_("not assessed"),
)
"""The audit's actions (core codes), marked for translation."""
ACTION_COLOURS = {
    "drop": "#c0392b",
    "slim": "#b35c00",
    "review target": "#8e44ad",
    "keep": "#27764a",
    "not assessed": "#6b6b6b",
}


def _ok(v: Any) -> bool:
    return isinstance(v, int | float) and math.isfinite(float(v))


def _scale(v: float, lo: float, hi: float, a: float, b: float) -> float:
    span = hi - lo if hi > lo else 1.0
    return a + (v - lo) / span * (b - a)


def _legend(x: float, y: float, actions: Sequence[str], lang: str) -> str:
    out = []
    for act in actions:
        out.append(
            f'<circle cx="{x + 5:.1f}" cy="{y - 4:.1f}" r="4" '
            f'fill="{ACTION_COLOURS.get(act, "#555")}"/>'
            f'<text x="{x + 13:.1f}" y="{y:.1f}" font-size="11">'
            f"{escape(tr(lang, act))}</text>"
        )
        x += 24 + 6.5 * len(tr(lang, act))
    return f'<g class="legend">{"".join(out)}</g>'


def scatter(recs: Sequence[Mapping[str, Any]], lang: str = "en") -> str:
    """Hours per year against information carried, one dot per indicator by action.

    Indicators without information (not assessed) are left out and said so.
    """
    w, h, m = 640, 380, 54
    pts = [
        r for r in recs if _ok(r.get("information")) and _ok(r.get("hours_per_year"))
    ]
    hmax = max([float(r["hours_per_year"]) for r in pts] + [1.0])
    title = tr(lang, "Hours per year against information carried")
    left_out = len(recs) - len(pts)
    desc = tr(
        lang, "{n} indicators; {k} not assessed are not shown", n=len(pts), k=left_out
    )
    out = [
        open_svg(title, desc, w, h, "audit-scatter"),
        f'<line x1="{m}" y1="{h - m}" x2="{w - 20}" y2="{h - m}" stroke="#333"/>',
        f'<line x1="{m}" y1="34" x2="{m}" y2="{h - m}" stroke="#333"/>',
        f'<text x="{w / 2}" y="{h - 14}" text-anchor="middle" font-size="12">'
        f"{escape(tr(lang, 'information (unique x reliability x validity)'))}</text>",
        f'<text x="14" y="{h / 2}" font-size="12" transform="rotate(-90 14 {h / 2})" '
        f'text-anchor="middle">{escape(tr(lang, "hours per year"))} '
        f"(max {escape(fmt_number(hmax))})</text>",
        _legend(m, 16, sorted({str(r["action"]) for r in recs}), lang),
    ]
    for r in pts:
        x = _scale(float(r["information"]), 0, 1, m, w - 20)
        y = _scale(float(r["hours_per_year"]), 0, hmax, h - m, 34)
        act = str(r["action"])
        out.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" '
            f'fill="{ACTION_COLOURS.get(act, "#555")}"><title>'
            f"{escape(str(r['indicator']))}: {escape(tr(lang, act))}</title></circle>"
        )
        if len(pts) <= 40:
            out.append(
                f'<text x="{x + 5:.1f}" y="{y - 5:.1f}" font-size="10">'
                f"{escape(str(r['indicator']))}</text>"
            )
    return "".join(out) + "</svg>"


def icc_plot(
    recs: Sequence[Mapping[str, Any]], lang: str = "en", max_n: int = 60
) -> str:
    """ICC(1) with its confidence interval, one row per assessed indicator."""
    rows = sorted((r for r in recs if _ok(r.get("icc"))), key=lambda r: r["icc"])
    rows = rows[-max_n:]
    w, row, m = 640, 16, 150
    h = len(rows) * row + 46

    def xs(v: float) -> float:
        return _scale(min(max(v, -0.2), 1.0), -0.2, 1.0, m, w - 20)

    title = tr(lang, "Intra-class correlation with confidence interval")
    out = [
        open_svg(title, title, w, h, "audit-icc"),
        f'<line x1="{xs(0):.1f}" y1="10" x2="{xs(0):.1f}" y2="{h - 25}" stroke="#aaa"/>',
    ]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        out.append(
            f'<text x="{xs(tick):.1f}" y="{h - 8}" font-size="10" '
            f'text-anchor="middle">{escape(fmt_number(tick))}</text>'
        )
    for j, r in enumerate(rows):
        y = 20 + j * row
        col = ACTION_COLOURS.get(str(r["action"]), "#555")
        out.append(
            f'<text x="{m - 6}" y="{y + 4}" font-size="10" text-anchor="end">'
            f"{escape(str(r['indicator']))}</text>"
        )
        if _ok(r.get("icc_low")) and _ok(r.get("icc_high")):
            out.append(
                f'<line x1="{xs(float(r["icc_low"])):.1f}" y1="{y}" '
                f'x2="{xs(float(r["icc_high"])):.1f}" y2="{y}" stroke="{col}"/>'
            )
        out.append(
            f'<circle cx="{xs(float(r["icc"])):.1f}" cy="{y}" r="3.5" fill="{col}">'
            f"<title>{escape(str(r['indicator']))}: ICC "
            f"{escape(fmt_number(float(r['icc'])))}</title></circle>"
        )
    return "".join(out) + "</svg>"


def _cell_colour(v: Any) -> str:
    if not _ok(v):
        return "#eee"
    a = min(abs(float(v)), 1.0)
    c = 255 - int(200 * a)
    return f"rgb(255,{c},{c})" if float(v) > 0 else f"rgb({c},{c},255)"


def heatmap(names: Sequence[str], r: Sequence[Sequence[Any]], lang: str = "en") -> str:
    """The between-municipality correlation matrix as coloured cells (red +, blue -)."""
    n = len(names)
    cell = max(6, min(24, 480 // max(n, 1)))
    m = 110
    size = m + n * cell + 10
    title = tr(lang, "Correlation of municipality means")
    desc = tr(lang, "Red: positive, blue: negative; each cell names its pair and r.")
    out = [open_svg(title, desc, size, size, "audit-heatmap")]
    for i in range(n):
        c = m + i * cell + cell * 0.7
        out.append(
            f'<text x="{m - 4}" y="{c:.1f}" font-size="9" text-anchor="end">'
            f"{escape(names[i])}</text>"
            f'<text x="{c:.1f}" y="{m - 4}" font-size="9" '
            f'transform="rotate(-60 {c:.1f} {m - 4})">{escape(names[i])}</text>'
        )
        for j in range(n):
            v = r[i][j]
            label = fmt_number(float(v), 2) if _ok(v) else "–"
            out.append(
                f'<rect x="{m + j * cell}" y="{m + i * cell}" width="{cell}" '
                f'height="{cell}" fill="{_cell_colour(v)}"><title>{escape(names[i])} ~ '
                f"{escape(names[j])}: r = {escape(label)}</title></rect>"
            )
    return "".join(out) + "</svg>"


def histogram(
    name: str, hist: Mapping[str, Sequence[float]], threshold: float, lang: str = "en"
) -> str:
    """Observed counts (bars) and the smooth counterfactual (line) around a target."""
    counts = [float(c) for c in hist.get("counts", [])]
    fitted = [float(c) if _ok(c) else 0.0 for c in hist.get("fitted", [])]
    edges = [float(e) for e in hist.get("edges", [])]
    if not counts or len(edges) != len(counts) + 1:
        return ""
    w, h, m = 640, 270, 40
    top = max([*counts, *fitted, 1.0])

    def xs(v: float) -> float:
        return _scale(v, edges[0], edges[-1], m, w - 10)

    def ys(v: float) -> float:
        return _scale(v, 0, top, h - 30, 24)

    title = tr(lang, "Distribution of {name} around its target", name=name)
    desc = tr(
        lang, "Bars: observed; line: expected without bunching; dashed: the target"
    )
    out = [open_svg(title, desc, w, h, "audit-histogram")]
    for k, c in enumerate(counts):
        x0, x1 = xs(edges[k]), xs(edges[k + 1])
        out.append(
            f'<rect x="{x0:.1f}" y="{ys(c):.1f}" width="{max(x1 - x0 - 1, 1):.1f}" '
            f'height="{ys(0) - ys(c):.1f}" fill="#9bb7d4"><title>'
            f"{escape(fmt_number(edges[k]))}–{escape(fmt_number(edges[k + 1]))}: "
            f"{c:.0f}</title></rect>"
        )
    mids = [(a + b) / 2 for a, b in itertools.pairwise(edges)]
    pts = " ".join(
        f"{xs(a):.1f},{ys(max(b, 0)):.1f}" for a, b in zip(mids, fitted, strict=True)
    )
    out.append(
        f'<polyline points="{pts}" fill="none" stroke="#c0392b" stroke-width="2"/>'
    )
    out.append(
        f'<line x1="{xs(threshold):.1f}" y1="20" x2="{xs(threshold):.1f}" '
        f'y2="{h - 30}" stroke="#333" stroke-dasharray="4 3"/>'
        f'<text x="{m}" y="{h - 10}" font-size="10">{escape(fmt_number(edges[0]))}</text>'
        f'<text x="{w - 10}" y="{h - 10}" font-size="10" text-anchor="end">'
        f"{escape(fmt_number(edges[-1]))}</text>"
        f'<text x="{xs(threshold):.1f}" y="{h - 10}" font-size="10" '
        f'text-anchor="middle">{escape(tr(lang, "target"))} '
        f"{escape(fmt_number(threshold))}</text>"
    )
    return "".join(out) + "</svg>"


def bar_chart(
    items: Sequence[tuple[str, float]], *, title: str, unit: str, width: int = 720
) -> str:
    """Horizontal bars (label, value), the first 25, with the value beside each."""
    rows = [(str(k), float(v)) for k, v in items if _ok(v)][:25]
    row, left, right = 22, 230, 90
    height = 30 + row * max(len(rows), 1)
    top = max((v for _k, v in rows), default=1.0) or 1.0
    out = [open_svg(title, f"{title} ({unit})", width, height, "bar-chart")]
    for i, (label, v) in enumerate(rows):
        y = 20 + i * row
        bar = max(v, 0) / top * (width - left - right)
        short = label if len(label) <= 34 else label[:32] + "…"
        value = escape(fmt_number(v))
        out.append(
            f'<text x="{left - 6}" y="{y + 14}" text-anchor="end" font-size="12">'
            f"{escape(short)}</text>"
            f'<rect x="{left}" y="{y + 3}" width="{bar:.1f}" height="{row - 6}" '
            f'fill="{PALETTE[0]}"><title>{escape(label)}: {value} '
            f"{escape(unit)}</title></rect>"
            f'<text x="{left + bar + 4:.1f}" y="{y + 14}" font-size="12">{value}</text>'
        )
    return "".join(out) + "</svg>"


def figures(doc: Mapping[str, Any], lang: str = "en") -> dict[str, Any]:
    """Every figure of an audit report from its document (``audit_document``)."""
    recs = list(doc.get("recommendations") or [])
    data = doc.get("figures") or {}
    heat = data.get("heatmap")
    hists = data.get("histograms") or {}
    return {
        "scatter": scatter(recs, lang),
        "icc": icc_plot(recs, lang),
        "heatmap": heatmap(heat["indicators"], heat["r"], lang) if heat else "",
        "histograms": {
            str(g["indicator"]): histogram(
                str(g["indicator"]),
                hists[str(g["indicator"])],
                float(g["threshold"]),
                lang,
            )
            for g in doc.get("gaming") or []
            if str(g["indicator"]) in hists
        },
    }
