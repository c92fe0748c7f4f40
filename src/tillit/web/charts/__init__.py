"""Server-side SVG charts: line chart with peer band, ranked dot plot, sparkline.

No JavaScript and no external assets: each function returns one ``<svg>`` element as a
string, with ``role="img"``, a ``<title>`` and ``<desc>`` (the text alternative) and a
``<title>`` tooltip on every point. Colours come from presentation attributes and CSS
classes (``web/static/tillit.css``), so a strict Content-Security-Policy holds.

This package is the one home for SVG: an area adds its charts as a module of its own
here (``web/charts/<area>.py``), built on the primitives of this module (axes, ticks,
palette, escaping), and no template or route writes SVG itself.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

__all__ = [
    "Band",
    "Line",
    "dot_plot",
    "fmt_number",
    "line_chart",
    "nice_ticks",
    "open_svg",
    "sparkline",
]

PALETTE = ("#1f5fa8", "#c2452d", "#2c8a4b", "#7a4fa3", "#b07c10", "#3b3b3b")
HIGHLIGHT = "#c2452d"
MUTED = "#8a94a6"


def fmt_number(x: float | None, digits: int = 3) -> str:
    """Format a number for people: grouped thousands, ``digits`` significant digits."""
    if x is None or not math.isfinite(x):
        return "–"
    if x != 0 and abs(x) >= 10**digits:
        return f"{x:,.0f}".replace(",", "\u202f")
    s = f"{x:.{digits}g}"
    if "e" in s:
        s = f"{x:.{max(digits - 1, 0)}f}"
    return s


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round tick values covering ``[lo, hi]`` (1, 2, 2.5, 5 x 10^k steps)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0, 1.0]
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / max(n - 1, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks: list[float] = []
    v = start
    while v <= hi + step * 0.5 and len(ticks) < 50:
        ticks.append(round(v, 12))
        v += step
    if ticks[-1] < hi:
        ticks.append(round(ticks[-1] + step, 12))
    return ticks


@dataclass(frozen=True)
class Line:
    """One series of a line chart; ``None`` values break the line."""

    name: str
    xs: Sequence[float]
    ys: Sequence[float | None]
    highlight: bool = False
    dashed: bool = False
    color: str | None = None


@dataclass(frozen=True)
class Band:
    """A shaded band, e.g. the peers' interquartile range."""

    name: str
    xs: Sequence[float]
    lo: Sequence[float | None]
    hi: Sequence[float | None]


@dataclass
class _Frame:
    width: int
    height: int
    left: int = 64
    right: int = 16
    top: int = 40
    bottom: int = 52
    x0: float = 0.0
    x1: float = 1.0
    y0: float = 0.0
    y1: float = 1.0
    parts: list[str] = field(default_factory=list)

    def sx(self, x: float) -> float:
        span = (self.x1 - self.x0) or 1.0
        return self.left + (x - self.x0) / span * (self.width - self.left - self.right)

    def sy(self, y: float) -> float:
        span = (self.y1 - self.y0) or 1.0
        return (
            self.height
            - self.bottom
            - (y - self.y0) / span * (self.height - self.top - self.bottom)
        )


def _ok(v: float | None) -> bool:
    return v is not None and math.isfinite(v)


def open_svg(title: str, desc: str, width: int, height: int, cls: str) -> str:
    """The opening ``<svg>`` of a chart: ``role="img"``, ``<title>`` and ``<desc>``."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {cls}" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" '
        f'preserveAspectRatio="xMidYMid meet">'
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>"
    )


def _axes(
    f: _Frame,
    xticks: list[float],
    yticks: list[float],
    xlabel: str,
    ylabel: str,
    xfmt: str,
) -> None:
    p = f.parts
    for t in yticks:
        y = f.sy(t)
        p.append(
            f'<line class="grid" x1="{f.left}" x2="{f.width - f.right}" y1="{y:.1f}" '
            f'y2="{y:.1f}" stroke="#e3e6eb" stroke-width="1"/>'
            f'<text class="tick" x="{f.left - 6}" y="{y + 4:.1f}" text-anchor="end" '
            f'font-size="11" fill="#444">{escape(fmt_number(t))}</text>'
        )
    base = f.height - f.bottom
    for t in xticks:
        x = f.sx(t)
        label = f"{t:.0f}" if xfmt == "int" else fmt_number(t)
        p.append(
            f'<line class="tick-mark" x1="{x:.1f}" x2="{x:.1f}" y1="{base}" '
            f'y2="{base + 5}" stroke="#444"/>'
            f'<text class="tick" x="{x:.1f}" y="{base + 18}" text-anchor="middle" '
            f'font-size="11" fill="#444">{escape(label)}</text>'
        )
    p.append(
        f'<line class="axis" x1="{f.left}" x2="{f.width - f.right}" y1="{base}" '
        f'y2="{base}" stroke="#444"/>'
        f'<line class="axis" x1="{f.left}" x2="{f.left}" y1="{f.top}" y2="{base}" '
        f'stroke="#444"/>'
        f'<text class="axis-label" x="{(f.left + f.width - f.right) / 2:.1f}" '
        f'y="{f.height - 12}" text-anchor="middle" font-size="12" fill="#222">'
        f"{escape(xlabel)}</text>"
        f'<text class="axis-label" transform="rotate(-90)" '
        f'x="{-(f.top + base) / 2:.1f}" y="14" text-anchor="middle" font-size="12" '
        f'fill="#222">{escape(ylabel)}</text>'
    )


def _legend(f: _Frame, items: list[tuple[str, str, str]]) -> None:
    """Items of (name, colour, kind: line|dash|band|dot) in one row above the plot."""
    x = f.left
    for name, color, kind in items:
        sym = {
            "band": f'<rect x="{x}" y="10" width="16" height="10" fill="{color}" '
            f'fill-opacity="0.25"/>',
            "dot": f'<circle cx="{x + 8}" cy="15" r="4" fill="{color}"/>',
            "dash": f'<line x1="{x}" x2="{x + 16}" y1="15" y2="15" stroke="{color}" '
            f'stroke-width="2" stroke-dasharray="4 3"/>',
        }.get(
            kind,
            f'<line x1="{x}" x2="{x + 16}" y1="15" y2="15" stroke="{color}" '
            f'stroke-width="3"/>',
        )
        f.parts.append(
            f'<g class="legend-item">{sym}<text x="{x + 21}" y="19" font-size="12" '
            f'fill="#222">{escape(name)}</text></g>'
        )
        x += 44 + int(7.4 * len(name))


def _path(f: _Frame, xs: Sequence[float], ys: Sequence[float | None]) -> str:
    segs: list[str] = []
    pen = False
    for x, y in zip(xs, ys, strict=True):
        if _ok(y):
            segs.append(f"{'L' if pen else 'M'}{f.sx(x):.1f},{f.sy(float(y)):.1f}")  # type: ignore[arg-type]
            pen = True
        else:
            pen = False
    return " ".join(segs)


def line_chart(
    lines: Sequence[Line],
    *,
    band: Band | None = None,
    title: str,
    xlabel: str,
    ylabel: str,
    desc: str = "",
    width: int = 760,
    height: int = 360,
) -> str:
    """A line chart over years with axes, gridlines, legend, optional band and tooltips.

    The highlighted line is drawn last and thick, others thin; every point carries a
    ``<title>`` tooltip "name year: value".
    """
    xs_all = [x for ln in lines for x in ln.xs]
    if band is not None:
        xs_all += list(band.xs)
    ys_all = [float(y) for ln in lines for y in ln.ys if _ok(y)]  # type: ignore[arg-type]
    if band is not None:
        ys_all += [float(v) for v in (*band.lo, *band.hi) if _ok(v)]  # type: ignore[arg-type]
    f = _Frame(width, height)
    f.parts.append(open_svg(title, desc or title, width, height, "line-chart"))
    if not ys_all:
        f.parts.append(
            f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" '
            f'font-size="14" fill="#444">–</text></svg>'
        )
        return "".join(f.parts)
    f.x0, f.x1 = min(xs_all), max(xs_all)
    if f.x0 == f.x1:
        f.x0, f.x1 = f.x0 - 1, f.x1 + 1
    yt = nice_ticks(min(ys_all), max(ys_all))
    f.y0, f.y1 = yt[0], yt[-1]
    step = max(1, math.ceil((f.x1 - f.x0) / 10))
    xt = [float(x) for x in range(math.ceil(f.x0), int(f.x1) + 1, step)]
    _axes(f, xt, yt, xlabel, ylabel, "int")
    legend: list[tuple[str, str, str]] = []
    if band is not None:
        pts = [
            (x, float(lo), float(hi))  # type: ignore[arg-type]
            for x, lo, hi in zip(band.xs, band.lo, band.hi, strict=True)
            if _ok(lo) and _ok(hi)
        ]
        if pts:
            upper = " ".join(f"{f.sx(x):.1f},{f.sy(hi):.1f}" for x, _lo, hi in pts)
            lower = " ".join(
                f"{f.sx(x):.1f},{f.sy(lo):.1f}" for x, lo, _hi in reversed(pts)
            )
            f.parts.append(
                f'<polygon class="band" points="{upper} {lower}" fill="{MUTED}" '
                f'fill-opacity="0.25"><title>{escape(band.name)}</title></polygon>'
            )
            legend.append((band.name, MUTED, "band"))
    ordered = sorted(enumerate(lines), key=lambda t: t[1].highlight)
    for i, ln in ordered:
        color = ln.color or (HIGHLIGHT if ln.highlight else PALETTE[i % len(PALETTE)])
        width_px = 3 if ln.highlight else 2
        dash = ' stroke-dasharray="6 4"' if ln.dashed else ""
        cls = "series highlight" if ln.highlight else "series"
        f.parts.append(
            f'<g class="{cls}" data-series="{escape(ln.name)}">'
            f'<path d="{_path(f, ln.xs, ln.ys)}" fill="none" stroke="{color}" '
            f'stroke-width="{width_px}"{dash}/>'
        )
        for x, y in zip(ln.xs, ln.ys, strict=True):
            if _ok(y):
                f.parts.append(
                    f'<circle cx="{f.sx(x):.1f}" cy="{f.sy(float(y)):.1f}" '  # type: ignore[arg-type]
                    f'r="{3.5 if ln.highlight else 2.5}" fill="{color}">'
                    f"<title>{escape(ln.name)} {x:.0f}: {escape(fmt_number(y))}</title>"
                    f"</circle>"
                )
        f.parts.append("</g>")
        legend.append((ln.name, color, "dash" if ln.dashed else "line"))
    _legend(f, legend)
    f.parts.append("</svg>")
    return "".join(f.parts)


def dot_plot(
    points: Sequence[tuple[str, float]],
    *,
    highlight: Sequence[str] = (),
    title: str,
    ylabel: str,
    xlabel: str,
    desc: str = "",
    median: float | None = None,
    width: int = 760,
    height: int = 320,
) -> str:
    """Ranked dot plot of a distribution: one dot per organisation, sorted by value.

    ``points`` are (label, value); labels in ``highlight`` are drawn large, coloured
    and named. A dashed line marks the median when given.
    """
    pts = sorted((p for p in points if _ok(p[1])), key=lambda p: p[1])
    f = _Frame(width, height)
    f.parts.append(open_svg(title, desc or title, width, height, "dot-plot"))
    if not pts:
        f.parts.append("</svg>")
        return "".join(f.parts)
    f.x0, f.x1 = 0.5, len(pts) + 0.5
    yt = nice_ticks(pts[0][1], pts[-1][1])
    f.y0, f.y1 = yt[0], yt[-1]
    xt = [float(x) for x in nice_ticks(1, len(pts)) if 1 <= x <= len(pts)]
    _axes(f, xt, yt, xlabel, ylabel, "int")
    hl = set(highlight)
    legend = [(ylabel, PALETTE[0], "dot")]
    if median is not None and _ok(median):
        y = f.sy(median)
        f.parts.append(
            f'<line class="median" x1="{f.left}" x2="{width - f.right}" y1="{y:.1f}" '
            f'y2="{y:.1f}" stroke="#222" stroke-dasharray="5 4"><title>median '
            f"{escape(fmt_number(median))}</title></line>"
        )
        legend.append(("median", "#222", "dash"))
    marks = []
    for i, (label, v) in enumerate(pts, start=1):
        big = label in hl
        cx, cy = f.sx(i), f.sy(v)
        tip = f"<title>{escape(label)}: {escape(fmt_number(v))}</title>"
        if big:
            marks.append(
                f'<g class="highlight"><circle cx="{cx:.1f}" cy="{cy:.1f}" r="6" '
                f'fill="{HIGHLIGHT}" stroke="#fff" stroke-width="1.5">{tip}</circle>'
                f'<text x="{cx:.1f}" y="{cy - 10:.1f}" text-anchor="middle" '
                f'font-size="12" font-weight="bold" fill="{HIGHLIGHT}">'
                f"{escape(label)}</text></g>"
            )
            legend.append((label, HIGHLIGHT, "dot"))
        else:
            f.parts.append(
                f'<circle class="dot" cx="{cx:.1f}" cy="{cy:.1f}" r="2.6" '
                f'fill="{PALETTE[0]}" fill-opacity="0.7">{tip}</circle>'
            )
    f.parts.extend(marks)
    _legend(f, legend)
    f.parts.append("</svg>")
    return "".join(f.parts)


def sparkline(
    values: Sequence[float | None],
    *,
    label: str = "",
    width: int = 110,
    height: int = 28,
) -> str:
    """A tiny line of the last values, with the last point marked."""
    vals = [float(v) for v in values if _ok(v)]  # type: ignore[arg-type]
    out = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="sparkline" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
        f"<title>{escape(label)}</title>"
    )
    if len(vals) < 2:
        return out + "</svg>"
    lo, hi = min(vals), max(vals)
    span = (hi - lo) or 1.0
    n = len(vals)
    pts = [
        (2 + i * (width - 6) / (n - 1), height - 3 - (v - lo) / span * (height - 6))
        for i, v in enumerate(vals)
    ]
    d = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
    x, y = pts[-1]
    return (
        out
        + f'<polyline points="{d}" fill="none" stroke="{PALETTE[0]}" stroke-width="1.5"/>'
        + f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{HIGHLIGHT}"/></svg>'
    )
