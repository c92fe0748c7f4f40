"""Two-stage difference-in-differences (Gardner 2021, "Two-stage differences in
differences", arXiv:2207.05943), as R ``did2s`` and pyfixest's ``did2s``.

Stage 1 fits unit and period effects on the untreated rows (eq. 5), as the imputation
estimator does; stage 2 regresses the residualised outcome ``y_it - a_i - l_t`` of every
row on event-time dummies (``1{t - g = e}`` for treated units, ``e != -1``; eq. 6) or, for
the overall ATT, on the treatment indicator. The point estimates of the post-period
effects equal the imputation estimator's.

Standard errors are Gardner's GMM-corrected sandwich (section 3.2; Butts & Gardner 2022,
eq. 3): per cluster ``psi_c = X2c' W e2c - X2' W X1 (X10' W X10)^-1 X10c' W e1c`` with
``X1`` the fixed-effects design and ``X10`` its untreated rows, ``V = (X2' W X2)^-1
(sum_c psi_c psi_c') (X2' W X2)^-1``, no small-sample factor, normal critical values.

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
>>> res = two_stage(df, outcomes=["y"], unit="id", time="year", cohort="g")
>>> round(float(res["y"].overall.estimate[0]), 1)
0.5
"""

from __future__ import annotations

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

__all__ = ["two_stage"]


def two_stage(
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
    level: float = 0.95,
) -> EventStudyResult:
    """Gardner's two-stage event study and overall ATT for one or many outcomes.

    Parameters
    ----------
    data
        Long panel (may be unbalanced).
    outcomes, unit, time, cohort
        Columns; ``cohort`` is the first treated period (0 or empty: never treated).
    weight
        Observation weights for both stages (WLS).
    cluster
        Column constant within units to cluster on (default: the unit).
    anticipation
        Rows this many periods before adoption are left out of both stages.
    min_e, max_e
        Event-time window of the stage-2 dummies (rows outside it keep no dummy, as
        the reference period -1 does).
    level
        Confidence level.
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
    notes = list(p.notes)
    res: dict[str, EventOutcome] = {}
    for st in fit_stage1(p, anticipation):
        if st.dropped:
            notes.append(
                f"{st.dropped} treated rows could not be residualised (their unit or "
                "period has no untreated row) and were left out"
            )
        res.update(_outcomes(p, st, lo, hi, level))
    return EventStudyResult(
        method="two_stage",
        title="Two-stage DiD (Gardner 2021)",
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
            "reference": -1,
            "variance": "Gardner (2021) GMM",
        },
        notes=tuple(dict.fromkeys(notes)),
    )


def gmm_scores(
    p: LongPanel,
    st: Stage1,
    x2: np.ndarray,
    ytil: np.ndarray,
    rows: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Stage-2 coefficients of exclusive dummies ``x2`` and their cluster scores.

    Returns ``beta`` (q, m) and ``psi`` (clusters, q, m) already multiplied by the
    inverse of ``X2' W X2`` (so ``V = psi' psi``).
    """
    w = p.w[rows]
    d = x2.T @ w  # X2'WX2 is diagonal: the dummies do not overlap
    beta = (x2.T @ (w[:, None] * ytil)) / d[:, None]
    e2 = ytil - x2 @ beta
    su = sum_matrix(p.unit[rows], p.n_units) @ (w[:, None] * x2)
    stt = sum_matrix(p.time[rows], p.periods.shape[0]) @ (w[:, None] * x2)
    ca, cl = st.fe.solve_sums(su, stt)
    u0, t0 = p.unit[st.rows0], p.time[st.rows0]
    m0 = (ca[u0] + cl[t0]) * p.w[st.rows0][:, None]  # (rows0, q)
    c2 = sum_matrix(p.cluster[rows], p.n_clusters)
    c0 = sum_matrix(p.cluster[st.rows0], p.n_clusters)
    q, m = x2.shape[1], ytil.shape[1]
    psi = np.empty((p.n_clusters, q, m))
    wx2 = w[:, None] * x2
    for k in range(m):
        psi[:, :, k] = c2 @ (wx2 * e2[:, k : k + 1]) - c0 @ (
            m0 * st.resid0[:, k : k + 1]
        )
    return beta, psi / d[None, :, None]


def _outcomes(
    p: LongPanel, st: Stage1, lo: float, hi: float, level: float
) -> dict[str, EventOutcome]:
    rows = np.r_[st.rows0, st.rows1]
    ytil = np.vstack([st.resid0, st.tau])
    rel = p.rel[rows]
    keep = np.isfinite(rel) & (rel != -1) & (rel >= lo) & (rel <= hi)
    events = np.unique(rel[keep])
    x_ev = (rel[:, None] == events[None, :]).astype(float)
    b_ev, psi_ev = gmm_scores(p, st, x_ev, ytil, rows)
    x_st = (rel >= 0).astype(float)[:, None]
    b_st, psi_st = gmm_scores(p, st, x_st, ytil, rows)
    pre = events < 0
    out = {}
    for k, j in enumerate(st.cols):
        s = np.column_stack([psi_ev[:, :, k], psi_st[:, :, k]])
        cov = s.T @ s
        ne = events.size
        v = cov[:ne, :ne]
        out[p.outcomes[j]] = EventOutcome(
            outcome=p.outcomes[j],
            event=table({"event_time": events}, b_ev[:, k], v, level),
            vcov=v,
            overall=table(
                {"term": np.array(["overall"])}, b_st[:, k], cov[ne:, ne:], level
            ),
            n_obs=int(rows.size),
            pretrend=pretrend_wald(b_ev[pre, k], v[np.ix_(pre, pre)]),
            extra={"n_treated_rows": int(st.rows1.size)},
        )
    return out
