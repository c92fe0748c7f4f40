"""The import pages: upload a file (an ``import`` job) and follow a job's progress.

``POST /import`` stores the upload as a job and answers at once with a redirect to
``/jobs/{id}``, which shows the job's progress (refreshed by ``static/jobs.js`` from
``GET /api/v1/jobs/{id}``, or by the page's own button without scripts) and, when it
has run, the import report or the error with its file, row and field.  The handlers
are plain functions, so FastAPI runs them in its thread pool: reading a 50 MB upload
never holds up the event loop.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tillit.core.errors import DataError, PermissionDenied
from tillit.domain import access
from tillit.domain.jobs import Job
from tillit.services import imports
from tillit.services import jobs as js
from tillit.web.deps import ActorDep, EngineDep
from tillit.web.pages.render import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _recent_imports(engine: Any, actor: Any) -> list[Job]:
    return [j for j in js.list_jobs(engine, actor, limit=20) if j.kind == "import"]


@router.get("/import", response_model=None)
def import_form(
    request: Request, engine: EngineDep, actor: ActorDep
) -> HTMLResponse | RedirectResponse:
    """The upload form and the actor's recent imports (members and admins)."""
    if access.is_public(actor):
        return RedirectResponse("/signin?next=/import", status_code=303)
    if not access.may_import(actor):
        raise PermissionDenied(
            "sign in as an administrator or organisation member to import"
        )
    return render(request, "import.html", {"recent": _recent_imports(engine, actor)})


@router.post("/import", response_model=None)
def import_upload(
    request: Request,
    engine: EngineDep,
    actor: ActorDep,
    file: Annotated[UploadFile, File()],
) -> Response:
    """Queue the uploaded CSV or Kolada JSON file as an import job; go to its page.

    The CSRF token is checked for every unsafe method by ``web.deps.require_csrf``.
    """
    name = (file.filename or "upload")[-200:]
    data = file.file.read(imports.MAX_UPLOAD + 1)
    if len(data) > imports.MAX_UPLOAD:
        raise DataError("the file is larger than 50 MB", file=name)
    job_id = imports.submit_upload(engine, actor, data, name)
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(
    request: Request, engine: EngineDep, actor: ActorDep, job_id: int
) -> HTMLResponse:
    """Where a job stands; for a finished import its report or its error."""
    job = js.get_job(engine, actor, job_id)
    report = job.result if job.kind == "import" and job.status == "done" else None
    error = job.result if job.status == "failed" else None
    return render(
        request,
        "jobs/job.html",
        {"job": job, "j": job, "report": report, "error": error},
    )
