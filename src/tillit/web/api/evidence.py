"""Evaluation and evidence API: a pilot's results, meta-analysis, gap map, what works."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from tillit.services import evaluation as ev
from tillit.services import evidence as evd
from tillit.services import pilots as ps
from tillit.web.api.models import ErrorOut
from tillit.web.deps import ActorDep, EngineDep

__all__ = ["router"]

_ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorOut} for s in (400, 403, 404, 422)
}
router = APIRouter(prefix="/api/v1", tags=["evidence"], responses=_ERRORS)


@router.get("/pilots/{code}/results", summary="A pilot's latest result and job status")
def pilot_results(engine: EngineDep, actor: ActorDep, code: str) -> dict[str, Any]:
    """Latest snapshot (estimates, series, diagnostics, verdicts) and the latest job."""
    pilot = ps.get_pilot(engine, actor, code[:40])  # checks visibility
    snap = ev.latest_snapshot(engine, pilot.code)
    job = ev.job_status(engine, pilot.code)
    if job is not None:
        job = {k: (v.isoformat() if hasattr(v, "isoformat") else v)
               for k, v in job.items()}  # fmt: skip
    return {
        "pilot": pilot.code,
        "job": job,
        "snapshots": len(ev.snapshots(engine, pilot.code)),
        "result": None if snap is None else snap["result"],
    }


@router.get(
    "/evidence/gap-map", summary="Evidence gap map: kinds of change x outcome areas"
)
def gap_map(engine: EngineDep) -> dict[str, Any]:
    """Each cell: status (strong, mixed, missing), number of pilots, outcomes."""
    return evd.gap_map(engine)


@router.get(
    "/evidence/meta", summary="Random-effects meta-analysis of comparable pilots"
)
def meta(engine: EngineDep, indicator: str, kind: str | None = None) -> dict[str, Any]:
    """REML with Hartung-Knapp; without ``kind`` every kind of change is pooled."""
    return evd.meta_for(engine, kind or None, indicator[:32])


@router.get("/evidence/what-works/{kind}", summary="What works for one kind of change")
def what_works(engine: EngineDep, kind: str) -> dict[str, Any]:
    """Pooled evidence per outcome, good examples and their preconditions."""
    return evd.what_works(engine, kind[:40])
