"""Jinja2 rendering with the shared page context (language, actor, CSRF, demo flag)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from tillit.domain.access import Access
from tillit.i18n import install_jinja
from tillit.web.charts import fmt_number
from tillit.web.deps import csrf_token, current_actor, lang_of
from tillit.web.i18n import translate

__all__ = ["render", "render_error", "templates"]

templates = Jinja2Templates(directory=Path(__file__).resolve().parents[1] / "templates")


def _num(x: Any, digits: int = 3) -> str:
    try:
        return fmt_number(None if x is None else float(x), digits)
    except (TypeError, ValueError):
        return "–"


def _int(x: Any) -> str:
    try:
        f = float(x)
    except (TypeError, ValueError):
        return "–"
    return "–" if not math.isfinite(f) else f"{f:.0f}"


install_jinja(templates.env)  # _() and {% trans %}, in the page's own language
templates.env.filters["num"] = _num
templates.env.filters["int"] = _int
templates.env.globals["svg"] = Markup  # our own chart module escapes its text


def _query(request: Request, **changes: Any) -> str:
    """The current query string with ``changes`` applied (None removes a key)."""
    items = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    for k, v in changes.items():
        if v is None:
            continue
        if isinstance(v, list | tuple):
            items += [(k, x) for x in v]
        else:
            items.append((k, v))
    return urlencode(items)


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    status: int = 200,
) -> HTMLResponse:
    """Render template ``name`` with the shared context."""
    lang = lang_of(request)
    actor = current_actor(request)
    ctx: dict[str, Any] = {
        "lang": lang,
        "t": lambda key: translate(key, lang),
        "actor": actor,
        "access": Access(actor),
        "demo": False,
        "demo_mode": bool(getattr(request.app.state, "demo", False)),
        "query": lambda **kw: _query(request, **kw),
        "path": request.url.path,
        "here": request.url.path
        + (f"?{request.url.query}" if request.url.query else ""),
    }
    ctx.update(context or {})
    ctx["csrf"] = lambda: csrf_token(request)
    return templates.TemplateResponse(request, name, ctx, status_code=status)


def render_error(request: Request, status: int, message: str) -> HTMLResponse:
    """The HTML error page (never a traceback)."""
    try:
        return render(
            request, "error.html", {"status": status, "message": message}, status=status
        )
    except Exception:  # the error page itself must not fail
        return HTMLResponse(f"<h1>{status}</h1><p>error</p>", status_code=status)
