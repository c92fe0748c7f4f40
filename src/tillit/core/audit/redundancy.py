"""Redundancy of indicators: which say nearly the same as others.

Two correlation matrices, both pairwise-complete and computed with matrix products:

* **between**: of municipality means (over years, after removing year means): do the
  indicators rank municipalities alike?
* **within**: of year-to-year changes (first differences after removing year means): do
  they move together inside a municipality?

The information indicator *i* adds beyond the rest is ``1 - R^2_i`` of regressing its
municipality means on all the others', read off the inverse correlation matrix:
``1 - R^2_i = 1 / (R^{-1})_{ii}``, reported as the adjusted ``1 - R^2_adj = (1 - R^2)
(n - 1) / (n - p)`` (``n`` municipalities, ``p`` indicators) so that chance correlations
do not count as shared information. When ``p > n / 2`` that regression overfits (and for
``p >= n`` the inverse does not exist), so ``R`` is instead made positive semi-definite
and shrunk towards the identity with the Ledoit-Wolf (2004) intensity computed on the
standardised, mean-imputed municipality means. Average-linkage hierarchical clustering on
``1 - |r|`` (between) groups indicators that are interchangeable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from tillit.core.audit.reliability import center_by_year
from tillit.core.results import jsonable

__all__ = ["Redundancy", "pairwise_corr", "redundancy", "unique_share"]


def pairwise_corr(a: np.ndarray, min_n: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Pairwise-complete Pearson correlations between the rows of ``a`` (NaN = missing).

    Returns ``(r, n)``; ``r`` is NaN where fewer than ``min_n`` columns are shared or a
    row is constant on the shared columns.
    """
    w = np.isfinite(a)
    cnt = w.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = np.where(w, a, 0.0).sum(axis=1, keepdims=True) / cnt
        sd = np.sqrt(np.where(w, (a - mu) ** 2, 0.0).sum(axis=1, keepdims=True) / cnt)
        z = np.where(w, (a - mu) / np.where(sd > 0, sd, np.nan), 0.0)
    z = np.nan_to_num(z)
    wf = w.astype(float)
    n = wf @ wf.T
    sx = z @ wf.T
    sxx = (z**2) @ wf.T
    sxy = z @ z.T
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx * sx.T / n
        vx = sxx - sx**2 / n
        r = cov / np.sqrt(vx * vx.T)
    ok = (n >= min_n) & (vx > 1e-12 * n) & (1e-12 * n < vx.T)
    r = np.where(ok, np.clip(r, -1.0, 1.0), np.nan)
    np.fill_diagonal(r, np.where(np.diag(ok), 1.0, np.nan))
    return r, n.astype(int)


def _lw_intensity(means: np.ndarray) -> float:
    """Ledoit-Wolf shrinkage intensity towards I for the correlation of ``means``'s rows.

    ``means`` is indicators x units; rows are standardised and missing entries set to 0.
    """
    w = np.isfinite(means)
    cnt = np.maximum(w.sum(axis=1, keepdims=True), 1)
    mu = np.where(w, means, 0.0).sum(axis=1, keepdims=True) / cnt
    sd = np.sqrt(np.where(w, (means - mu) ** 2, 0.0).sum(axis=1, keepdims=True) / cnt)
    z = np.where(w & (sd > 0), (means - mu) / np.where(sd > 0, sd, 1.0), 0.0).T
    n = z.shape[0]
    if n < 2:
        return 1.0
    s = z.T @ z / n
    p = s.shape[0]
    d2 = float(((s - np.eye(p)) ** 2).sum())
    b2 = float(((z**2).sum(axis=1) ** 2).sum() - n * (s**2).sum()) / n**2
    return 1.0 if d2 <= 0 else float(np.clip(b2 / d2, 0.0, 1.0))


def unique_share(r: np.ndarray, shrinkage: float = 0.0) -> np.ndarray:
    """``1 - R^2`` of each indicator on all others from a (shrunk) correlation matrix.

    NaN correlations are treated as 0; the matrix is clipped to be positive
    semi-definite and shrunk: ``(1 - shrinkage) R + shrinkage I``.
    """
    p = r.shape[0]
    if p == 1:
        return np.ones(1)
    rr = np.nan_to_num(r, nan=0.0)
    np.fill_diagonal(rr, 1.0)
    vals, vecs = np.linalg.eigh((rr + rr.T) / 2)
    # PSD clip and shrink in the eigenbasis: S = V diag(mu) V', mu = (1-s) max(l, 0) + s
    mu = (1 - shrinkage) * np.clip(vals, 0.0, None) + shrinkage
    d = (
        vecs**2
    ) @ mu  # diag(S); rescaling S to unit diagonal multiplies diag(S^-1) by d
    tol = mu.max() * p * np.finfo(float).eps
    inv_mu = np.where(mu > tol, 1.0 / np.where(mu > tol, mu, 1.0), 0.0)
    diag_inv = d * ((vecs**2) @ inv_mu)
    with np.errstate(divide="ignore"):
        out: np.ndarray = np.clip(1.0 / diag_inv, 0.0, 1.0)
    return out


@dataclass(frozen=True)
class Redundancy:
    """Correlation structure of a set of indicators (see module docstring)."""

    indicators: tuple[str, ...]
    r_between: np.ndarray = field(repr=False)
    r_within: np.ndarray = field(repr=False)
    n_between: np.ndarray = field(repr=False)
    unique: np.ndarray = field(repr=False)
    clusters: np.ndarray = field(repr=False)
    linkage: np.ndarray = field(repr=False)
    shrinkage: float
    threshold: float

    def pairs(self) -> pd.DataFrame:
        """Indicator pairs with ``|r_between| > threshold``, strongest first."""
        iu = np.triu_indices(len(self.indicators), k=1)
        rb = self.r_between[iu]
        keep = np.abs(np.nan_to_num(rb)) > self.threshold
        ind = np.asarray(self.indicators, dtype=object)
        out = pd.DataFrame(
            {
                "indicator_a": ind[iu[0][keep]],
                "indicator_b": ind[iu[1][keep]],
                "r_between": rb[keep],
                "r_within": self.r_within[iu][keep],
                "n_units": self.n_between[iu][keep],
            }
        )
        return out.sort_values("r_between", key=np.abs, ascending=False).reset_index(
            drop=True
        )

    def nearest(self) -> pd.DataFrame:
        """Per indicator: the most correlated other indicator and that ``r_between``."""
        r = np.abs(np.nan_to_num(self.r_between, nan=0.0))
        np.fill_diagonal(r, -1.0)
        j = r.argmax(axis=1) if len(self.indicators) > 1 else np.zeros(1, int)
        ind = np.asarray(self.indicators, dtype=object)
        rb = self.r_between[np.arange(len(ind)), j]
        if len(ind) == 1:
            rb = np.full(1, np.nan)
        return pd.DataFrame({"nearest": ind[j], "nearest_r": rb}, index=ind)

    def tidy(self) -> pd.DataFrame:
        """One row per indicator: unique share, cluster, nearest indicator and its r."""
        out = self.nearest()
        out.insert(0, "unique_share", self.unique)
        out.insert(1, "cluster", self.clusters)
        out.index.name = "indicator"
        return out.reset_index()

    def to_dict(self) -> dict[str, Any]:
        """JSON: indicators, both correlation matrices, per-indicator table, pairs."""
        out: dict[str, Any] = jsonable(
            {
                "indicators": list(self.indicators),
                "shrinkage": self.shrinkage,
                "threshold": self.threshold,
                "r_between": self.r_between,
                "r_within": self.r_within,
                "indicators_table": self.tidy().to_dict(orient="records"),
                "pairs": self.pairs().to_dict(orient="records"),
            }
        )
        return out


def redundancy(
    x: np.ndarray,
    indicators: tuple[str, ...],
    *,
    threshold: float = 0.8,
    center_years: bool = True,
    min_n: int = 5,
) -> Redundancy:
    """Correlation structure, unique information and clusters of a 3-D panel.

    Parameters
    ----------
    x
        Array indicators x units x years (NaN missing).
    indicators
        Their ids.
    threshold
        ``|r|`` above which a pair is flagged and indicators are clustered together.
    center_years
        Remove year means first.
    min_n
        Fewest shared units (or unit-years) for a correlation.
    """
    y = center_by_year(x) if center_years else np.asarray(x, float)
    cnt = np.isfinite(y).sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(cnt > 0, np.nansum(y, axis=2) / cnt, np.nan)
    rb, nb = pairwise_corr(means, min_n)
    d = np.diff(y, axis=2).reshape(y.shape[0], -1)
    rw, _ = pairwise_corr(d, min_n)
    n_units = int(np.isfinite(means).any(axis=0).sum())
    p = len(indicators)
    if p <= n_units / 2:
        lam = 0.0
        uniq = np.clip(unique_share(rb) * (n_units - 1) / (n_units - p), 0.0, 1.0)
    else:
        lam = _lw_intensity(means)
        uniq = unique_share(rb, lam)
    if p > 1:
        dist = 1.0 - np.abs(np.nan_to_num(rb, nan=0.0))
        np.fill_diagonal(dist, 0.0)
        link = linkage(squareform(np.clip((dist + dist.T) / 2, 0, 1)), "average")
        cl = fcluster(link, t=1.0 - threshold, criterion="distance")
    else:
        link, cl = np.zeros((0, 4)), np.ones(1, int)
    return Redundancy(tuple(indicators), rb, rw, nb, uniq, cl, link, lam, threshold)
