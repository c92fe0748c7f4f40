"""Analytic minimum detectable effects (MDE) and power.

DiD with serial correlation (Burlig, Preonas & Woerman 2020, J. Dev. Econ. 144, eq. 8):
with ``m`` pre- and ``r`` post-periods, ``J`` units of which a share ``P`` is treated,

    MDE = (t_{1-a/2} + t_{power}) sqrt( [ (m+r)/(m r) s2 + (m-1)/m psiB + (r-1)/r psiA
                                           - 2 psiX ] / (P (1-P) J) )

where ``s2`` is the residual variance and ``psiB``/``psiA``/``psiX`` the average
covariances within the pre-period, within the post-period and across them. The bracket is
the variance of a unit's post-minus-pre contrast ``Var(D_i)``; here it is estimated
directly from the panel as the cross-unit variance of ``D_i`` in every window of ``m + r``
consecutive periods, averaged over windows (unit effects cancel in ``D_i``; period effects
cancel between arms), and the four BPW components are reported beside it.

ANCOVA with compound symmetry (Frison & Pocock 1992, Stat. Med. 11): per-unit variance
``s2 [ (1 + (r-1) rho)/r - m rho^2 / (1 + (m-1) rho) ]``.

Cluster randomisation: design effect ``1 + (n-1) ICC`` (Donner & Klar 2000), ICC by the
one-way ANOVA estimator.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from tillit.core.errors import DataError, EstimationError
from tillit.core.power.panel import window_contrasts

__all__ = [
    "bpw_components",
    "cluster_mde",
    "critical_sum",
    "icc_anova",
    "power_at",
]


def critical_sum(alpha: float, power: float, df: float) -> float:
    """``t_{1-alpha/2} + t_{power}`` with ``df`` degrees of freedom (inf: normal)."""
    if not (0 < alpha < 1 and 0 < power < 1):
        raise DataError("alpha and power must be between 0 and 1")
    dist = stats.norm() if not np.isfinite(df) else stats.t(df)
    return float(dist.ppf(1 - alpha / 2) + dist.ppf(power))


def power_at(effect: float, se: float, alpha: float, df: float) -> float:
    """Power of a two-sided t test of size ``alpha`` when the effect is ``effect``."""
    if se <= 0 or not np.isfinite(se):
        return float("nan")
    ncp = abs(effect) / se
    if not np.isfinite(df):
        crit = stats.norm.ppf(1 - alpha / 2)
        return float(stats.norm.sf(crit - ncp) + stats.norm.cdf(-crit - ncp))
    crit = stats.t.ppf(1 - alpha / 2, df)
    return float(stats.nct.sf(crit, df, ncp) + stats.nct.cdf(-crit, df, ncp))


def bpw_components(y: NDArray[np.float64], pre: int, post: int) -> dict[str, float]:
    """Var(D_i) and the BPW components from a wide panel ``y`` (units x periods).

    Returns ``var_contrast`` (mean over windows of the cross-unit variance of ``D_i``),
    ``sigma2``, ``psi_b``, ``psi_a``, ``psi_x`` (window averages of the cross-unit
    covariance matrix, pairwise complete), ``rho`` (mean correlation between distinct
    periods in a window) and ``windows``.
    """
    d = window_contrasts(y, pre, post)
    n_ok = np.isfinite(d).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        var_w = np.nanvar(np.where(n_ok[:, None] >= 3, d, np.nan), axis=1, ddof=1)
    if not np.isfinite(var_w).any():
        raise EstimationError("no window has three units with complete data")
    cov = pd.DataFrame(y).cov(min_periods=3).to_numpy()
    n_w = d.shape[0]
    parts = np.full((n_w, 5), np.nan)
    for s in range(n_w):
        b = cov[s : s + pre, s : s + pre]
        a = cov[s + pre : s + pre + post, s + pre : s + pre + post]
        x = cov[s : s + pre, s + pre : s + pre + post]
        w = cov[s : s + pre + post, s : s + pre + post]
        sd = np.sqrt(np.diag(w))
        corr = w / np.outer(sd, sd)
        off = ~np.eye(pre + post, dtype=bool)
        parts[s] = [
            np.mean(np.diag(w)),
            b[~np.eye(pre, dtype=bool)].mean() if pre > 1 else 0.0,
            a[~np.eye(post, dtype=bool)].mean() if post > 1 else 0.0,
            x.mean(),
            corr[off].mean(),
        ]
    with np.errstate(invalid="ignore"):
        means = np.nanmean(parts, axis=0)
    return {
        "var_contrast": float(np.nanmean(var_w)),
        "sigma2": float(means[0]),
        "psi_b": float(means[1]),
        "psi_a": float(means[2]),
        "psi_x": float(means[3]),
        "rho": float(means[4]),
        "windows": int(np.isfinite(var_w).sum()),
    }


def icc_anova(data: pd.DataFrame, outcome: str, cluster: str) -> float:
    """One-way ANOVA intra-cluster correlation (truncated at 0)."""
    y = pd.to_numeric(data[outcome], errors="coerce")
    frame = pd.DataFrame({"g": data[cluster].astype(str), "y": y}).dropna()
    groups = frame.groupby("g")["y"]
    n_g = groups.size().to_numpy(dtype=float)
    g, n = n_g.size, n_g.sum()
    if g < 2 or n <= g:
        raise EstimationError("the ICC needs at least two clusters with two members")
    means = groups.mean().to_numpy()
    msb = np.sum(n_g * (means - frame.y.mean()) ** 2) / (g - 1)
    msw = np.sum((frame.y - groups.transform("mean")) ** 2) / (n - g)
    n0 = (n - np.sum(n_g**2) / n) / (g - 1)
    return float(max(0.0, (msb - msw) / (msb + (n0 - 1) * msw)))


def cluster_mde(
    sigma2: float,
    icc: float,
    clusters: int,
    cluster_size: float,
    share_treated: float = 0.5,
    alpha: float = 0.05,
    power: float = 0.8,
    r2: float = 0.0,
) -> dict[str, float]:
    """MDE of a cluster-randomised comparison of means (t with ``G - 2`` df).

    ``Var = sigma2 (1 + (n-1) ICC) (1 - r2) / (P (1-P) G n)``; ``r2`` is the share of
    variance explained by baseline covariates.
    """
    if clusters < 3 or not 0 < share_treated < 1:
        raise DataError("need at least 3 clusters and a treated share between 0 and 1")
    deff = 1 + (cluster_size - 1) * icc
    var = (
        sigma2
        * deff
        * (1 - r2)
        / (share_treated * (1 - share_treated) * clusters * cluster_size)
    )
    se = float(np.sqrt(var))
    mult = critical_sum(alpha, power, clusters - 2)
    return {
        "mde": mult * se,
        "se": se,
        "design_effect": float(deff),
        "df": float(clusters - 2),
    }
