"""Burden ledger and indicator signal audit: what governance costs, what carries signal.

Two halves, pure numpy/scipy/pandas:

* :class:`Ledger` (Standard Cost Model) reads a documented inventory template of
  reporting requirements and computes hours and cost per year per requirement, unit,
  staff group, demander and in total; burden per employee; change between inventories.
* :func:`audit_signals` audits an :class:`IndicatorPanel` (indicators x municipalities x
  years) for reliability, redundancy, validity and gaming, and ranks what to drop or slim
  by hours saved per unit of information lost (codes and numbers; the HTML report
  and its figures are drawn outside ``core``: ``tillit.services.audit.report`` and
  ``tillit.web.charts.audit``).

See ``docs/audit.md``.
"""

from tillit.core.audit.gaming import Target, bunching, level_shift, parse_target
from tillit.core.audit.ledger import Ledger, LedgerChange
from tillit.core.audit.panel import IndicatorPanel
from tillit.core.audit.redundancy import (
    Redundancy,
    pairwise_corr,
    redundancy,
    unique_share,
)
from tillit.core.audit.reliability import (
    center_by_year,
    mdc,
    reliability,
    retest_correlation,
)
from tillit.core.audit.signals import SignalAudit, audit_signals
from tillit.core.audit.simulate import planted_inventory, planted_panel, random_panel
from tillit.core.audit.template import (
    COMPARED_COLUMNS,
    DEMANDERS,
    EXAMPLE_ROWS,
    REQUIRED_COLUMNS,
    STORED_COLUMNS,
    TEMPLATE_COLUMNS,
    read_inventory,
    template_csv,
    validate_inventory,
)
from tillit.core.audit.validity import adjust_pvalues, validity

__all__ = [
    "COMPARED_COLUMNS",
    "DEMANDERS",
    "EXAMPLE_ROWS",
    "REQUIRED_COLUMNS",
    "STORED_COLUMNS",
    "TEMPLATE_COLUMNS",
    "IndicatorPanel",
    "Ledger",
    "LedgerChange",
    "Redundancy",
    "SignalAudit",
    "Target",
    "adjust_pvalues",
    "audit_signals",
    "bunching",
    "center_by_year",
    "level_shift",
    "mdc",
    "pairwise_corr",
    "parse_target",
    "planted_inventory",
    "planted_panel",
    "random_panel",
    "read_inventory",
    "redundancy",
    "reliability",
    "retest_correlation",
    "template_csv",
    "unique_share",
    "validate_inventory",
    "validity",
]
