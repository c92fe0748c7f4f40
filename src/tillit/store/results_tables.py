"""Compatibility name for :mod:`tillit.store.tables.results`: import from there.

Kept while the branches of this wave still import the old name; removed afterwards.
"""

from tillit.store.tables.results import (
    eval_jobs,
    eval_snapshots,
    evaluations,
)

__all__ = [
    "eval_jobs",
    "eval_snapshots",
    "evaluations",
]
