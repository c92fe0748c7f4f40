"""Trust barometer API: rounds and disclosure-controlled results (never free text)."""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Query

from tillit.core.results import jsonable
from tillit.services import survey_results as sr
from tillit.services import surveys as sv
from tillit.web.api.models import ErrorOut
from tillit.web.deps import ActorDep, EngineDep

__all__ = ["router"]

_ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorOut} for s in (400, 403, 404, 409, 422)
}
router = APIRouter(prefix="/api/v1", tags=["surveys"], responses=_ERRORS)

_COLS = [
    "group",
    "scale",
    "n",
    "mean",
    "sd",
    "se",
    "ci_low",
    "ci_high",
    "suppressed",
    "reason",
]


def _rows(t: pd.DataFrame) -> list[dict[str, Any]]:
    if t is None or not len(t):
        return []
    out = t[[c for c in _COLS if c in t.columns]].astype(object)
    out = out.where(pd.notna(out), None)
    return jsonable(out.to_dict(orient="records"))  # type: ignore[no-any-return]


@router.get("/surveys", summary="Survey rounds (public: no answers)")
def rounds(engine: EngineDep, actor: ActorDep) -> list[dict[str, Any]]:
    """Every round with its organisation, period, audience, threshold and status."""
    return [r.to_dict() for r in sv.list_rounds(engine, actor)]


@router.get(
    "/surveys/{code}/results",
    summary="Released indices of a closed round: total, by unit, by staff group",
)
def results(engine: EngineDep, actor: ActorDep, code: str) -> dict[str, Any]:
    """Indices with 95% CIs; groups under the threshold or refused by the release audit
    have ``suppressed: true``, no values and no ``n``."""
    res = sr.results(engine, actor, code[:40])
    return {
        **res["round"].to_dict(),
        "total": _rows(res["total"]),
        "by_unit": _rows(res["unit"]),
        "by_staff_group": _rows(res["staff_group"]),
    }


@router.get(
    "/surveys/{code}/query",
    summary="Indices for a unit and/or staff group filter (audited against differencing)",
)
def query(
    engine: EngineDep,
    actor: ActorDep,
    code: str,
    unit: Annotated[str | None, Query(max_length=40)] = None,
    staff_group: Annotated[str | None, Query(max_length=60)] = None,
) -> dict[str, Any]:
    """One filtered group; refused (suppressed) when it is small or when it differs from
    an earlier released group by fewer than ``k`` respondents."""
    q = sr.query(engine, actor, code[:40], unit=unit, staff_group=staff_group)
    return {
        **q["round"].to_dict(),
        "unit": unit,
        "staff_group": staff_group,
        "rows": _rows(q["table"]),
    }
