"""Difference-in-differences with a continuous treatment (Callaway, Goodman-Bacon &
Sant'Anna 2024, "Difference-in-differences with a Continuous Treatment", NBER WP 32117),
as R ``contdid``'s ``cont_did`` with its parametric (spline) dose model.

Each unit has a time-invariant dose ``D`` and a timing group ``G`` (first treated period;
0 never). For a cell ``(g, t)`` with base period ``b`` the outcome change
``dY = Y_t - Y_b`` of group ``g``'s treated units is regressed on a polynomial in the
dose of degree ``degree`` (R's B-spline basis without interior knots spans the same
functions, so fitted curves are identical), and the comparison units' mean change
(not-yet-treated or never-treated) is subtracted (section 3, eq. 3.3):

* ``ATT(d|g,t) = E[dY | G=g, D=d] - E[dY | comparison]`` (level, eq. 2.2),
* ``ACRT(d|g,t) = d ATT(d|g,t) / dd`` (slope, eq. 2.5),
* ``ATT^o`` and ``ACRT^o``: their averages over the treated doses (eq. 2.3, 2.6).

Post-treatment cells are combined with R ``contdid``'s weights (each timing group's share
of the treated, spread evenly over its post periods); the event study of ``ATT^o`` by
``t - g`` (including pre-periods, the placebo checks) is aggregated as R ``did``'s
``aggte(type="dynamic")``. Standard errors are analytic, from the influence functions of
the regressions and means (R ``contdid`` bootstraps the same influence functions), the
cell weights held fixed for the dose curves.

Example
-------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> n, T = 600, 4
>>> g = rng.choice([0, 2002, 2003], n)
>>> dose = np.where(g > 0, rng.uniform(1, 3, n), 0.0)
>>> rows = pd.DataFrame({"id": np.repeat(np.arange(n), T),
...                      "year": np.tile(np.arange(2000, 2000 + T), n)})
>>> rows["g"], rows["d"] = g[rows.id], dose[rows.id]
>>> treated = (rows.g > 0) & (rows.year >= rows.g)
>>> rows["y"] = rng.normal(size=len(rows)) * 0.1 + 0.5 * rows.d * treated
>>> res = cont_did(rows, outcomes=["y"], unit="id", time="year", cohort="g", dose="d")
>>> round(float(res["y"].extra["acrt_overall"]["estimate"]), 1)
0.5
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
from tillit.core.did.results import EstimateTable
from tillit.core.errors import DataError, EstimationError

__all__ = ["cont_did"]

_MAX_GRID = 1000


def cont_did(
    data: pd.DataFrame,
    *,
    outcomes: list[str],
    unit: str,
    time: str,
    cohort: str,
    dose: str,
    control: str = "notyet",
    base_period: str = "varying",
    degree: int = 3,
    dose_grid: int | list[float] = 50,
    weight: str | None = None,
    cluster: str | None = None,
    level: float = 0.95,
) -> EventStudyResult:
    """Continuous-treatment DiD for one or many outcomes.

    Parameters
    ----------
    data
        Long balanced panel.
    outcomes, unit, time, cohort
        Columns; ``cohort`` is the first treated period (0 or empty: never treated).
    dose
        Time-invariant dose (positive for treated units).
    control
        ``notyet`` (R ``contdid``'s default) or ``never``.
    base_period
        ``varying`` (default) or ``universal`` for the pre-period cells.
    degree
        Degree (1-3) of the dose polynomial (R's ``degree``, with ``num_knots = 0``).
    dose_grid
        Number of evenly spaced doses between the smallest and largest treated dose
        (default 50, as R), or the doses themselves.
    weight, cluster, level
        Unit weights (constant within a unit), cluster column, confidence level.
    """
    if not 1 <= degree <= 3:
        raise EstimationError("degree must be 1, 2 or 3")
    if control not in ("never", "notyet") or base_period not in (
        "universal",
        "varying",
    ):
        raise EstimationError(
            "control must be never|notyet, base_period universal|varying"
        )
    covs = [dose] + ([weight] if weight else [])
    panel = build_panel(
        data, outcomes=list(outcomes), unit=unit, time=time, cohort=cohort,
        covariates=covs, cluster=cluster, control=control,
    )  # fmt: skip
    d, w = _unit_columns(panel, dose, weight)
    grid = _grid(d[np.isfinite(panel.cohort)], dose_grid)
    scale = (float(np.mean(grid)), float(np.ptp(grid)) or 1.0)
    cells = _cells(panel, base_period)
    fits = [_cell(panel, d, w, c, control, degree, grid, scale) for c in cells]
    clus = panel.cluster if panel.cluster is not None else np.arange(panel.n_units)
    notes = list(panel.notes)
    skipped = sum(f is None for f in fits)
    if skipped:
        notes.append(f"{skipped} group-time cells had no treated or comparison units")
    out = {
        name: _outcome(panel, k, cells, fits, grid, clus, w, level)
        for k, name in enumerate(panel.outcomes)
    }
    return EventStudyResult(
        method="cont_did",
        title="Continuous-treatment DiD (Callaway, Goodman-Bacon & Sant'Anna 2024)",
        n_units=panel.n_units, n_periods=panel.n_periods, n_clusters=int(clus.max()) + 1,
        outcomes=out,
        settings={"dose": dose, "control": control, "base_period": base_period,
                  "degree": degree, "weight": weight, "cluster": cluster or unit,
                  "level": level},
        notes=tuple(notes),
    )  # fmt: skip


def _unit_columns(
    panel: Panel, dose: str, weight: str | None
) -> tuple[np.ndarray, np.ndarray]:
    x = panel.x
    varies = (np.nanmax(x, axis=1) != np.nanmin(x, axis=1)).any(axis=1)
    if varies.any():
        raise DataError(
            f"unit {panel.units[int(np.flatnonzero(varies)[0])]} has a dose or weight "
            "that changes over time; the dose must be the same in every row of a unit",
            field=dose,
        )
    d = x[:, 0, 0]
    treated = np.isfinite(panel.cohort)
    if (d[treated] <= 0).any():
        bad = panel.units[int(np.flatnonzero(treated & (d <= 0))[0])]
        raise DataError(
            f"treated unit {bad} has a dose that is not positive", field=dose
        )
    w = x[:, 0, 1] if weight else np.ones(panel.n_units)
    if (w < 0).any():
        raise DataError("weights must not be negative", field=weight)
    return d, w


def _grid(doses: np.ndarray, dose_grid: int | list[float]) -> np.ndarray:
    if isinstance(dose_grid, int):
        if not 2 <= dose_grid <= _MAX_GRID:
            raise EstimationError(f"dose_grid must be between 2 and {_MAX_GRID} points")
        return np.linspace(doses.min(), doses.max(), dose_grid)
    out = np.asarray(dose_grid, dtype=float)
    if out.ndim != 1 or not 1 <= out.size <= _MAX_GRID or not np.isfinite(out).all():
        raise EstimationError("dose_grid must be finite doses")
    return out


def _cells(panel: Panel, base_period: str) -> list[tuple[float, float, float]]:
    per = panel.periods
    out = []
    for g in np.unique(panel.cohort[np.isfinite(panel.cohort)]):
        before = per[per < g]
        if not before.size:
            continue
        for i, t in enumerate(per):
            pre = t < g
            if pre and base_period == "varying":
                if i == 0:
                    continue
                b = per[i - 1]
            else:
                b = before[-1]
            if t != b:
                out.append((float(g), float(t), float(b)))
    if not out:
        raise EstimationError("no group-time cells with a pre-period to compare with")
    return out


def _basis(
    d: np.ndarray, degree: int, scale: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Polynomial basis in the scaled dose and its derivative in the dose."""
    z = (d - scale[0]) / scale[1]
    x = np.column_stack([z**p for p in range(degree + 1)])
    dx = np.column_stack(
        [np.zeros_like(z)] + [p * z ** (p - 1) / scale[1] for p in range(1, degree + 1)]
    )
    return x, dx


def _cell(
    panel: Panel, d: np.ndarray, w: np.ndarray, cell: tuple[float, float, float],
    control: str, degree: int, grid: np.ndarray, scale: tuple[float, float],
) -> dict[str, Any] | None:  # fmt: skip
    """Estimates and per-unit influence functions (n, ...) of one cell, all outcomes."""
    g, t, b = cell
    per, coh = panel.periods, panel.cohort
    dy = (
        panel.y[:, int(np.searchsorted(per, t))]
        - panel.y[:, int(np.searchsorted(per, b))]
    )
    ok = np.isfinite(dy)
    treat = coh == g
    comp = np.isinf(coh) if control == "never" else (coh > max(t, b)) & ~treat
    wk_t = (w * treat)[:, None] * ok
    wk_c = (w * comp)[:, None] * ok
    if not (wk_t.sum(axis=0) > 0).all() or not (wk_c.sum(axis=0) > 0).all():
        return None
    dy = np.nan_to_num(dy)
    m0 = (wk_c * dy).sum(axis=0) / wk_c.sum(axis=0)
    psi0 = wk_c * (dy - m0) / wk_c.sum(axis=0)
    mt = (wk_t * dy).sum(axis=0) / wk_t.sum(axis=0)
    att_o = mt - m0
    psi_att = wk_t * (dy - mt) / wk_t.sum(axis=0) - psi0
    res: dict[str, Any] = {"att_o": att_o, "psi_att": psi_att, "post": t >= g}
    if t >= g and np.unique(d[treat]).size > degree:
        res.update(_dose_fit(d, dy, wk_t, treat, degree, grid, scale, m0, psi0))
    return res


def _dose_fit(
    d: np.ndarray, dy: np.ndarray, wk: np.ndarray, treat: np.ndarray, degree: int,
    grid: np.ndarray, scale: tuple[float, float], m0: np.ndarray, psi0: np.ndarray,
) -> dict[str, Any]:  # fmt: skip
    x, dx = _basis(d, degree, scale)
    xg, dxg = _basis(grid, degree, scale)
    K = dy.shape[1]
    att_d, acrt_d = np.empty((grid.size, K)), np.empty((grid.size, K))
    acrt_o = np.empty(K)
    psi_d = np.empty((d.size, grid.size, K))
    psi_a = np.empty((d.size, grid.size, K))
    psi_ao = np.empty((d.size, K))
    for k in range(K):
        wt = wk[:, k]
        bread = np.linalg.pinv(x.T @ (wt[:, None] * x))
        beta = bread @ (x.T @ (wt * dy[:, k]))
        e = (dy[:, k] - x @ beta) * treat
        score = (x @ bread) * (wt * e)[:, None]  # (n, p): beta_hat - beta = sum score
        att_d[:, k] = xg @ beta - m0[k]
        acrt_d[:, k] = dxg @ beta
        psi_d[:, :, k] = score @ xg.T - psi0[:, k : k + 1]
        psi_a[:, :, k] = score @ dxg.T
        slope = dx @ beta
        acrt_o[k] = (wt * slope).sum() / wt.sum()
        abar = (wt[:, None] * dx).sum(axis=0) / wt.sum()
        psi_ao[:, k] = wt * (slope - acrt_o[k]) / wt.sum() + score @ abar
    return {"att_d": att_d, "acrt_d": acrt_d, "acrt_o": acrt_o, "psi_d": psi_d,
            "psi_a": psi_a, "psi_ao": psi_ao}  # fmt: skip


def _post_weights(
    panel: Panel,
    cells: list[tuple[float, float, float]],
    w: np.ndarray,
    has: np.ndarray,
) -> np.ndarray:
    """R contdid's cell weights: group share among the treated / its post cells."""
    g_cells = np.array([c[0] for c in cells])
    treated = np.isfinite(panel.cohort)
    out = np.zeros(len(cells))
    for g in np.unique(g_cells[has]):
        pg = w[panel.cohort == g].sum() / w[treated].sum()
        sel = has & (g_cells == g)
        out[sel] = pg / sel.sum()
    total = out.sum()
    return out / total if total > 0 else out


def _stack(
    fits: list[dict[str, Any] | None], key: str, k: int, idx: list[int]
) -> np.ndarray:
    return np.stack([fits[i][key][..., k] for i in idx], axis=-1)  # type: ignore[index]


def _outcome(
    panel: Panel, k: int, cells: list[tuple[float, float, float]],
    fits: list[dict[str, Any] | None], grid: np.ndarray, clus: np.ndarray,
    w: np.ndarray, level: float,
) -> EventOutcome:  # fmt: skip
    ok = [i for i, f in enumerate(fits) if f is not None]
    dose_ok = np.array([f is not None and "att_d" in f for f in fits])
    wts = _post_weights(panel, cells, w, dose_ok)
    idx = [int(i) for i in np.flatnonzero(dose_ok)]
    extra: dict[str, Any] = {"dose": grid}
    if idx:
        wv = wts[idx]
        curves = {}
        for key, psi_key, name in (
            ("att_d", "psi_d", "dose_response"),
            ("acrt_d", "psi_a", "acrt"),
        ):
            est = _stack(fits, key, k, idx) @ wv
            psi = _stack(fits, psi_key, k, idx) @ wv
            curves[name] = table({"dose": grid}, est, cluster_cov(psi, clus), level)
        a_est = np.array([_stack(fits, "acrt_o", k, idx) @ wv])
        a_psi = (_stack(fits, "psi_ao", k, idx) @ wv)[:, None]
        att_o = np.array([_stack(fits, "att_o", k, idx) @ wv])
        o_psi = (_stack(fits, "psi_att", k, idx) @ wv)[:, None]
        extra.update({n: c.rows() for n, c in curves.items()})
        extra["acrt_overall"] = table(
            {"term": np.array(["acrt"])}, a_est, cluster_cov(a_psi, clus), level
        ).row(0)
    else:
        att_o, o_psi = np.array([np.nan]), np.zeros((panel.n_units, 1))
    theta = np.array([[fits[i]["att_o"][k]] for i in ok])  # type: ignore[index]
    psi = np.stack([fits[i]["psi_att"][:, k] for i in ok], axis=1)[:, :, None]  # type: ignore[index]
    cg = np.array([cells[i][0] for i in ok])
    ce = np.array([cells[i][1] - cells[i][0] for i in ok])
    events, est, psi_e, _, _ = aggregate(theta, psi, cg, ce, panel.cohort, w)
    v = cluster_cov(psi_e[:, :, 0], clus)
    pre = events < 0
    overall: EstimateTable = table(
        {"term": np.array(["att_overall"])}, att_o, cluster_cov(o_psi, clus), level
    )
    return EventOutcome(
        outcome=panel.outcomes[k],
        event=table({"event_time": events}, est[:, 0], v, level),
        vcov=v,
        overall=overall,
        n_obs=int(np.isfinite(panel.y[:, :, k]).sum()),
        pretrend=pretrend_wald(est[pre, 0], v[np.ix_(pre, pre)]),
        extra=extra,
    )
