"""Burden ledger and signal-audit pages (issue 6).

``/burden`` lists inventories (signed-in users) and takes uploads of the documented
template; ``/burden/{id}`` shows the ledger with bar charts and edit forms;
``/burden/compare`` the change between two inventories; ``/audit`` runs the signal audit
on the indicator panel (public indicators for everyone, ledger hours for those who may
read the inventory) with CSV and self-contained HTML exports.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from tillit.core.audit import STORED_COLUMNS, template_csv
from tillit.core.errors import DataError, PermissionDenied
from tillit.domain import access
from tillit.domain.records import Actor
from tillit.services import audit as au
from tillit.web.charts.audit import bar_chart, figures
from tillit.web.deps import ActorDep, EngineDep, lang_of
from tillit.web.pages.render import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

TEMPLATE_CSV = template_csv()
_FIELDS = (*STORED_COLUMNS, "indicator_ids")


def _charts(view: dict[str, Any], lang: str) -> dict[str, str]:
    sv = lang == "sv"
    h = "timmar/år" if sv else "hours/year"
    out = {
        "largest": bar_chart(
            [(f"{r['requirement_id']} {r['title']}", r["hours_per_year"]) for r in view["largest"]],
            title="Största bördorna" if sv else "Largest burdens", unit=h,
        ),
    }  # fmt: skip
    names = {
        "demanded_by": (
            "Timmar per år efter vem som kräver",
            "Hours per year by who demands it",
        ),
        "staff_group": (
            "Timmar per år per personalgrupp",
            "Hours per year by staff group",
        ),
        "unit": ("Timmar per år per enhet", "Hours per year by unit"),
    }
    for key, (t_sv, t_en) in names.items():
        out[key] = bar_chart(
            [(r[key], r["hours_per_year"]) for r in view["by"][key]],
            title=t_sv if sv else t_en, unit=h,
        )  # fmt: skip
    if view.get("per_employee"):
        out["per_employee"] = bar_chart(
            [(r["staff_group"], r["hours_per_employee"]) for r in view["per_employee"]],
            title="Timmar per anställd" if sv else "Hours per employee",
            unit="h/anställd" if sv else "h/employee",
        )  # fmt: skip
    return out


@router.get("/burden", response_class=HTMLResponse)
def burden_page(request: Request, engine: EngineDep, actor: ActorDep) -> HTMLResponse:
    """The inventories the actor may read, with the import form."""
    if access.is_public(actor):
        raise PermissionDenied("sign in to see burden inventories")
    invs = au.list_inventories(engine, actor)
    return render(
        request,
        "audit/burden.html",
        {"inventories": invs, "demo": any(i.is_demo for i in invs)},
    )


@router.get("/burden/template.csv")
def template_download() -> Response:
    """The documented template (two example rows)."""
    return Response(
        TEMPLATE_CSV,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="burden_template.csv"'},
    )


def _org_for(actor: Actor, form_org: str, engine: Any) -> str:
    if access.is_admin(actor):
        return form_org
    if not access.is_member(actor) or actor.organisation_id is None:
        raise PermissionDenied("only members and administrators import inventories")
    return form_org.strip() or au.own_organisation_code(engine, actor)


@router.post("/burden/import", response_model=None)
async def import_page(request: Request, engine: EngineDep, actor: ActorDep) -> Response:
    """Create an inventory from an uploaded template (or empty, to fill in by form)."""
    form = await request.form()
    try:
        org = _org_for(actor, str(form.get("organisation", "")), engine)
        upload = form.get("file")
        data, name = None, "form"
        if isinstance(upload, UploadFile):
            data = await upload.read() or None
            name = upload.filename or "upload.csv"
    finally:
        await form.close()
    inv = au.import_inventory(
        engine, actor, org, str(form.get("label", "")), str(form.get("date", "")),
        data, name,
    )  # fmt: skip
    return RedirectResponse(f"/burden/{inv.id}", status_code=303)


@router.get("/burden/compare", response_class=HTMLResponse)
def compare_page(
    request: Request, engine: EngineDep, actor: ActorDep, old: int, new: int
) -> HTMLResponse:
    """The change between two inventories."""
    a, b, change = au.compare_inventories(engine, actor, old, new)
    rows = change.tidy().to_dict(orient="records")
    return render(
        request,
        "audit/compare.html",
        {
            "old": a,
            "new": b,
            "change": change,
            "rows": rows,
            "demo": a.is_demo or b.is_demo,
        },
    )


@router.get("/burden/{inventory_id}", response_class=HTMLResponse)
def inventory_page(
    request: Request, engine: EngineDep, actor: ActorDep, inventory_id: int
) -> HTMLResponse:
    """The ledger of one inventory: totals, charts, requirements, edit forms."""
    view = au.ledger_view(engine, actor, inventory_id)
    charts = {} if view["empty"] else _charts(view, lang_of(request))
    others = [
        i
        for i in au.list_inventories(engine, actor)
        if i.organisation_id == view["inventory"].organisation_id
        and i.id != inventory_id
    ]
    return render(
        request,
        "audit/inventory.html",
        {**view, "charts": charts, "others": others, "demo": view["inventory"].is_demo},
    )


@router.post("/burden/{inventory_id}/requirement", response_model=None)
async def save_requirement_page(
    request: Request, engine: EngineDep, actor: ActorDep, inventory_id: int
) -> Response:
    """Add or replace one requirement from the form."""
    form = await request.form()
    pk_text = str(form.get("pk", "")).strip()
    if pk_text and not pk_text.isdigit():
        raise DataError("bad requirement reference", field="pk")
    fields = {k: str(form.get(k, "")) for k in _FIELDS}
    au.save_requirement(
        engine, actor, inventory_id, fields, int(pk_text) if pk_text else None
    )
    return RedirectResponse(f"/burden/{inventory_id}", status_code=303)


@router.post("/burden/{inventory_id}/requirement/{pk}/delete", response_model=None)
async def delete_requirement_page(
    request: Request, engine: EngineDep, actor: ActorDep, inventory_id: int, pk: int
) -> Response:
    """Remove one requirement."""
    au.delete_requirement(engine, actor, inventory_id, pk)
    return RedirectResponse(f"/burden/{inventory_id}", status_code=303)


@router.post("/burden/{inventory_id}/staff", response_model=None)
async def staff_page(
    request: Request, engine: EngineDep, actor: ActorDep, inventory_id: int
) -> Response:
    """Replace the staff table (``staff_group,employees[,unit]``)."""
    form = await request.form()
    au.set_staff(engine, actor, inventory_id, str(form.get("staff", "")))
    return RedirectResponse(f"/burden/{inventory_id}", status_code=303)


def _float(request: Request, name: str, default: float) -> float:
    text = request.query_params.get(name, "").replace(",", ".").strip()
    if not text:
        return default
    try:
        return float(text)
    except ValueError as exc:
        raise DataError(f"{name} must be a number (got {text!r})", field=name) from exc


def _audit_args(request: Request) -> dict[str, Any]:
    q = request.query_params
    inv = q.get("inventory", "").strip()
    if inv and not inv.isdigit():
        raise DataError("bad inventory id", field="inventory")
    targets = [t for t in q.getlist("target") for t in t.splitlines()]
    return {
        "indicators_": [i for i in q.getlist("indicator") if i],
        "area": q.get("area") or None,
        "criteria": [c for c in q.getlist("criterion") if c],
        "targets": targets,
        "inventory_id": int(inv) if inv else None,
        "threshold": _float(request, "threshold", 0.8),
        "min_icc": _float(request, "min_icc", 0.2),
        "min_unique": _float(request, "min_unique", 0.2),
    }


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, engine: EngineDep, actor: ActorDep) -> HTMLResponse:
    """The audit form; with ``run=1`` the report (plots, ranked table, what to add)."""
    areas = au.indicator_areas(engine, actor)
    invs = au.list_inventories(engine, actor)
    ctx: dict[str, Any] = {"areas": areas, "inventories": invs, "report": None}
    if request.query_params.get("run"):
        args = _audit_args(request)
        rep = au.run_audit(engine, actor, **args)
        ctx.update(report=rep.document, cached=rep.cached, seconds=rep.seconds,
                   args=args, export=request.url.query)  # fmt: skip
        ctx["figs"] = figures(rep.document, lang_of(request))
        ctx["demo"] = bool(rep.document.get("is_demo"))
    return render(request, "audit/report.html", ctx)


@router.get("/audit/report.csv")
def audit_csv(request: Request, engine: EngineDep, actor: ActorDep) -> Response:
    """One row per indicator: rank, action, score, hours, information, flags, evidence."""
    rep = au.run_audit(engine, actor, **_audit_args(request))
    return Response(
        rep.csv,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="tillit-audit.csv"'},
    )


@router.get("/audit/report.html")
def audit_html(request: Request, engine: EngineDep, actor: ActorDep) -> Response:
    """The self-contained HTML report (inline SVG, no scripts or external links)."""
    rep = au.run_audit(engine, actor, **_audit_args(request))
    return Response(
        au.report_html(rep.document, figures(rep.document)),
        media_type="text/html; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="tillit-audit.html"'},
    )
