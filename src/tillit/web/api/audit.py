"""Burden ledger and signal audit API (issue 6): inventories, ledgers, audit reports."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from tillit.core.results import jsonable
from tillit.services import audit as au
from tillit.web.api.models import ErrorOut
from tillit.web.deps import ActorDep, EngineDep

__all__ = ["router"]

_ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorOut} for s in (400, 403, 404, 409, 422)
}
router = APIRouter(prefix="/api/v1", tags=["audit"], responses=_ERRORS)
Id = Annotated[int, Path(ge=1, le=2_147_483_647)]
QId = Annotated[int, Query(ge=1, le=2_147_483_647)]


@router.get("/burden/inventories", summary="Burden inventories the caller may read")
def inventories(engine: EngineDep, actor: ActorDep) -> list[dict[str, Any]]:
    """Members see their organisation's, researchers and administrators all, public none."""
    return [i.to_dict() for i in au.list_inventories(engine, actor)]


@router.get(
    "/burden/inventories/{inventory_id}",
    summary="One inventory's ledger: totals, requirements, breakdowns, per employee",
)
def ledger(engine: EngineDep, actor: ActorDep, inventory_id: Id) -> dict[str, Any]:
    """Hours and cost per year (Standard Cost Model) per requirement and group."""
    view = au.ledger_view(engine, actor, inventory_id)
    view["inventory"] = view["inventory"].to_dict()
    return jsonable(view)  # type: ignore[no-any-return]


@router.get(
    "/burden/compare",
    summary="The change between two inventories (matched on requirement_id)",
)
def compare(engine: EngineDep, actor: ActorDep, old: QId, new: QId) -> dict[str, Any]:
    """Counts, deltas and one row per requirement (added, removed, changed, unchanged)."""
    a, b, change = au.compare_inventories(engine, actor, old, new)
    return jsonable(  # type: ignore[no-any-return]
        {"old": a.to_dict(), "new": b.to_dict(), **change.to_dict()}
    )


@router.get("/audit", summary="Signal audit of indicators on the stored panel")
def audit(
    engine: EngineDep,
    actor: ActorDep,
    indicator: Annotated[list[str] | None, Query(max_length=64)] = None,
    area: Annotated[str | None, Query(max_length=200)] = None,
    criterion: Annotated[list[str] | None, Query(max_length=64)] = None,
    target: Annotated[list[str] | None, Query(max_length=64)] = None,
    inventory: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    threshold: Annotated[float, Query(ge=0.3, le=0.999)] = 0.8,
    min_icc: Annotated[float, Query(ge=0.0, le=0.9)] = 0.2,
    min_unique: Annotated[float, Query(ge=0.0, le=0.9)] = 0.2,
) -> dict[str, Any]:
    """Recommendations, redundant pairs, validity, gaming and gaps (the CLI's JSON)."""
    rep = au.run_audit(
        engine, actor, indicators_=indicator, area=area, criteria=criterion,
        targets=target, inventory_id=inventory, threshold=threshold,
        min_icc=min_icc, min_unique=min_unique,
    )  # fmt: skip
    doc = {k: v for k, v in rep.document.items() if k != "figures"}
    return {**doc, "cached": rep.cached, "seconds": rep.seconds}
