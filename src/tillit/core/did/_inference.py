"""Inference from influence functions: analytic and multiplier-bootstrap errors, uniform bands.

Conventions follow R's ``did`` (``getSE`` and ``mboot``):

* analytic: ``se = sqrt(sum_c (sum_{i in c} inf_i)^2) / n`` with clusters ``c`` (units by
  default, which gives R's ``sqrt(mean(inf^2) / n)``);
* bootstrap: ``b = V @ S / n`` with one multiplier per cluster (Mammen's two-point weights by
  default, as R; Rademacher optional), standard error from the interquartile range
  ``(q75 - q25) / (z75 - z25)`` and the uniform (sup-t) critical value as the ``level``
  quantile of ``max_j |b_j / se_j|`` over the estimates of one table.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = [
    "adjust_pvalues",
    "analytic_se",
    "bootstrap_se",
    "cluster_sums",
    "multipliers",
    "romano_wolf",
    "uniform_crit",
]

_TINY = np.sqrt(np.finfo(float).eps) * 10


def cluster_sums(inf: np.ndarray, cluster: np.ndarray | None) -> np.ndarray:
    """Sum an (n, ...) influence array within clusters (identity when ``cluster`` is None)."""
    if cluster is None:
        return inf
    n_c = int(cluster.max()) + 1
    out = np.zeros((n_c, *inf.shape[1:]))
    np.add.at(out, cluster, inf)
    return out


def analytic_se(sums: np.ndarray, n: int) -> np.ndarray:
    """Standard errors from cluster sums of influence functions (first axis)."""
    se = np.sqrt(np.einsum("c...,c...->...", sums, sums)) / n
    return np.where(se <= _TINY, np.nan, se)


def multipliers(
    n_clusters: int, reps: int, rng: np.random.Generator, kind: str = "mammen"
) -> np.ndarray:
    """Draw a (reps, n_clusters) matrix of mean-zero, variance-one multipliers."""
    if kind == "rademacher":
        return rng.choice(np.array([-1.0, 1.0]), size=(reps, n_clusters))
    s5 = np.sqrt(5.0)
    lo, hi = -(s5 - 1) / 2, (s5 + 1) / 2
    p_lo = (s5 + 1) / (2 * s5)
    u = rng.random((reps, n_clusters))
    out: np.ndarray = np.where(u < p_lo, lo, hi)
    return out


def bootstrap_se(draws: np.ndarray) -> np.ndarray:
    """Robust bootstrap standard error per column (R's ``mboot``: IQR / normal IQR)."""
    q = np.quantile(draws, [0.25, 0.75], axis=0, method="inverted_cdf")
    se = (q[1] - q[0]) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25))
    return np.where(se <= _TINY, np.nan, se)


def uniform_crit(draws: np.ndarray, se: np.ndarray, level: float) -> np.ndarray:
    """Sup-t critical values over the rows of a table.

    ``draws`` is (reps, m, ...) and ``se`` (m, ...); returns one value per trailing index
    (NaN where no row has a finite ``se``).
    """
    ok = np.isfinite(se)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(ok, np.abs(draws / np.where(ok, se, 1.0)), 0.0)
    crit = np.quantile(t.max(axis=1), level, axis=0, method="inverted_cdf")
    return np.where(ok.any(axis=0), crit, np.nan)


def adjust_pvalues(p: np.ndarray) -> dict[str, np.ndarray]:
    """Holm and Benjamini-Hochberg adjusted p-values (NaN entries are left out)."""
    holm = np.full(p.shape, np.nan)
    bh = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    m = ok.size
    if m:
        order = ok[np.argsort(p[ok], kind="stable")]
        ps = p[order]
        holm[order] = np.minimum(np.maximum.accumulate((m - np.arange(m)) * ps), 1.0)
        raw = ps * m / np.arange(1, m + 1)
        bh[order] = np.minimum(np.minimum.accumulate(raw[::-1])[::-1], 1.0)
    return {"holm": holm, "bh": bh}


def romano_wolf(t_obs: np.ndarray, t_boot: np.ndarray) -> np.ndarray:
    """Romano-Wolf stepdown p-values from bootstrap t-statistics.

    Parameters
    ----------
    t_obs
        Observed |t| statistics, shape (m,).
    t_boot
        Bootstrap t-statistics centred at zero, shape (reps, m), from the same draws for
        all hypotheses (so their dependence is kept).
    """
    p = np.full(t_obs.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(t_obs) & np.all(np.isfinite(t_boot), axis=0))
    if ok.size == 0:
        return p
    order = ok[np.argsort(-np.abs(t_obs[ok]), kind="stable")]
    a = np.abs(t_boot[:, order])
    # running max over the hypotheses not yet rejected: suffix maxima
    suffix_max = np.maximum.accumulate(a[:, ::-1], axis=1)[:, ::-1]
    raw = (suffix_max >= np.abs(t_obs[order])[None, :]).mean(axis=0)
    p[order] = np.maximum.accumulate(raw)
    return p
