"""Trust barometer pages: rounds, managing a round, results, and answering by link.

Every number on these pages (tables, chart tooltips, CSV) comes from
:mod:`tillit.services.surveys`, which applies the disclosure control; the templates
never see respondent-level data. Free-text answers are fetched only for managers.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tillit.core.errors import Conflict, DataError, TillitError
from tillit.services import survey_results as sr
from tillit.services import surveys as sv
from tillit.web.charts import Line, line_chart
from tillit.web.deps import ActorDep, EngineDep, lang_of
from tillit.web.pages.render import render

__all__ = ["SURVEY_TEXTS", "router"]

router = APIRouter(include_in_schema=False)

SURVEY_TEXTS: dict[str, tuple[str, str]] = {
    "surveys": ("Tillitsbarometern", "Trust barometer"),
    "round": ("Enkätomgång", "Survey round"),
    "period": ("Period", "Period"),
    "audience": ("Målgrupp", "Audience"),
    "staff": ("Medarbetare", "Staff"),
    "citizen": ("Invånare", "Citizens"),
    "status": ("Status", "Status"),
    "open": ("Pågår", "Open"),
    "closed": ("Avslutad", "Closed"),
    "responses": ("Svar", "Responses"),
    "new_round": ("Ny enkätomgång", "New survey round"),
    "extra": (
        "Egna frågor (en per rad: id | likert/number/text | skala | svensk text | engelsk text)",
        "Own questions (one per line: id | likert/number/text | scale | Swedish | English)",
    ),
    "create": ("Skapa", "Create"),
    "links": ("Svarslänkar (engångs)", "Answer links (single use)"),
    "n_links": ("Antal länkar", "Number of links"),
    "unit": ("Enhet", "Unit"),
    "staff_group": ("Personalgrupp", "Staff group"),
    "make_links": ("Skapa länkar", "Make links"),
    "links_once": (
        "Länkarna visas bara nu: spara och dela ut dem. Vi lagrar bara en kontrollsumma.",
        "The links are shown only now: save and hand them out. Only a hash is stored.",
    ),
    "import": ("Importera svar (CSV)", "Import answers (CSV)"),
    "close": ("Avsluta och publicera resultat", "Close and publish results"),
    "threshold": ("Minsta gruppstorlek (k)", "Minimum group size (k)"),
    "save": ("Spara", "Save"),
    "results": ("Resultat", "Results"),
    "scale": ("Index", "Index"),
    "mean": ("Medel", "Mean"),
    "ci": ("95 % konfidensintervall", "95% confidence interval"),
    "n": ("Antal", "n"),
    "suppressed": ("visas inte", "not shown"),
    "by_unit": ("Per enhet", "By unit"),
    "by_group": ("Per personalgrupp", "By staff group"),
    "total": ("Hela organisationen", "Whole organisation"),
    "query": ("Eget urval", "Custom selection"),
    "run": ("Visa", "Show"),
    "over_time": ("Över tid och mot andra", "Over time and against peers"),
    "peers": ("Andra organisationer (medel)", "Other organisations (mean)"),
    "pilots": (
        "Försök: ändrades tilliten där försöket pågick?",
        "Pilots: did trust change where the pilot ran?",
    ),
    "burden": (
        "Dokumentationstid mot regelbördan",
        "Documentation time against the burden ledger",
    ),
    "ledger": ("Ledgerns skattning (timmar/vecka)", "Ledger estimate (hours/week)"),
    "free": ("Fritextsvar", "Free-text answers"),
    "csv": ("Ladda ner (CSV)", "Download (CSV)"),
    "answer": ("Svara", "Answer"),
    "send": ("Skicka svar", "Send answers"),
    "thanks": ("Tack för dina svar!", "Thank you for your answers!"),
    "erase": ("Radera mina svar", "Erase my answers"),
    "erased": ("Dina svar är raderade.", "Your answers have been erased."),
    "used": ("Den här länken har redan använts.", "This link has already been used."),
    "privacy": (
        "Vi sparar inte din IP-adress, webbläsare, e-post eller tid tillsammans med svaren. "
        "Resultat visas bara för grupper med minst {k} svarande. Med länken kan du radera dina svar.",
        "We do not store your IP address, browser, e-mail or time with the answers. Results are "
        "shown only for groups of at least {k} respondents. With this link you can erase your answers.",
    ),
}


def _s(lang: str) -> Any:
    return lambda key: SURVEY_TEXTS.get(key, (key, key))[0 if lang == "sv" else 1]


def _ctx(request: Request, extra: dict[str, Any]) -> dict[str, Any]:
    lang = lang_of(request)
    return {"s": _s(lang), "li": 0 if lang == "sv" else 1, **extra}


def _records(t: pd.DataFrame) -> list[dict[str, Any]]:
    if t is None or not len(t):
        return []
    return [
        {str(k): (None if pd.isna(v) else v) for k, v in r.items()}
        for r in t.to_dict(orient="records")
    ]


def _scale_names(rnd: sv.Round, li: int) -> dict[str, str]:
    names = {s.id: (s.sv, s.en)[li] for s in rnd.instrument.scales}
    for q in rnd.instrument.questions:
        if q.kind == "number":
            names[q.id] = (q.sv, q.en)[li]
    return names


@router.get("/surveys", response_class=HTMLResponse)
def surveys_page(request: Request, engine: EngineDep, actor: ActorDep) -> HTMLResponse:
    """All survey rounds; members and administrators can start a new one."""
    rounds = sv.list_rounds(engine, actor)
    return render(
        request,
        "surveys/list.html",
        _ctx(request, {"rounds": rounds, "demo": any(r.is_demo for r in rounds)}),
    )


@router.post("/surveys/new", response_model=None)
async def new_round(request: Request, engine: EngineDep, actor: ActorDep) -> Response:
    """Create a round for the member's organisation (administrators: any)."""
    form = await request.form()
    org = str(form.get("organisation", "")).strip()
    code = sv.create_round(
        engine,
        actor,
        org,
        str(form.get("period", "")),
        str(form.get("audience", "staff")),
        title=str(form.get("title", "")),
        extra_questions=str(form.get("extra", "")),
    )
    return RedirectResponse(f"/surveys/{code}", status_code=303)


def _results_context(
    engine: Any, actor: Any, rnd: sv.Round, request: Request, li: int
) -> dict[str, Any]:
    res = sr.results(engine, actor, rnd.code)
    names = _scale_names(rnd, li)
    scales = list(names)
    scale = request.query_params.get("scale", scales[0] if scales else "")
    scale = scale if scale in names else (scales[0] if scales else "")
    tr = sr.trend(engine, actor, rnd.code)
    chart = ""
    if len(tr["own"]):
        own = tr["own"][tr["own"]["scale"] == scale].sort_values("period")
        peers = tr["peers"][tr["peers"]["scale"] == scale].sort_values("period")
        lines = [
            Line(
                rnd.organisation_name,
                [float(p[:4]) for p in own["period"]],
                [None if pd.isna(v) else float(v) for v in own["mean"]],
                highlight=True,
            )
        ]
        if len(peers):
            lines.append(
                Line(
                    SURVEY_TEXTS["peers"][li],
                    [float(p[:4]) for p in peers["period"]],
                    [float(v) for v in peers["mean"]],
                    dashed=True,
                )
            )
        chart = line_chart(
            lines,
            title=names.get(scale, scale),
            xlabel=SURVEY_TEXTS["period"][li],
            ylabel=SURVEY_TEXTS["mean"][li],
        )
    ledger_text = request.query_params.get("ledger", "").replace(",", ".").strip()[:12]
    try:
        ledger = float(ledger_text) if ledger_text else None
    except ValueError:
        ledger = None
    source = None
    if ledger is None:
        source = sr.ledger_estimate(engine, actor, rnd.organisation_code)
        if source is not None:
            ledger = round(source["hours_per_week"], 2)
            ledger_text = f"{ledger:g}"
    free = sr.free_texts(engine, actor, rnd.code) if rnd.can_manage else None
    pc = sr.pilot_change(engine, actor, rnd.code)
    return {
        "names": names,
        "scale": scale,
        "total": _records(res["total"]),
        "by_unit": _records(res["unit"]),
        "by_group": _records(res["staff_group"]),
        "unit_names": res["unit_names"],
        "chart": chart,
        "burden": sr.burden(res["total"], ledger),
        "ledger": ledger_text,
        "ledger_source": source,
        "free": free,
        "pilots": [{**p, "rows": _records(p["table"])} for p in pc["pilots"]],
    }


@router.get("/surveys/{code}", response_class=HTMLResponse)
def round_page(
    request: Request, engine: EngineDep, actor: ActorDep, code: str
) -> HTMLResponse:
    """A round: management for its organisation; released results once closed."""
    rnd = sv.get_round(engine, actor, code[:40])
    li = 0 if lang_of(request) == "sv" else 1
    ctx: dict[str, Any] = {"rnd": rnd, "demo": rnd.is_demo, "query_table": None}
    if rnd.status == "closed":
        ctx |= _results_context(engine, actor, rnd, request, li)
        unit = request.query_params.get("q_unit", "").strip()[:40]
        group = request.query_params.get("q_group", "").strip()[:60]
        if unit or group:
            try:
                q = sr.query(engine, actor, rnd.code, unit=unit, staff_group=group)
                ctx["query_table"] = _records(q["table"])
            except TillitError as err:
                ctx["query_error"] = err
        ctx["q_unit"], ctx["q_group"] = unit, group
    return render(request, "surveys/round.html", _ctx(request, ctx))


async def _manage(request: Request, engine: Any, actor: Any, code: str) -> Any:
    form = await request.form()
    rnd = sv.get_round(engine, actor, code[:40])
    return form, rnd


@router.post("/surveys/{code}/links", response_class=HTMLResponse)
async def make_links(
    request: Request, engine: EngineDep, actor: ActorDep, code: str
) -> HTMLResponse:
    """Make single-use links and show them once."""
    form, rnd = await _manage(request, engine, actor, code)
    text = str(form.get("n", "")).strip()
    if not text.isdigit():
        raise DataError("the number of links is a whole number", field="n")
    codes = sv.issue_links(
        engine,
        actor,
        rnd.code,
        int(text),
        unit_code=str(form.get("unit", "")).strip() or None,
        staff_group=str(form.get("staff_group", "")),
    )
    base = str(request.base_url).rstrip("/")
    return render(
        request,
        "surveys/links.html",
        _ctx(request, {"rnd": rnd, "urls": [f"{base}/s/{c}" for c in codes]}),
    )


@router.post("/surveys/{code}/import", response_model=None)
async def import_answers(
    request: Request, engine: EngineDep, actor: ActorDep, code: str
) -> Response:
    """Import a CSV export of another survey tool (all rows or none)."""
    form, rnd = await _manage(request, engine, actor, code)
    try:
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise DataError("choose a CSV file", field="file")
        data = await upload.read()
        name = upload.filename or ""
    finally:
        await form.close()
    n = sv.import_csv(engine, actor, rnd.code, data, name)
    return RedirectResponse(f"/surveys/{rnd.code}?imported={n}", status_code=303)


@router.post("/surveys/{code}/close", response_model=None)
async def close(
    request: Request, engine: EngineDep, actor: ActorDep, code: str
) -> Response:
    """Close the round and publish its results."""
    _form, rnd = await _manage(request, engine, actor, code)
    sv.close_round(engine, actor, rnd.code)
    return RedirectResponse(f"/surveys/{rnd.code}", status_code=303)


@router.post("/surveys/{code}/threshold", response_model=None)
async def threshold(
    request: Request, engine: EngineDep, actor: ActorDep, code: str
) -> Response:
    """Set the disclosure threshold (administrators; never below 5)."""
    form, rnd = await _manage(request, engine, actor, code)
    text = str(form.get("k", "")).strip()
    if not text.isdigit():
        raise DataError("the threshold is a whole number", field="k")
    sv.set_threshold(engine, actor, rnd.code, int(text))
    return RedirectResponse(f"/surveys/{rnd.code}", status_code=303)


@router.get("/surveys/{code}/results.csv", response_model=None)
def results_csv(engine: EngineDep, actor: ActorDep, code: str) -> Response:
    """The released results as CSV (suppressed cells empty)."""
    res = sr.results(engine, actor, code[:40])
    return Response(
        sr.results_csv(res),
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="{res["round"].code}.csv"'
        },
    )


def _answer_page(
    request: Request, link: str, info: dict[str, Any], status: int = 200, **extra: Any
) -> HTMLResponse:
    rnd = info["round"]
    return render(
        request,
        "surveys/answer.html",
        _ctx(
            request,
            {
                "rnd": rnd,
                "state": info["state"],
                "link": link,
                "demo": rnd.is_demo,
                **extra,
            },
        ),
        status=status,
    )


@router.get("/s/{link}", response_class=HTMLResponse)
def answer_form(request: Request, engine: EngineDep, link: str) -> HTMLResponse:
    """The answer form of a single-use link (no account needed)."""
    link = link[:64]
    return _answer_page(request, link, sv.link_info(engine, link))


@router.post("/s/{link}", response_class=HTMLResponse)
async def answer_submit(request: Request, engine: EngineDep, link: str) -> HTMLResponse:
    """Store the answers; the link is then used (it can still erase them)."""
    link = link[:64]
    form = await request.form()
    raw = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    try:
        sv.submit_answers(engine, link, raw)
    except (DataError, Conflict) as err:
        info = sv.link_info(engine, link)
        return _answer_page(request, link, info, error=err, v=raw, status=err.status)
    return _answer_page(request, link, sv.link_info(engine, link), done=True)


@router.post("/s/{link}/erase", response_class=HTMLResponse)
async def answer_erase(request: Request, engine: EngineDep, link: str) -> HTMLResponse:
    """Erase the answers given through this link."""
    link = link[:64]
    sv.erase_answers(engine, link)
    return _answer_page(request, link, sv.link_info(engine, link), erased=True)
