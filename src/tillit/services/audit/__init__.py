"""Burden ledger and signal audit in the platform (issue 6): inventories, ledger views,
the signal audit on the stored panel, and its self-contained HTML report.

=================  ==============================================================
module             what
=================  ==============================================================
``inventories``    who may read and change inventories; the template upload, edits
``ledger``         totals, breakdowns, per employee, the change between two
``signals``        the signal audit on the stored panel, cached per request
``report``         the self-contained HTML report of an audit document
=================  ==============================================================

The demo inventories are loaded by :mod:`tillit.services.demo.audit`.
"""

from tillit.services.audit.inventories import (
    MAX_BYTES,
    MAX_ROWS,
    Inventory,
    delete_requirement,
    import_inventory,
    list_inventories,
    own_organisation_code,
    read_template,
    save_requirement,
    set_staff,
)
from tillit.services.audit.ledger import (
    compare_inventories,
    inventory_ledger,
    ledger_view,
)
from tillit.services.audit.report import report_html
from tillit.services.audit.signals import (
    AuditReport,
    audit_document,
    indicator_areas,
    run_audit,
)

__all__ = [
    "MAX_BYTES",
    "MAX_ROWS",
    "AuditReport",
    "Inventory",
    "audit_document",
    "compare_inventories",
    "delete_requirement",
    "import_inventory",
    "indicator_areas",
    "inventory_ledger",
    "ledger_view",
    "list_inventories",
    "own_organisation_code",
    "read_template",
    "report_html",
    "run_audit",
    "save_requirement",
    "set_staff",
]
