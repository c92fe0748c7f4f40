"""Pilot pages: list, draft form, pilot page (versions, origins, actions), registry page.

Every POST carries the session's CSRF token (hidden field ``csrf_token``). Permissions are
enforced by :mod:`tillit.services.pilots`; a refused action renders the error page with
its status (403 with a clear message).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tillit.core.errors import DataError, PermissionDenied, TillitError
from tillit.domain import access
from tillit.domain.pilots import (
    CHANGE_KINDS,
    DESIGNS,
    ESTIMATORS,
    PRECONDITIONS,
    empty_document,
)
from tillit.services import network as net
from tillit.services import pilots as ps
from tillit.web.deps import ActorDep, EngineDep
from tillit.web.pages.render import render

__all__ = ["PT", "form_document", "page_context", "router"]

router = APIRouter(include_in_schema=False)

PT: dict[str, tuple[str, str]] = {
    "pilots": ("Försök", "Pilots"),
    "network": ("Nätverket", "Network"),
    "registry": ("Registret", "Registry"),
    "new_pilot": ("Nytt försök", "New pilot"),
    "status_draft": ("Utkast", "Draft"),
    "status_registered": ("Registrerat", "Registered"),
    "status_concluded": ("Avslutat", "Concluded"),
    "title": ("Titel", "Title"),
    "change_kind": ("Typ av förändring", "Kind of change"),
    "change": (
        "Vilken styrningsförändring prövas?",
        "What governance change is tried?",
    ),
    "sites": ("Var och från när", "Where and from when"),
    "sites_help": (
        "En rad per plats: kommunkod, start (ÅÅÅÅ eller ÅÅÅÅ-MM) eller kommunkod, enhetskod, start",
        "One line per site: municipality code, start (YYYY or YYYY-MM) or municipality code, unit code, start",
    ),
    "hypotheses": ("Hypoteser (en per rad)", "Hypotheses (one per line)"),
    "primary": ("Primära utfall (indikator-id)", "Primary outcomes (indicator ids)"),
    "secondary": (
        "Sekundära utfall (indikator-id)",
        "Secondary outcomes (indicator ids)",
    ),
    "design": ("Design", "Design"),
    "estimator": ("Skattningsmetod", "Estimator"),
    "control_group": ("Kontrollgrupp", "Control group"),
    "covariates": ("Kovariater (indikator-id)", "Covariates (indicator ids)"),
    "min_effect": ("Minsta effekt som spelar roll", "Minimum effect that matters"),
    "preconditions": ("Förutsättningar (1-5)", "Preconditions (1-5)"),
    "organisation": ("Organisation", "Organisation"),
    "save_draft": ("Spara utkast", "Save draft"),
    "edit": ("Redigera utkast", "Edit draft"),
    "amend": ("Ändra (tillägg till registreringen)", "Amend the registration"),
    "reason": ("Skäl till ändringen", "Reason for the amendment"),
    "register": ("Registrera (frys) försöket", "Register (freeze) the pilot"),
    "conclude": ("Avsluta med omdöme", "Conclude with a verdict"),
    "verdict": ("Omdöme", "Verdict"),
    "researchers": ("Forskare", "Researchers"),
    "attach": ("Koppla forskare (användarnamn)", "Attach researcher (username)"),
    "versions": ("Versioner", "Versions"),
    "version": ("Version", "Version"),
    "pre_registered": ("förregistrerat", "pre-registered"),
    "added_later": ("tillagt i version", "added in version"),
    "outcomes": ("Utfall", "Outcomes"),
    "design_help": (
        "Designhjälp: minsta detekterbara effekt",
        "Design help: minimum detectable effect",
    ),
    "randomise": (
        "Slumpa platser (med registrerat frö)",
        "Randomise sites (recorded seed)",
    ),
    "seed": ("Frö (tomt = nytt)", "Seed (empty = new)"),
    "randomisation": ("Randomisering", "Randomisation"),
    "changes": (
        "Skillnader mot föregående version",
        "Differences from the previous version",
    ),
    "download_registry": (
        "Ladda ner registret (JSON Lines)",
        "Download the registry (JSON Lines)",
    ),
    "hash": ("Kontrollsumma", "Hash"),
    "none": ("Inga", "None"),
}


def _pt(lang: str) -> Any:
    return lambda key: PT.get(key, (key, key))[0 if lang == "sv" else 1]


def page_context(extra: dict[str, Any], request: Request) -> dict[str, Any]:
    from tillit.web.deps import lang_of

    lang = lang_of(request)
    return {
        "p": _pt(lang),
        "kinds": CHANGE_KINDS,
        "designs": DESIGNS,
        "estimators": ESTIMATORS,
        "preconds": PRECONDITIONS,
        "li": 0 if lang == "sv" else 1,
        **extra,
    }


def form_document(form: Any, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """The raw pilot document from the draft/amend form (validated by the service)."""
    base = base or empty_document()
    return {
        "title": form.get("title", ""),
        "change_kind": form.get("change_kind", "other"),
        "change": form.get("change", ""),
        "sites": form.get("sites", ""),
        "hypotheses": form.get("hypotheses", ""),
        "primary_outcomes": form.get("primary_outcomes", ""),
        "secondary_outcomes": form.get("secondary_outcomes", ""),
        "design": form.get("design", "staggered_adoption"),
        "analysis": {
            "estimator": form.get("estimator", "did"),
            "control_group": form.get("control_group", ""),
            "covariates": form.get("covariates", ""),
            "min_effect": form.get("min_effect", ""),
        },
        "preconditions": {k: form.get(f"pre_{k}", "") for k in PRECONDITIONS},
        "randomisation": base.get("randomisation"),
    }


def _form_values(doc: dict[str, Any]) -> dict[str, Any]:
    """Form field texts for a (valid or raw) document."""

    def join(v: Any, sep: str) -> str:
        return v if isinstance(v, str) else sep.join(map(str, v or []))

    sites = doc.get("sites", [])
    if not isinstance(sites, str):
        sites = "\n".join(
            ", ".join(
                [s["org"], s["unit"], s["start"]]
                if s["unit"]
                else [s["org"], s["start"]]
            )
            for s in sites
        )
    a = doc.get("analysis") or {}
    me = a.get("min_effect")
    return {
        "title": doc.get("title", ""),
        "change_kind": doc.get("change_kind", "other"),
        "change": doc.get("change", ""),
        "sites": sites,
        "hypotheses": join(doc.get("hypotheses"), "\n"),
        "primary_outcomes": join(doc.get("primary_outcomes"), ", "),
        "secondary_outcomes": join(doc.get("secondary_outcomes"), ", "),
        "design": doc.get("design", ""),
        "estimator": a.get("estimator", "did"),
        "control_group": a.get("control_group", ""),
        "covariates": join(a.get("covariates"), ", "),
        "min_effect": "" if me is None else str(me),
        "pre": {
            k: (doc.get("preconditions") or {}).get(k) or "" for k in PRECONDITIONS
        },
    }


@router.get("/pilots", response_class=HTMLResponse)
def pilots_page(request: Request, engine: EngineDep, actor: ActorDep) -> HTMLResponse:
    """Pilots the reader may see (drafts only for their organisation)."""
    rows = ps.list_pilots(engine, actor)
    return render(
        request,
        "pilots/list.html",
        page_context({"pilots": rows, "demo": any(r.is_demo for r in rows)}, request),
    )


def _edit_form(
    request: Request,
    *,
    values: dict[str, Any],
    action: str,
    mode: str,
    error: TillitError | None = None,
    orgs: list[dict[str, Any]] | None = None,
    pilot: ps.Pilot | None = None,
    reason: str = "",
) -> HTMLResponse:
    return render(
        request,
        "pilots/edit.html",
        page_context(
            {
                "v": values,
                "action": action,
                "mode": mode,
                "error": error,
                "orgs": orgs or [],
                "pilot": pilot,
                "reason": reason,
            },
            request,
        ),
        status=error.status if error else 200,
    )


def _orgs_for(engine: Any, actor: Any) -> list[dict[str, Any]]:
    if not actor.is_admin:
        return []
    from tillit.services.followup import list_organisations

    return list_organisations(engine, limit=10000)


@router.get("/pilots/new", response_model=None)
def new_form(request: Request, engine: EngineDep, actor: ActorDep) -> Response:
    """The new-draft form (members and administrators)."""
    if access.is_public(actor):
        return RedirectResponse("/signin?next=/pilots/new", status_code=303)
    if not access.is_writer(actor):
        raise PermissionDenied(
            "only organisation members and administrators create pilots"
        )
    return _edit_form(
        request,
        values=_form_values(empty_document()),
        action="/pilots/new",
        mode="new",
        orgs=_orgs_for(engine, actor),
    )


@router.post("/pilots/new", response_model=None)
async def new_submit(request: Request, engine: EngineDep, actor: ActorDep) -> Response:
    """Create the draft and go to its page."""
    form = await request.form()
    raw = form_document(form)
    try:
        code = ps.create_draft(
            engine, actor, raw, str(form.get("organisation", "")) or None
        )
    except PermissionDenied:
        raise
    except TillitError as err:
        return _edit_form(
            request,
            values=_form_values(raw),
            action="/pilots/new",
            mode="new",
            error=err,
            orgs=_orgs_for(engine, actor),
        )
    return RedirectResponse(f"/pilots/{code}", status_code=303)


@router.get("/pilots/{code}", response_class=HTMLResponse)
def pilot_page(
    request: Request, engine: EngineDep, actor: ActorDep, code: str
) -> HTMLResponse:
    """One pilot: document, outcome origins, versions, researchers and actions."""
    info = ps.pilot_versions(engine, actor, code[:40])
    pilot = info["pilot"]
    return render(
        request,
        "pilots/show.html",
        page_context(
            {
                "pilot": pilot,
                "doc": pilot.document,
                "entries": info["entries"],
                "origins": {o["indicator"]: o for o in info["origins"]},
                "demo": pilot.is_demo,
                "message": request.query_params.get("msg", "")[:200],
            },
            request,
        ),
    )


@router.get("/pilots/{code}/edit", response_class=HTMLResponse)
def edit_form(
    request: Request, engine: EngineDep, actor: ActorDep, code: str
) -> HTMLResponse:
    """Edit a draft, or amend a registered pilot (with a reason)."""
    pilot = ps.get_pilot(engine, actor, code[:40])
    if not pilot.can_edit:
        raise PermissionDenied(
            "only members of the pilot's organisation and administrators may change it"
            if pilot.status != "concluded"
            else "a concluded pilot cannot be changed"
        )
    return _edit_form(
        request,
        values=_form_values(pilot.document),
        action=f"/pilots/{pilot.code}/edit",
        mode="draft" if pilot.status == "draft" else "amend",
        pilot=pilot,
    )


@router.post("/pilots/{code}/edit", response_model=None)
async def edit_submit(
    request: Request, engine: EngineDep, actor: ActorDep, code: str
) -> Response:
    """Save the draft, or register the amendment."""
    form = await request.form()
    pilot = ps.get_pilot(engine, actor, code[:40])
    raw = form_document(form, pilot.document)
    reason = str(form.get("reason", ""))
    try:
        if pilot.status == "draft":
            ps.save_draft(engine, actor, pilot.code, raw)
        else:
            ps.amend(engine, actor, pilot.code, raw, reason)
    except PermissionDenied:
        raise
    except TillitError as err:
        return _edit_form(
            request,
            values=_form_values(raw),
            action=f"/pilots/{pilot.code}/edit",
            mode="draft" if pilot.status == "draft" else "amend",
            error=err,
            pilot=pilot,
            reason=reason,
        )
    return RedirectResponse(f"/pilots/{pilot.code}", status_code=303)


async def _action(request: Request, code: str, fn: Any) -> Response:
    form = await request.form()
    fn(form)
    return RedirectResponse(f"/pilots/{code[:40]}", status_code=303)


@router.post("/pilots/{code}/register", response_model=None)
async def register(
    request: Request, engine: EngineDep, actor: ActorDep, code: str
) -> Response:
    """Freeze the draft into the registry."""
    return await _action(request, code, lambda f: ps.register(engine, actor, code[:40]))


@router.post("/pilots/{code}/conclude", response_model=None)
async def conclude(
    request: Request, engine: EngineDep, actor: ActorDep, code: str
) -> Response:
    """Conclude with a verdict (attached researcher or administrator)."""
    return await _action(
        request,
        code,
        lambda f: ps.conclude(engine, actor, code[:40], str(f.get("verdict", ""))),
    )


@router.post("/pilots/{code}/researchers", response_model=None)
async def attach(
    request: Request, engine: EngineDep, actor: ActorDep, code: str
) -> Response:
    """Attach a researcher by username."""
    return await _action(
        request,
        code,
        lambda f: net.attach_researcher(
            engine, actor, code[:40], str(f.get("username", ""))[:80]
        ),
    )


@router.post("/pilots/{code}/randomise", response_model=None)
async def randomise(
    request: Request, engine: EngineDep, actor: ActorDep, code: str
) -> Response:
    """Randomise the draft's sites with a recorded seed."""

    def run(f: Any) -> None:
        text = str(f.get("seed", "")).strip()
        if text and not text.isdigit():
            raise DataError("the seed is a whole number", field="seed")
        ps.randomise_draft(engine, actor, code[:40], seed=int(text) if text else None)

    return await _action(request, code, run)


@router.get("/pilots/{code}/design", response_class=HTMLResponse)
def design_page(
    request: Request, engine: EngineDep, actor: ActorDep, code: str
) -> HTMLResponse:
    """Minimum detectable effect for the pilot's sites and first primary outcome."""
    pilot = ps.get_pilot(engine, actor, code[:40])
    try:
        res, error = ps.design_help(engine, actor, pilot.code), None
    except TillitError as err:
        res, error = None, err
    return render(
        request,
        "pilots/design.html",
        page_context(
            {"pilot": pilot, "res": res, "error": error, "demo": pilot.is_demo}, request
        ),
    )


@router.get("/pilots/{code}/v/{version}", response_class=HTMLResponse)
def version_page(
    request: Request, engine: EngineDep, actor: ActorDep, code: str, version: int
) -> HTMLResponse:
    """One registered version, kept as it was, with the diff from the version before."""
    info = ps.version_diff(engine, actor, code[:40], version)
    return render(
        request,
        "pilots/version.html",
        page_context(
            {
                "pilot": info["pilot"],
                "entry": info["entry"],
                "doc": info["entry"]["content"],
                "changes": info["changes"],
                "demo": info["pilot"].is_demo,
            },
            request,
        ),
    )


@router.get("/registry", response_class=HTMLResponse)
def registry_page(request: Request, engine: EngineDep) -> HTMLResponse:
    """What the registry is and how to verify a downloaded copy."""
    entries = ps.registry_entries_list(engine)
    return render(
        request, "pilots/registry.html", page_context({"entries": entries}, request)
    )
