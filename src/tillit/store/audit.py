"""Burden ledger and signal-audit SQL: inventories, requirements, staff, cached reports,
and the indicator panel the audit reads.

The requirement columns are the template's (:data:`tillit.core.audit.STORED_COLUMNS`),
the one schema of the burden inventory.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Connection, delete, func, insert, select, update

from tillit.core.audit import STORED_COLUMNS
from tillit.store.tables import (
    audit_reports,
    burden_inventories,
    burden_requirement_indicators,
    burden_requirements,
    burden_staff,
    indicators,
    observations,
    organisations,
)

__all__ = [
    "InventoryRow",
    "bump_version",
    "cached_report",
    "delete_requirement",
    "find_requirement",
    "indicator_catalogue",
    "insert_inventory",
    "insert_requirements",
    "inventory",
    "inventory_labels",
    "inventory_named",
    "list_inventories",
    "municipality_panel",
    "organisation",
    "organisation_code",
    "replace_staff",
    "requirements",
    "staff",
    "store_report",
]

KEEP_REPORTS = 20


@dataclass(frozen=True)
class InventoryRow:
    """An inventory's metadata as stored (with its number of requirements)."""

    id: int
    organisation_id: int
    organisation_code: str
    organisation_name: str
    label: str
    inventory_date: str
    version: int
    is_demo: bool
    n_requirements: int = 0


def _inventory_select() -> Any:
    n = (
        select(func.count())
        .where(burden_requirements.c.inventory_id == burden_inventories.c.id)
        .scalar_subquery()
    )
    inv = burden_inventories.c
    return select(
        inv.id,
        inv.organisation_id,
        organisations.c.code,
        organisations.c.name,
        inv.label,
        inv.inventory_date,
        inv.version,
        inv.is_demo,
        n,
    ).join(organisations, organisations.c.id == inv.organisation_id)


def _row(r: Any) -> InventoryRow:
    return InventoryRow(
        int(r[0]),
        int(r[1]),
        str(r[2]),
        str(r[3]),
        str(r[4]),
        str(r[5]),
        int(r[6]),
        bool(r[7]),
        int(r[8] or 0),
    )


# --- organisations --------------------------------------------------------------------


def organisation(conn: Connection, code: str) -> tuple[int, str] | None:
    """``(id, name)`` of the organisation with ``code``, or None."""
    row = conn.execute(
        select(organisations.c.id, organisations.c.name).where(
            organisations.c.code == code
        )
    ).first()
    return None if row is None else (int(row[0]), str(row[1]))


def organisation_code(conn: Connection, organisation_id: int) -> str | None:
    """The code of an organisation id, or None."""
    code = conn.execute(
        select(organisations.c.code).where(organisations.c.id == organisation_id)
    ).scalar()
    return None if code is None else str(code)


# --- inventories ----------------------------------------------------------------------


def list_inventories(
    conn: Connection, *, organisation_id: int | None = None
) -> list[InventoryRow]:
    """Inventories by organisation code, newest first (of one organisation)."""
    stmt = _inventory_select().order_by(
        organisations.c.code, burden_inventories.c.inventory_date.desc()
    )
    if organisation_id is not None:
        stmt = stmt.where(burden_inventories.c.organisation_id == organisation_id)
    return [_row(r) for r in conn.execute(stmt)]


def inventory(conn: Connection, inventory_id: int) -> InventoryRow | None:
    """One inventory, or None."""
    row = conn.execute(
        _inventory_select().where(burden_inventories.c.id == inventory_id)
    ).first()
    return None if row is None else _row(row)


def inventory_named(conn: Connection, organisation_id: int, label: str) -> int | None:
    """The id of the organisation's inventory with this label, or None."""
    found = conn.execute(
        select(burden_inventories.c.id).where(
            burden_inventories.c.organisation_id == organisation_id,
            burden_inventories.c.label == label,
        )
    ).scalar()
    return None if found is None else int(found)


def inventory_labels(conn: Connection) -> set[tuple[str, str]]:
    """Every (organisation code, inventory label) pair."""
    rows = conn.execute(
        select(organisations.c.code, burden_inventories.c.label).join(
            organisations, organisations.c.id == burden_inventories.c.organisation_id
        )
    )
    return {(str(c), str(lab)) for c, lab in rows}


def insert_inventory(conn: Connection, **values: Any) -> int:
    """Record an inventory (columns of ``burden_inventories``); returns its id."""
    return int(
        conn.execute(
            insert(burden_inventories)
            .values(**values)
            .returning(burden_inventories.c.id)
        ).scalar_one()
    )


def bump_version(conn: Connection, inventory_id: int) -> None:
    """A change to the inventory: its version (part of the audit cache key) goes up."""
    conn.execute(
        update(burden_inventories)
        .where(burden_inventories.c.id == inventory_id)
        .values(version=burden_inventories.c.version + 1)
    )


# --- requirements and staff -----------------------------------------------------------


def insert_requirements(conn: Connection, inventory_id: int, inv: pd.DataFrame) -> None:
    """Write validated template rows and their indicator links."""
    rows = [
        {"inventory_id": inventory_id, **{c: r[c] for c in STORED_COLUMNS}}
        for r in inv.to_dict(orient="records")
    ]
    if not rows:
        return
    conn.execute(insert(burden_requirements), rows)
    pks = dict(
        conn.execute(
            select(
                burden_requirements.c.requirement_id, burden_requirements.c.id
            ).where(burden_requirements.c.inventory_id == inventory_id)
        ).all()
    )
    links = [
        {"requirement_pk": pks[rid], "indicator_id": ind, "position": k}
        for rid, ids in zip(inv["requirement_id"], inv["indicator_ids"], strict=True)
        for k, ind in enumerate(ids)
    ]
    if links:
        conn.execute(insert(burden_requirement_indicators), links)


def find_requirement(
    conn: Connection,
    inventory_id: int,
    *,
    pk: int | None = None,
    rid: str | None = None,
) -> int | None:
    """The primary key of a requirement of the inventory (by pk or requirement id)."""
    stmt = select(burden_requirements.c.id).where(
        burden_requirements.c.inventory_id == inventory_id
    )
    if pk is not None:
        stmt = stmt.where(burden_requirements.c.id == pk)
    if rid is not None:
        stmt = stmt.where(burden_requirements.c.requirement_id == rid)
    found = conn.execute(stmt).scalar()
    return None if found is None else int(found)


def delete_requirement(conn: Connection, pk: int) -> None:
    """Remove one requirement (its indicator links go with it)."""
    conn.execute(delete(burden_requirements).where(burden_requirements.c.id == pk))


def requirements(conn: Connection, inventory_id: int) -> pd.DataFrame:
    """The inventory's requirements: ``pk``, :data:`STORED_COLUMNS` and
    ``indicator_ids`` (``;``-joined), by requirement id."""
    req = pd.DataFrame(
        conn.execute(
            select(
                burden_requirements.c.id,
                *[burden_requirements.c[c] for c in STORED_COLUMNS],
            )
            .where(burden_requirements.c.inventory_id == inventory_id)
            .order_by(burden_requirements.c.requirement_id)
        ).all(),
        columns=["pk", *STORED_COLUMNS],
    )
    links = conn.execute(
        select(
            burden_requirement_indicators.c.requirement_pk,
            burden_requirement_indicators.c.indicator_id,
        )
        .join(
            burden_requirements,
            burden_requirements.c.id == burden_requirement_indicators.c.requirement_pk,
        )
        .where(burden_requirements.c.inventory_id == inventory_id)
        .order_by(burden_requirement_indicators.c.position)
    ).all()
    by_pk: dict[int, list[str]] = {}
    for pk, ind in links:
        by_pk.setdefault(int(pk), []).append(str(ind))
    req["indicator_ids"] = [";".join(by_pk.get(int(p), [])) for p in req["pk"]]
    return req


def staff(conn: Connection, inventory_id: int) -> pd.DataFrame:
    """Employees per staff group (and unit): ``staff_group, employees, unit``."""
    rows = conn.execute(
        select(
            burden_staff.c.staff_group, burden_staff.c.employees, burden_staff.c.unit
        ).where(burden_staff.c.inventory_id == inventory_id)
    ).all()
    return pd.DataFrame(rows, columns=["staff_group", "employees", "unit"])


def replace_staff(
    conn: Connection, inventory_id: int, rows: Sequence[dict[str, Any]]
) -> None:
    """Replace the inventory's staff table."""
    conn.execute(
        delete(burden_staff).where(burden_staff.c.inventory_id == inventory_id)
    )
    if rows:
        conn.execute(
            insert(burden_staff), [{"inventory_id": inventory_id, **r} for r in rows]
        )


# --- the signal audit -----------------------------------------------------------------


def indicator_catalogue(conn: Connection) -> pd.DataFrame:
    """Every indicator: ``id, title, area, is_public, is_demo``, by area and id."""
    i = indicators.c
    rows = conn.execute(
        select(i.id, i.title, i.area, i.is_public, i.is_demo).order_by(i.area, i.id)
    ).all()
    return pd.DataFrame(rows, columns=["id", "title", "area", "is_public", "is_demo"])


def municipality_panel(conn: Connection, ids: Sequence[str]) -> pd.DataFrame:
    """Yearly municipality values of ``ids`` (whole organisation, gender ``T``):
    ``indicator, unit, year, value`` (missing values left out)."""
    o = observations.c
    rows = conn.execute(
        select(o.indicator_id, organisations.c.code, o.year, o.value)
        .join(organisations, organisations.c.id == o.organisation_id)
        .where(
            o.indicator_id.in_(list(ids)),
            o.unit_id == 0,
            o.month == 0,
            o.gender == "T",
            organisations.c.kind == "municipality",
            o.value.is_not(None),
        )
    ).all()
    return pd.DataFrame(rows, columns=["indicator", "unit", "year", "value"])


def cached_report(
    conn: Connection, organisation_id: int, key: str
) -> tuple[dict[str, Any], str, float] | None:
    """A stored report: ``(document, csv, seconds)``, or None."""
    hit = conn.execute(
        select(
            audit_reports.c.document, audit_reports.c.csv, audit_reports.c.seconds
        ).where(
            audit_reports.c.organisation_id == organisation_id,
            audit_reports.c.key == key,
        )
    ).first()
    if hit is None:
        return None
    return json.loads(hit[0]), str(hit[1]), float(hit[2])


def store_report(
    conn: Connection,
    organisation_id: int,
    key: str,
    document: dict[str, Any],
    csv: str,
    seconds: float,
) -> None:
    """Keep a report (the newest :data:`KEEP_REPORTS` per organisation)."""
    r = audit_reports.c
    conn.execute(
        delete(audit_reports).where(r.organisation_id == organisation_id, r.key == key)
    )
    conn.execute(
        insert(audit_reports).values(
            organisation_id=organisation_id,
            key=key,
            document=json.dumps(document),
            csv=csv,
            seconds=seconds,
        )
    )
    mine = select(r.id).where(r.organisation_id == organisation_id)
    keep = mine.order_by(r.id.desc()).limit(KEEP_REPORTS)
    conn.execute(
        delete(audit_reports).where(
            r.organisation_id == organisation_id, r.id.not_in(keep.scalar_subquery())
        )
    )
