"""Compatibility name for :mod:`tillit.store.tables.burden`: import from there.

Kept while the branches of this wave still import the old name; removed afterwards.
"""

from tillit.store.tables.burden import (
    audit_reports,
    burden_inventories,
    burden_requirement_indicators,
    burden_requirements,
    burden_staff,
)

__all__ = [
    "audit_reports",
    "burden_inventories",
    "burden_requirement_indicators",
    "burden_requirements",
    "burden_staff",
]
