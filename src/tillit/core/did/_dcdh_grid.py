"""Data preparation for the de Chaisemartin-D'Haultfoeuille estimator.

Turns long rows into a groups x periods grid and applies the sample rules of
``did_multiplegt_dyn`` (R ``DIDmultiplegtDYN``), each counted in the notes:

* a group's baseline treatment ``d_sq`` is its first observed treatment; ``F_g`` is the
  first period in which its treatment differs from it (never: ``F_g = T``); ``S_g`` is
  the sign of that first change; ``L_g`` counts the periods from ``F_g`` to its last row;
* groups whose treatment goes both above and below the baseline are dropped;
* baseline-treatment levels in which every group switches at the same time (no
  comparison) are dropped;
* rows at periods with no never-switching group of the same baseline are left out;
* ``T_g``: the last period at which a group of the same baseline has not yet switched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tillit.core.did._long import _weights, unit_constant
from tillit.core.did._panel import _check_columns, _numeric, _show
from tillit.core.errors import DataError, EstimationError

__all__ = ["Grid", "build_grid"]


@dataclass(frozen=True)
class Grid:
    """Groups x periods arrays (period index 0..T-1)."""

    y: np.ndarray  # (G, T, K), NaN where missing or left out
    d: np.ndarray  # (G, T), NaN where missing
    n_gt: np.ndarray  # (G, T, K) weights, 0 where y or d is missing
    d_sq: np.ndarray  # (G,)
    dsq_code: np.ndarray  # (G,) code of the baseline level
    f: np.ndarray  # (G,) first switch index, T when never
    s: np.ndarray  # (G,) +1, -1 or 0
    l_g: np.ndarray  # (G,)
    t_g: np.ndarray  # (G,)
    d_fg: np.ndarray  # (G,) treatment at F_g (NaN when never)
    cluster: np.ndarray  # (G,)
    periods: np.ndarray
    outcomes: tuple[str, ...]
    notes: tuple[str, ...]

    @property
    def clusters_onehot(self) -> np.ndarray | None:
        """(G, clusters) indicator, or None when each group is its own cluster."""
        nc = int(self.cluster.max()) + 1
        if nc == self.f.shape[0]:
            return None
        out = np.zeros((self.f.shape[0], nc))
        out[np.arange(self.f.shape[0]), self.cluster] = 1.0
        return out

    @property
    def n_groups(self) -> int:
        """Groups kept (G in the formulas)."""
        return int(self.f.shape[0])


def _to_grid(
    df: pd.DataFrame, outcomes: list[str], unit: str, time: str, treatment: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    t_all = _numeric(df, time)
    for col, miss in ((time, t_all.isna()), (unit, df[unit].isna())):
        if miss.any():
            row = int(np.flatnonzero(miss.to_numpy())[0]) + 1
            raise DataError("value is missing", row=row, field=col)
    ucode, uidx = pd.factorize(df[unit], sort=True)
    tcode, tidx = pd.factorize(t_all, sort=True)
    n, T = len(uidx), len(tidx)
    dup = pd.Series(ucode * T + tcode).duplicated()
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0]) + 1
        raise DataError(
            f"unit {_show(df[unit].iloc[row - 1])} has two rows for one period",
            row=row,
            field=time,
        )
    d = np.full((n, T), np.nan)
    d[ucode, tcode] = _numeric(df, treatment).to_numpy()
    y = np.full((n, T, len(outcomes)), np.nan)
    for j, c in enumerate(outcomes):
        y[ucode, tcode, j] = _numeric(df, c).to_numpy()
    present = np.zeros((n, T), dtype=bool)
    present[ucode, tcode] = True
    return d, y, present, np.asarray(ucode), np.asarray(tcode), np.asarray(tidx, float)


def _switches(
    d: np.ndarray, present: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n, T = d.shape
    has = ~np.isnan(d)
    first = np.argmax(has, axis=1)
    d_sq = d[np.arange(n), first]
    diff = has & (d != d_sq[:, None])
    ever = diff.any(axis=1)
    f = np.where(ever, np.argmax(diff, axis=1), T)
    d_fg = np.where(ever, d[np.arange(n), np.minimum(f, T - 1)], np.nan)
    s = np.where(ever, np.sign(d_fg - d_sq), 0.0)
    last = T - 1 - np.argmax(present[:, ::-1], axis=1)
    l_g = np.where(ever, last - f + 1, 0)
    both = (has & (d > d_sq[:, None])).any(axis=1) & (has & (d < d_sq[:, None])).any(
        axis=1
    )
    return d_sq, f, s, l_g, np.c_[d_fg, both]


def build_grid(
    df: pd.DataFrame,
    *,
    outcomes: list[str],
    unit: str,
    time: str,
    treatment: str,
    weight: str | None,
    cluster: str | None,
    switchers: str,
) -> Grid:
    """Validate the rows and apply the sample rules (module docstring)."""
    if not outcomes:
        raise DataError("at least one outcome column is needed", field="outcome")
    _check_columns(
        df, [unit, time, treatment, *outcomes, *[c for c in (weight, cluster) if c]]
    )
    d, y, present, ucode, tcode, periods = _to_grid(df, outcomes, unit, time, treatment)
    n, T = d.shape
    w = np.zeros((n, T))
    w[ucode, tcode] = _weights(df, weight)
    clus_rows = (
        unit_constant(df, cluster, ucode, unit, "a cluster") if cluster else ucode
    )
    clus = np.zeros(n, dtype=int)
    clus[ucode] = clus_rows
    d_sq, f, s, l_g, extra = _switches(d, present)
    d_fg, both = extra[:, 0], extra[:, 1].astype(bool)
    notes: list[str] = []
    keep = ~np.isnan(d).all(axis=1)
    if both.any():
        notes.append(
            f"{int(both.sum())} groups whose treatment went both above and below its "
            "first value were dropped"
        )
        keep &= ~both
    if switchers in ("in", "out"):
        want = 1.0 if switchers == "in" else -1.0
        keep &= (s == want) | (s == 0)
    for lev in np.unique(d_sq[keep]):
        in_lev = keep & (d_sq == lev)
        if np.unique(f[in_lev]).size < 2:
            notes.append(
                f"{int(in_lev.sum())} groups with first treatment {lev:g} were dropped: "
                "they all switch at the same time, so none can serve as a comparison"
            )
            keep &= ~in_lev
    if not keep.any():
        raise EstimationError("no groups are left to compare")
    return _finish(d, y, present, w, clus, periods, outcomes, keep, notes,
                   (d_sq, f, s, l_g, d_fg))  # fmt: skip


def _finish(
    d: np.ndarray,
    y: np.ndarray,
    present: np.ndarray,
    w: np.ndarray,
    clus: np.ndarray,
    periods: np.ndarray,
    outcomes: list[str],
    keep: np.ndarray,
    notes: list[str],
    sw: tuple[np.ndarray, ...],
) -> Grid:
    d_sq, f, s, l_g, d_fg = (a[keep] for a in sw)
    d, y, present, w = d[keep], y[keep], present[keep].copy(), w[keep]
    T = d.shape[1]
    dsq_code = pd.factorize(d_sq, sort=True)[0]
    nd = int(dsq_code.max()) + 1
    never = np.zeros((nd, T), dtype=bool)
    np.logical_or.at(never, dsq_code, present & (f == T)[:, None])
    no_ctrl = present & ~never[dsq_code]
    if no_ctrl.any():
        notes.append(
            f"{int(no_ctrl.sum())} rows at periods without a never-switching group of "
            "the same first treatment were left out"
        )
        present &= ~no_ctrl
    y = np.where(present[:, :, None], y, np.nan)
    ok = present[:, :, None] & ~np.isnan(y) & ~np.isnan(d)[:, :, None]
    n_gt = np.where(ok, w[:, :, None], 0.0)
    if not np.isfinite(d_fg).any():
        raise EstimationError("no group's treatment ever changes: nothing to estimate")
    f_tr = np.zeros(nd)
    np.maximum.at(f_tr, dsq_code, f.astype(float))
    t_g = f_tr[dsq_code] - 1
    return Grid(
        y=y, d=d, n_gt=n_gt, d_sq=d_sq, dsq_code=dsq_code, f=f, s=s, l_g=l_g,
        t_g=t_g, d_fg=d_fg, cluster=pd.factorize(clus[keep])[0], periods=periods,
        outcomes=tuple(outcomes), notes=tuple(notes),
    )  # fmt: skip
