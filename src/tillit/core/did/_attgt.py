"""Group-time average treatment effects ATT(g,t) (Callaway & Sant'Anna 2021, eq. 2.6-2.8).

:func:`plan` lists the (g, t) cells with their base period and comparison units;
:func:`estimate_cells` returns ATT(g,t) and the per-unit influence functions for a
*matrix* of outcomes at once. Influence functions follow R's ``did``: for a cell estimated
on ``n1`` of the ``n`` units, the two-period influence function is scaled by ``n / n1`` and
is zero for the other units, so ``se = sqrt(sum(inf**2)) / n``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tillit.core.did._drdid import dr_panel, ipw_panel, reg_panel
from tillit.core.errors import EstimationError

__all__ = ["CellPlan", "estimate_cells", "plan"]

_METHODS = {"dr": dr_panel, "ipw": ipw_panel, "reg": reg_panel}


@dataclass(frozen=True)
class CellPlan:
    """The (g, t) cells of one estimation.

    Attributes
    ----------
    group, time
        Cohort and period of each cell (calendar values), length GT.
    t_idx, b_idx
        Index of the period and of its base period into ``periods``.
    treated, control
        Boolean (n, GT) masks of the units used in each cell.
    reference
        True for the base-period cell of the universal base (estimate fixed at 0).
    """

    group: np.ndarray
    time: np.ndarray
    t_idx: np.ndarray
    b_idx: np.ndarray
    treated: np.ndarray
    control: np.ndarray
    reference: np.ndarray


def plan(
    cohort: np.ndarray,
    periods: np.ndarray,
    *,
    control: str = "never",
    anticipation: int = 0,
    base_period: str = "varying",
) -> CellPlan:
    """List the ATT(g,t) cells as R's ``did::att_gt`` does."""
    groups = np.unique(cohort[np.isfinite(cohort)])
    T = periods.shape[0]
    rows: list[tuple[float, int, int]] = []
    first = 1 if base_period == "varying" else 0
    for g in groups:
        pre = np.flatnonzero(periods + anticipation < g)
        if pre.size == 0:
            continue
        last_pre = int(pre[-1])
        for t in range(first, T):
            b = t - 1 if base_period == "varying" else last_pre
            if g <= periods[t]:
                b = last_pre
            rows.append((float(g), t, b))
    if not rows:
        raise EstimationError("no (group, period) cells can be estimated")
    g_arr = np.array([r[0] for r in rows])
    t_idx = np.array([r[1] for r in rows])
    b_idx = np.array([r[2] for r in rows])
    treated = cohort[:, None] == g_arr[None, :]
    never = np.isinf(cohort)[:, None]
    if control == "never":
        ctrl = np.broadcast_to(never, treated.shape).copy()
    elif control == "notyet":
        horizon = periods[np.maximum(t_idx, b_idx)] + anticipation
        ctrl = never | ((cohort[:, None] > horizon[None, :]) & ~treated)
    else:
        raise EstimationError(f"unknown control group {control!r}; use never or notyet")
    return CellPlan(
        group=g_arr,
        time=periods[t_idx],
        t_idx=t_idx,
        b_idx=b_idx,
        treated=treated,
        control=ctrl,
        reference=t_idx == b_idx,
    )


def _unconditional(y: np.ndarray, cells: CellPlan) -> tuple[np.ndarray, np.ndarray]:
    """Difference of mean changes for all cells and outcomes at once.

    Means come from cohort sums (one matrix product); the influence function
    ``n * (D / n1 * (dy - m1) - C / n0 * (dy - m0))`` is then built in a few passes.
    """
    n = y.shape[0]
    d = cells.treated.astype(float)
    c = cells.control.astype(float)
    n1 = d.sum(0)
    n0 = c.sum(0)
    yt = y[:, cells.t_idx, :]
    yt -= y[:, cells.b_idx, :]  # dy, (n, GT, K)
    m1 = np.einsum("ng,ngk->gk", d, yt, optimize=True) / n1[:, None]
    m0 = np.einsum("ng,ngk->gk", c, yt, optimize=True) / n0[:, None]
    a = n * (d / n1 - c / n0)  # coefficient on dy
    yt *= a[:, :, None]
    yt -= (n * d / n1)[:, :, None] * m1[None] - (n * c / n0)[:, :, None] * m0[None]
    return m1 - m0, yt


def _unconditional_unbalanced(
    y: np.ndarray, cells: CellPlan
) -> tuple[np.ndarray, np.ndarray]:
    """Cells from every observed unit-period, for unbalanced panels (R's
    ``allow_unbalanced_panel``): the difference of four means

    ``ATT = (mean Y_gt - mean Y_gb) - (mean Y_ct - mean Y_cb)``

    over the units of cohort ``g`` (``c``: comparison units) observed in period ``t``
    and, separately, in the base period ``b``, so a unit need not be seen in both.
    It is the repeated-cross-section estimator of Sant'Anna & Zhao (2020) without
    covariates; its influence function, summed within unit, is
    ``n * sum_a s_a 1[i in a] (Y_ia - m_a) / n_a`` over the four cells ``a`` with
    signs ``s_a`` (R's ``did`` rescales the observation-level influence function by
    ``n / N`` and sums it by unit, which is the same).  ``y`` has NaN where missing.
    """
    n = y.shape[0]
    obs = ~np.isnan(y)
    y0 = np.where(obs, y, 0.0)
    d = cells.treated[:, :, None].astype(float)
    c = cells.control[:, :, None].astype(float)
    inf = np.zeros((n, cells.group.shape[0], y.shape[2]))
    att = np.zeros((cells.group.shape[0], y.shape[2]))
    for idx, sign in ((cells.t_idx, 1.0), (cells.b_idx, -1.0)):
        o = obs[:, idx, :].astype(float)  # (n, GT, K)
        v = y0[:, idx, :]
        for mask, s in ((d, sign), (c, -sign)):
            w = mask * o
            cnt = w.sum(0)
            if np.any((cnt == 0) & ~cells.reference[:, None]):
                j = int(
                    np.flatnonzero(((cnt == 0) & ~cells.reference[:, None]).any(1))[0]
                )
                raise EstimationError(
                    f"cell (group {cells.group[j]:g}, period {cells.time[j]:g}): no "
                    "treated or no comparison unit is observed in one of its periods"
                )
            cnt = np.where(cnt == 0, 1.0, cnt)
            m = (w * v).sum(0) / cnt
            att += s * m
            inf += (s * n) * w * (v - m[None]) / cnt[None]
    return att, inf


def _with_covariates(
    y: np.ndarray, x: np.ndarray, cells: CellPlan, method: str
) -> tuple[np.ndarray, np.ndarray]:
    """Per cell, one shared design for all outcomes (loop over cells, not outcomes)."""
    n, _, K = y.shape
    GT = cells.group.shape[0]
    att = np.zeros((GT, K))
    inf = np.zeros((n, GT, K))
    fit = _METHODS[method]
    for j in range(GT):
        if cells.reference[j]:
            continue
        use = cells.treated[:, j] | cells.control[:, j]
        tj, bj = cells.t_idx[j], cells.b_idx[j]
        dy = y[use, tj, :] - y[use, bj, :]
        xj = np.column_stack([np.ones(int(use.sum())), x[use, bj, :]])
        d = cells.treated[use, j].astype(float)
        a, f = fit(dy, d, xj)
        att[j] = a
        inf[use, j, :] = f * (n / use.sum())
    return att, inf


def estimate_cells(
    y: np.ndarray,
    x: np.ndarray,
    cells: CellPlan,
    method: str = "dr",
    unbalanced: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """ATT(g,t) (GT, K) and influence functions (n, GT, K) for outcomes ``y`` (n, T, K).

    Without covariates every method reduces to the difference of mean changes (the
    propensity score and regression on a constant add nothing), computed in closed form.
    With ``unbalanced`` (no covariates), ``y`` may hold NaN and every cell uses the
    units observed in each of its two periods (:func:`_unconditional_unbalanced`).
    """
    too_few = (cells.treated.sum(0) < 1) | (cells.control.sum(0) < 1)
    if np.any(too_few & ~cells.reference):
        j = int(np.flatnonzero(too_few & ~cells.reference)[0])
        raise EstimationError(
            f"cell (group {cells.group[j]:g}, period {cells.time[j]:g}) has no "
            "treated or no comparison units"
        )
    if unbalanced:
        if x.shape[2]:
            raise EstimationError(
                "covariates need a balanced panel; drop the covariates or the "
                "unbalanced option"
            )
        att, inf = _unconditional_unbalanced(y, cells)
    elif x.shape[2] == 0:
        att, inf = _unconditional(y, cells)
    else:
        if method not in _METHODS:
            raise EstimationError(f"unknown method {method!r}; use dr, ipw or reg")
        att, inf = _with_covariates(y, x, cells, method)
    att[cells.reference] = 0.0
    inf[:, cells.reference, :] = 0.0
    return att, inf
