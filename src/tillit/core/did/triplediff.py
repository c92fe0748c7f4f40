"""Triple differences with staggered adoption (Ortiz-Villavicencio & Sant'Anna 2025,
"Better Understanding Triple Differences Estimators", arXiv:2505.09942), as R
``triplediff``'s ``ddd`` without covariates.

Units belong to a treatment-enabling group ``S`` (the period in which their region
adopts; 0 never) and a partition ``Q`` (1 eligible, 0 not). For cohort ``g``, period ``t``
and base period ``b`` (``g-1``; or ``t-1`` before adoption with ``base_period="varying"``),
with ``dY = Y_t - Y_b`` averaged within each of the four cells (eq. 3.2)::

    DDD(g,t) = [dY(S=g,Q=1) - dY(S=g,Q=0)] - [dY(S=c,Q=1) - dY(S=c,Q=0)]

against the never-enabled units (``control="never"``), or, with ``control="notyet"``,
against every cohort ``c`` not yet enabled at ``max(t, b)``, combined by the optimal
GMM weights ``Omega^-1 1 / (1' Omega^-1 1)`` of section 4.3 (eq. 4.11), ``Omega`` the
covariance of the comparison-specific estimates. Without covariates the paper's
regression, IPW and doubly robust estimators all reduce to these means.

Cells are aggregated into an event study and an overall ATT as R ``did``'s ``aggte``
(weights ``P(S = g)``, with their estimation effect), standard errors from the
influence functions, clustered by unit or by ``cluster``.

Example
-------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> n, T = 400, 5
>>> s = np.repeat(rng.choice([0, 2003, 2004], n), T)
>>> q = np.repeat(rng.integers(0, 2, n), T)
>>> year = np.tile(np.arange(2000, 2000 + T), n)
>>> y = np.repeat(rng.normal(size=n), T) + 0.3 * q * (year - 2000) + 0.1 * rng.normal(size=n * T)
>>> y = y + 1.0 * ((s > 0) & (year >= s) & (q == 1))
>>> df = pd.DataFrame({"id": np.repeat(np.arange(n), T), "year": year, "s": s, "q": q, "y": y})
>>> res = triple_diff(df, outcomes=["y"], unit="id", time="year", cohort="s", partition="q")
>>> round(float(res["y"].overall.estimate[0]), 1)
1.0
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tillit.core.did._agg_cells import aggregate, cluster_cov
from tillit.core.did._es_result import (
    EventOutcome,
    EventStudyResult,
    pretrend_wald,
    table,
)
from tillit.core.did._panel import Panel, build_panel
from tillit.core.errors import DataError, EstimationError

__all__ = ["triple_diff"]

_SIGN = {(1, 1): 1.0, (1, 0): -1.0, (0, 1): -1.0, (0, 0): 1.0}


def triple_diff(
    data: pd.DataFrame,
    *,
    outcomes: list[str],
    unit: str,
    time: str,
    cohort: str,
    partition: str,
    control: str = "never",
    base_period: str = "universal",
    weight: str | None = None,
    cluster: str | None = None,
    level: float = 0.95,
) -> EventStudyResult:
    """Staggered triple differences for one or many outcomes.

    Parameters
    ----------
    data
        Long balanced panel (units missing a period are dropped and counted).
    outcomes, unit, time
        Columns.
    cohort
        Period the unit's treatment-enabling group adopts (0 or empty: never).
    partition
        1 for the eligible units, 0 for the others (constant within a unit).
    control
        ``never`` (never-enabled units) or ``notyet`` (GMM over not-yet-enabled cohorts).
    base_period
        ``universal`` (``g-1`` for every cell; R ``triplediff``'s default) or ``varying``.
    weight
        Unit weights (constant within a unit; R ``did``'s ``weightsname``).
    cluster
        Column to cluster on (default: the unit).
    level
        Confidence level (normal critical values).
    """
    if control not in ("never", "notyet") or base_period not in (
        "universal",
        "varying",
    ):
        raise EstimationError(
            "control must be never|notyet, base_period universal|varying"
        )
    covs = [partition] + ([weight] if weight else [])
    panel = build_panel(
        data, outcomes=list(outcomes), unit=unit, time=time, cohort=cohort,
        covariates=covs, cluster=cluster, control=control,
    )  # fmt: skip
    q, w = _unit_columns(panel, partition, weight)
    cells = _cells(panel, base_period)
    theta, psi = _estimate(panel, q, w, cells, control)
    cell_g, cell_e = cells[:, 0], cells[:, 1] - cells[:, 0]
    events, est, psi_e, overall, psi_o = aggregate(
        theta, psi, cell_g, cell_e, panel.cohort, w
    )
    clus = panel.cluster if panel.cluster is not None else np.arange(panel.n_units)
    out = {}
    for k, name in enumerate(panel.outcomes):
        cov = cluster_cov(np.column_stack([psi_e[:, :, k], psi_o[:, k : k + 1]]), clus)
        ne = events.size
        v = cov[:ne, :ne]
        pre = events < 0
        out[name] = EventOutcome(
            outcome=name,
            event=table({"event_time": events}, est[:, k], v, level),
            vcov=v,
            overall=table(
                {"term": np.array(["overall"])},
                overall[k : k + 1],
                cov[ne:, ne:],
                level,
            ),
            n_obs=int(np.isfinite(panel.y[:, :, k]).sum()),
            pretrend=pretrend_wald(est[pre, k], v[np.ix_(pre, pre)]),
            extra={"att_gt": _cell_rows(cells, theta[:, k], psi[:, :, k], clus)},
        )
    return EventStudyResult(
        method="triple_diff",
        title="Staggered triple differences (Ortiz-Villavicencio & Sant'Anna 2025)",
        n_units=panel.n_units,
        n_periods=panel.n_periods,
        n_clusters=int(clus.max()) + 1,
        outcomes=out,
        settings={"partition": partition, "control": control, "base_period": base_period,
                  "weight": weight, "cluster": cluster or unit, "level": level},
        notes=panel.notes,
    )  # fmt: skip


def _unit_columns(
    panel: Panel, partition: str, weight: str | None
) -> tuple[np.ndarray, np.ndarray]:
    x = panel.x
    if np.any(np.nanmax(x, axis=1) != np.nanmin(x, axis=1)):
        bad = int(
            np.flatnonzero((np.nanmax(x, axis=1) != np.nanmin(x, axis=1)).any(axis=1))[
                0
            ]
        )
        raise DataError(
            f"unit {panel.units[bad]} has a partition or weight that changes over time",
            field=partition,
        )
    q = x[:, 0, 0]
    if not np.isin(q, (0, 1)).all():
        raise DataError("the partition must be 0 or 1", field=partition)
    w = x[:, 0, 1] if weight else np.ones(panel.n_units)
    if (w < 0).any() or not (w > 0).any():
        raise DataError("weights must not be negative", field=weight)
    for s_val in (0, 1):
        if not (q == s_val).any():
            raise EstimationError(f"no units with partition {s_val}")
    return q.astype(int), w


def _cells(panel: Panel, base_period: str) -> np.ndarray:
    """Rows (g, t, b) of the group-time cells to estimate."""
    per = panel.periods
    rows = []
    for g in np.unique(panel.cohort[np.isfinite(panel.cohort)]):
        before = per[per < g]
        if not before.size:
            continue
        for i, t in enumerate(per):
            if t < g and base_period == "varying":
                if i == 0:
                    continue
                b = per[i - 1]
            else:
                b = before[-1]
            if t == b:
                continue
            rows.append((g, t, b))
    if not rows:
        raise EstimationError("no group-time cells with a pre-period to compare with")
    return np.array(rows, dtype=float)


def _ddd(
    dy: np.ndarray, wk: np.ndarray, sub: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """DDD from the four cell masks (S=g,Q=1), (g,0), (c,1), (c,0); IF per unit."""
    theta = np.zeros(dy.shape[1])
    psi = np.zeros_like(dy)
    for mask, sign in zip(sub, (1.0, -1.0, -1.0, 1.0), strict=True):
        ww = wk * mask[:, None]
        tot = ww.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            m = (ww * dy).sum(axis=0) / tot
        theta += sign * m
        psi += sign * ww * (dy - m[None]) / np.where(tot > 0, tot, np.inf)[None]
    return theta, np.nan_to_num(psi)


def _estimate(
    panel: Panel, q: np.ndarray, w: np.ndarray, cells: np.ndarray, control: str
) -> tuple[np.ndarray, np.ndarray]:
    per, g_unit = panel.periods, panel.cohort
    n, K = panel.n_units, panel.y.shape[2]
    theta = np.full((cells.shape[0], K), np.nan)
    psi = np.zeros((n, cells.shape[0], K))
    for c, (g, t, b) in enumerate(cells):
        ti, bi = int(np.searchsorted(per, t)), int(np.searchsorted(per, b))
        dy = panel.y[:, ti] - panel.y[:, bi]
        wk = w[:, None] * np.isfinite(dy)
        dy = np.nan_to_num(dy)
        treat = g_unit == g
        if control == "never":
            comps = [np.isinf(g_unit)]
        else:
            later = g_unit > max(t, b)
            comps = [g_unit == c2 for c2 in np.unique(g_unit[later & ~treat])]
        ests = [_ddd(dy, wk, [treat & (q == 1), treat & (q == 0), m & (q == 1), m & (q == 0)])
                for m in comps if (m & (q == 1)).any() and (m & (q == 0)).any()]  # fmt: skip
        if not ests or not (treat & (q == 1)).any() or not (treat & (q == 0)).any():
            continue
        theta[c], psi[:, c] = _gmm(ests)
    return theta, psi


def _gmm(ests: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Optimal combination over comparison cohorts (one: itself), per outcome."""
    if len(ests) == 1:
        return ests[0]
    th = np.stack([e[0] for e in ests])  # (m, K)
    ps = np.stack([e[1] for e in ests], axis=1)  # (n, m, K)
    out_t = np.empty(th.shape[1])
    out_p = np.empty((ps.shape[0], th.shape[1]))
    ones = np.ones(th.shape[0])
    for k in range(th.shape[1]):
        omega = ps[:, :, k].T @ ps[:, :, k]
        a = np.linalg.lstsq(omega, ones, rcond=None)[0]  # Omega^-1 1, rank-safe
        wts = a / a.sum()
        out_t[k] = wts @ th[:, k]
        out_p[:, k] = ps[:, :, k] @ wts
    return out_t, out_p


def _cell_rows(
    cells: np.ndarray, theta: np.ndarray, psi: np.ndarray, clus: np.ndarray
) -> list[dict[str, Any]]:
    se = np.sqrt(np.diag(cluster_cov(psi, clus)))
    return [
        {"group": g, "time": t, "base": b, "estimate": th if np.isfinite(th) else None,
         "se": s if np.isfinite(th) else None}
        for (g, t, b), th, s in zip(cells, theta, se, strict=True)
    ]  # fmt: skip
