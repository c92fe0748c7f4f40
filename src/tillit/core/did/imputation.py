"""Imputation event study (Borusyak, Jaravel & Spiess 2024, "Revisiting Event-Study
Designs: Robust and Efficient Estimation", REStud 91(6)), as R ``didimputation``.

Step 1 fits ``y_it = a_i + l_t + e_it`` by weighted least squares on the untreated rows
(never treated and not yet treated; eq. 4 with unit and period effects). Step 2 imputes
``tau_it = y_it - a_i - l_t`` for every treated row (eq. 5). Step 3 averages them:
``tau_e`` over the rows ``e`` periods after adoption, and the overall ATT over all treated
rows, each with weights proportional to the observation weights (Theorem 1).

Standard errors are BJS's conservative variance (Theorem 3, eq. 7-8): the estimator is
``sum_it v_it y_it`` with ``v_it`` the estimand weight on treated rows and
``v = -W Z0 (Z0'W Z0)^-1 Z1' w1`` on untreated rows; residuals of treated rows are
``tau_it - tau_bar_{g,e}`` (the weighted mean within cohort x event time, BJS section 4.3),
of untreated rows the first-stage residuals; ``Var = sum_clusters (sum v eps)^2``, without
small-sample factor, as ``didimputation``.

Pre-trend coefficients (BJS Test 1, section 4.4) come from a separate regression on the
untreated rows with lead dummies ``1{t - g = -k}`` added, CR1 clustered; they are stacked
with the post-period estimates into one vector whose covariance includes the cross terms,
so :meth:`EventStudyResult.honest` applies (the leads are relative to the periods before
them, not to period -1).

Example
-------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(1)
>>> n, T = 60, 6
>>> g = np.repeat(rng.choice([0, 2003, 2004], n), T)
>>> year = np.tile(np.arange(2000, 2000 + T), n)
>>> y = np.repeat(rng.normal(size=n), T) + 0.1 * rng.normal(size=n * T)
>>> y = y + 0.5 * ((g > 0) & (year >= g))
>>> df = pd.DataFrame({"id": np.repeat(np.arange(n), T), "year": year, "g": g, "y": y})
>>> res = imputation(df, outcomes=["y"], unit="id", time="year", cohort="g")
>>> round(float(res["y"].overall.estimate[0]), 1)
0.5
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tillit.core.did._es_result import (
    EventOutcome,
    EventStudyResult,
    pretrend_wald,
    table,
)
from tillit.core.did._long import LongPanel
from tillit.core.did._stage1 import (
    Stage1,
    bound_window,
    fit_stage1,
    prepare,
    sum_matrix,
)

__all__ = ["imputation"]


def imputation(
    data: pd.DataFrame,
    *,
    outcomes: list[str],
    unit: str,
    time: str,
    cohort: str,
    weight: str | None = None,
    cluster: str | None = None,
    anticipation: int = 0,
    min_e: int | None = None,
    max_e: int | None = None,
    pretrends: int | None = None,
    level: float = 0.95,
) -> EventStudyResult:
    """Borusyak-Jaravel-Spiess imputation event study for one or many outcomes.

    Parameters
    ----------
    data
        Long panel (may be unbalanced), one row per unit and period.
    outcomes, unit, time, cohort
        Columns; ``cohort`` is the first treated period (0 or empty: never treated).
    weight
        Observation weights (population or analytic); the estimands weight rows by it.
    cluster
        Column constant within units to cluster on (default: the unit).
    anticipation
        Rows this many periods before adoption are left out of the first stage.
    min_e, max_e
        Event-time window: leads from ``min_e`` (default: all that are identified),
        effects up to ``max_e`` (default: all). The overall ATT averages every treated
        row whatever the window (BJS's static estimand).
    pretrends
        Number of leads in the pre-trend regression (default: all in the window).
    level
        Confidence level (normal critical values, as ``didimputation``).
    """
    p = prepare(
        data,
        outcomes=outcomes,
        unit=unit,
        time=time,
        cohort=cohort,
        weight=weight,
        cluster=cluster,
    )
    lo, hi = bound_window(min_e, max_e)
    if pretrends is not None:
        lo = max(lo, -float(pretrends))
    notes = list(p.notes)
    res: dict[str, EventOutcome] = {}
    for st in fit_stage1(p, anticipation):
        if st.dropped:
            notes.append(
                f"{st.dropped} treated rows of outcome(s) "
                f"{', '.join(p.outcomes[j] for j in st.cols)} could not be imputed "
                "(their unit or period has no untreated row) and were left out"
            )
        res.update(_outcomes(p, st, lo, hi, level, notes))
    return EventStudyResult(
        method="imputation",
        title="Imputation event study (Borusyak, Jaravel & Spiess 2024)",
        n_units=p.n_units,
        n_periods=int(p.periods.shape[0]),
        n_clusters=p.n_clusters,
        outcomes={k: res[k] for k in p.outcomes},
        settings={
            "weight": weight,
            "cluster": cluster or unit,
            "anticipation": anticipation,
            "min_e": min_e,
            "max_e": max_e,
            "level": level,
            "variance": "BJS (2024) Theorem 3, conservative",
        },
        notes=tuple(dict.fromkeys(notes)),
    )


def post_weights(
    p: LongPanel, st: Stage1, lo: float, hi: float
) -> tuple[np.ndarray, np.ndarray]:
    """Estimand weights on the imputed rows: one column per event time, then overall."""
    rel = p.rel[st.rows1]
    w = p.w[st.rows1]
    events = np.unique(rel[(rel >= max(lo, 0)) & (rel <= hi)])
    ind = (rel[:, None] == events[None, :]).astype(float)
    ind = np.column_stack([ind, rel >= 0])  # overall: every treated row
    ww = w[:, None] * ind
    return events, ww / ww.sum(axis=0, keepdims=True)


def untreated_weights(p: LongPanel, st: Stage1, v1: np.ndarray) -> np.ndarray:
    """BJS's ``v_it`` on untreated rows: ``-W Z0 (Z0'W Z0)^-1 Z1' v1``."""
    u1, t1 = p.unit[st.rows1], p.time[st.rows1]
    su = sum_matrix(u1, p.n_units) @ v1
    stt = sum_matrix(t1, p.periods.shape[0]) @ v1
    ca, cl = st.fe.solve_sums(su, stt)
    u0, t0 = p.unit[st.rows0], p.time[st.rows0]
    out: np.ndarray = -p.w[st.rows0][:, None] * (ca[u0] + cl[t0])
    return out


def _cell_means(p: LongPanel, st: Stage1) -> np.ndarray:
    """Weighted mean of tau within cohort x event time, per imputed row (BJS 4.3)."""
    rel = p.rel[st.rows1]
    g = p.cohort[p.unit[st.rows1]]
    cell = pd.factorize(pd.MultiIndex.from_arrays([g, rel]))[0]
    w = p.w[st.rows1]
    m = sum_matrix(cell, int(cell.max()) + 1)
    means = (m @ (w[:, None] * st.tau)) / (m @ w)[:, None]
    out: np.ndarray = means[cell]
    return out


def _leads(
    p: LongPanel, st: Stage1, lo: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pre-trend regression on untreated rows: lead values, coefficients, row scores."""
    rel = p.rel[st.rows0]
    leads = np.unique(rel[np.isfinite(rel) & (rel >= lo)])[::-1]  # -1, -2, ...
    w = p.w[st.rows0]
    while leads.size:
        d = (rel[:, None] == leads[None, :]).astype(float)
        xr = st.fe.resid(d)
        a = xr.T @ (w[:, None] * xr)
        ev = np.linalg.eigvalsh(a)
        if ev.min() > 1e-9 * ev.max():
            break
        leads = leads[:-1]  # the farthest lead is collinear with the unit effects
    if not leads.size:
        return leads, np.zeros((0, st.cols.size)), np.zeros((rel.size, 0, st.cols.size))
    a_inv = np.linalg.inv(a)
    beta = a_inv @ (xr.T @ (w[:, None] * st.resid0))
    e = st.resid0 - xr @ beta
    q = (xr @ a_inv) * w[:, None]  # (rows0, L)
    n_obs, g = rel.size, p.n_clusters
    k = leads.size + p.periods.shape[0]
    factor = g / (g - 1) * (n_obs - 1) / max(n_obs - k, 1) if g > 1 else 1.0
    scores = np.sqrt(factor) * q[:, :, None] * e[:, None, :]
    return leads[::-1], beta[::-1], scores[:, ::-1, :]


def _outcomes(
    p: LongPanel, st: Stage1, lo: float, hi: float, level: float, notes: list[str]
) -> dict[str, EventOutcome]:
    events, v1 = post_weights(p, st, lo, hi)
    est = v1.T @ st.tau  # (E+1, m)
    v0 = untreated_weights(p, st, v1)
    eps1 = st.tau - _cell_means(p, st)
    c1 = sum_matrix(p.cluster[st.rows1], p.n_clusters)
    c0 = sum_matrix(p.cluster[st.rows0], p.n_clusters)
    leads, bpre, pre_scores = _leads(p, st, lo)
    c0_dense = c0.toarray() if pre_scores.shape[1] else None
    out: dict[str, EventOutcome] = {}
    for k, j in enumerate(st.cols):
        s_post = c1 @ (v1 * eps1[:, k : k + 1]) + c0 @ (v0 * st.resid0[:, k : k + 1])
        parts = [s_post]
        if c0_dense is not None:
            parts.insert(0, c0_dense @ pre_scores[:, :, k])
        s = np.column_stack(parts)
        cov = s.T @ s
        e_all = np.r_[leads, events]
        b_all = np.r_[bpre[:, k], est[:-1, k]]
        ne = e_all.size
        ev_tab = table({"event_time": e_all}, b_all, cov[:ne, :ne], level)
        ov = table({"term": np.array(["overall"])}, est[-1:, k], cov[ne:, ne:], level)
        extra: dict[str, Any] = {"n_treated_rows": int(st.rows1.size)}
        out[p.outcomes[j]] = EventOutcome(
            outcome=p.outcomes[j],
            event=ev_tab,
            vcov=cov[:ne, :ne],
            overall=ov,
            n_obs=int(st.rows0.size + st.rows1.size),
            pretrend=pretrend_wald(bpre[:, k], cov[: leads.size, : leads.size]),
            extra=extra,
        )
    if not events.size:
        notes.append("no treated rows inside the event-time window")
    return out
