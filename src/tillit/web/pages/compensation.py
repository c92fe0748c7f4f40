"""Compensation-model pages (#15): describe, simulate and compare models; the register.

``/compensation`` describes up to six models in a form (or a YAML/JSON spec), picks a
population (the demo, a municipality's Kolada indicators, or a recipients CSV) and
simulates them; signed-in users' runs are saved at ``/compensation/runs/{id}`` and can
become a pilot draft or a burden requirement.  ``/compensation/register`` shows the
register of municipalities' models with its descriptive comparison and takes CSV
imports.  The municipality profile includes ``compensation/_profile.html`` through the
template global :func:`profile_block` registered here.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from tillit.core.compensation import BASES, GOAL_INDICATORS, TRAVEL_MODES
from tillit.core.errors import DataError, NotFound, TillitError
from tillit.domain import access
from tillit.domain.compensation import Spec, parse_spec
from tillit.domain.geography import municipalities
from tillit.services import compensation as cs
from tillit.services.demo.compensation import demo_spec
from tillit.sources.compensation import parse_spec_text, read_recipients
from tillit.web.deps import (
    ActorDep,
    EngineDep,
    current_actor,
    engine_of,
    lang_of,
)
from tillit.web.pages import compensation_view as view
from tillit.web.pages.render import render, templates

__all__ = ["FORM_SLOTS", "profile_block", "router", "spec_from_form"]

router = APIRouter(include_in_schema=False)
FORM_SLOTS = 6
WEB_MAX_DRAWS = 2000
WEB_WORK = 60_000_000  # recipients x draws x models per request
_RATES = ("day_personal", "day_service", "evening", "night")
_NUMS = ("visit_rate", "capitation", "budget", "fixed_monthly", "travel_rate", "min_minutes",
         "rounding_minutes", "cancel_paid_pct", "goal_target", "goal_bonus_pct", "goal_penalty_pct",
         "reg_visit", "reg_month", "reg_purchaser")  # fmt: skip


def _num(raw: str, path: str) -> float | None:
    text = (
        raw.strip()
        .replace("\u202f", "")
        .replace(" ", "")
        .replace(",", ".")
        .replace("−", "-")
    )
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise DataError(f"{raw!r} is not a number", field=path) from None


def _levels(raw: str, path: str) -> list[dict[str, float]]:
    out = []
    for part in [p for p in raw.replace("\n", ";").split(";") if p.strip()]:
        hours, sep, amount = part.partition(":")
        if not sep:
            raise DataError(
                "write levels as hours:amount; hours:amount (e.g. 0:2800; 10:8000)",
                field=path,
            )
        h, a = _num(hours, path), _num(amount, path)
        out.append(
            {
                "min_hours": h if h is not None else 0.0,
                "amount": a if a is not None else 0.0,
            }
        )
    return out


def _model_from_form(f: dict[str, str], k: int) -> dict[str, Any]:
    p = f"models[{k}]"
    m: dict[str, Any] = {"name": f.get("name", ""), "basis": f.get("basis", "")}
    rates = {
        r: v for r in _RATES if (v := _num(f.get(r, ""), f"{p}.rates.{r}")) is not None
    }
    if rates or m["basis"] in (
        "granted_time",
        "performed_time_electronic",
        "performed_time_self_reported",
    ):
        m["rates"] = rates
    n = {key: _num(f.get(key, ""), f"{p}.{key}") for key in _NUMS}
    for key in ("visit_rate", "capitation", "budget", "fixed_monthly"):
        if n[key] is not None:
            m[key] = n[key]
    if f.get("levels", "").strip():
        m["levels"] = _levels(f["levels"], f"{p}.levels")
    mode = f.get("travel_mode", "included") or "included"
    m["travel"] = {
        "mode": mode,
        **({"rate": n["travel_rate"]} if n["travel_rate"] is not None else {}),
    }
    m["visits"] = {"min_minutes": n["min_minutes"] or 0.0, "rounding_minutes": n["rounding_minutes"] or 0.0,
                   "cap_at_granted": f.get("cap_at_granted") == "1"}  # fmt: skip
    if n["cancel_paid_pct"] is not None:
        m["cancellation"] = {"paid_share": n["cancel_paid_pct"] / 100.0}
    ind = f.get("goal_indicator", "")
    if ind:
        target = n["goal_target"]
        goal: dict[str, Any] = {"indicator": ind}
        if target is not None:
            goal["target"] = target / 100.0 if ind == "delivered_share" else target
        goal["bonus_share"] = (n["goal_bonus_pct"] or 0.0) / 100.0
        goal["penalty_share"] = (n["goal_penalty_pct"] or 0.0) / 100.0
        m["goals"] = [goal]
    reg = {"minutes_per_visit": n["reg_visit"], "minutes_per_recipient_month": n["reg_month"],
           "purchaser_minutes_per_recipient_month": n["reg_purchaser"]}  # fmt: skip
    m["registration"] = {k2: v for k2, v in reg.items() if v is not None}
    return m


def spec_from_form(form: dict[str, str]) -> tuple[Spec, list[int]]:
    """The spec described by the form's model slots (or its spec text), and each
    model's slot.  Errors name the field's path (``models[1].rates.night``)."""
    text = form.get("spec_text", "").strip()
    if text:
        return parse_spec_text(text, filename="spec"), []
    models: list[dict[str, Any]] = []
    slots: list[int] = []
    for i in range(FORM_SLOTS):
        f = {k[len(f"m{i}_") :]: v for k, v in form.items() if k.startswith(f"m{i}_")}
        if not f.get("basis"):
            continue
        models.append(_model_from_form(f, len(models)))
        slots.append(i)
    return parse_spec(
        {"version": 1, "title": form.get("title", ""), "models": models}
    ), slots


def _form_defaults() -> dict[str, str]:
    """The form pre-filled with the first models of the demo spec."""
    out: dict[str, str] = {
        "title": "",
        "population": "demo",
        "draws": "300",
        "seed": "0",
    }
    for i, m in enumerate(demo_spec()["models"][:4]):
        for k in ("name", "basis"):
            out[f"m{i}_{k}"] = str(m[k])
        for r, v in (m.get("rates") or {}).items():
            out[f"m{i}_{r}"] = str(v)
        for k in ("visit_rate", "capitation", "budget"):
            if k in m:
                out[f"m{i}_{k}"] = str(m[k])
        vis = m.get("visits", {})
        out[f"m{i}_min_minutes"] = str(vis.get("min_minutes", 0))
        out[f"m{i}_rounding_minutes"] = str(vis.get("rounding_minutes", 0))
        out[f"m{i}_cap_at_granted"] = "1" if vis.get("cap_at_granted", True) else ""
        share = (m.get("cancellation") or {}).get("paid_share")
        out[f"m{i}_cancel_paid_pct"] = "" if share is None else str(round(100 * share))
        reg = m.get("registration") or {}
        if "minutes_per_visit" in reg:
            out[f"m{i}_reg_visit"] = str(reg["minutes_per_visit"])
    return out


def _choices() -> dict[str, Any]:
    munis = municipalities()
    return {"bases": BASES, "basis_labels": view.BASIS_LABELS, "travel_modes": TRAVEL_MODES, "goal_indicators": GOAL_INDICATORS,
            "slots": range(FORM_SLOTS), "municipalities": list(zip(munis["code"], munis["name"], strict=True))}  # fmt: skip


def _page(
    request: Request,
    form: dict[str, str],
    *,
    error: TillitError | None = None,
    slots: list[int] | None = None,
    run: dict[str, Any] | None = None,
    status: int = 200,
) -> HTMLResponse:
    ctx: dict[str, Any] = {"form": form, "error": error, **_choices()}
    field = getattr(error, "field", None)
    if field:
        ctx["error_field"] = view.form_field(field, slots or [])
    if run is not None:
        ctx.update(view.results_context(run, lang_of(request)))
    return render(request, "compensation/index.html", ctx, status=status)


@router.get("/compensation", response_class=HTMLResponse)
def index(request: Request) -> HTMLResponse:
    """The form, pre-filled with four demo models."""
    return _page(request, _form_defaults())


@router.get("/compensation/example.yaml")
def example_yaml() -> Response:
    """The demo spec as YAML (eight models)."""
    import yaml

    text = yaml.safe_dump(demo_spec(), allow_unicode=True, sort_keys=False)
    return Response(
        text,
        media_type="text/yaml; charset=utf-8",
        headers={
            "content-disposition": 'attachment; filename="compensation-demo.yaml"'
        },
    )


async def _population(
    request: Request, form: FormData, fields: dict[str, str], seed: int
) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    kind = fields.get("population", "demo")
    if kind == "municipality":
        code = fields.get("municipality", "").strip()
        if not code:
            raise DataError("choose a municipality", field="municipality")
        return cs.population_for_municipality(engine_of(request), code, seed=seed)
    if kind == "csv":
        upload = form.get("recipients")
        if not isinstance(upload, UploadFile):
            raise DataError("choose a recipients CSV file", field="recipients")
        data = await upload.read()
        pop = read_recipients(data, upload.filename or "recipients.csv", seed=seed)
        return pop, {"kind": "csv", "file": upload.filename or "", "is_demo": False}, {}
    pop, src = cs.demo_population()
    return pop, src, {}


def _bounded(fields: dict[str, str], name: str, lo: int, hi: int, default: int) -> int:
    raw = fields.get(name, "").strip() or str(default)
    try:
        v = int(raw)
    except ValueError:
        raise DataError(f"{raw!r} is not a whole number", field=name) from None
    if not lo <= v <= hi:
        raise DataError(f"must be between {lo} and {hi}", field=name)
    return v


@router.post("/compensation", response_model=None)
async def simulate_page(
    request: Request, engine: EngineDep, actor: ActorDep
) -> Response:
    """Validate the form, simulate, save the run for signed-in users."""
    form = await request.form()
    try:
        fields = {k: str(v) for k, v in form.items() if isinstance(v, str)}
        slots: list[int] = []
        try:
            spec, slots = spec_from_form(fields)
            draws = _bounded(fields, "draws", 1, WEB_MAX_DRAWS, 300)
            seed = _bounded(fields, "seed", 0, 2**31 - 1, 0)
            pop, src, over = await _population(request, form, fields, seed)
            if pop.n * draws * spec.to_arrays().m > WEB_WORK:
                raise DataError(
                    "too much work for one web request: fewer draws or models, or use `tillit compensation simulate`",
                    field="draws",
                )
        except (DataError, NotFound) as err:
            return _page(request, fields, error=err, slots=slots, status=err.status)
    finally:
        await form.close()
    r = cs.run(spec, pop, src, draws=draws, seed=seed, overrides=over)
    if access.can_save_compensation_run(actor):
        # a member's runs belong to their organisation; an administrator's to the
        # municipality simulated (if any)
        org = (
            fields.get("municipality")
            if access.is_admin(actor) and src.get("kind") == "municipality"
            else None
        )
        rid = cs.save_run(engine, actor, r, organisation_code=org)
        return RedirectResponse(f"/compensation/runs/{rid}", status_code=303)
    return _page(request, fields, run={**r.to_dict(), "spec": spec.to_dict()})


@router.get("/compensation/runs/{run_id}", response_class=HTMLResponse)
def run_page(
    request: Request, engine: EngineDep, actor: ActorDep, run_id: int
) -> HTMLResponse:
    """A saved run's results (its owner, organisation, researchers, administrators)."""
    row = cs.get_run(engine, actor, run_id)
    run = {
        **row["result"],
        "run_id": row["id"],
        "spec": row["spec"],
        "organisation_code": row["organisation_code"],
    }
    return _page(request, _form_defaults(), run=run)


async def _run_form(
    request: Request, engine: Any, actor: Any, run_id: int
) -> tuple[dict[str, Any], dict[str, str]]:
    form = await request.form()
    try:
        fields = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    finally:
        await form.close()
    row = cs.get_run(engine, actor, run_id)
    return {
        **row["result"],
        "run_id": row["id"],
        "spec": row["spec"],
        "organisation_code": row["organisation_code"],
    }, fields


@router.post("/compensation/runs/{run_id}/pilot", response_model=None)
async def pilot_page(
    request: Request, engine: EngineDep, actor: ActorDep, run_id: int
) -> Response:
    """Draft a pilot of the chosen model change."""
    run, fields = await _run_form(request, engine, actor, run_id)
    cand = _bounded(fields, "candidate", 1, 11, 1)
    out = cs.pilot_from_run(
        engine,
        actor,
        run,
        candidate=cand,
        organisation_code=view.organisation_for(engine, actor, fields, run),
        lang=lang_of(request),
    )
    return RedirectResponse(f"/pilots/{out['code']}", status_code=303)


@router.post("/compensation/runs/{run_id}/burden", response_model=None)
async def burden_page(
    request: Request, engine: EngineDep, actor: ActorDep, run_id: int
) -> Response:
    """Write a model's time registration as a burden inventory."""
    run, fields = await _run_form(request, engine, actor, run_id)
    model = _bounded(fields, "model", 0, 11, 0)
    code = view.organisation_for(engine, actor, fields, run)
    if not code:
        raise DataError(
            "name the organisation whose ledger gets the requirement",
            field="organisation",
        )
    inv = cs.burden_from_run(
        engine,
        actor,
        run,
        Spec.from_dict(run["spec"]),
        model=model,
        organisation_code=code,
        lang=lang_of(request),
    )
    return RedirectResponse(f"/burden/{inv.id}", status_code=303)


@router.get("/compensation/register", response_class=HTMLResponse)
def register_page(request: Request, engine: EngineDep, actor: ActorDep) -> HTMLResponse:
    """The register with its descriptive comparison, and the import form."""
    return render(
        request,
        "compensation/register.html",
        view.register_context(request, engine, actor),
    )


@router.get("/compensation/register.csv")
def register_csv(engine: EngineDep) -> Response:
    """The whole register as CSV (the import's columns)."""
    df = cs.register_rows(engine)
    cols = [
        "municipality",
        "year",
        "basis",
        "name",
        "rate_day_kr",
        "goal_related",
        "covers",
        "source",
        "note",
    ]
    out = df[cols].assign(
        goal_related=df["goal_related"].map({True: "yes", False: "no"})
    )
    return Response(
        out.to_csv(index=False),
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": 'attachment; filename="compensation_register.csv"'
        },
    )


@router.post("/compensation/register/import", response_model=None)
async def register_import(
    request: Request, engine: EngineDep, actor: ActorDep
) -> Response:
    """Import a register CSV (all rows or none); errors name row and field."""
    form = await request.form()
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise DataError("choose a CSV file", field="file")
        data, name = await upload.read(), upload.filename or "register.csv"
    finally:
        await form.close()
    try:
        rep = cs.import_register(engine, actor, data, name)
    except DataError as err:
        ctx = view.register_context(request, engine, actor)
        ctx["error"] = err
        return render(request, "compensation/register.html", ctx, status=422)
    return RedirectResponse(
        f"/compensation/register?imported={rep.written}&replaced={rep.replaced}",
        status_code=303,
    )


def profile_block(request: Request, code: str) -> dict[str, Any]:
    """The register rows of one municipality for its profile (a template global)."""
    try:
        rows = cs.municipality_register(engine_of(request), code)
    except TillitError:
        rows = []
    actor = current_actor(request)
    return {"rows": rows, "code": code, "can_import": access.is_writer(actor)}


templates.env.globals["compensation_profile"] = profile_block
templates.env.globals["compensation_basis_label"] = lambda b: view.BASIS_LABELS.get(
    b, b
)
