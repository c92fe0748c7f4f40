"""Pilot results (followed pilots), publishing an evaluation, and the report (sv/en).

Routes
------
``GET  /pilots/<code>/results``          job progress, current estimates, plots, diagnostics,
                                          whether each outcome was pre-registered, and how the
                                          estimates moved over successive data releases
``POST /pilots/<code>/results/run``      queue a re-run (organisation, researchers, admins)
``POST /pilots/<code>/evaluation``       publish (attached researcher or administrator)
``GET  /pilots/<code>/report``           the report page
``GET  /pilots/<code>/report.html``      self-contained download (inline CSS and SVG)
``GET  /pilots/<code>/report.pdf``       simple multi-page PDF (matplotlib)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tillit.domain import access
from tillit.domain.pilots import PRECONDITIONS
from tillit.services import evaluation as ev
from tillit.services import pilots as ps
from tillit.services import reports as rp
from tillit.web.charts import Band, Line, line_chart
from tillit.web.deps import ActorDep, EngineDep, lang_of
from tillit.web.pages.render import render, templates

__all__ = ["history_svg", "router", "series_svg"]

router = APIRouter(include_in_schema=False)
_CSS = Path(__file__).resolve().parents[1] / "static" / "tillit.css"


def series_svg(o: dict[str, Any], lang: str) -> str:
    """The outcome's event-study, synthetic-control or trial-arm chart (SVG)."""
    s = o.get("series")
    sv = lang == "sv"
    if not s:
        return ""
    title = f"{o['indicator']}: {o['title']}"
    if s["kind"] == "event_study":
        return line_chart(
            [Line("Effekt" if sv else "Effect", s["x"], s["estimate"], highlight=True)],
            band=Band("95 % KI" if sv else "95% CI", s["x"], s["ci_low"], s["ci_high"]),
            title=title,
            xlabel="År sedan start" if sv else "Years since start",
            ylabel=o.get("unit_of_measure") or "",
            desc=("Händelsestudie: effekt per år före och efter start"
                  if sv else "Event study: effect by year before and after the start"),
        )  # fmt: skip
    other = s.get("synthetic") or s.get("control") or []
    oname = (
        ("Syntetisk kontroll" if sv else "Synthetic control")
        if s["kind"] == "synth"
        else ("Kontrollgrupp" if sv else "Control arm")
    )
    return line_chart(
        [Line("Behandlade" if sv else "Treated", s["x"], s["treated"], highlight=True),
         Line(oname, s["x"], other, dashed=True)],
        title=title, xlabel="År" if sv else "Year",
        ylabel=o.get("unit_of_measure") or "",
        desc=f"{oname}; start {s.get('start', 0):.0f}",
    )  # fmt: skip


def history_svg(rows: list[dict[str, Any]], name: str, lang: str) -> str:
    """Estimate and CI per snapshot (successive data releases)."""
    sv = lang == "sv"
    xs = [float(r["n"]) for r in rows]
    return line_chart(
        [Line("Skattning" if sv else "Estimate", xs, [r["estimate"] for r in rows],
              highlight=True)],
        band=Band("95 % KI" if sv else "95% CI", xs, [r["ci_low"] for r in rows],
                  [r["ci_high"] for r in rows]),
        title=(f"{name}: skattningen över datasläpp" if sv
               else f"{name}: the estimate over data releases"),
        xlabel="Resultat nr" if sv else "Result no.", ylabel="",
        width=560, height=260,
    )  # fmt: skip


def _results_context(engine: Any, actor: Any, code: str, lang: str) -> dict[str, Any]:
    info = ps.pilot_versions(engine, actor, code)
    pilot = info["pilot"]
    job = ev.job_status(engine, code)
    if job and job["status"] in ("queued", "running"):
        ev.kick(engine)  # picks up jobs queued by a CLI import or a restart
    snap = ev.latest_snapshot(engine, code)
    outs = snap["result"]["outcomes"] if snap else []
    charts = {o["indicator"]: series_svg(o, lang) for o in outs}
    hist = {}
    for o in outs:
        rows = ev.history(engine, code, o["indicator"])
        if len(rows) >= 2:
            hist[o["indicator"]] = history_svg(rows, o["indicator"], lang)
    may_publish = access.may_publish(actor, {r["id"] for r in pilot.researchers})
    return {
        "pilot": pilot,
        "origins": {o["indicator"]: o for o in info["origins"]},
        "job": job,
        "snap": snap,
        "n_snapshots": len(ev.snapshots(engine, code)),
        "charts": charts,
        "hist": hist,
        "published": rp.get_evaluation(engine, code),
        "may_run": pilot.can_edit or may_publish,
        "may_publish": may_publish and pilot.status != "draft",
        "demo": pilot.is_demo,
    }


@router.get("/pilots/{code}/results", response_class=HTMLResponse)
def results_page(
    request: Request, engine: EngineDep, actor: ActorDep, code: str
) -> HTMLResponse:
    """Current estimates, plots, diagnostics and history of a followed pilot."""
    ctx = _results_context(engine, actor, code[:40], lang_of(request))
    return render(request, "evaluation/results.html", ctx)


@router.post("/pilots/{code}/results/run", response_model=None)
async def run_now(
    request: Request, engine: EngineDep, actor: ActorDep, code: str
) -> Response:
    """Queue a re-run of the pre-registered analysis and start the worker."""
    ev.enqueue(engine, code[:40], "manual", actor=actor)
    ev.kick(engine)
    return RedirectResponse(f"/pilots/{code}/results", status_code=303)


@router.post("/pilots/{code}/evaluation", response_model=None)
async def publish(
    request: Request, engine: EngineDep, actor: ActorDep, code: str
) -> Response:
    """Publish the evaluation (attached researcher or administrator)."""
    form = await request.form()
    rp.publish(engine, actor, code[:40], str(form.get("summary_sv", "")),
               str(form.get("summary_en", "")))  # fmt: skip
    return RedirectResponse(f"/pilots/{code}/report", status_code=303)


def _report_context(engine: Any, actor: Any, code: str, lang: str) -> dict[str, Any]:
    r = rp.report(engine, actor, code)
    outs = r["result"]["outcomes"]
    return {
        **r,
        "charts": {o["indicator"]: series_svg(o, lang) for o in outs},
        "preconds": PRECONDITIONS,
        "li": 0 if lang == "sv" else 1,
        "demo": r["pilot"].is_demo,
    }


@router.get("/pilots/{code}/report", response_class=HTMLResponse)
def report_page(
    request: Request, engine: EngineDep, actor: ActorDep, code: str
) -> HTMLResponse:
    """The published evaluation (``?lang=sv|en``)."""
    ctx = _report_context(engine, actor, code[:40], lang_of(request))
    return render(request, "evaluation/report.html", {**ctx, "standalone": False})


@router.get("/pilots/{code}/report.html", response_model=None)
def report_download(
    request: Request, engine: EngineDep, actor: ActorDep, code: str
) -> Response:
    """The report as one self-contained HTML file (no external assets)."""
    lang = lang_of(request)
    ctx = _report_context(engine, actor, code[:40], lang)
    tpl = templates.env.get_template("evaluation/standalone.html")
    html = tpl.render(**ctx, lang=lang, css=_CSS.read_text(encoding="utf-8"),
                      standalone=True)  # fmt: skip
    # inline SVG in HTML5 needs no namespace: the file then names no URL at all
    html = html.replace(' xmlns="http://www.w3.org/2000/svg"', "")
    return Response(
        html,
        media_type="text/html; charset=utf-8",
        headers={"content-disposition":
                 f'attachment; filename="{code[:40]}-report-{lang}.html"'},
    )  # fmt: skip


@router.get("/pilots/{code}/report.pdf", response_model=None)
def report_pdf(
    request: Request, engine: EngineDep, actor: ActorDep, code: str
) -> Response:
    """The report as a simple PDF."""
    lang = lang_of(request)
    data = rp.report_pdf(engine, actor, code[:40], lang)
    return Response(
        data,
        media_type="application/pdf",
        headers={"content-disposition":
                 f'attachment; filename="{code[:40]}-report-{lang}.pdf"'},
    )  # fmt: skip
