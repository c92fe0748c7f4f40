"""Interaction-weighted event study (Sun & Abraham 2021, "Estimating dynamic treatment
effects in event studies with heterogeneous treatment effects", J. Econometrics 225(2)),
as R ``fixest::sunab``.

Step 1 (eq. 29) regresses the outcome on unit and period effects and a full set of
cohort x event-time interactions ``1{G_i = g} 1{t - g = e}`` (``e != -1``), using the
never-treated units, or without them the last-treated cohort (its periods from adoption
on dropped), as the control cohort. Step 2 (eq. 30) averages the cohort effects at each
event time with the cohorts' shares of the treated rows at that event time as weights;
the overall ATT weights every post-period interaction by its share of all treated rows
(``fixest::aggregate(att)``).

Standard errors: CR1 cluster-robust covariance of the interactions (small-sample factor
``G/(G-1) (N-1)/(N-K)`` with unit effects nested in the clusters, as fixest), carried to
the averages by the delta method with the shares held fixed, as fixest does; t(G-1)
critical values. The paper's Proposition 6 term for the estimated shares is left out, as
fixest leaves it out.

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
>>> res = sun_abraham(df, outcomes=["y"], unit="id", time="year", cohort="g")
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
from tillit.core.did._long import LongPanel, TwoWayFE, outcome_groups
from tillit.core.did._stage1 import bound_window, prepare, sum_matrix
from tillit.core.errors import EstimationError

__all__ = ["sun_abraham"]


def sun_abraham(
    data: pd.DataFrame,
    *,
    outcomes: list[str],
    unit: str,
    time: str,
    cohort: str,
    weight: str | None = None,
    cluster: str | None = None,
    min_e: int | None = None,
    max_e: int | None = None,
    level: float = 0.95,
) -> EventStudyResult:
    """Sun-Abraham interaction-weighted event study for one or many outcomes.

    Parameters
    ----------
    data
        Long panel (may be unbalanced).
    outcomes, unit, time, cohort
        Columns; ``cohort`` is the first treated period (0 or empty: never treated).
    weight
        Observation weights (WLS; the cohort shares are weighted too).
    cluster
        Column constant within units to cluster on (default: the unit).
    min_e, max_e
        Event times reported (the regression keeps every interaction).
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
    coh = p.cohort[p.unit]
    use = coh > p.periods[0]  # a cohort without a pre-period is not identified
    early = int((p.cohort <= p.periods[0]).sum())
    if early:
        notes.append(
            f"{early} units treated from the first period on were dropped (no "
            "pre-treatment period)"
        )
    control = "never treated"
    if not np.isinf(p.cohort).any():
        last = p.cohort.max()
        use &= p.periods[p.time] < last
        coh = np.where(coh == last, np.inf, coh)
        control = f"last-treated cohort {last:g}"
        notes.append(
            f"no never-treated units: cohort {last:g} is the control cohort and periods "
            f"from {last:g} on were dropped"
        )
    res: dict[str, EventOutcome] = {}
    for cols in outcome_groups(p.y):
        ok = use & ~np.isnan(p.y[:, cols[0]]) & (p.w > 0)
        res.update(_fit(p, np.flatnonzero(ok), coh, cols, (lo, hi), level))
    return EventStudyResult(
        method="sun_abraham",
        title="Interaction-weighted event study (Sun & Abraham 2021)",
        n_units=p.n_units,
        n_periods=int(p.periods.shape[0]),
        n_clusters=p.n_clusters,
        outcomes={k: res[k] for k in p.outcomes},
        settings={
            "weight": weight,
            "cluster": cluster or unit,
            "control": control,
            "min_e": min_e,
            "max_e": max_e,
            "level": level,
            "reference": -1,
            "variance": "CR1, shares held fixed (fixest)",
        },
        notes=tuple(dict.fromkeys(notes)),
    )


def _design(
    p: LongPanel, rows: np.ndarray, coh: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Interaction columns: (cohort, event time) pairs and the dummy matrix."""
    g = coh[rows]
    rel = np.where(np.isfinite(g), p.periods[p.time[rows]] - g, -np.inf)
    cell = np.isfinite(g) & (rel != -1)
    pairs = np.unique(np.c_[g[cell], rel[cell]], axis=0)
    code = np.full(rows.size, -1)
    lookup = {(a, b): i for i, (a, b) in enumerate(pairs)}
    idx = np.flatnonzero(cell)
    code[idx] = [lookup[(a, b)] for a, b in zip(g[idx], rel[idx], strict=True)]
    x = np.zeros((rows.size, pairs.shape[0]))
    x[idx, code[idx]] = 1.0
    return pairs[:, 0], pairs[:, 1], x


def _fit(
    p: LongPanel,
    rows: np.ndarray,
    coh: np.ndarray,
    cols: np.ndarray,
    window: tuple[float, float],
    level: float,
) -> dict[str, EventOutcome]:
    pg, pe, x = _design(p, rows, coh)
    if not pe.size:
        raise EstimationError("no cohort x event-time cells to estimate")
    w = p.w[rows]
    fe = TwoWayFE(p.unit[rows], p.time[rows], w, p.n_units, p.periods.shape[0])
    y = p.y[np.ix_(rows, cols)]
    xr, yr = fe.resid(x), fe.resid(y)
    a = xr.T @ (w[:, None] * xr)
    ev = np.linalg.eigvalsh(a)
    if ev.min() <= 1e-10 * ev.max():
        raise EstimationError(
            "the cohort x event-time interactions are collinear with the fixed effects"
        )
    a_inv = np.linalg.inv(a)
    delta = a_inv @ (xr.T @ (w[:, None] * yr))  # (P, m)
    resid = yr - xr @ delta
    share = x.T @ w  # weighted rows per interaction
    events = np.unique(pe[(pe >= window[0]) & (pe <= window[1])])
    lam = (pe[None, :] == events[:, None]) * share[None, :]
    lam /= lam.sum(axis=1, keepdims=True)
    post = (pe >= 0) * share
    lam = np.vstack([lam, post / post.sum()])  # (E+1, P)
    q = (xr @ a_inv) * w[:, None]  # (rows, P): delta = q' y
    g = p.n_clusters
    n_obs = rows.size
    k_par = pe.size + p.periods.shape[0]  # unit effects nested in the clusters
    factor = g / (g - 1) * (n_obs - 1) / max(n_obs - k_par, 1) if g > 1 else 1.0
    cm = sum_matrix(p.cluster[rows], g)
    ql = q @ lam.T  # (rows, E+1)
    pre = events < 0
    out: dict[str, EventOutcome] = {}
    for k, j in enumerate(cols):
        s_cell = cm @ (q * resid[:, k : k + 1])  # (G, P)
        s = cm @ (ql * resid[:, k : k + 1])
        cov = factor * (s.T @ s)
        cov_cell = factor * (s_cell.T @ s_cell)
        est = lam @ delta[:, k]
        ne = events.size
        v = cov[:ne, :ne]
        cells = table(
            {"cohort": pg, "event_time": pe}, delta[:, k], cov_cell, level, g - 1
        )
        extra: dict[str, Any] = {
            "cohort_event": cells.rows(),
            "weights": {"cohort": pg, "event_time": pe, "share": lam[:-1].sum(axis=0)},
        }
        out[p.outcomes[j]] = EventOutcome(
            outcome=p.outcomes[j],
            event=table({"event_time": events}, est[:ne], v, level, g - 1),
            vcov=v,
            overall=table(
                {"term": np.array(["overall"])}, est[ne:], cov[ne:, ne:], level, g - 1
            ),
            n_obs=int(n_obs),
            pretrend=pretrend_wald(est[:ne][pre], v[np.ix_(pre, pre)]),
            extra=extra,
        )
    return out
