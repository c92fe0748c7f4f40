"""The burden store on SQLite and PostgreSQL: all-or-nothing imports, links, cascades,
the audit cache (fresh database per module; ``postgres`` marker for the server)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, delete, func, select

from tillit.core.errors import Conflict, DataError, PermissionDenied
from tillit.domain.records import Actor
from tillit.services import audit as au
from tillit.store.tables import (
    audit_reports,
    burden_inventories,
    burden_requirement_indicators,
    burden_requirements,
    organisations,
)

from .test_burden_web import GOOD, HOURS

pytestmark = pytest.mark.integration
ADMIN = Actor(role="admin", user_id=None)


def _n(engine: Engine, table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _org_id(engine: Engine, code: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(organisations.c.id).where(organisations.c.code == code)
            ).scalar_one()
        )


def test_import_links_and_cascade(store_engine: Engine) -> None:
    member = Actor(
        role="member", user_id=None, organisation_id=_org_id(store_engine, "0180")
    )
    inv = au.import_inventory(store_engine, member, "0180", "S1", "2026-01-31",
                              GOOD.encode(), "good.csv")  # fmt: skip
    assert inv.n_requirements == 3 and inv.organisation_code == "0180"
    led = au.inventory_ledger(store_engine, member, inv.id)
    assert led is not None and led.total_hours == pytest.approx(sum(HOURS.values()))
    assert _n(store_engine, burden_requirement_indicators) >= 3
    with pytest.raises(Conflict):
        au.import_inventory(store_engine, member, "0180", "S1", "2026-01-31",
                            GOOD.encode(), "good.csv")  # fmt: skip
    with pytest.raises(PermissionDenied):
        au.import_inventory(store_engine, member, "1480", "S1", "2026-01-31",
                            GOOD.encode(), "good.csv")  # fmt: skip
    with store_engine.begin() as conn:
        conn.execute(
            delete(burden_inventories).where(burden_inventories.c.id == inv.id)
        )
    assert _n(store_engine, burden_requirements) == 0
    assert _n(store_engine, burden_requirement_indicators) == 0


def test_bad_row_writes_nothing(store_engine: Engine) -> None:
    before = (
        _n(store_engine, burden_inventories),
        _n(store_engine, burden_requirements),
    )
    bad = GOOD.replace("N00001;N00002", "N00001;MISSING1")
    with pytest.raises(DataError) as err:
        au.import_inventory(store_engine, ADMIN, "0180", "S2", "2026-01-31",
                            bad.encode(), "bad.csv")  # fmt: skip
    assert (err.value.row, err.value.field, err.value.file) == (
        2,
        "indicator_ids",
        "bad.csv",
    )
    with pytest.raises(DataError) as err:
        au.import_inventory(store_engine, ADMIN, "0180", "S2", "31/01/2026",
                            GOOD.encode(), "good.csv")  # fmt: skip
    assert err.value.field == "inventory_date"
    after = (
        _n(store_engine, burden_inventories),
        _n(store_engine, burden_requirements),
    )
    assert after == before


def test_audit_cache_and_invalidation(store_engine: Engine) -> None:
    inv = au.import_inventory(store_engine, ADMIN, "0180", "S3", "2026-02-01",
                              GOOD.encode(), "good.csv")  # fmt: skip
    kw = {"criteria": ["N00002"], "inventory_id": inv.id}
    first = au.run_audit(store_engine, ADMIN, **kw)
    second = au.run_audit(store_engine, ADMIN, **kw)
    assert not first.cached and second.cached
    assert second.document == first.document and second.csv == first.csv
    assert _n(store_engine, audit_reports) >= 1
    # editing the inventory bumps its version: a new report
    fields = {"requirement_id": "R9", "title": "x", "demanded_by": "state",
              "staff_group": "nurse", "unit": "all", "frequency_per_year": "1",
              "minutes_per_occurrence": "60", "reporters": "1", "hourly_cost_sek": "1",
              "indicator_ids": "N00001", "dimension": ""}  # fmt: skip
    au.save_requirement(store_engine, ADMIN, inv.id, fields)
    third = au.run_audit(store_engine, ADMIN, **kw)
    assert not third.cached
    hours = {
        r["indicator"]: r["hours_per_year"] for r in third.document["recommendations"]
    }
    assert hours["N00001"] == pytest.approx(440 + 120 + 1)
