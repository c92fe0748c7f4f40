"""One error mapping for the whole app.

``TillitError`` -> its ``status`` and ``to_dict()`` (API) or the HTML error page;
HTTP errors (404, 405) and request validation errors likewise; anything unexpected
-> 500 with a generic message, the traceback goes to the server log only.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from tillit.core.errors import TillitError

__all__ = ["install_error_handlers", "wants_json"]

log = logging.getLogger("tillit.web")


def wants_json(request: Request) -> bool:
    """API paths (and explicit JSON clients) get JSON errors, pages get HTML."""
    return (
        request.url.path.startswith("/api/")
        or "application/json" in request.headers.get("accept", "").split(",")[0]
    )


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(
            str(p) for p in err.get("loc", ()) if p not in ("query", "path", "body")
        )
        parts.append(
            f"{loc}: {err.get('msg', 'invalid')}" if loc else str(err.get("msg"))
        )
    return "invalid request: " + "; ".join(parts)


def _render(
    request: Request, status: int, message: str, extra: dict[str, Any] | None = None
) -> Response:
    if wants_json(request):
        body: dict[str, Any] = {"ok": False, "error": message, "status": status}
        body.update(extra or {})
        return JSONResponse(body, status_code=status)
    from tillit.web.pages.render import render_error  # pages import the app's templates

    return render_error(request, status, message)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    async def tillit_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, TillitError)
        d = exc.to_dict()
        extra = {k: v for k, v in d.items() if k not in ("ok", "error", "status")}
        return _render(request, exc.status, exc.message, extra)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        msg = "not found" if exc.status_code == 404 else str(exc.detail)
        resp = _render(request, exc.status_code, msg)
        for k, v in (exc.headers or {}).items():
            resp.headers[k] = v
        return resp

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return _render(request, 422, _validation_message(exc))

    async def server_error(request: Request, exc: Exception) -> Response:
        log.exception(
            "unhandled error on %s %s", request.method, request.url.path, exc_info=exc
        )
        return _render(request, 500, "internal server error")

    app.add_exception_handler(TillitError, tillit_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, server_error)
