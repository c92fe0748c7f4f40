"""The cookie page: what the web app actually sets, read from its own configuration.

Tillit sets one cookie, the session cookie of Starlette's ``SessionMiddleware``; its name,
lifetime and flags are read from the middleware the app factory installed, so the page
cannot drift from the truth. Nothing non-essential (analytics, tracking, third-party
content) exists, so no consent banner is needed; if something were ever added it would
have to be listed here and set only after consent.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.middleware.sessions import SessionMiddleware

from tillit.web.pages.render import render

__all__ = ["SESSION_KEYS", "router", "session_cookie"]

router = APIRouter(include_in_schema=False)

# what the session may hold, with the module that writes it
SESSION_KEYS: dict[str, tuple[str, str]] = {
    "uid": ("ditt användar-id när du är inloggad", "your user id while signed in"),
    "csrf": (
        "en slumpad token som skyddar formulär mot förfalskade anrop (CSRF)",
        "a random token that protects forms against forged requests (CSRF)",
    ),
    "lang": ("valt språk (sv/en)", "the chosen language (sv/en)"),
    "challenge": (
        "en kontrollsumma av svaret på kontrollfrågan för anonyma inlägg",
        "a keyed hash of the answer to the check question for anonymous posts",
    ),
}


def session_cookie(app: Any) -> dict[str, Any]:
    """Name, lifetime and flags of the session cookie as the app configured them."""
    for m in getattr(app, "user_middleware", []):
        if getattr(m, "cls", None) is SessionMiddleware:
            kw = dict(getattr(m, "kwargs", {}))
            return {
                "name": kw.get("session_cookie", "session"),
                "max_age": kw.get("max_age", 14 * 24 * 3600),
                "same_site": kw.get("same_site", "lax"),
                "secure": bool(kw.get("https_only", False)),
                "http_only": True,
            }
    return {}


@router.get("/cookies", response_class=HTMLResponse)
def cookies_page(request: Request) -> HTMLResponse:
    """Which cookies Tillit sets, why, and for how long."""
    return render(
        request,
        "dialogue/cookies.html",
        {"cookie": session_cookie(request.app), "keys": SESSION_KEYS},
    )
