"""Burden inventories: who may read and change them, the template upload, edits.

Inventories of reporting requirements belong to one organisation. Members import or
edit inventories of their own organisation, administrators of any; members read their
own, researchers and administrators all; the public reads none
(:func:`tillit.domain.access.can_read_inventory`).  An import is validated in full
(template columns, numbers, demanders, and that every linked indicator exists in the
store) before one transaction writes it, so a bad file writes nothing.
"""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import pandas as pd

from tillit.core.audit import validate_inventory
from tillit.core.errors import Conflict, DataError, NotFound, PermissionDenied
from tillit.domain import access
from tillit.domain.records import Actor
from tillit.store import audit as repo
from tillit.store import catalog as catalog_repo
from tillit.store.db import Connection, Engine, read_transaction, write_transaction

__all__ = [
    "MAX_BYTES",
    "MAX_ROWS",
    "Inventory",
    "delete_requirement",
    "get_inventory",
    "import_inventory",
    "list_inventories",
    "own_organisation_code",
    "read_template",
    "save_requirement",
    "set_staff",
]

MAX_BYTES = 5_000_000
MAX_ROWS = 20_000


@dataclass(frozen=True)
class Inventory:
    """An inventory's metadata."""

    id: int
    organisation_id: int
    organisation_code: str
    organisation_name: str
    label: str
    inventory_date: str
    version: int
    is_demo: bool
    n_requirements: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Stable JSON keys."""
        return asdict(self)


def _inventory(row: repo.InventoryRow) -> Inventory:
    return Inventory(**asdict(row))


def list_inventories(engine: Engine, actor: Actor) -> list[Inventory]:
    """The inventories ``actor`` may read, by organisation and newest first."""
    if access.is_public(actor):
        return []
    own = actor.organisation_id if access.is_member(actor) else None
    if access.is_member(actor) and own is None:
        return []
    with read_transaction(engine) as conn:
        return [_inventory(r) for r in repo.list_inventories(conn, organisation_id=own)]


def get_inventory(
    conn: Connection, actor: Actor, inventory_id: int, *, write: bool
) -> Inventory:
    """One inventory the actor may read (or, with ``write``, change)."""
    if not 0 < inventory_id < 2**31:
        raise NotFound(f"no inventory {inventory_id}")
    row = repo.inventory(conn, inventory_id)
    if row is None:
        raise NotFound(f"no inventory {inventory_id}")
    if access.is_public(actor):
        raise PermissionDenied("sign in to see burden inventories")
    ok = (
        access.can_write_for(actor, row.organisation_id)
        if write
        else access.can_read_inventory(actor, row.organisation_id)
    )
    if not ok:
        raise PermissionDenied(
            f"you may not {'change' if write else 'see'} the inventories of "
            f"{row.organisation_code}"
        )
    return _inventory(row)


def own_organisation_code(engine: Engine, actor: Actor) -> str:
    """The code of the member's own organisation (for forms that default to it)."""
    if not access.is_member(actor) or actor.organisation_id is None:
        raise PermissionDenied("only members and administrators import inventories")
    with read_transaction(engine) as conn:
        code = repo.organisation_code(conn, actor.organisation_id)
    if code is None:
        raise NotFound("your organisation is not in the store")
    return code


def read_template(data: bytes, filename: str) -> pd.DataFrame:
    """Parse an uploaded CSV or ``.xlsx`` template and validate every row.

    Raises
    ------
    DataError
        Naming the file, the 1-based data row and the field of the first bad cell.
    """
    name = filename or "upload.csv"
    if not data:
        raise DataError("the file is empty", file=name)
    if len(data) > MAX_BYTES:
        raise DataError(
            f"the file is larger than {MAX_BYTES // 1_000_000} MB", file=name
        )
    try:
        if name.lower().endswith((".xlsx", ".xls")):
            raw = pd.read_excel(io.BytesIO(data), dtype=str, keep_default_na=False)
        else:
            text = data.decode("utf-8-sig")
            raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text ({exc.reason})", file=name) from exc
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise DataError(f"not a readable CSV or Excel file: {exc}", file=name) from exc
    if len(raw) > MAX_ROWS:
        raise DataError(f"more than {MAX_ROWS} rows", file=name)
    return validate_inventory(raw, source=name)


def _check_links(conn: Connection, inv: pd.DataFrame, source: str) -> None:
    """Every linked indicator must exist in the store (error names row and field)."""
    known = catalog_repo.indicator_ids(
        conn, {x for ids in inv["indicator_ids"] for x in ids}
    )
    for i, ids in enumerate(inv["indicator_ids"]):
        bad = [x for x in ids if x not in known]
        if bad:
            raise DataError(
                f"unknown indicator id {bad[0]!r} (not in the store)",
                file=source,
                row=i + 1,
                field="indicator_ids",
            )


def _checked_label_and_date(label: str, inventory_date: str) -> tuple[str, str]:
    label, inventory_date = label.strip(), inventory_date.strip()
    if not label or len(label) > 200:
        raise DataError("give the inventory a label (1-200 characters)", field="label")
    try:
        ok = len(inventory_date) == 10 and bool(date.fromisoformat(inventory_date))
    except ValueError:
        ok = False
    if not ok:
        raise DataError("the date must be YYYY-MM-DD", field="inventory_date")
    return label, inventory_date


def import_inventory(
    engine: Engine,
    actor: Actor,
    organisation_code: str,
    label: str,
    inventory_date: str,
    data: bytes | None,
    filename: str,
    *,
    is_demo: bool = False,
) -> Inventory:
    """Create an inventory from an uploaded template (``data`` None: empty); all or nothing.

    Raises
    ------
    PermissionDenied
        The actor may not write for the organisation.
    DataError
        A bad label, date or template cell (row and field named); nothing is written.
    Conflict
        The organisation already has an inventory with this label.
    """
    label, inventory_date = _checked_label_and_date(label, inventory_date)
    inv = read_template(data, filename) if data is not None else None
    with write_transaction(engine) as conn:
        org = repo.organisation(conn, organisation_code.strip())
        if org is None:
            raise NotFound(f"no organisation with code {organisation_code!r}")
        if not access.can_write_for(actor, org[0]):
            raise PermissionDenied(
                f"you may not import inventories for {organisation_code}"
            )
        if inv is not None:
            _check_links(conn, inv, filename)
        if repo.inventory_named(conn, org[0], label) is not None:
            raise Conflict(f"{organisation_code} already has an inventory {label!r}")
        inv_id = repo.insert_inventory(
            conn,
            organisation_id=org[0],
            label=label,
            inventory_date=inventory_date,
            source=filename[:400],
            is_demo=is_demo,
            user_id=actor.user_id,
        )
        if inv is not None:
            repo.insert_requirements(conn, inv_id, inv)
        return get_inventory(conn, actor, inv_id, write=True)


def _own_requirement(conn: Connection, inventory_id: int, pk: int) -> None:
    if not 0 < pk < 2**31 or repo.find_requirement(conn, inventory_id, pk=pk) is None:
        raise NotFound(f"no requirement {pk} in inventory {inventory_id}")


def save_requirement(
    engine: Engine,
    actor: Actor,
    inventory_id: int,
    fields: dict[str, str],
    pk: int | None = None,
) -> None:
    """Add a requirement (``pk`` None) or replace one, from form fields (validated)."""
    raw = pd.DataFrame([{k: str(v) for k, v in fields.items()}])
    inv = validate_inventory(raw, source="form")
    with write_transaction(engine) as conn:
        get_inventory(conn, actor, inventory_id, write=True)
        _check_links(conn, inv, "form")
        rid = str(inv["requirement_id"].iloc[0])
        clash = repo.find_requirement(conn, inventory_id, rid=rid)
        if clash is not None and clash != pk:
            raise DataError(
                f"duplicate requirement id {rid!r}",
                file="form",
                row=1,
                field="requirement_id",
            )
        if pk is not None:
            _own_requirement(conn, inventory_id, pk)
            repo.delete_requirement(conn, pk)
        repo.insert_requirements(conn, inventory_id, inv)
        repo.bump_version(conn, inventory_id)


def delete_requirement(
    engine: Engine, actor: Actor, inventory_id: int, pk: int
) -> None:
    """Remove one requirement from an inventory."""
    with write_transaction(engine) as conn:
        get_inventory(conn, actor, inventory_id, write=True)
        _own_requirement(conn, inventory_id, pk)
        repo.delete_requirement(conn, pk)
        repo.bump_version(conn, inventory_id)


def _staff_rows(text: str) -> list[dict[str, Any]]:
    """Validated rows of a ``staff_group,employees[,unit]`` CSV text."""
    try:
        df = pd.read_csv(io.StringIO(text.strip()), dtype=str, keep_default_na=False)
    except (ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"not readable CSV: {exc}", file="staff") from exc
    df = df.rename(columns=lambda c: str(c).strip().lower())
    for col in ("staff_group", "employees"):
        if col not in df.columns:
            raise DataError(
                "the staff table needs the columns staff_group,employees[,unit]",
                file="staff",
                field=col,
            )
    rows = []
    for i, r in enumerate(df.to_dict(orient="records"), start=1):
        grp = str(r["staff_group"]).strip()
        emp = pd.to_numeric(str(r["employees"]).replace(",", "."), errors="coerce")
        if not grp:
            raise DataError(
                "must not be empty", file="staff", row=i, field="staff_group"
            )
        if not (pd.notna(emp) and 0 < float(emp) < 1e7):
            raise DataError(
                f"must be a positive number (got {r['employees']!r})",
                file="staff",
                row=i,
                field="employees",
            )
        unit = str(r.get("unit", "") or "").strip()
        rows.append({"staff_group": grp, "unit": unit, "employees": float(emp)})
    return rows


def set_staff(engine: Engine, actor: Actor, inventory_id: int, text: str) -> int:
    """Replace the staff table from CSV text ``staff_group,employees[,unit]``."""
    rows = _staff_rows(text)
    with write_transaction(engine) as conn:
        get_inventory(conn, actor, inventory_id, write=True)
        repo.replace_staff(conn, inventory_id, rows)
        repo.bump_version(conn, inventory_id)
    return len(rows)
