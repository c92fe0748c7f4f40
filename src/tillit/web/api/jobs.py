"""The job queue's API: ``GET /api/v1/jobs/{id}`` (status) and ``GET /api/v1/jobs``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from tillit.services import jobs as js
from tillit.web.api.models import ErrorOut, JobOut
from tillit.web.deps import ActorDep, EngineDep

__all__ = ["router"]

_ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorOut} for s in (400, 403, 404, 409, 422)
}
router = APIRouter(prefix="/api/v1", tags=["jobs"], responses=_ERRORS)
Id = Annotated[int, Path(ge=1, le=2_147_483_647)]


@router.get("/jobs/{job_id}", response_model=JobOut, summary="Where a job stands")
def job(engine: EngineDep, actor: ActorDep, job_id: Id) -> dict[str, Any]:
    """Status, progress, result or error of a background job (its owner, admins)."""
    return js.get_job(engine, actor, job_id).to_dict()


@router.get("/jobs", response_model=list[JobOut], summary="Your recent jobs")
def jobs(
    engine: EngineDep,
    actor: ActorDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[dict[str, Any]]:
    """The caller's newest jobs (administrators: everyone's), newest first."""
    return [j.to_dict() for j in js.list_jobs(engine, actor, limit=limit)]
