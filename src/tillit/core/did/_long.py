"""Long (unit x period rows) panels and the weighted two-way fixed-effects solver.

The imputation, two-stage and interaction-weighted event studies work on the rows as
they are: unbalanced panels, observation weights and clusters above the unit. The
fixed-effects part of every regression is solved exactly by :class:`TwoWayFE`, which
eliminates the unit effects (a Schur complement) and solves a ``T x T`` system for the
period effects, for any number of right-hand sides at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import linalg

from tillit.core.did._panel import _check_columns, _numeric, _show
from tillit.core.errors import DataError, EstimationError

__all__ = ["LongPanel", "TwoWayFE", "build_long", "cluster_scores"]


@dataclass(frozen=True)
class LongPanel:
    """Rows of a panel as integer codes and arrays.

    Attributes
    ----------
    unit, time
        Integer codes per row (``units[unit]``, ``periods[time]``).
    units, periods
        The labels (periods sorted).
    cohort
        First treated period per unit, ``inf`` for never treated.
    y
        Outcomes, (rows, K), NaN where missing.
    w
        Observation weights (ones without ``weight``).
    cluster
        Cluster code per row (the unit's code without ``cluster``).
    notes
        What was dropped or recoded.
    """

    unit: np.ndarray
    time: np.ndarray
    units: np.ndarray
    periods: np.ndarray
    cohort: np.ndarray
    y: np.ndarray
    w: np.ndarray
    cluster: np.ndarray
    outcomes: tuple[str, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def n_units(self) -> int:
        """Number of units."""
        return int(self.units.shape[0])

    @property
    def n_clusters(self) -> int:
        """Number of clusters."""
        return int(self.cluster.max()) + 1

    @property
    def rel(self) -> np.ndarray:
        """Event time ``t - g`` per row (``-inf`` for never-treated units)."""
        g = self.cohort[self.unit]
        out: np.ndarray = np.where(np.isfinite(g), self.periods[self.time] - g, -np.inf)
        return out


def _weights(df: pd.DataFrame, weight: str | None) -> np.ndarray:
    if weight is None:
        return np.ones(len(df))
    w = _numeric(df, weight).to_numpy()
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0]) + 1
        raise DataError(
            "weights must be finite and not negative", row=row, field=weight
        )
    if not (w > 0).any():
        raise DataError("every weight is zero", field=weight)
    return w


def unit_constant(
    df: pd.DataFrame, col: str, ucode: np.ndarray, unit: str, what: str
) -> np.ndarray:
    """Codes of a column that must be the same in every row of a unit."""
    codes = pd.factorize(df[col], sort=True)[0]
    n = int(ucode.max()) + 1
    lo = np.full(n, np.iinfo(np.int64).max)
    hi = np.full(n, -1)
    np.minimum.at(lo, ucode, codes)
    np.maximum.at(hi, ucode, codes)
    if (lo != hi).any() or (codes < 0).any():
        bad = int(np.flatnonzero((lo != hi) | (lo < 0))[0])
        uid = df[unit].iloc[int(np.flatnonzero(ucode == bad)[0])]
        raise DataError(
            f"unit {_show(uid)} has {what} that is missing or changes over time; it "
            "must be the same in every row of a unit",
            field=col,
        )
    codes_u: np.ndarray = pd.factorize(lo)[0]
    out: np.ndarray = codes_u[ucode]
    return out


def build_long(
    df: pd.DataFrame,
    *,
    outcomes: list[str],
    unit: str,
    time: str,
    cohort: str,
    weight: str | None = None,
    cluster: str | None = None,
) -> LongPanel:
    """Validate a long data frame with a cohort column (first treated period).

    Raises
    ------
    DataError
        Missing column, non-numeric values, duplicated unit-period rows, bad weights, a
        unit whose cohort or cluster changes over time.
    EstimationError
        No treated units.
    """
    if not outcomes:
        raise DataError("at least one outcome column is needed", field="outcome")
    extra = [c for c in (weight, cluster) if c]
    _check_columns(df, [unit, time, cohort, *outcomes, *extra])
    t_all = _numeric(df, time)
    for col, vals in ((time, t_all.isna()), (unit, df[unit].isna())):
        if vals.any():
            row = int(np.flatnonzero(vals.to_numpy())[0]) + 1
            raise DataError("value is missing", row=row, field=col)
    ucode, unit_index = pd.factorize(df[unit], sort=True)
    tcode, period_index = pd.factorize(t_all, sort=True)
    n, T = len(unit_index), len(period_index)
    dup = pd.Series(ucode * T + tcode).duplicated()
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0]) + 1
        raise DataError(
            f"unit {_show(df[unit].iloc[row - 1])} has two rows for period "
            f"{t_all.iloc[row - 1]:g}",
            row=row,
            field=time,
        )
    g = _numeric(df, cohort).fillna(0.0).to_numpy()
    lo, hi = np.full(n, np.inf), np.full(n, -np.inf)
    np.minimum.at(lo, ucode, g)
    np.maximum.at(hi, ucode, g)
    if (lo != hi).any():
        bad = int(np.flatnonzero(lo != hi)[0])
        uid = df[unit].iloc[int(np.flatnonzero(ucode == bad)[0])]
        raise DataError(
            f"unit {_show(uid)} has two cohorts ({lo[bad]:g} and {hi[bad]:g}); the "
            "cohort is the first treated period and must be the same in every row of "
            "a unit. A treatment that changes dose or switches off and on needs "
            "`tillit estimate dcdh` (de Chaisemartin & D'Haultfoeuille)",
            field=cohort,
        )
    periods = np.asarray(period_index, dtype=float)
    coh = np.where(lo == 0, np.inf, lo)
    notes: list[str] = []
    late = np.isfinite(coh) & (coh > periods[-1])
    if late.any():
        notes.append(
            f"{int(late.sum())} units first treated after the last period are "
            "treated as never treated"
        )
        coh = np.where(late, np.inf, coh)
    if not np.isfinite(coh).any():
        raise EstimationError("no treated units: every unit is never treated")
    clus = (
        unit_constant(df, cluster, ucode, unit, "a cluster")
        if cluster
        else np.asarray(ucode)
    )
    y = df[outcomes].apply(lambda s: _numeric(df, str(s.name))).to_numpy(float)
    return LongPanel(
        unit=np.asarray(ucode),
        time=np.asarray(tcode),
        units=np.asarray(unit_index),
        periods=periods,
        cohort=coh,
        y=y,
        w=_weights(df, weight),
        cluster=np.asarray(clus),
        outcomes=tuple(outcomes),
        notes=tuple(notes),
    )


class TwoWayFE:
    """Weighted least squares on unit and period dummies, for many columns at once.

    Minimises ``sum w (x - a_unit - l_time)^2`` over the rows given. Unit effects are
    eliminated exactly (``a = (s_u - C l) / W_u``), leaving the ``T x T`` system
    ``(diag(W_t) - C' diag(1/W_u) C) l = s_t - C' s_u / W_u`` with ``l`` of the first
    observed period fixed at zero; a disconnected design falls back to least squares.
    """

    def __init__(
        self, unit: np.ndarray, time: np.ndarray, w: np.ndarray, n: int, T: int
    ) -> None:
        self.unit, self.time, self.w, self.n, self.T = unit, time, w, n, T
        self.wu = np.bincount(unit, w, n)
        self.wt = np.bincount(time, w, T)
        self.c = np.bincount(unit * T + time, w, n * T).reshape(n, T)
        inv = np.divide(1.0, self.wu, out=np.zeros(n), where=self.wu > 0)
        self.inv_wu = inv
        s = np.diag(self.wt) - self.c.T @ (inv[:, None] * self.c)
        obs = np.flatnonzero(self.wt > 0)
        self.free = obs[1:]
        sub = s[np.ix_(self.free, self.free)]
        try:
            self._cho = linalg.cho_factor(sub)
            self._pinv = None
        except linalg.LinAlgError:
            self._cho = None
            self._pinv = np.linalg.pinv(sub)

    def solve_sums(
        self, su: np.ndarray, st: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Coefficients from the right-hand sides ``Z'W x`` given as unit and period
        sums, each (n, m) and (T, m)."""
        rhs = st - self.c.T @ (self.inv_wu[:, None] * su)
        lt = np.zeros_like(st)
        if self.free.size:
            r = rhs[self.free]
            lt[self.free] = (
                linalg.cho_solve(self._cho, r)
                if self._cho is not None
                else self._pinv @ r
            )
        a = self.inv_wu[:, None] * (su - self.c @ lt)
        return a, lt

    def fit(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Unit and period effects of columns ``x`` (rows, m) on the solver's rows."""
        wx = self.w[:, None] * x
        su = np.zeros((self.n, x.shape[1]))
        st = np.zeros((self.T, x.shape[1]))
        np.add.at(su, self.unit, wx)
        np.add.at(st, self.time, wx)
        return self.solve_sums(su, st)

    def resid(self, x: np.ndarray) -> np.ndarray:
        """Residuals of ``x`` after the fixed effects (the within transformation)."""
        a, lt = self.fit(x)
        out: np.ndarray = x - a[self.unit] - lt[self.time]
        return out


def cluster_scores(scores: np.ndarray, cluster: np.ndarray, g: int) -> np.ndarray:
    """Sum per-row scores (rows, ...) within clusters: (g, ...)."""
    out = np.zeros((g, *scores.shape[1:]))
    np.add.at(out, cluster, scores)
    return out


def outcome_groups(y: np.ndarray) -> list[np.ndarray]:
    """Outcome indices grouped by their pattern of missing rows (solved together)."""
    miss = np.isnan(y)
    keys: dict[bytes, list[int]] = {}
    for j in range(y.shape[1]):
        keys.setdefault(np.packbits(miss[:, j]).tobytes(), []).append(j)
    return [np.asarray(v) for v in keys.values()]


def require_rows(mask: np.ndarray, what: str) -> None:
    """Raise when an estimator is left without rows of a kind."""
    if not mask.any():
        raise EstimationError(f"no {what} rows")
