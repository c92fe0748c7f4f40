"""Shared first stage of the imputation and two-stage estimators.

Both fit unit and period effects on the untreated rows only (never-treated units and the
not-yet-treated rows of the others, before ``cohort - anticipation``) and impute every
treated row's untreated outcome from them (Borusyak, Jaravel & Spiess 2024, eq. 4-5;
Gardner 2021, stage 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from tillit.core.did._long import LongPanel, TwoWayFE, build_long, outcome_groups
from tillit.core.errors import EstimationError

__all__ = ["Stage1", "bound_window", "fit_stage1", "prepare", "sum_matrix"]

_MAX_WINDOW = 1000


def bound_window(min_e: int | None, max_e: int | None) -> tuple[float, float]:
    """Event-time window with bounds checked (``None``: unbounded)."""
    for v in (min_e, max_e):
        if v is not None and abs(v) > _MAX_WINDOW:
            raise EstimationError(f"event times must lie within +-{_MAX_WINDOW}")
    lo = -np.inf if min_e is None else float(min_e)
    hi = np.inf if max_e is None else float(max_e)
    if lo > hi:
        raise EstimationError("min_e is larger than max_e")
    return lo, hi


def sum_matrix(codes: np.ndarray, n: int) -> sparse.csr_matrix:
    """Sparse (n x rows) indicator: ``M @ x`` sums rows of ``x`` by code."""
    rows = codes.shape[0]
    return sparse.csr_matrix((np.ones(rows), (codes, np.arange(rows))), shape=(n, rows))


@dataclass(frozen=True)
class Stage1:
    """The untreated-rows fit for a group of outcomes with the same missing rows.

    ``rows0``/``rows1`` index the panel's rows (untreated / imputable treated);
    ``resid0`` are the first-stage residuals, ``tau`` the imputed effects.
    """

    cols: np.ndarray
    rows0: np.ndarray
    rows1: np.ndarray
    fe: TwoWayFE
    resid0: np.ndarray
    tau: np.ndarray
    dropped: int


def prepare(
    data: pd.DataFrame,
    *,
    outcomes: list[str],
    unit: str,
    time: str,
    cohort: str,
    weight: str | None,
    cluster: str | None,
) -> LongPanel:
    """Validate the input rows (see :func:`tillit.core.did._long.build_long`)."""
    return build_long(
        data,
        outcomes=list(outcomes),
        unit=unit,
        time=time,
        cohort=cohort,
        weight=weight,
        cluster=cluster,
    )


def fit_stage1(p: LongPanel, anticipation: int) -> list[Stage1]:
    """First stage for every group of outcomes with one pattern of missing rows."""
    rel = p.rel
    out = []
    for cols in outcome_groups(p.y):
        ok = ~np.isnan(p.y[:, cols[0]]) & (p.w > 0)
        untreated = ok & (rel < -anticipation)
        treated = ok & (rel >= 0)
        rows0 = np.flatnonzero(untreated)
        if rows0.size == 0:
            raise EstimationError(
                "no untreated rows to fit the unit and period effects"
            )
        fe = TwoWayFE(
            p.unit[rows0], p.time[rows0], p.w[rows0], p.n_units, p.periods.shape[0]
        )
        y0 = p.y[np.ix_(rows0, cols)]
        a, lt = fe.fit(y0)
        resid0 = y0 - a[p.unit[rows0]] - lt[p.time[rows0]]
        cand = np.flatnonzero(treated)
        imputable = (fe.wu[p.unit[cand]] > 0) & (fe.wt[p.time[cand]] > 0)
        rows1 = cand[imputable]
        tau = p.y[np.ix_(rows1, cols)] - a[p.unit[rows1]] - lt[p.time[rows1]]
        out.append(Stage1(cols, rows0, rows1, fe, resid0, tau, int((~imputable).sum())))
    return out
