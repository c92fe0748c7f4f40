"""Pages that change state: sign-in/out, language, user administration.

The import pages are in :mod:`tillit.web.pages.imports`.

Every POST form carries the session's CSRF token (hidden field ``csrf_token``),
checked for every unsafe method by :func:`tillit.web.deps.require_csrf`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from tillit.core.errors import TillitError
from tillit.domain.records import Actor
from tillit.services import auth
from tillit.services import followup as fu
from tillit.web.deps import ActorDep, EngineDep
from tillit.web.i18n import LANGS
from tillit.web.pages.render import render

__all__ = ["router", "safe_next"]

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=200)]


def safe_next(url: str | None) -> str:
    """A same-site relative path to return to (never an open redirect)."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return "/"
    return url[:500]


@router.get("/lang/{code}")
def set_lang(request: Request, code: str, next: str = "/") -> RedirectResponse:
    """Switch the interface language (kept in the session cookie)."""
    if code in LANGS:
        request.session["lang"] = code
    return RedirectResponse(safe_next(next), status_code=303)


@router.get("/signin", response_class=HTMLResponse)
def signin_form(request: Request, next: str = "/") -> HTMLResponse:
    """The sign-in form (demo accounts listed only in demo mode)."""
    return render(
        request,
        "signin.html",
        {"next": safe_next(next), "demo_users": auth.DEMO_USERS, "error": ""},
    )


@router.post("/signin", response_model=None)
def signin(
    request: Request,
    engine: EngineDep,
    username: Text,
    password: Text,
    next: Annotated[str, Form(max_length=500)] = "/",
) -> HTMLResponse | RedirectResponse:
    """Check the password; on success store the user id in the session."""
    user = auth.authenticate(engine, username, password)
    if user is None:
        return render(
            request,
            "signin.html",
            {
                "next": safe_next(next),
                "demo_users": auth.DEMO_USERS,
                "error": "bad_login",
            },
            status=401,
        )
    lang = request.session.get("lang")
    request.session.clear()
    request.session["uid"] = user.id
    if lang:
        request.session["lang"] = lang
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/signout")
def signout(request: Request) -> RedirectResponse:
    """Forget the user (keeps the language choice)."""
    lang = request.session.get("lang")
    request.session.clear()
    if lang:
        request.session["lang"] = lang
    return RedirectResponse("/", status_code=303)


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, engine: EngineDep, actor: ActorDep) -> HTMLResponse:
    """User management (administrators)."""
    return _users(request, engine, actor, None)


def _users(
    request: Request,
    engine: EngineDep,
    actor: Actor,
    error: TillitError | None,
    status: int = 200,
) -> HTMLResponse:
    users = auth.list_users(engine, actor)
    return render(
        request,
        "users.html",
        {
            "users": users,
            "roles": auth.ROLES,
            "orgs": fu.list_organisations(engine, limit=10000),
            "error": error,
        },
        status=status,
    )


@router.post("/admin/users", response_model=None)
def create_user(
    request: Request,
    engine: EngineDep,
    actor: ActorDep,
    username: Text,
    password: Text,
    role: Annotated[str, Form(max_length=20)],
    organisation: Annotated[str, Form(max_length=16)] = "",
    display_name: Text = "",
) -> HTMLResponse | RedirectResponse:
    """Create an account with a role (and organisation for members)."""
    auth.require_admin(actor)
    try:
        auth.create_user(
            engine,
            username,
            password,
            role,
            organisation_code=organisation or None,
            display_name=display_name,
        )
    except TillitError as err:
        return _users(request, engine, actor, err, status=err.status)
    return RedirectResponse("/admin/users", status_code=303)
