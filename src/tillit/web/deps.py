"""Request-scoped helpers: the engine, the current actor, language, CSRF tokens."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Engine

from tillit.core.errors import PermissionDenied
from tillit.domain.records import Actor
from tillit.services.auth import get_actor
from tillit.web.i18n import LANGS

__all__ = [
    "ActorDep",
    "EngineDep",
    "LangDep",
    "check_csrf",
    "csrf_token",
    "current_actor",
    "engine_of",
    "lang_of",
    "require_csrf",
]

CSRF_KEY = "csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def engine_of(request: Request) -> Engine:
    """The app's engine (built by the app factory, never at import)."""
    engine: Engine = request.app.state.engine
    return engine


def current_actor(request: Request) -> Actor:
    """The signed-in user from the session, or the anonymous public reader."""
    if "session" not in request.scope:  # outside the session middleware (500 page)
        return Actor()
    cached = getattr(request.state, "actor", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    uid = request.session.get("uid")
    actor = get_actor(engine_of(request), uid if isinstance(uid, int) else None)
    if uid is not None and actor.user_id is None:
        request.session.pop("uid", None)  # the account is gone
    request.state.actor = actor
    return actor


def lang_of(request: Request) -> str:
    """Interface language: ``?lang=`` for this request, else the session, else Swedish."""
    q = request.query_params.get("lang")
    if q in LANGS:
        return q
    s = request.session.get("lang") if "session" in request.scope else None
    return s if s in LANGS else "sv"


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    tok = request.session.get(CSRF_KEY)
    if not isinstance(tok, str) or len(tok) < 20:
        tok = secrets.token_urlsafe(32)
        request.session[CSRF_KEY] = tok
    return tok


def check_csrf(request: Request, supplied: Any) -> None:
    """Refuse a state-changing request whose token does not match the session's."""
    expected = request.session.get(CSRF_KEY)
    if not (
        isinstance(expected, str)
        and isinstance(supplied, str)
        and hmac.compare_digest(expected.encode(), supplied.encode())
    ):
        raise PermissionDenied(
            "the form has expired or did not come from this site (CSRF check): reload "
            "the page and try again"
        )


async def require_csrf(request: Request) -> None:
    """The one CSRF check: every unsafe method carries the session's token.

    Installed as an app-level dependency (:func:`tillit.web.app.create_app`), so it runs
    before every route, including routes added later, and no route can forget it. The
    token comes from the ``X-CSRF-Token`` header (JSON clients) or the ``csrf_token``
    form field (HTML forms); a form is parsed once and the route reads the same parsed
    form (Starlette caches it on the request).
    """
    if request.method in SAFE_METHODS:
        return
    supplied: Any = request.headers.get(CSRF_HEADER)
    if not supplied and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        supplied = (await request.form()).get(CSRF_FIELD)
    check_csrf(request, supplied)


EngineDep = Annotated[Engine, Depends(engine_of)]
ActorDep = Annotated[Actor, Depends(current_actor)]
LangDep = Annotated[str, Depends(lang_of)]
