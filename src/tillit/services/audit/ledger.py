"""Ledger views of burden inventories: totals, largest, breakdowns, per employee,
and the change between two inventories (Standard Cost Model, :mod:`tillit.core.audit`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from tillit.core.audit import Ledger, LedgerChange
from tillit.core.errors import DataError
from tillit.core.results import jsonable
from tillit.domain import access
from tillit.domain.records import Actor
from tillit.services.audit.inventories import Inventory, get_inventory
from tillit.store import audit as repo
from tillit.store.db import Connection, Engine, read_transaction

__all__ = ["compare_inventories", "inventory_ledger", "ledger_of", "ledger_view"]

BREAKDOWNS = ("demanded_by", "staff_group", "unit", "dimension")


def ledger_of(conn: Connection, inv: Inventory) -> tuple[Ledger | None, pd.DataFrame]:
    """The inventory's :class:`Ledger` (None when empty) and its staff table."""
    req = repo.requirements(conn, inv.id)
    staff = repo.staff(conn, inv.id)
    if req.empty:
        return None, staff
    req["inventory"] = inv.label
    led = Ledger.from_frame(req.drop(columns="pk"), source=inv.label)
    led.requirements["pk"] = req["pk"].to_numpy()
    return led, staff


def inventory_ledger(engine: Engine, actor: Actor, inventory_id: int) -> Ledger | None:
    """The :class:`~tillit.core.audit.Ledger` of an inventory (None when it is empty)."""
    with read_transaction(engine) as conn:
        inv = get_inventory(conn, actor, inventory_id, write=False)
        return ledger_of(conn, inv)[0]


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    out = df.reset_index() if df.index.name else df
    return jsonable(out.to_dict(orient="records"))  # type: ignore[no-any-return]


def ledger_view(
    engine: Engine, actor: Actor, inventory_id: int, top: int = 15
) -> dict[str, Any]:
    """Everything the inventory page shows: totals, largest, breakdowns, per employee."""
    with read_transaction(engine) as conn:
        inv = get_inventory(conn, actor, inventory_id, write=False)
        led, staff = ledger_of(conn, inv)
    out: dict[str, Any] = {
        "inventory": inv,
        "can_write": access.can_write_for(actor, inv.organisation_id),
        "staff": _records(staff),
    }
    if led is None:
        return {
            **out,
            "empty": True,
            "requirements": [],
            "total_hours": 0.0,
            "total_cost": 0.0,
        }
    req = led.requirements.copy()
    req["indicator_ids"] = [";".join(t) for t in req["indicator_ids"]]
    out.update(
        empty=False,
        total_hours=led.total_hours,
        total_cost=led.total_cost,
        requirements=_records(req.sort_values("hours_per_year", ascending=False)),
        largest=_records(led.largest(top)),
        by={k: _records(led.by(k)) for k in BREAKDOWNS},
    )
    out["per_employee"] = (
        _records(led.per_employee(staff[["staff_group", "employees"]]))
        if len(staff)
        else []
    )
    return out


def compare_inventories(
    engine: Engine, actor: Actor, old_id: int, new_id: int
) -> tuple[Inventory, Inventory, LedgerChange]:
    """The change between two readable inventories (matched on ``requirement_id``)."""
    with read_transaction(engine) as conn:
        a = get_inventory(conn, actor, old_id, write=False)
        b = get_inventory(conn, actor, new_id, write=False)
        la, lb = ledger_of(conn, a)[0], ledger_of(conn, b)[0]
    if la is None or lb is None:
        raise DataError("both inventories need at least one requirement to compare")
    la = Ledger(la.requirements.drop(columns=["pk"]), la.source)
    lb = Ledger(lb.requirements.drop(columns=["pk"]), lb.source)
    return a, b, la.compare(lb)
