"""Network pages: the public member list, the application form, the admin decisions."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tillit.core.errors import TillitError
from tillit.services import network as net
from tillit.services.auth import require_admin
from tillit.services.followup import list_organisations
from tillit.web.deps import ActorDep, EngineDep
from tillit.web.pages.pilots import page_context
from tillit.web.pages.render import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/network", response_class=HTMLResponse)
def network_page(request: Request, engine: EngineDep) -> HTMLResponse:
    """Member organisations and their public pilots."""
    members = net.list_members(engine)
    return render(
        request,
        "network/members.html",
        page_context(
            {"members": members, "applied": "applied" in request.query_params}, request
        ),
    )


def _apply_form(
    request: Request,
    engine: EngineDep,
    error: TillitError | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    orgs = [
        o for o in list_organisations(engine, limit=10000) if o["kind"] != "country"
    ]
    return render(
        request,
        "network/apply.html",
        page_context({"orgs": orgs, "error": error, "v": values or {}}, request),
        status=error.status if error else 200,
    )


@router.get("/network/apply", response_class=HTMLResponse)
def apply_form(request: Request, engine: EngineDep) -> HTMLResponse:
    """The public application form."""
    return _apply_form(request, engine)


@router.post("/network/apply", response_model=None)
async def apply_submit(request: Request, engine: EngineDep) -> Response:
    """Record the application; an administrator decides."""
    form = await request.form()
    values = {
        k: str(form.get(k, ""))[:6000]
        for k in ("organisation", "contact_name", "contact_email", "motivation")
    }
    try:
        net.apply(
            engine,
            values["organisation"],
            values["contact_name"],
            values["motivation"],
            contact_email=values["contact_email"],
        )
    except TillitError as err:
        return _apply_form(request, engine, err, values)
    return RedirectResponse("/network?applied=1", status_code=303)


@router.get("/admin/network", response_class=HTMLResponse)
def admin_page(request: Request, engine: EngineDep, actor: ActorDep) -> HTMLResponse:
    """Pending applications with approve/decline forms (administrators)."""
    require_admin(actor)
    return render(
        request,
        "network/admin.html",
        page_context(
            {
                "pending": net.list_applications(engine, actor),
                "decided": net.list_applications(engine, actor, status="")[:50],
            },
            request,
        ),
    )


@router.post("/admin/network/{application_id}", response_model=None)
async def decide(
    request: Request, engine: EngineDep, actor: ActorDep, application_id: int
) -> Response:
    """Approve or decline one application."""
    form = await request.form()
    approve = form.get("decision") == "approve"
    net.decide(
        engine, actor, application_id, approve, str(form.get("reason", ""))[:5000]
    )
    return RedirectResponse("/admin/network", status_code=303)
