"""Read-only pages: home, indicators, one indicator ranked, follow-up, profiles."""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from tillit.core.followup import DIRECTIONS
from tillit.services import catalog
from tillit.services import followup as fu
from tillit.web.charts import Band, Line, dot_plot, line_chart, sparkline
from tillit.web.deps import ActorDep, EngineDep, LangDep
from tillit.web.i18n import translate
from tillit.web.pages.render import render
from tillit.web.params import (
    CodeQ,
    GenderQ,
    IndicatorPath,
    MuniPath,
    PeerListQ,
    PeersQ,
    TextQ,
    YearQ,
)

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = (
        df.astype(object).where(df.notna(), None).to_dict(orient="records")  # type: ignore[assignment]
    )
    return out


@router.get("/", response_class=HTMLResponse)
def home(request: Request, engine: EngineDep, actor: ActorDep) -> HTMLResponse:
    """What Tillit is, with links."""
    inds = fu.list_indicators(engine, actor, limit=10000)
    munis = fu.list_organisations(engine, kind="municipality", limit=10000)
    return render(
        request,
        "home.html",
        {
            "n_indicators": len(inds),
            "n_municipalities": len(munis),
            "demo": any(i["is_demo"] for i in inds),
            "example": next((i for i in inds), None),
        },
    )


@router.get("/indicators", response_class=HTMLResponse)
def indicators_page(
    request: Request,
    engine: EngineDep,
    actor: ActorDep,
    q: TextQ = "",
    area: TextQ = "",
) -> HTMLResponse:
    """Indicator list with search and area filter."""
    rows = fu.list_indicators(engine, actor, q=q, area=area)
    return render(
        request,
        "indicators.html",
        {
            "rows": rows,
            "areas": fu.areas(engine, actor),
            "q": q,
            "area": area,
            "demo": any(r["is_demo"] for r in rows),
        },
    )


@router.get("/indicators/{indicator_id}", response_class=HTMLResponse)
def indicator_page(
    request: Request,
    engine: EngineDep,
    actor: ActorDep,
    lang: LangDep,
    indicator_id: IndicatorPath,
    year: YearQ = None,
    highlight: CodeQ = "",
    gender: GenderQ = "T",
) -> HTMLResponse:
    """One indicator across all municipalities in one year: ranked table and plot."""
    ind, yr, table = fu.indicator_ranking(
        engine, actor, indicator_id, year=year, gender=gender
    )
    names = dict(zip(table["org"], table["name"], strict=True))
    hl = [names.get(highlight, highlight)] if highlight else []
    title = f"{ind['title']} ({yr})" if yr else ind["title"]
    chart = dot_plot(
        list(zip(table["name"].fillna(table["org"]), table["value"], strict=True)),
        highlight=hl,
        title=title,
        ylabel=ind["unit_of_measure"] or translate("value", lang),
        xlabel=translate("ranked_low_high", lang),
        median=float(table["value"].median()) if len(table) else None,
        desc=_ranking_text(table, ind, yr, names.get(highlight), lang),
    )
    return render(
        request,
        "indicator.html",
        {
            "ind": ind,
            "year": yr,
            "years": fu.indicator_years(engine, indicator_id),
            "rows": _records(table),
            "chart": chart,
            "highlight": highlight,
            "gender": gender,
            "munis": fu.list_organisations(engine, kind="municipality", limit=10000),
            "demo": ind["is_demo"],
        },
    )


@router.post("/indicators/{indicator_id}/direction", response_model=None)
def direction_form(
    request: Request,
    engine: EngineDep,
    actor: ActorDep,
    indicator_id: IndicatorPath,
    direction: Annotated[str, Form(max_length=10)],
    source: Annotated[str, Form(max_length=400)] = "",
) -> RedirectResponse:
    """An administrator records which way the indicator is better, with its source."""
    catalog.set_direction(engine, actor, indicator_id, direction, source)
    return RedirectResponse(f"/indicators/{indicator_id}", status_code=303)


def _ranking_text(
    table: pd.DataFrame,
    ind: dict[str, Any],
    year: int | None,
    name: str | None,
    lang: str,
) -> str:
    """Text alternative of the ranked dot plot."""
    if table.empty:
        return translate("no_data", lang)
    v = table["value"].dropna()
    text = (
        f"{ind['title']} {year}: {len(v)} "
        + ("kommuner, median" if lang == "sv" else "municipalities, median")
        + f" {v.median():.4g}, min {v.min():.4g}, max {v.max():.4g}."
    )
    if name:
        row = table[table["name"] == name]
        if not row.empty and pd.notna(row.iloc[0]["value"]):
            r = row.iloc[0]
            text += f" {name}: {r['value']:.4g} ({translate('rank', lang).lower()} {r['rank']:.0f})."
    return text


def _followup_chart(s: fu.Series, lang: str) -> str:
    t = s.followup.table
    years = [float(y) for y in t["year"]]
    name = s.organisation["name"]
    lines = [
        Line(
            translate("peer_median", lang),
            years,
            list(t["median"]),
            dashed=True,
            color="#3b3b3b",
        ),
        Line(name, years, list(t["value"]), highlight=True),
    ]
    band = Band(translate("peer_iqr", lang), years, list(t["q1"]), list(t["q3"]))
    unit = s.indicator["unit_of_measure"] or translate("value", lang)
    lat = s.followup.latest
    desc = (
        (
            f"{name}: {s.indicator['title']}, {int(t['year'].min())}–{int(t['year'].max())}. "
            + (
                f"{lat['year']}: {lat['value']:.4g}, {translate('rank', lang).lower()} "
                f"{lat['rank']:.0f}/{lat['n']}, {s.followup.label(lang)}."
                if lat
                else translate("no_data", lang)
            )
        )
        if len(t)
        else translate("no_data", lang)
    )
    return line_chart(
        lines,
        band=band,
        title=f"{s.indicator['title']} – {name}",
        xlabel=translate("year", lang),
        ylabel=unit,
        desc=desc,
    )


def _gender_chart(s: fu.Series, lang: str) -> str:
    g = s.genders
    years = [float(y) for y in g["year"]]
    return line_chart(
        [
            Line(translate("gender_K", lang), years, list(g["K"]), color="#7a4fa3"),
            Line(translate("gender_M", lang), years, list(g["M"]), color="#2c8a4b"),
            Line(
                translate("gender_T", lang),
                years,
                list(g["T"]),
                dashed=True,
                color="#3b3b3b",
            ),
        ],
        title=f"{s.indicator['title']} – {s.organisation['name']}: "
        + translate("gender_split", lang),
        xlabel=translate("year", lang),
        ylabel=s.indicator["unit_of_measure"] or translate("value", lang),
        height=300,
    )


@router.get("/followup/{indicator_id}/{code}", response_class=HTMLResponse)
def followup_page(
    request: Request,
    engine: EngineDep,
    actor: ActorDep,
    lang: LangDep,
    indicator_id: IndicatorPath,
    code: MuniPath,
    peers: PeersQ = "all",
    peer: PeerListQ = None,
    gender: GenderQ = "T",
) -> HTMLResponse:
    """A municipality's series on one indicator against a chosen peer set."""
    s = fu.series(
        engine, actor, indicator_id, code, peers=peers, custom=peer, gender=gender
    )
    t = s.followup.table
    return render(
        request,
        "followup.html",
        {
            "s": s,
            "ind": s.indicator,
            "org": s.organisation,
            "rows": _records(t.sort_values("year", ascending=False)),
            "chart": _followup_chart(s, lang),
            "gender_chart": _gender_chart(s, lang) if len(s.genders) else "",
            "gender_rows": _records(s.genders.sort_values("year", ascending=False)),
            "trend": s.followup.trend,
            "trend_words": s.followup.trend.words(lang),
            "label": s.followup.label(lang),
            "latest": s.followup.latest,
            "peer_sets": fu.peer_sets_for(engine, code),
            "peers": peers,
            "custom": set(peer or []),
            "gender": gender,
            "munis": fu.list_organisations(
                engine, kind=s.organisation["kind"], limit=10000
            ),
            "demo": bool(s.indicator["is_demo"] or s.organisation["is_demo"]),
        },
    )


@router.get("/municipalities", response_class=HTMLResponse)
def municipalities_page(
    request: Request, engine: EngineDep, q: TextQ = ""
) -> HTMLResponse:
    """Municipalities (and regions) to open a profile."""
    rows = fu.list_organisations(engine, kind="municipality", q=q, limit=10000)
    regions = fu.list_organisations(engine, kind="region", q=q, limit=10000)
    return render(
        request,
        "municipalities.html",
        {
            "rows": rows,
            "regions": regions,
            "q": q,
            "demo": any(r["is_demo"] for r in rows),
        },
    )


@router.get("/municipalities/{code}", response_class=HTMLResponse)
def profile_page(
    request: Request,
    engine: EngineDep,
    actor: ActorDep,
    lang: LangDep,
    code: MuniPath,
    peers: PeersQ = "all",
) -> HTMLResponse:
    """All indicators of a municipality with latest value, trend and position."""
    org, peer_set, table = fu.profile(engine, actor, code, peers=peers, lang=lang)
    rows = _records(table)
    for r in rows:
        r["sparkline"] = sparkline(
            [v for _y, v in (r["spark"] or [])], label=f"{r['title']}"
        )
        r["direction_words"] = (
            DIRECTIONS[r["direction"]][1 if lang == "en" else 0]
            if r["direction"]
            else ""
        )
    return render(
        request,
        "profile.html",
        {
            "org": org,
            "peer_set": peer_set,
            "peer_sets": fu.peer_sets_for(engine, code),
            "peers": peers,
            "rows": rows,
            "demo": bool(org["is_demo"] or any(r["is_demo"] for r in rows)),
        },
    )
