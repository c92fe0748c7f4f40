"""The signal audit on the stored indicator panel (issue 6), cached per request.

The audit reads the panel from the store (municipalities x years, whole organisation,
gender ``T``), runs :func:`tillit.core.audit.audit_signals` and keeps the last report
per organisation and request in ``audit_reports`` (the key includes the inventory's
version and the newest import batch, so new data gives a new report).  The document
holds numbers and codes; pages and the HTML report draw its figures
(``tillit.web.charts.audit``) and word it.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from tillit.core.audit import IndicatorPanel, SignalAudit, audit_signals, parse_target
from tillit.core.errors import DataError, NotFound
from tillit.core.results import jsonable
from tillit.domain.records import Actor
from tillit.services.audit.inventories import Inventory, get_inventory
from tillit.services.audit.ledger import ledger_of
from tillit.store import audit as repo
from tillit.store import imports as imports_repo
from tillit.store.db import Connection, Engine, read_transaction, write_transaction

__all__ = ["AuditReport", "audit_document", "indicator_areas", "run_audit"]

_BOUNDS = (
    ("threshold", 0.3, 0.999),
    ("min_icc", 0.0, 0.9),
    ("min_unique", 0.0, 0.9),
)


@dataclass(frozen=True)
class AuditReport:
    """A signal-audit report: the page document and the CSV (one row per indicator)."""

    document: dict[str, Any]
    csv: str
    seconds: float
    cached: bool


def audit_document(res: SignalAudit, **extra: Any) -> dict[str, Any]:
    """The audit's JSON document: :meth:`SignalAudit.to_dict`, the numbers behind its
    figures (``figures``) and ``extra`` keys (titles, inventory, area ...)."""
    doc = res.to_dict()
    doc["figures"] = res.figure_data()
    doc.update(extra)
    return jsonable(doc)  # type: ignore[no-any-return]


def indicator_areas(engine: Engine, actor: Actor) -> dict[str, list[tuple[str, str]]]:
    """Readable indicators grouped by area: area -> [(id, title)]."""
    with read_transaction(engine) as conn:
        cat = repo.indicator_catalogue(conn)
    if not actor.can_read_private():
        cat = cat[cat["is_public"].astype(bool)]
    out: dict[str, list[tuple[str, str]]] = {}
    for iid, title, area in zip(cat["id"], cat["title"], cat["area"], strict=True):
        out.setdefault(str(area or "-"), []).append((str(iid), str(title)))
    return out


def _select(
    conn: Connection, actor: Actor, wanted: list[str], area: str | None
) -> list[str]:
    cat = repo.indicator_catalogue(conn)
    visible = set(
        cat["id"][cat["is_public"].astype(bool) | actor.can_read_private()].astype(str)
    )
    for i in wanted:
        if i not in visible:
            raise NotFound(f"no indicator {i!r}")
    if wanted:
        return list(dict.fromkeys(wanted))
    area_of = dict(zip(cat["id"].astype(str), cat["area"].fillna(""), strict=True))
    ids = sorted(i for i in visible if area is None or area_of[i] == area)
    if not ids:
        raise NotFound(f"no indicators in the area {area!r}")
    return ids


def _panel(conn: Connection, ids: list[str]) -> IndicatorPanel:
    df = repo.municipality_panel(conn, ids)
    if df.empty:
        raise DataError(
            "no yearly municipality values for these indicators", field="indicator"
        )
    return IndicatorPanel.from_long(df, indicator="indicator", unit="unit", year="year")


def _key(parts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _checked(
    criteria: list[str] | None, targets: list[str] | None, settings: dict[str, float]
) -> tuple[list[str], list[str]]:
    crit = [c for c in dict.fromkeys(criteria or []) if c]
    tg = [t.strip() for t in targets or [] if t.strip()]
    for t in tg:
        parse_target(t)  # a malformed target fails before any work
    for name, lo, hi in _BOUNDS:
        if not lo <= settings[name] <= hi:
            raise DataError(f"{name} must lie in [{lo}, {hi}]", field=name)
    return crit, tg


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
    settings = {"threshold": threshold, "min_icc": min_icc, "min_unique": min_unique}
    crit, tg = _checked(criteria, targets, settings)
    with read_transaction(engine) as conn:
        ids = _select(conn, actor, list(indicators_ or []), area)
        if crit:
            _select(conn, actor, crit, None)
        inv = (
            get_inventory(conn, actor, inventory_id, write=False)
            if inventory_id
            else None
        )
        org = inv.organisation_id if inv else 0
        key = _key(
            {
                "i": ids,
                "c": crit,
                "t": tg,
                "s": [threshold, min_icc, min_unique],
                "inv": [inv.id, inv.version] if inv else None,
                "b": imports_repo.latest_batch(conn),
            }
        )
        hit = repo.cached_report(conn, org, key) if use_cache else None
        if hit is not None:
            return AuditReport(hit[0], hit[1], hit[2], True)
        t0 = time.perf_counter()
        panel = _panel(conn, ids + [c for c in crit if c not in ids])
        ledger = ledger_of(conn, inv)[0] if inv else None
        cat = repo.indicator_catalogue(conn).set_index("id")
    rep = _compute(panel, ids, crit, tg, ledger, settings, cat, inv, area, t0)
    with write_transaction(engine) as conn:
        repo.store_report(conn, org, key, rep.document, rep.csv, rep.seconds)
    return rep


def _compute(
    panel: IndicatorPanel,
    ids: list[str],
    crit: list[str],
    tg: list[str],
    ledger: Any,
    settings: dict[str, float],
    cat: Any,
    inv: Inventory | None,
    area: str | None,
    t0: float,
) -> AuditReport:
    present = [i for i in ids if i in panel.indicators and i not in crit]
    missing = [c for c in crit if c not in panel.indicators]
    if missing:
        raise DataError(
            f"criterion {missing[0]} has no municipality values", field="criterion"
        )
    res = audit_signals(
        panel,
        indicators=present,
        criteria=crit,
        targets=tg,
        ledger=ledger,
        threshold=settings["threshold"],
        min_icc=settings["min_icc"],
        min_unique=settings["min_unique"],
    )
    titles = {i: str(cat["title"].get(i, "")) for i in [*present, *crit]}
    demo = bool(cat["is_demo"].reindex(ids).fillna(False).astype(bool).any())
    doc = audit_document(
        res,
        titles=titles,
        inventory=inv.to_dict() if inv else None,
        area=area,
        not_in_panel=[i for i in ids if i not in panel.indicators],
        is_demo=demo or bool(inv and inv.is_demo),
    )
    csv = res.tidy().to_csv(index=False)
    return AuditReport(doc, csv, time.perf_counter() - t0, False)
