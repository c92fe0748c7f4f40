"""Demo burden inventories (``tillit serve --demo``): generated, labelled as demo."""

from __future__ import annotations

from tillit.domain import access
from tillit.domain.demo.inventory import demo_inventories
from tillit.domain.records import Actor
from tillit.services.audit import import_inventory, set_staff
from tillit.store import audit as audit_repo
from tillit.store import catalog as catalog_repo
from tillit.store.db import Engine, read_transaction

__all__ = ["load_demo_inventories"]


def load_demo_inventories(engine: Engine, seed: int = 2016) -> int:
    """Load the demo inventories (idempotent: existing labels are skipped).

    Indicator links to indicators the store lacks are dropped (the demo panel may not be
    loaded). Returns the number of inventories written.
    """
    admin = Actor(role=access.ADMIN)
    invs = demo_inventories(seed)
    with read_transaction(engine) as conn:
        have = audit_repo.inventory_labels(conn)
        wanted = {
            x
            for d in invs
            for s in d.requirements["indicator_ids"]
            for x in s.split(";")
        }
        known = catalog_repo.indicator_ids(conn, (x for x in wanted if x))
    n = 0
    for d in invs:
        if (d.organisation_code, d.label) in have:
            continue
        req = d.requirements.copy()
        req["indicator_ids"] = [
            ";".join(x for x in s.split(";") if x in known)
            for s in req["indicator_ids"]
        ]
        inv = import_inventory(
            engine,
            admin,
            d.organisation_code,
            d.label,
            d.inventory_date,
            req.to_csv(index=False).encode(),
            f"demo-inventory-{d.organisation_code}.csv",
            is_demo=True,
        )
        set_staff(engine, admin, inv.id, d.staff.to_csv(index=False))
        n += 1
    return n
