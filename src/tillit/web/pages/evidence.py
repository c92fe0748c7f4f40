"""Evidence across pilots (public): gap map, meta-analysis with forest plot, what works.

Routes
------
``GET /evidence``                     the evidence gap map and the outcomes with results
``GET /evidence/meta?indicator=&kind=``  random-effects meta-analysis and forest plot
``GET /evidence/what-works/<kind>``   pooled evidence, good examples and their preconditions
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tillit.domain.pilots import CHANGE_KINDS, PRECONDITIONS
from tillit.services import evidence as evd
from tillit.web.charts import fmt_number, nice_ticks
from tillit.web.deps import EngineDep, lang_of
from tillit.web.pages.render import render

__all__ = ["STATUS_COLOURS", "forest_svg", "gap_map_svg", "router"]

router = APIRouter(include_in_schema=False)

STATUS_COLOURS = {"strong": "#2c8a4b", "mixed": "#e0b000", "missing": "#d5d9e0"}
_STATUS = {
    "strong": ("stark", "strong"),
    "mixed": ("blandad eller begränsad", "mixed or limited"),
    "missing": ("saknas", "missing"),
}


def forest_svg(m: dict[str, Any], lang: str, width: int = 760) -> str:
    """Forest plot: each pilot's estimate and CI, the pooled diamond, the PI line."""
    rows = m.get("forest") or []
    pooled = m.get("pooled")
    n = len(rows) + (2 if pooled else 0)
    h, left, right, top = 40 + 26 * n + 40, 220, 150, 30
    vals = [v for r in rows for v in (r["ci_low"], r["ci_high"])]
    if pooled:
        vals += [pooled["ci_low"], pooled["ci_high"], *pooled["prediction"]]
    vals = [v for v in vals if v is not None and math.isfinite(v)] + [0.0]
    ticks = nice_ticks(min(vals), max(vals))
    x0, x1 = ticks[0], ticks[-1]

    def sx(v: float) -> float:
        return left + (v - x0) / ((x1 - x0) or 1) * (width - left - right)

    title = f"Forest plot {m['indicator']}"
    p = [f'<svg class="chart forest" xmlns="http://www.w3.org/2000/svg" role="img" '
         f'viewBox="0 0 {width} {h}" width="{width}" height="{h}" aria-labelledby="ft">'
         f'<title id="ft">{escape(title)}</title>'
         f'<desc>{len(rows)} {"försök" if lang == "sv" else "pilots"}</desc>',
         f'<line x1="{sx(0):.1f}" y1="{top - 10}" x2="{sx(0):.1f}" y2="{h - 30}" '
         f'stroke="#888" stroke-dasharray="4 3"/>']  # fmt: skip
    for t in ticks:
        p.append(f'<text x="{sx(t):.1f}" y="{h - 12}" font-size="11" '
                 f'text-anchor="middle" fill="#444">{escape(fmt_number(t))}</text>')  # fmt: skip
    y = top
    for r in rows:
        lab = escape(f"{r['code']} {r['title']}"[:34])
        p.append(
            f'<g class="study"><text x="8" y="{y + 4}" font-size="12" fill="#222">{lab}</text>'
            f'<line x1="{sx(r["ci_low"]):.1f}" y1="{y}" x2="{sx(r["ci_high"]):.1f}" y2="{y}" '
            f'stroke="#1f5fa8" stroke-width="2"/>'
            f'<rect x="{sx(r["estimate"]) - 4:.1f}" y="{y - 4}" width="8" height="8" '
            f'fill="#1f5fa8"><title>{lab}: {escape(fmt_number(r["estimate"]))} '
            f"[{escape(fmt_number(r['ci_low']))}, {escape(fmt_number(r['ci_high']))}]"
            f"</title></rect>"
            f'<text x="{width - right + 8}" y="{y + 4}" font-size="11" fill="#444">'
            f"{escape(fmt_number(r['estimate']))} [{escape(fmt_number(r['ci_low']))}, "
            f"{escape(fmt_number(r['ci_high']))}]</text></g>"
        )
        y += 26
    if pooled:
        y += 10
        e, lo, hi = pooled["estimate"], pooled["ci_low"], pooled["ci_high"]
        plo, phi = pooled["prediction"]
        name = "Sammanvägt (RE)" if lang == "sv" else "Pooled (RE)"
        p.append(
            f'<g class="pooled"><text x="8" y="{y + 4}" font-size="12" font-weight="bold">'
            f"{name}</text>"
            f'<line x1="{sx(plo):.1f}" y1="{y}" x2="{sx(phi):.1f}" y2="{y}" stroke="#c2452d" '
            f'stroke-width="1.5" stroke-dasharray="5 3"><title>PI</title></line>'
            f'<polygon points="{sx(lo):.1f},{y} {sx(e):.1f},{y - 7} {sx(hi):.1f},{y} '
            f'{sx(e):.1f},{y + 7}" fill="#c2452d"><title>{escape(fmt_number(e))}</title>'
            f'</polygon><text x="{width - right + 8}" y="{y + 4}" font-size="11" '
            f'font-weight="bold">{escape(fmt_number(e))} [{escape(fmt_number(lo))}, '
            f"{escape(fmt_number(hi))}]</text></g>"
        )
    p.append("</svg>")
    return "".join(p)


def gap_map_svg(g: dict[str, Any], lang: str) -> str:
    """Kinds of change (rows) x outcome areas (columns), coloured by evidence status."""
    li = 0 if lang == "sv" else 1
    areas, kinds = g["areas"], g["kinds"]
    cw, ch, left, top = 120, 46, 260, 70
    w, h = left + cw * max(len(areas), 1) + 10, top + ch * len(kinds) + 60
    cell = {(c["kind"], c["area"]): c for c in g["cells"]}
    p = [f'<svg class="chart gap-map" xmlns="http://www.w3.org/2000/svg" role="img" '
         f'viewBox="0 0 {w} {h}" width="{w}" height="{h}"><title>'
         f'{"Evidenskarta" if li == 0 else "Evidence gap map"}</title>']  # fmt: skip
    for j, a in enumerate(areas):
        p.append(f'<text x="{left + cw * j + cw / 2}" y="{top - 10}" font-size="12" '
                 f'text-anchor="middle">{escape(a[:18])}</text>')  # fmt: skip
    for i, k in enumerate(kinds):
        y = top + ch * i
        p.append(f'<text x="8" y="{y + ch / 2 + 4}" font-size="12">'
                 f"{escape(CHANGE_KINDS[k][li][:38])}</text>")  # fmt: skip
        for j, a in enumerate(areas):
            c = cell[(k, a)]
            label = _STATUS[c["status"]][li]
            p.append(
                f'<a href="/evidence/what-works/{k}"><rect class="cell {c["status"]}" '
                f'data-status="{c["status"]}" x="{left + cw * j + 2}" y="{y + 2}" '
                f'width="{cw - 4}" height="{ch - 4}" rx="4" '
                f'fill="{STATUS_COLOURS[c["status"]]}"><title>{escape(a)}: {label}, '
                f"{c['n_pilots']} {'försök' if li == 0 else 'pilots'}</title></rect>"
                f'<text x="{left + cw * j + cw / 2}" y="{y + ch / 2 + 5}" font-size="14" '
                f'text-anchor="middle" fill="#111">{c["n_pilots"] or ""}</text></a>'
            )
    y = top + ch * len(kinds) + 25
    for n, (s, col) in enumerate(STATUS_COLOURS.items()):
        p.append(f'<rect x="{left + n * 170}" y="{y - 11}" width="14" height="14" '
                 f'fill="{col}"/><text x="{left + n * 170 + 20}" y="{y}" font-size="12">'
                 f"{_STATUS[s][li]}</text>")  # fmt: skip
    p.append("</svg>")
    return "".join(p)


def _any_demo(engine: Any) -> bool:
    """Whether any pilot result shown comes from demo pilots (the banner then shows)."""
    eff = evd.pilot_effects(engine)
    return bool(eff["is_demo"].any()) if len(eff) else False


def _ctx(request: Request, extra: dict[str, Any]) -> dict[str, Any]:
    lang = lang_of(request)
    return {"li": 0 if lang == "sv" else 1, "kinds": CHANGE_KINDS,
            "preconds": PRECONDITIONS, "status_names": _STATUS, **extra}  # fmt: skip


@router.get("/evidence", response_class=HTMLResponse)
def evidence_page(request: Request, engine: EngineDep) -> HTMLResponse:
    """The gap map and every outcome with pilot results."""
    lang = lang_of(request)
    g = evd.gap_map(engine)
    outs = evd.outcomes_across(engine)
    eff = evd.pilot_effects(engine)
    return render(request, "evidence/index.html", _ctx(request, {
        "gap": g, "gap_svg": gap_map_svg(g, lang), "outcomes": outs,
        "demo": bool(eff["is_demo"].any()) if len(eff) else False}))  # fmt: skip


@router.get("/evidence/meta", response_class=HTMLResponse)
def meta_page(
    request: Request, engine: EngineDep, indicator: str, kind: str | None = None
) -> HTMLResponse:
    """Meta-analysis of one outcome (one kind of change, or all kinds)."""
    m = evd.meta_for(engine, kind or None, indicator[:32])
    demo = _any_demo(engine)
    return render(request, "evidence/meta.html", _ctx(request, {
        "m": m, "forest": forest_svg(m, lang_of(request)), "demo": demo}))  # fmt: skip


@router.get("/evidence/what-works/{kind}", response_class=HTMLResponse)
def what_works_page(request: Request, engine: EngineDep, kind: str) -> HTMLResponse:
    """What works for one kind of change (public)."""
    lang = lang_of(request)
    w = evd.what_works(engine, kind[:40])
    forests = {m["indicator"]: forest_svg(m, lang) for m in w["pooled"]}
    return render(request, "evidence/what_works.html", _ctx(request, {
        "w": w, "forests": forests, "kind": kind, "demo": _any_demo(engine)}))  # fmt: skip
