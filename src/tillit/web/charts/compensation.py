"""Charts of the compensation area (#15): distributions, bars, tornado, register strips.

Built on the primitives of :mod:`tillit.web.charts` (frame, ticks, palette, escaping);
numbers are worded with :mod:`tillit.i18n` (decimal comma in Swedish).  Every chart is
one ``<svg role="img">`` with ``<title>`` and ``<desc>``, a ``<title>`` tooltip on each
mark, and a legend whose entries are told apart by shape and text, not colour alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from tillit.i18n import format_number
from tillit.web.charts import MUTED, PALETTE, nice_ticks

__all__ = ["bars", "distribution_chart", "number", "strip_chart", "tornado_chart"]

Fmt = Callable[[float], str]
ROW = 26
LEFT, RIGHT, TOP = 230, 24, 70
CHAR = 6.9  # approximate width of a 12px character, for laying out legends


def _short(label: str, n: int = 34) -> str:
    return label if len(label) <= n else label[: n - 1] + "…"


def _open(title: str, desc: str, width: int, height: int, cls: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {cls}" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet">'
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>"
        f'<text class="chart-title" x="8" y="18" font-size="14" font-weight="600" fill="#1d2330">'
        f"{escape(title)}</text>"
    ]


def _legend(items: list[tuple[str, str]], x0: float = LEFT, y: float = 44) -> str:
    """Legend entries (svg symbol drawn at 0..18 x, text) laid out by text length."""
    out, x = ['<g class="legend">'], x0
    for sym, text in items:
        out.append(
            f'<g transform="translate({x:.0f},{y - 10:.0f})">{sym}</g>'
            f'<text x="{x + 24:.0f}" y="{y:.0f}" font-size="12" fill="#222">{escape(text)}</text>'
        )
        x += 24 + CHAR * len(text) + 18
    out.append("</g>")
    return "".join(out)


def _scale(
    lo: float, hi: float, width: int
) -> tuple[list[float], Callable[[float], float]]:
    ticks = nice_ticks(lo, hi, 5)
    a, b = ticks[0], ticks[-1]
    span = (b - a) or 1.0

    def sx(v: float) -> float:
        return LEFT + (v - a) / span * (width - LEFT - RIGHT)

    return ticks, sx


def _xaxis(
    parts: list[str],
    ticks: list[float],
    sx: Callable[[float], float],
    y0: float,
    y1: float,
    fmt: Fmt,
    label: str,
    width: int,
) -> None:
    for t in ticks:
        x = sx(t)
        parts.append(
            f'<line class="grid" x1="{x:.1f}" x2="{x:.1f}" y1="{y0}" y2="{y1}" stroke="#e3e6eb"/>'
            f'<text class="tick" x="{x:.1f}" y="{y1 + 16}" text-anchor="middle" font-size="11" fill="#444">{escape(fmt(t))}</text>'
        )
    parts.append(
        f'<text class="axis-label" x="{(LEFT + width - RIGHT) / 2:.1f}" y="{y1 + 34}" text-anchor="middle" font-size="12" fill="#222">{escape(label)}</text>'
    )


def distribution_chart(
    rows: Sequence[tuple[str, Sequence[float]]],
    *,
    title: str,
    axis: str,
    fmt: Fmt,
    legend: tuple[str, str, str],
    reference: float | None = None,
    width: int = 760,
) -> str:
    """One horizontal box per model: whiskers 5-95 %, box 25-75 %, a tick at the median.

    ``rows`` are (model name, (p05, p25, p50, p75, p95)); ``legend`` names the whisker,
    the box and the median mark; ``reference`` draws a dashed line (e.g. zero margin).
    """
    vals = [v for _n, q in rows for v in q if v == v]
    if reference is not None:
        vals.append(reference)
    height = TOP + ROW * max(len(rows), 1) + 48
    desc = "; ".join(
        f"{n}: {legend[2]} {fmt(q[2])}, {fmt(q[0])}–{fmt(q[4])}"
        for n, q in rows
        if q[2] == q[2]
    )
    parts = _open(title, desc or title, width, height, "distribution-chart")
    if not vals:
        return "".join([*parts, "</svg>"])
    ticks, sx = _scale(min(vals), max(vals), width)
    y1 = TOP + ROW * len(rows)
    _xaxis(parts, ticks, sx, TOP - 6, y1, fmt, axis, width)
    if reference is not None:
        x = sx(reference)
        parts.append(
            f'<line class="reference" x1="{x:.1f}" x2="{x:.1f}" y1="{TOP - 6}" y2="{y1}" stroke="#222" stroke-dasharray="5 4"/>'
        )
    for i, (name, q) in enumerate(rows):
        y = TOP + i * ROW + ROW / 2
        parts.append(
            f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end" font-size="12" fill="#222">{escape(_short(name))}</text>'
        )
        if q[2] != q[2]:
            continue
        c = PALETTE[i % len(PALETTE)]
        tip = f"<title>{escape(name)}: {escape(legend[2])} {escape(fmt(q[2]))}; 25–75 %: {escape(fmt(q[1]))}–{escape(fmt(q[3]))}; 5–95 %: {escape(fmt(q[0]))}–{escape(fmt(q[4]))}</title>"
        parts.append(
            f'<g class="box" data-model="{escape(name)}">{tip}'
            f'<line x1="{sx(q[0]):.1f}" x2="{sx(q[4]):.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{c}" stroke-width="2"/>'
            f'<rect x="{sx(q[1]):.1f}" y="{y - 7:.1f}" width="{max(sx(q[3]) - sx(q[1]), 1.5):.1f}" height="14" fill="{c}" fill-opacity="0.35" stroke="{c}"/>'
            f'<line x1="{sx(q[2]):.1f}" x2="{sx(q[2]):.1f}" y1="{y - 9:.1f}" y2="{y + 9:.1f}" stroke="#111" stroke-width="3"/></g>'
        )
    parts.append(_legend([
        ('<line x1="0" x2="18" y1="6" y2="6" stroke="#555" stroke-width="2"/>', legend[0]),
        ('<rect x="0" y="0" width="18" height="12" fill="#555" fill-opacity="0.35" stroke="#555"/>', legend[1]),
        ('<line x1="9" x2="9" y1="-2" y2="14" stroke="#111" stroke-width="3"/>', legend[2]),
    ]))  # fmt: skip
    parts.append("</svg>")

    return "".join(parts)


def bars(
    rows: Sequence[tuple[str, float]],
    *,
    title: str,
    axis: str,
    fmt: Fmt,
    width: int = 760,
) -> str:
    """Horizontal bars with the value written beside each bar."""
    height = TOP + ROW * max(len(rows), 1) + 48
    desc = "; ".join(f"{n}: {fmt(v)}" for n, v in rows)
    parts = _open(title, desc or title, width, height, "bar-chart")
    vals = [v for _n, v in rows if v == v]
    if not vals:
        return "".join([*parts, "</svg>"])
    ticks, sx = _scale(min(0.0, *vals), max(vals), width - 70)
    y1 = TOP + ROW * len(rows)
    _xaxis(parts, ticks, sx, TOP - 6, y1, fmt, axis, width - 70)
    for i, (name, v) in enumerate(rows):
        y = TOP + i * ROW
        parts.append(
            f'<text x="{LEFT - 8}" y="{y + ROW / 2 + 4:.1f}" text-anchor="end" font-size="12" fill="#222">{escape(_short(name))}</text>'
        )
        if v != v:
            continue
        x0, x1 = sx(0.0), sx(v)
        parts.append(
            f'<rect x="{min(x0, x1):.1f}" y="{y + 5}" width="{abs(x1 - x0):.1f}" height="{ROW - 10}" fill="{PALETTE[0]}">'
            f"<title>{escape(name)}: {escape(fmt(v))}</title></rect>"
            f'<text x="{max(x0, x1) + 5:.1f}" y="{y + ROW / 2 + 4:.1f}" font-size="12" fill="#222">{escape(fmt(v))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def tornado_chart(
    rows: Sequence[tuple[str, float, float]],
    *,
    centre: float,
    title: str,
    axis: str,
    fmt: Fmt,
    legend: tuple[str, str],
    width: int = 760,
) -> str:
    """Bars from the centre to each parameter's low-quantile (solid) and high-quantile
    (outlined) value, largest swing on top; ``legend`` names the two quantiles."""
    height = TOP + ROW * max(len(rows), 1) + 48
    desc = "; ".join(
        f"{n}: {legend[0]} {fmt(lo)}, {legend[1]} {fmt(hi)}" for n, lo, hi in rows
    )
    parts = _open(title, desc or title, width, height, "tornado-chart")
    vals = [centre, *(v for _n, lo, hi in rows for v in (lo, hi) if v == v)]
    ticks, sx = _scale(min(vals), max(vals), width)
    y1 = TOP + ROW * len(rows)
    _xaxis(parts, ticks, sx, TOP - 6, y1, fmt, axis, width)
    xc = sx(centre)
    for i, (name, lo, hi) in enumerate(rows):
        y = TOP + i * ROW
        parts.append(
            f'<text x="{LEFT - 8}" y="{y + ROW / 2 + 4:.1f}" text-anchor="end" font-size="12" fill="#222">{escape(_short(name))}</text>'
        )
        for v, solid, lab in ((lo, True, legend[0]), (hi, False, legend[1])):
            if v != v:
                continue
            x = sx(v)
            fill = (
                f'fill="{PALETTE[0]}"'
                if solid
                else f'fill="#fff" stroke="{PALETTE[1]}" stroke-width="2"'
            )
            parts.append(
                f'<rect class="{"low" if solid else "high"}" x="{min(x, xc):.1f}" y="{y + 5 + (0 if solid else 8)}" '
                f'width="{max(abs(x - xc), 1.0):.1f}" height="{(ROW - 10) / 2:.1f}" {fill}>'
                f"<title>{escape(name)} {escape(lab)}: {escape(fmt(v))}</title></rect>"
            )
    parts.append(
        f'<line x1="{xc:.1f}" x2="{xc:.1f}" y1="{TOP - 6}" y2="{y1}" stroke="#111" stroke-width="1.5"/>'
    )
    parts.append(_legend([
        (f'<rect x="0" y="1" width="18" height="10" fill="{PALETTE[0]}"/>', legend[0]),
        (f'<rect x="0" y="1" width="18" height="10" fill="#fff" stroke="{PALETTE[1]}" stroke-width="2"/>', legend[1]),
    ]))  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


def strip_chart(
    groups: Sequence[tuple[str, Sequence[float]]],
    *,
    title: str,
    axis: str,
    fmt: Fmt,
    median_label: str,
    width: int = 760,
) -> str:
    """One row of dots per group (e.g. cost per recipient of the municipalities using a
    basis) with the group's median as a bar; jitter is deterministic."""
    height = TOP + 34 * max(len(groups), 1) + 48
    meds = {}
    for name, vals in groups:
        s = sorted(v for v in vals if v == v)
        meds[name] = (
            s[len(s) // 2]
            if s and len(s) % 2
            else (0.5 * (s[len(s) // 2 - 1] + s[len(s) // 2]) if s else float("nan"))
        )
    desc = "; ".join(f"{n}: {len(v)}, {median_label} {fmt(meds[n])}" for n, v in groups)
    parts = _open(title, desc or title, width, height, "strip-chart")
    allv = [v for _n, vals in groups for v in vals if v == v]
    if not allv:
        return "".join([*parts, "</svg>"])
    ticks, sx = _scale(min(allv), max(allv), width)
    y1 = TOP + 34 * len(groups)
    _xaxis(parts, ticks, sx, TOP - 6, y1, fmt, axis, width)
    for i, (name, vals) in enumerate(groups):
        y = TOP + i * 34 + 17
        parts.append(
            f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end" font-size="12" fill="#222">{escape(_short(name))} ({len(vals)})</text>'
        )
        for j, v in enumerate(vals):
            if v != v:
                continue
            dy = ((j * 7919) % 17 - 8) * 0.9
            parts.append(
                f'<circle cx="{sx(v):.1f}" cy="{y + dy:.1f}" r="2.6" fill="{MUTED}" fill-opacity="0.8"><title>{escape(fmt(v))}</title></circle>'
            )
        m = meds[name]
        if m == m:
            parts.append(
                f'<line class="median" x1="{sx(m):.1f}" x2="{sx(m):.1f}" y1="{y - 12:.1f}" y2="{y + 12:.1f}" stroke="#111" stroke-width="3"><title>{escape(median_label)} {escape(fmt(m))}</title></line>'
            )
    parts.append(_legend([
        (f'<circle cx="6" cy="6" r="3" fill="{MUTED}"/>', axis),
        ('<line x1="9" x2="9" y1="-2" y2="14" stroke="#111" stroke-width="3"/>', median_label),
    ]))  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


def number(lang: str, digits: int = 0) -> Fmt:
    """A formatter for chart labels in ``lang``."""
    return lambda v: format_number(v, lang, digits)
