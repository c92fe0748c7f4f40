"""Burden ledger and signal audit in the platform (issue 6): inventories, views, audits.

Inventories of reporting requirements belong to one organisation. Members import or edit
inventories of their own organisation, administrators of any; members read their own,
researchers and administrators all; the public reads none. An import is validated in
full (template columns, numbers, demanders, and that every linked indicator exists in the
store) before one transaction writes it, so a bad file writes nothing.

The signal audit reads the indicator panel from the store (municipalities x years, whole
organisation, gender ``T``), runs :func:`tillit.core.audit.audit_signals` and keeps the
last report per organisation and request in ``audit_reports`` (the key includes the
inventory's version and the newest import batch, so new data gives a new report).
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from tillit.core.audit import (
    Ledger,
    LedgerChange,
    audit_signals,
    parse_target,
    validate_inventory,
)
from tillit.core.audit.panel import IndicatorPanel
from tillit.core.audit.report import _heatmap, _histogram, _icc_plot, _scatter
from tillit.core.errors import Conflict, DataError, NotFound, PermissionDenied
from tillit.core.results import jsonable
from tillit.domain import access
from tillit.domain.demo.inventory import demo_inventories
from tillit.domain.records import Actor
from tillit.store.db import write_transaction
from tillit.store.tables import (
    audit_reports,
    burden_inventories,
    burden_requirement_indicators,
    burden_requirements,
    burden_staff,
    import_batches,
    indicators,
    observations,
    organisations,
)

__all__ = [
    "AuditReport",
    "Inventory",
    "compare_inventories",
    "delete_requirement",
    "import_inventory",
    "indicator_areas",
    "inventory_ledger",
    "ledger_view",
    "list_inventories",
    "load_demo_inventories",
    "read_template",
    "run_audit",
    "save_requirement",
    "set_staff",
]

MAX_BYTES = 5_000_000
MAX_ROWS = 20_000
_REQ_COLS = (
    "requirement_id",
    "title",
    "demanded_by",
    "staff_group",
    "unit",
    "frequency_per_year",
    "minutes_per_occurrence",
    "reporters",
    "hourly_cost_sek",
    "dimension",
)


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
        return dict(self.__dict__)


@dataclass(frozen=True)
class AuditReport:
    """A signal-audit report: the page document, the CSV and the self-contained HTML."""

    document: dict[str, Any]
    csv: str
    html: str
    seconds: float
    cached: bool


# --- permissions and lookups -------------------------------------------------------------


def _org(conn: Connection, code: str) -> tuple[int, str]:
    row = conn.execute(
        select(organisations.c.id, organisations.c.name).where(
            organisations.c.code == code.strip()
        )
    ).first()
    if row is None:
        raise NotFound(f"no organisation with code {code!r}")
    return int(row[0]), str(row[1])


def _inventory_select() -> Any:
    n = (
        select(func.count())
        .where(burden_requirements.c.inventory_id == burden_inventories.c.id)
        .scalar_subquery()
    )
    return select(
        burden_inventories.c.id,
        burden_inventories.c.organisation_id,
        organisations.c.code,
        organisations.c.name,
        burden_inventories.c.label,
        burden_inventories.c.inventory_date,
        burden_inventories.c.version,
        burden_inventories.c.is_demo,
        n,
    ).join(organisations, organisations.c.id == burden_inventories.c.organisation_id)


def _inv(row: Any) -> Inventory:
    return Inventory(
        int(row[0]), int(row[1]), str(row[2]), str(row[3]), str(row[4]), str(row[5]),
        int(row[6]), bool(row[7]), int(row[8] or 0),
    )  # fmt: skip


def list_inventories(engine: Engine, actor: Actor) -> list[Inventory]:
    """The inventories ``actor`` may read, newest first."""
    if access.is_public(actor):
        return []
    stmt = _inventory_select().order_by(
        organisations.c.code, burden_inventories.c.inventory_date.desc()
    )
    if access.is_member(actor):
        stmt = stmt.where(burden_inventories.c.organisation_id == actor.organisation_id)
    with engine.connect() as conn:
        return [_inv(r) for r in conn.execute(stmt)]


def _get(conn: Connection, actor: Actor, inventory_id: int, write: bool) -> Inventory:
    if not 0 < inventory_id < 2**31:
        raise NotFound(f"no inventory {inventory_id}")
    row = conn.execute(
        _inventory_select().where(burden_inventories.c.id == inventory_id)
    ).first()
    if row is None:
        raise NotFound(f"no inventory {inventory_id}")
    inv = _inv(row)
    if access.is_public(actor):
        raise PermissionDenied("sign in to see burden inventories")
    ok = (
        actor.can_write_for(inv.organisation_id)
        if write
        else access.can_read_inventory(actor, inv.organisation_id)
    )
    if not ok:
        raise PermissionDenied(
            f"you may not {'change' if write else 'see'} the inventories of "
            f"{inv.organisation_code}"
        )
    return inv


# --- reading the template ----------------------------------------------------------------


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
    known = set(conn.execute(select(indicators.c.id)).scalars())
    for i, ids in enumerate(inv["indicator_ids"]):
        bad = [x for x in ids if x not in known]
        if bad:
            raise DataError(
                f"unknown indicator id {bad[0]!r} (not in the store)",
                file=source,
                row=i + 1,
                field="indicator_ids",
            )


def _write_requirements(conn: Connection, inventory_id: int, inv: pd.DataFrame) -> None:
    rows = [
        {"inventory_id": inventory_id, **{c: r[c] for c in _REQ_COLS}}
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
    label, inventory_date = label.strip(), inventory_date.strip()
    if not label or len(label) > 200:
        raise DataError("give the inventory a label (1-200 characters)", field="label")
    try:
        ok = len(inventory_date) == 10 and bool(date.fromisoformat(inventory_date))
    except ValueError:
        ok = False
    if not ok:
        raise DataError("the date must be YYYY-MM-DD", field="inventory_date")
    inv = read_template(data, filename) if data is not None else None
    with write_transaction(engine) as conn:
        org_id, _name = _org(conn, organisation_code)
        if not actor.can_write_for(org_id):
            raise PermissionDenied(
                f"you may not import inventories for {organisation_code}"
            )
        if inv is not None:
            _check_links(conn, inv, filename)
        exists = conn.execute(
            select(burden_inventories.c.id).where(
                burden_inventories.c.organisation_id == org_id,
                burden_inventories.c.label == label,
            )
        ).first()
        if exists is not None:
            raise Conflict(f"{organisation_code} already has an inventory {label!r}")
        key = conn.execute(
            insert(burden_inventories).values(
                organisation_id=org_id, label=label, inventory_date=inventory_date,
                source=filename[:400], is_demo=is_demo, user_id=actor.user_id,
            )
        ).inserted_primary_key  # fmt: skip
        inv_id = int(key[0]) if key is not None else 0
        if inv is not None:
            _write_requirements(conn, int(inv_id), inv)
        return _get(conn, actor, int(inv_id), write=True)


def _bump(conn: Connection, inventory_id: int) -> None:
    conn.execute(
        update(burden_inventories)
        .where(burden_inventories.c.id == inventory_id)
        .values(version=burden_inventories.c.version + 1)
    )


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
        _get(conn, actor, inventory_id, write=True)
        _check_links(conn, inv, "form")
        rid = inv["requirement_id"].iloc[0]
        clash = conn.execute(
            select(burden_requirements.c.id).where(
                burden_requirements.c.inventory_id == inventory_id,
                burden_requirements.c.requirement_id == rid,
            )
        ).scalar()
        if clash is not None and clash != pk:
            raise DataError(
                f"duplicate requirement id {rid!r}", file="form", row=1,
                field="requirement_id",
            )  # fmt: skip
        if pk is not None:
            _own_requirement(conn, inventory_id, pk)
            conn.execute(
                delete(burden_requirements).where(burden_requirements.c.id == pk)
            )
        _write_requirements(conn, inventory_id, inv)
        _bump(conn, inventory_id)


def _own_requirement(conn: Connection, inventory_id: int, pk: int) -> None:
    if not 0 < pk < 2**31:
        raise NotFound(f"no requirement {pk} in inventory {inventory_id}")
    found = conn.execute(
        select(burden_requirements.c.id).where(
            burden_requirements.c.id == pk,
            burden_requirements.c.inventory_id == inventory_id,
        )
    ).first()
    if found is None:
        raise NotFound(f"no requirement {pk} in inventory {inventory_id}")


def delete_requirement(
    engine: Engine, actor: Actor, inventory_id: int, pk: int
) -> None:
    """Remove one requirement from an inventory."""
    with write_transaction(engine) as conn:
        _get(conn, actor, inventory_id, write=True)
        _own_requirement(conn, inventory_id, pk)
        conn.execute(delete(burden_requirements).where(burden_requirements.c.id == pk))
        _bump(conn, inventory_id)


def set_staff(engine: Engine, actor: Actor, inventory_id: int, text: str) -> int:
    """Replace the staff table from CSV text ``staff_group,employees[,unit]``."""
    try:
        df = pd.read_csv(io.StringIO(text.strip()), dtype=str, keep_default_na=False)
    except (ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"not readable CSV: {exc}", file="staff") from exc
    df = df.rename(columns=lambda c: str(c).strip().lower())
    for col in ("staff_group", "employees"):
        if col not in df.columns:
            raise DataError(
                "the staff table needs the columns staff_group,employees[,unit]",
                file="staff", field=col,
            )  # fmt: skip
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
                file="staff", row=i, field="employees",
            )  # fmt: skip
        unit = str(r.get("unit", "") or "").strip()
        rows.append(
            {"inventory_id": inventory_id, "staff_group": grp, "unit": unit,
             "employees": float(emp)}
        )  # fmt: skip
    with write_transaction(engine) as conn:
        _get(conn, actor, inventory_id, write=True)
        conn.execute(
            delete(burden_staff).where(burden_staff.c.inventory_id == inventory_id)
        )
        if rows:
            conn.execute(insert(burden_staff), rows)
        _bump(conn, inventory_id)
    return len(rows)


# --- ledger views ------------------------------------------------------------------------


def _ledger(conn: Connection, inv: Inventory) -> tuple[Ledger | None, pd.DataFrame]:
    req = pd.DataFrame(
        conn.execute(
            select(
                burden_requirements.c.id, *[burden_requirements.c[c] for c in _REQ_COLS]
            )
            .where(burden_requirements.c.inventory_id == inv.id)
            .order_by(burden_requirements.c.requirement_id)
        ).all(),
        columns=["pk", *_REQ_COLS],
    )
    links = conn.execute(
        select(burden_requirement_indicators.c.requirement_pk,
               burden_requirement_indicators.c.indicator_id)
        .join(burden_requirements,
              burden_requirements.c.id == burden_requirement_indicators.c.requirement_pk)
        .where(burden_requirements.c.inventory_id == inv.id)
        .order_by(burden_requirement_indicators.c.position)
    ).all()  # fmt: skip
    by_pk: dict[int, list[str]] = {}
    for pk, ind in links:
        by_pk.setdefault(int(pk), []).append(str(ind))
    staff = pd.DataFrame(
        conn.execute(
            select(burden_staff.c.staff_group, burden_staff.c.employees, burden_staff.c.unit)
            .where(burden_staff.c.inventory_id == inv.id)
        ).all(),
        columns=["staff_group", "employees", "unit"],
    )  # fmt: skip
    if req.empty:
        return None, staff
    req["indicator_ids"] = [";".join(by_pk.get(int(p), [])) for p in req["pk"]]
    req["inventory"] = inv.label
    led = Ledger.from_frame(req.drop(columns="pk"), source=inv.label)
    led.requirements["pk"] = req["pk"].to_numpy()
    return led, staff


def inventory_ledger(engine: Engine, actor: Actor, inventory_id: int) -> Ledger | None:
    """The :class:`~tillit.core.audit.Ledger` of an inventory (None when it is empty)."""
    with engine.connect() as conn:
        return _ledger(conn, _get(conn, actor, inventory_id, write=False))[0]


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    out = df.reset_index() if df.index.name else df
    return jsonable(out.to_dict(orient="records"))  # type: ignore[no-any-return]


def ledger_view(
    engine: Engine, actor: Actor, inventory_id: int, top: int = 15
) -> dict[str, Any]:
    """Everything the inventory page shows: totals, largest, breakdowns, per employee."""
    with engine.connect() as conn:
        inv = _get(conn, actor, inventory_id, write=False)
        led, staff = _ledger(conn, inv)
    out: dict[str, Any] = {
        "inventory": inv,
        "can_write": actor.can_write_for(inv.organisation_id),
    }
    out["staff"] = _records(staff)
    if led is None:
        return {**out, "empty": True, "requirements": [], "total_hours": 0.0,
                "total_cost": 0.0}  # fmt: skip
    req = led.requirements.copy()
    req["indicator_ids"] = [";".join(t) for t in req["indicator_ids"]]
    out.update(
        empty=False,
        total_hours=led.total_hours,
        total_cost=led.total_cost,
        requirements=_records(req.sort_values("hours_per_year", ascending=False)),
        largest=_records(led.largest(top)),
        by={k: _records(led.by(k)) for k in ("demanded_by", "staff_group", "unit", "dimension")},
    )  # fmt: skip
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
    with engine.connect() as conn:
        a, b = _get(conn, actor, old_id, False), _get(conn, actor, new_id, False)
        la, lb = _ledger(conn, a)[0], _ledger(conn, b)[0]
    if la is None or lb is None:
        raise DataError("both inventories need at least one requirement to compare")
    strip = {"pk"}
    la = Ledger(la.requirements.drop(columns=list(strip)), la.source)
    lb = Ledger(lb.requirements.drop(columns=list(strip)), lb.source)
    return a, b, la.compare(lb)


# --- signal audit on the indicator panel -------------------------------------------------


def indicator_areas(engine: Engine, actor: Actor) -> dict[str, list[tuple[str, str]]]:
    """Readable indicators with yearly municipality values, grouped by area."""
    stmt = select(indicators.c.id, indicators.c.title, indicators.c.area).order_by(
        indicators.c.area, indicators.c.id
    )
    if not actor.can_read_private():
        stmt = stmt.where(indicators.c.is_public.is_(True))
    out: dict[str, list[tuple[str, str]]] = {}
    with engine.connect() as conn:
        for iid, title, area in conn.execute(stmt):
            out.setdefault(str(area or "-"), []).append((str(iid), str(title)))
    return out


def _panel(conn: Connection, ids: list[str]) -> IndicatorPanel:
    """Municipalities x years of ``ids`` (whole organisation, gender T, yearly)."""
    rows = conn.execute(
        select(observations.c.indicator_id, organisations.c.code, observations.c.year,
               observations.c.value)
        .join(organisations, organisations.c.id == observations.c.organisation_id)
        .where(observations.c.indicator_id.in_(ids), observations.c.unit_id == 0,
               observations.c.month == 0, observations.c.gender == "T",
               organisations.c.kind == "municipality", observations.c.value.is_not(None))
    ).all()  # fmt: skip
    df = pd.DataFrame(rows, columns=["indicator", "unit", "year", "value"])
    if df.empty:
        raise DataError(
            "no yearly municipality values for these indicators", field="indicator"
        )
    return IndicatorPanel.from_long(df, indicator="indicator", unit="unit", year="year")


def _key(parts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _svgs(res: Any) -> dict[str, Any]:
    """The report's plots as SVG strings (the core's hand-written, escaped SVG)."""
    hist = {}
    for row in res.gaming.to_dict(orient="records"):
        h = res.histograms.get(str(row["indicator"]))
        if h is not None:
            hist[str(row["indicator"])] = _histogram(
                str(row["indicator"]), h, float(row["threshold"])
            )
    heat = (
        _heatmap(res.redundancy.r_between, res.indicators)
        if len(res.indicators) <= 60
        else ""
    )
    return {"scatter": _scatter(res.recommendations), "icc": _icc_plot(res.recommendations),
            "heatmap": heat, "histograms": hist}  # fmt: skip


def _select(
    conn: Connection, actor: Actor, wanted: list[str], area: str | None
) -> list[str]:
    stmt = select(indicators.c.id, indicators.c.area, indicators.c.is_public)
    known = {str(i): (str(a or ""), bool(p)) for i, a, p in conn.execute(stmt)}
    visible = {i for i, (_a, p) in known.items() if p or actor.can_read_private()}
    for i in wanted:
        if i not in visible:
            raise NotFound(f"no indicator {i!r}")
    if wanted:
        return list(dict.fromkeys(wanted))
    ids = sorted(i for i in visible if area is None or known[i][0] == area)
    if not ids:
        raise NotFound(f"no indicators in the area {area!r}")
    return ids


def run_audit(
    engine: Engine,
    actor: Actor,
    *,
    indicators_: list[str] | None = None,
    area: str | None = None,
    criteria: list[str] | None = None,
    targets: list[str] | None = None,
    inventory_id: int | None = None,
    threshold: float = 0.8,
    min_icc: float = 0.2,
    min_unique: float = 0.2,
    use_cache: bool = True,
) -> AuditReport:
    """Audit a set of indicators (default: all readable ones in ``area``) on the store.

    Parameters
    ----------
    indicators_, area
        Indicators to audit, or all readable indicators of ``area``.
    criteria
        Indicators measuring what matters (user satisfaction, sick leave, turnover).
    targets
        Targets to test for gaming, ``"IND<=15:2016"`` or ``"IND=90"``.
    inventory_id
        An inventory whose requirements give the hours saved (must be readable).
    threshold, min_icc, min_unique
        Passed to :func:`tillit.core.audit.audit_signals`.
    use_cache
        Reuse the stored report for the same request and data.
    """
    crit = [c for c in dict.fromkeys(criteria or []) if c]
    tg = [t.strip() for t in targets or [] if t.strip()]
    for t in tg:
        parse_target(t)  # a malformed target fails before any work
    for name, v, lo, hi in (
        ("threshold", threshold, 0.3, 0.999),
        ("min_icc", min_icc, 0.0, 0.9),
        ("min_unique", min_unique, 0.0, 0.9),
    ):
        if not lo <= v <= hi:
            raise DataError(f"{name} must lie in [{lo}, {hi}]", field=name)  # fmt: skip
    with engine.connect() as conn:
        ids = _select(conn, actor, list(indicators_ or []), area)
        _select(conn, actor, crit, None) if crit else None
        inv = _get(conn, actor, inventory_id, False) if inventory_id else None
        batch = conn.execute(select(func.max(import_batches.c.id))).scalar() or 0
        org = inv.organisation_id if inv else 0
        key = _key({"i": ids, "c": crit, "t": tg, "s": [threshold, min_icc, min_unique],
                    "inv": [inv.id, inv.version] if inv else None, "b": batch})  # fmt: skip
        if use_cache:
            hit = conn.execute(
                select(audit_reports.c.document, audit_reports.c.csv,
                       audit_reports.c.html, audit_reports.c.seconds)
                .where(audit_reports.c.organisation_id == org, audit_reports.c.key == key)
            ).first()  # fmt: skip
            if hit is not None:
                return AuditReport(
                    json.loads(hit[0]), hit[1], hit[2], float(hit[3]), True
                )
        t0 = time.perf_counter()
        panel = _panel(conn, ids + [c for c in crit if c not in ids])
        ledger = _ledger(conn, inv)[0] if inv else None
        titles = dict(conn.execute(select(indicators.c.id, indicators.c.title)).all())
        demo = conn.execute(
            select(func.count()).where(
                indicators.c.id.in_(ids), indicators.c.is_demo.is_(True)
            )
        ).scalar_one()
    present = [i for i in ids if i in panel.indicators and i not in crit]
    missing = [c for c in crit if c not in panel.indicators]
    if missing:
        raise DataError(
            f"criterion {missing[0]} has no municipality values", field="criterion"
        )
    res = audit_signals(panel, indicators=present, criteria=crit, targets=tg, ledger=ledger,
                        threshold=threshold, min_icc=min_icc, min_unique=min_unique)  # fmt: skip
    doc = res.to_dict()
    doc.update(
        svg=_svgs(res),
        titles={i: str(titles.get(i, "")) for i in [*present, *crit]},
        inventory=inv.to_dict() if inv else None,
        area=area,
        not_in_panel=[i for i in ids if i not in panel.indicators],
        is_demo=bool(demo) or bool(inv and inv.is_demo),
    )
    seconds = time.perf_counter() - t0
    rep = AuditReport(
        jsonable(doc), res.tidy().to_csv(index=False), res.to_html(), seconds, False
    )
    _store(engine, org, key, rep)
    return rep


def _store(engine: Engine, org: int, key: str, rep: AuditReport) -> None:
    """Keep the report (the newest 20 per organisation)."""
    with write_transaction(engine) as conn:
        conn.execute(
            delete(audit_reports).where(
                audit_reports.c.organisation_id == org, audit_reports.c.key == key
            )
        )
        conn.execute(
            insert(audit_reports).values(
                organisation_id=org, key=key, document=json.dumps(rep.document),
                csv=rep.csv, html=rep.html, seconds=rep.seconds,
            )
        )  # fmt: skip
        old = select(audit_reports.c.id).where(audit_reports.c.organisation_id == org)
        keep = old.order_by(audit_reports.c.id.desc()).limit(20)
        conn.execute(
            delete(audit_reports).where(
                audit_reports.c.organisation_id == org,
                audit_reports.c.id.not_in(keep.scalar_subquery()),
            )
        )


# --- demo --------------------------------------------------------------------------------


def load_demo_inventories(engine: Engine, seed: int = 2016) -> int:
    """Load the demo inventories (idempotent: existing labels are skipped).

    Indicator links to indicators the store lacks are dropped (the demo panel may not be
    loaded). Returns the number of inventories written.
    """
    admin = Actor(role="admin")
    n = 0
    with engine.connect() as conn:
        known = set(conn.execute(select(indicators.c.id)).scalars())
        have = {
            (str(c), str(lab))
            for c, lab in conn.execute(
                select(organisations.c.code, burden_inventories.c.label).join(
                    organisations,
                    organisations.c.id == burden_inventories.c.organisation_id,
                )
            )
        }
    for d in demo_inventories(seed):
        if (d.organisation_code, d.label) in have:
            continue
        req = d.requirements.copy()
        req["indicator_ids"] = [
            ";".join(x for x in s.split(";") if x in known)
            for s in req["indicator_ids"]
        ]
        inv = import_inventory(
            engine, admin, d.organisation_code, d.label, d.inventory_date,
            req.to_csv(index=False).encode(), f"demo-inventory-{d.organisation_code}.csv",
            is_demo=True,
        )  # fmt: skip
        set_staff(engine, admin, inv.id, d.staff.to_csv(index=False))
        n += 1
    return n
