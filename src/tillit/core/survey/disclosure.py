"""Disclosure control: survey results never reveal an individual.

Three safeguards, each applied on every output path (page, API, CSV, report, plot):

1. **Threshold** (:func:`suppress`): a statistic for a group with fewer than ``k``
   respondents (default 5) is suppressed, including its ``n`` when ``n > 0``.
2. **Complementary suppression** (:func:`suppress`, with ``parent``): when a parent total is
   shown and exactly one of its children is suppressed, the child could be recovered by
   subtraction (parent sum minus the other children), so the next-smallest child is
   suppressed too, repeatedly until no parent has exactly one suppressed child.
3. **Release audit** (:class:`ReleaseAuditor`): across ad-hoc queries (filters, overlapping
   groups) a new group is released only if (a) it has at least ``k`` respondents, (b) it
   differs from every previously released group by either nothing or at least ``k``
   respondents on both sides of the difference, and (c) no single respondent's answer is a
   linear combination of released group sums (checked exactly: respondent ``i`` is exposed
   iff the unit vector ``e_i`` lies in the row space of the released 0/1 membership matrix,
   i.e. the orthogonal projector ``P`` onto that space has ``P[i, i] = 1``).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tillit.core.errors import DataError

__all__ = ["DEFAULT_THRESHOLD", "Decision", "ReleaseAuditor", "suppress"]

DEFAULT_THRESHOLD = 5


def suppress(
    table: pd.DataFrame,
    *,
    k: int = DEFAULT_THRESHOLD,
    n_col: str = "n",
    value_cols: list[str] | None = None,
    parent: list[str] | None = None,
    child: str | None = None,
) -> pd.DataFrame:
    """Return a copy of ``table`` with small groups suppressed.

    Parameters
    ----------
    table
        One row per group with a respondent count ``n_col``.
    k
        Minimum number of respondents for a group to be shown (>= 1).
    value_cols
        Columns to blank; default every numeric column except ``n_col``.
    parent, child
        For complementary suppression: rows sharing the ``parent`` key columns are the
        children (distinguished by ``child``) of one shown total.

    Returns
    -------
    DataFrame
        With ``suppressed`` (bool) and ``reason`` columns; suppressed rows have values and
        ``n`` set to missing.
    """
    if k < 1:
        raise DataError("the disclosure threshold must be at least 1", field="k")
    if n_col not in table.columns:
        raise DataError(f"missing column '{n_col}'", field=n_col)
    out = table.copy()
    n = out[n_col].to_numpy(dtype=float)
    sup = n < k
    reason = np.where(sup, f"fewer than {k} respondents", "")
    if parent and child:
        sup, reason = _complementary(out, n, sup, reason, parent)
    cols = value_cols or [
        c for c in out.columns if c != n_col and pd.api.types.is_numeric_dtype(out[c])
    ]
    out[cols] = out[cols].astype(float)
    out.loc[sup, cols] = np.nan
    out[n_col] = out[n_col].astype("Float64")
    out.loc[sup, n_col] = pd.NA
    out["suppressed"] = sup
    out["reason"] = reason
    return out


def _complementary(
    out: pd.DataFrame,
    n: np.ndarray,
    sup: np.ndarray,
    reason: np.ndarray,
    parent: list[str],
) -> tuple[np.ndarray, np.ndarray]:
    sup = sup.copy()
    reason = reason.astype(object)
    codes = out.groupby(parent, sort=False, dropna=False).ngroup().to_numpy()
    changed = True
    while changed:
        changed = False
        for g in np.unique(codes):
            idx = np.flatnonzero(codes == g)
            if sup[idx].sum() == 1 and len(idx) > 1:
                shown = idx[~sup[idx]]
                pick = shown[np.argmin(n[shown])]
                sup[pick] = True
                reason[pick] = (
                    "suppressed so that a small group cannot be found by subtraction"
                )
                changed = True
    return sup, reason


@dataclass(frozen=True)
class Decision:
    """Whether a group may be released, and why not."""

    allowed: bool
    reason: str = ""


@dataclass
class ReleaseAuditor:
    """Remembers which respondent groups have been released and refuses risky new ones.

    Keep one auditor per survey round (the service persists ``released``).
    """

    k: int = DEFAULT_THRESHOLD
    released: list[frozenset[Hashable]] = field(default_factory=list)

    def check(self, members: Iterable[Hashable]) -> Decision:
        """Would releasing a statistic over ``members`` be safe?"""
        a = frozenset(members)
        if len(a) < self.k:
            return Decision(False, f"fewer than {self.k} respondents")
        for s in self.released:
            if a == s:
                return Decision(True)
            d1, d2 = len(a - s), len(s - a)
            if 0 < d1 < self.k or 0 < d2 < self.k:
                return Decision(
                    False,
                    f"differs from an earlier result by fewer than {self.k} respondents",
                )
        if self.released and self._exposes(a):
            return Decision(
                False, "together with earlier results it would reveal an individual"
            )
        return Decision(True)

    def release(self, members: Iterable[Hashable]) -> Decision:
        """Check and, if allowed, record the release."""
        a = frozenset(members)
        d = self.check(a)
        if d.allowed and a not in self.released:
            self.released.append(a)
        return d

    def _exposes(self, new: frozenset[Hashable]) -> bool:
        sets = [*self.released, new]
        ids = sorted({m for s in sets for m in s}, key=repr)
        pos = {m: i for i, m in enumerate(ids)}
        m = np.zeros((len(sets), len(ids)))
        for r, s in enumerate(sets):
            m[r, [pos[x] for x in s]] = 1.0
        # orthonormal basis of the row space via SVD; P = V_r^T V_r, diag(P)_i = ||V_r[:, i]||^2
        _, sv, vt = np.linalg.svd(m, full_matrices=False)
        rank = int((sv > sv.max() * 1e-10 * max(m.shape)).sum())
        diag = (vt[:rank] ** 2).sum(axis=0)
        return bool((diag > 1 - 1e-8).any())
