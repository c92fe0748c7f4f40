"""Pilot registry API: the registry download and read-only pilot documents."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from tillit.services import pilots as ps
from tillit.web.api.models import ErrorOut
from tillit.web.deps import ActorDep, EngineDep

__all__ = ["router"]

_ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorOut} for s in (400, 403, 404, 422)
}
router = APIRouter(prefix="/api/v1", tags=["pilots"], responses=_ERRORS)


@router.get(
    "/registry.jsonl",
    summary="The whole pilot registry, one JSON entry per line (verify with `tillit registry verify`)",
    response_class=Response,
    responses={200: {"content": {"application/x-ndjson": {}}}},
)
def registry(engine: EngineDep) -> Response:
    """All registry entries in chain order (public)."""
    return Response(
        ps.registry_jsonl(engine),
        media_type="application/x-ndjson; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="registry.jsonl"'},
    )


@router.get("/pilots", summary="Pilots the caller may see")
def pilots(engine: EngineDep, actor: ActorDep) -> list[dict[str, Any]]:
    """Registered and concluded pilots, plus drafts the caller may see."""
    return [p.to_dict() for p in ps.list_pilots(engine, actor)]


@router.get(
    "/pilots/{code}", summary="One pilot with its registry entries and outcome origins"
)
def pilot(engine: EngineDep, actor: ActorDep, code: str) -> dict[str, Any]:
    """The pilot document, its registry entries and whether each outcome was pre-registered."""
    info = ps.pilot_versions(engine, actor, code[:40])
    return {
        **info["pilot"].to_dict(),
        "entries": info["entries"],
        "outcome_origins": info["origins"],
    }
