"""Event-study effects of a first treatment change for non-binary, switching treatments
(de Chaisemartin & D'Haultfoeuille 2024, "Difference-in-Differences Estimators of
Intertemporal Treatment Effects", REStat 106(6)), as R ``DIDmultiplegtDYN``'s
``did_multiplegt_dyn``.

For a group ``g`` whose treatment first changes at ``F_g`` (from its baseline ``D_g1``,
in direction ``S_g``), effect ``l`` compares its outcome change ``Y_{F_g-1+l} - Y_{F_g-1}``
with that of the groups with the same baseline treatment that have not changed yet
(section 3, eq. 3-4)::

    DID_l = sum_g (N_g / N_l) S_g [dY_g - sum_{g' not yet} (N_g'/N^c) dY_g']

Placebo ``l`` does the same with ``Y_{F_g-1-l} - Y_{F_g-1}``. ``normalized=True`` divides
``DID_l`` by the average cumulative treatment change ``delta_l`` (eq. 5), and the
overall figure is ``did_multiplegt_dyn``'s average total effect per unit of treatment,
``sum_l N_l DID_l / sum_l N_l delta^D_l`` (section 3.3).

Variance: the influence function ``U_g`` of each estimator, with the outcome changes
demeaned within cohorts (switchers by baseline, first-switch period and new treatment;
not-yet switchers by baseline and period) and scaled by ``sqrt(n/(n-1))`` in cohorts of
``n >= 2`` groups, as the package's default (conservative) variance;
``Var = sum_clusters (sum_g U_g)^2 / G^2``. The covariance of effects and placebos comes
from the same sums, so :meth:`EventStudyResult.honest` applies.

Example
-------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(2)
>>> n, T = 80, 6
>>> start = rng.choice([2, 3, 4, 99], n)
>>> t = np.tile(np.arange(T), n)
>>> d = np.where(t >= np.repeat(start, T), 2, 0)  # a dose of 2 from a random period
>>> y = np.repeat(rng.normal(size=n), T) + 0.05 * rng.normal(size=n * T) + 0.25 * d
>>> df = pd.DataFrame({"g": np.repeat(np.arange(n), T), "t": t, "d": d, "y": y})
>>> res = dcdh(df, outcomes=["y"], unit="g", time="t", treatment="d", effects=2)
>>> [round(float(b), 1) for b in res["y"].event.estimate]
[0.5, 0.5]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tillit.core.did._dcdh_grid import Grid, build_grid
from tillit.core.did._es_result import (
    EventOutcome,
    EventStudyResult,
    pretrend_wald,
    table,
)
from tillit.core.did._stage1 import sum_matrix
from tillit.core.errors import EstimationError

__all__ = ["dcdh"]

_MAX_HORIZON = 100


def dcdh(
    data: pd.DataFrame,
    *,
    outcomes: list[str],
    unit: str,
    time: str,
    treatment: str,
    effects: int = 1,
    placebo: int = 0,
    normalized: bool = False,
    switchers: str = "both",
    weight: str | None = None,
    cluster: str | None = None,
    level: float = 0.95,
) -> EventStudyResult:
    """``did_multiplegt_dyn`` for one or many outcomes.

    Parameters
    ----------
    data
        Long panel of groups and periods (consecutive periods; may be unbalanced).
    outcomes, unit, time, treatment
        Columns; ``treatment`` may be binary, discrete or continuous, and may switch
        in and out.
    effects, placebo
        Number of event-study effects (``l = 1..effects``) and placebos (reported at
        event times ``-1..-placebo``); cut to what the data allow.
    normalized
        Divide each effect by the average cumulative treatment change.
    switchers
        ``both`` (default), ``in`` (first change up) or ``out`` (first change down).
    weight
        Cell weights (``did_multiplegt_dyn``'s ``weight``).
    cluster
        Column constant within groups to cluster on (default: the group).
    level
        Confidence level (normal critical values).
    """
    for name, v in (("effects", effects), ("placebo", placebo)):
        if not 0 <= v <= _MAX_HORIZON:
            raise EstimationError(f"{name} must lie between 0 and {_MAX_HORIZON}")
    if effects < 1:
        raise EstimationError("effects must be at least 1")
    if switchers not in ("both", "in", "out"):
        raise EstimationError("switchers must be both, in or out")
    grid = build_grid(
        data, outcomes=list(outcomes), unit=unit, time=time, treatment=treatment,
        weight=weight, cluster=cluster, switchers=switchers,
    )  # fmt: skip
    notes = list(grid.notes)
    t_count = grid.periods.shape[0]
    n_eff = min(effects, int(grid.l_g.max()))
    n_pl = min(placebo, max(int((grid.f[grid.s != 0] - 1).max()), 0))
    if n_eff < effects:
        notes.append(f"only {n_eff} effects can be estimated ({effects} asked)")
    if n_pl < placebo:
        notes.append(f"only {n_pl} placebos can be estimated ({placebo} asked)")
    eff = [_horizon(grid, ell, False) for ell in range(1, n_eff + 1)]
    pl = [_horizon(grid, ell, True) for ell in range(1, n_pl + 1)]
    out = {
        name: _outcome(grid, k, eff, pl, normalized, level)
        for k, name in enumerate(grid.outcomes)
    }
    return EventStudyResult(
        method="dcdh",
        title="DiD with a non-binary, switching treatment (de Chaisemartin & "
        "D'Haultfoeuille 2024)",
        n_units=grid.n_groups,
        n_periods=t_count,
        n_clusters=int(grid.cluster.max()) + 1,
        outcomes=out,
        settings={
            "treatment": treatment, "effects": n_eff, "placebo": n_pl,
            "normalized": normalized, "switchers": switchers, "weight": weight,
            "cluster": cluster or unit, "level": level,
            "variance": "did_multiplegt_dyn analytic (cohort-demeaned, DOF-scaled)",
        },
        notes=tuple(notes),
    )  # fmt: skip


def _lagdiff(y: np.ndarray, a: int, b: int) -> np.ndarray:
    """``y[t - a] - y[t - b]`` along axis 1 (NaN where a lag falls off the grid)."""
    out = np.full_like(y, np.nan)
    lag = max(a, b)
    if lag < y.shape[1]:
        t_hi = y.shape[1]
        out[:, lag:] = y[:, lag - a : t_hi - a] - y[:, lag - b : t_hi - b]
    return out


def _horizon(grid: Grid, ell: int, placebo: bool) -> dict[str, Any]:
    """Influence functions (per group, per outcome) of one effect or placebo."""
    G, T, _ = grid.y.shape
    diff = _lagdiff(grid.y, 2 * ell, ell) if placebo else _lagdiff(grid.y, 0, ell)
    valid = ~np.isnan(diff) & (grid.n_gt > 0)
    tau = np.arange(T)[None, :, None]
    never = valid & (grid.f[:, None, None] > tau)
    w = grid.n_gt
    dsq = sum_matrix(grid.dsq_code, int(grid.dsq_code.max()) + 1)
    n_ctrl = np.einsum("dg,gtk->dtk", dsq.toarray(), w * never)[grid.dsq_code]
    at = (tau == grid.f[:, None, None] - 1 + ell) & (grid.l_g >= ell)[:, None, None]
    dist = valid & at & (grid.s != 0)[:, None, None] & (n_ctrl > 0)
    wd = w * dist
    n_l = wd.sum(axis=(0, 1))  # (K,)
    n_sw_td = np.einsum("dg,gtk->dtk", dsq.toarray(), wd * grid.s[:, None, None])
    ratio = np.divide(n_sw_td[grid.dsq_code], n_ctrl, out=np.zeros_like(n_ctrl),
                      where=n_ctrl > 0)  # fmt: skip
    win = (
        (tau >= ell)
        & (tau <= grid.t_g[:, None, None])
        & (ell <= grid.t_g - 1)[:, None, None]
    )
    safe_n = np.where(n_l > 0, n_l, 1.0)
    coef = win * w * (grid.s[:, None, None] * dist - ratio * never) * G / safe_n
    d0 = np.nan_to_num(diff)
    u = (coef * d0).sum(axis=1)  # (G, K)
    e_hat, dof = _demean(grid, diff, valid, never, dist, w)
    uvar = np.nan_to_num(coef * dof * (d0 - e_hat)).sum(axis=1)  # na.rm, as R
    delta_cum, delta_now = _deltas(grid, ell, dist, w, n_l)
    return {
        "ell": ell, "est": u.sum(axis=0) / G, "u": uvar, "n_l": n_l,
        "n_switchers": dist.any(axis=1).sum(axis=0), "delta": delta_cum,
        "delta_now": delta_now,
    }  # fmt: skip


def _distinct(
    groups: np.ndarray, member: np.ndarray, clusters: np.ndarray | None
) -> np.ndarray:
    """Per group code (axis 0 of ``groups`` one-hot, shape (h, G)): how many groups, or
    distinct clusters, have a member row; ``member`` is (G, ...)."""
    m = member.astype(float)
    if clusters is None:
        out: np.ndarray = np.tensordot(groups, m, axes=(1, 0))
        return out
    hits = np.einsum("hg,gc,g...->hc...", groups, clusters, m)
    out = (hits > 0).sum(axis=1).astype(float)
    return out


def _demean(
    grid: Grid,
    diff: np.ndarray,
    valid: np.ndarray,
    never: np.ndarray,
    dist: np.ndarray,
    w: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Cohort means ``E_hat`` and DOF factors of the variance (the package's
    ``compute_E_hat_gt``/``compute_DOF_gt``: switcher cohort, else not-yet-switcher
    cohort, else their union, each only with at least two groups or clusters)."""
    d0 = np.nan_to_num(diff)
    any_sw: np.ndarray = np.asarray(dist.any(axis=0))
    ctrl = never & (w != 0) & any_sw[None]
    sw = dist & (w != 0)
    union = ctrl | sw
    dsq = sum_matrix(grid.dsq_code, int(grid.dsq_code.max()) + 1).toarray()
    clus = grid.clusters_onehot

    def by_dsq(x: np.ndarray) -> np.ndarray:
        out: np.ndarray = np.tensordot(dsq, x, axes=(1, 0))[grid.dsq_code]
        return out

    def mean_dof(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = by_dsq(w * mask * d0) / by_dsq(w * mask)
        return mean, _distinct(dsq, mask, clus)[grid.dsq_code]

    m_c, n_c = mean_dof(ctrl)
    m_u, n_u = mean_dof(union)
    coh = pd.factorize(
        pd.MultiIndex.from_arrays(
            [grid.d_sq, grid.f, np.nan_to_num(grid.d_fg, nan=-1e300)]
        )
    )[0]
    cm = sum_matrix(coh, int(coh.max()) + 1).toarray()
    sw_g = sw.any(axis=1)  # (G, K): one target row per switcher
    with np.errstate(divide="ignore", invalid="ignore"):
        m_s = (cm @ (w * sw * d0).sum(axis=1)) / (cm @ (w * sw).sum(axis=1))
    n_s = _distinct(cm, sw_g, clus)
    m_s, n_s = m_s[coh][:, None, :], n_s[coh][:, None, :]
    target, before = (
        dist,
        grid.f[:, None, None] > np.arange(diff.shape[1])[None, :, None],
    )
    use_s = target & (n_s >= 2)
    use_c = before & (n_c >= 2)
    use_u = (n_u >= 2) & ((target & (n_s == 1)) | (before & (n_c == 1)))
    e_hat = np.where(use_s, m_s, np.where(use_c, m_c, np.where(use_u, m_u, 0.0)))

    def factor(n: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            out: np.ndarray = np.sqrt(n / (n - 1))
        return out

    dof = np.where(use_s, factor(n_s), np.where(use_c, factor(n_c),
                   np.where(use_u, factor(n_u), 1.0)))  # fmt: skip
    return e_hat, dof


def _deltas(
    grid: Grid, ell: int, dist: np.ndarray, w: np.ndarray, n_l: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Average cumulative and current treatment change of the horizon's switchers."""
    G, T = grid.d.shape
    tau = np.arange(T)[None, :]
    span = (tau >= grid.f[:, None]) & (tau <= grid.f[:, None] - 1 + ell)
    change = np.where(span, grid.d - grid.d_sq[:, None], 0.0)
    cum = np.nansum(change, axis=1) * grid.s
    now_t = np.clip(grid.f - 1 + ell, 0, T - 1)
    now = (grid.d[np.arange(G), now_t] - grid.d_sq) * grid.s
    wg = (w * dist).sum(axis=1)  # (G, K)
    safe = np.where(n_l > 0, n_l, 1.0)
    return (wg * cum[:, None]).sum(axis=0) / safe, (
        wg * np.nan_to_num(now)[:, None]
    ).sum(axis=0) / safe


def _outcome(
    grid: Grid,
    k: int,
    eff: list[dict[str, Any]],
    pl: list[dict[str, Any]],
    normalized: bool,
    level: float,
) -> EventOutcome:
    G = grid.n_groups
    cm = sum_matrix(grid.cluster, int(grid.cluster.max()) + 1)
    hs = [*reversed(pl), *eff]
    scale = np.array(
        [h["delta"][k] if normalized and h["delta"][k] != 0 else 1.0 for h in hs]
    )
    est = np.array([h["est"][k] for h in hs]) / scale
    u = np.column_stack([h["u"][:, k] for h in hs]) / scale[None, :]
    n_l = np.array([h["n_l"][k] for h in eff])
    den = float(sum(h["n_l"][k] * h["delta_now"][k] for h in eff))
    num = float(sum(h["n_l"][k] * h["est"][k] for h in eff))
    u_ate = sum(h["n_l"][k] * h["u"][:, k] for h in eff) / (den if den else np.nan)
    s = cm @ np.column_stack([u, u_ate])
    cov = s.T @ s / G**2
    e = np.array([-h["ell"] for h in reversed(pl)] + [h["ell"] for h in eff], float)
    ok = np.array([h["n_l"][k] > 0 for h in hs])
    est = np.where(ok, est, np.nan)
    ne = e.size
    v = cov[:ne, :ne]
    pre = (e < 0) & ok
    ev = table({"event_time": e}, est, v, level)
    ate = num / den if den else np.nan
    return EventOutcome(
        outcome=grid.outcomes[k],
        event=ev,
        vcov=v,
        overall=table(
            {"term": np.array(["av_tot_eff"])}, np.array([ate]), cov[ne:, ne:], level
        ),
        n_obs=int((grid.n_gt[:, :, k] > 0).sum()),
        pretrend=pretrend_wald(est[pre], v[np.ix_(pre, pre)]),
        extra={
            "n_switchers": [int(h["n_switchers"][k]) for h in hs],
            "n_weighted": n_l,
            "delta": [float(h["delta"][k]) for h in eff],
            "normalized": normalized,
        },
    )
