"""The FastAPI app factory.

``create_app(settings)`` wires the session cookie, security headers, error handlers,
static files, the HTML pages and the JSON API under ``/api/v1``. Nothing is built at
import time: the engine is made here (or passed in by tests).

Security
--------
* one cookie, ``tillit_session``: signed (itsdangerous), HttpOnly, SameSite=Lax; it holds
  the signed-in user id, the CSRF token and the language choice, nothing else;
* every unsafe method (POST, PUT, PATCH, DELETE) on every route passes one app-level
  dependency, :func:`tillit.web.deps.require_csrf`: the session's CSRF token in the
  ``csrf_token`` form field or the ``X-CSRF-Token`` header, or 403;
* Content-Security-Policy without inline scripts or styles; every asset is served from
  ``web/static`` (no CDN); the interactive API docs (which need a CDN) are off, the
  OpenAPI description is at ``/api/v1/openapi.json``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tillit import __version__
from tillit.config import Settings
from tillit.store.db import make_engine
from tillit.web.deps import require_csrf
from tillit.web.errors import install_error_handlers

__all__ = ["SECURITY_HEADERS", "app_from_env", "create_app"]

STATIC = Path(__file__).with_name("static")

SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


class SecurityHeaders:
    """Pure ASGI middleware adding :data:`SECURITY_HEADERS` to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.raw = [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _v in message.get("headers", [])}
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [
                    h for h in self.raw if h[0] not in names
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


_ERROR_STATUSES = (400, 403, 404, 409, 422)


def _document_errors(app: FastAPI) -> None:
    """Declare the one error shape on every ``/api/`` operation that does not already.

    The error handler answers any API route with these statuses, so the OpenAPI
    description says so even for routers that forgot to (schemathesis checks it).
    """
    generate = app.openapi
    done: list[bool] = []

    def openapi() -> dict[str, Any]:
        spec = generate()
        if not done:
            ref = {"$ref": "#/components/schemas/ErrorOut"}
            for path, item in spec.get("paths", {}).items():
                if not path.startswith("/api/"):
                    continue
                for op in item.values():
                    responses = op.setdefault("responses", {})
                    for status in _ERROR_STATUSES:
                        responses.setdefault(
                            str(status),
                            {
                                "description": "Error",
                                "content": {"application/json": {"schema": ref}},
                            },
                        )
            done.append(True)
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the background job workers (``settings.job_workers``) and stop them."""
    from tillit.services.jobs import WorkerPool

    pool = WorkerPool(app.state.engine, app.state.settings.job_workers).start()
    app.state.job_workers = pool
    try:
        yield
    finally:
        pool.stop()


def create_app(settings: Settings, engine: Engine | None = None) -> FastAPI:
    """Build the web app for ``settings`` (``engine`` overrides the database URL).

    The app runs ``settings.job_workers`` background job workers while it serves
    (:class:`tillit.services.jobs.WorkerPool`, started and stopped with the app).
    """
    app = FastAPI(
        lifespan=_lifespan,
        title="Tillit API",
        version=__version__,
        description=(
            "Follow-up of public services: indicators, organisations, peer "
            "comparisons, profiles, imports and exports. Errors have the shape "
            '`{"ok": false, "error": ..., "status": ...}`.'
        ),
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        dependencies=[Depends(require_csrf)],
    )
    app.state.settings = settings
    app.state.engine = engine or make_engine(settings.database_url)
    app.state.demo = settings.demo
    install_error_handlers(app)

    from tillit.web.api.routes import router as api_router
    from tillit.web.pages.routes import router as pages_router

    app.include_router(api_router)
    app.include_router(pages_router)
    from tillit.web.api.pilots import router as pilots_api  # network and pilots (#5)
    from tillit.web.pages.network import router as network_pages
    from tillit.web.pages.pilots import router as pilots_pages

    app.include_router(pilots_api)
    app.include_router(network_pages)
    app.include_router(pilots_pages)
    from tillit.web.api.evidence import router as evidence_api  # evaluation (#5)
    from tillit.web.pages.evaluation import router as evaluation_pages
    from tillit.web.pages.evidence import router as evidence_pages

    app.include_router(evidence_api)
    app.include_router(evaluation_pages)
    app.include_router(evidence_pages)
    from tillit.web.api.surveys import router as surveys_api  # barometer, dialogue (#7)
    from tillit.web.pages.cookies import router as cookies_pages
    from tillit.web.pages.dialogue import router as dialogue_pages
    from tillit.web.pages.surveys import router as surveys_pages

    app.include_router(surveys_api)
    app.include_router(surveys_pages)
    app.include_router(dialogue_pages)
    app.include_router(cookies_pages)
    from tillit.web.api.audit import router as audit_api  # burden ledger, audit (#6)
    from tillit.web.pages.audit import router as audit_pages

    app.include_router(audit_api)
    app.include_router(audit_pages)
    from tillit.web.api.compensation import router as compensation_api  # (#15)
    from tillit.web.pages.compensation import router as compensation_pages

    app.include_router(compensation_api)
    app.include_router(compensation_pages)
    from tillit.web.api.jobs import router as jobs_api  # background jobs (#14)

    app.include_router(jobs_api)
    _document_errors(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="tillit_session",
        max_age=8 * 3600,
        same_site="lax",
        https_only=False,
    )
    app.add_middleware(SecurityHeaders)
    return app


def app_from_env() -> FastAPI:
    """The app for the settings in the environment (``uvicorn --factory``, ``tillit serve``)."""
    from tillit.config import load_settings

    return create_app(load_settings())
