"""Compatibility name for :mod:`tillit.store.tables.registry`: import from there.

Kept while the branches of this wave still import the old name; removed afterwards.
"""

from tillit.store.tables.registry import (
    network_applications,
    network_members,
    pilot_researchers,
    pilots,
    registry_entries,
)

__all__ = [
    "network_applications",
    "network_members",
    "pilot_researchers",
    "pilots",
    "registry_entries",
]
