"""OLS with cluster-robust covariance: CR1 (Stata/statsmodels) and CR2 (Bell-McCaffrey).

* CR1: ``G/(G-1) (n-1)/(n-p) (X'X)^{-1} sum_g X_g'e_g e_g'X_g (X'X)^{-1}``, t with
  ``G - 1`` df (Cameron & Miller 2015).
* CR2: residuals of cluster g multiplied by ``A_g = (I - H_gg)^{-1/2}`` (Moore-Penrose
  when singular, as clubSandwich), t with the Bell & McCaffrey (2002) Satterthwaite df
  under a working model of independent homoskedastic errors (Imbens & Kolesar 2016;
  Pustejovsky & Tipton 2018).

``A_g`` is never formed: with ``X_g = Q R`` and ``R (X'X)^{-1} R' = V diag(l) V'``,
``A_g = I + Q V diag((1 - l)^{-1/2} - 1) V' Q'``, so each cluster costs ``O(n_g p^2)``.
Without clusters every observation is its own cluster (CR1 = HC1, CR2 = HC2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tillit.core.errors import EstimationError

__all__ = ["OlsFit", "ols_robust"]

FArray = NDArray[np.float64]


@dataclass(frozen=True)
class OlsFit:
    """Coefficients, covariance, residuals and per-coefficient t degrees of freedom."""

    beta: FArray
    vcov: FArray
    df: FArray
    resid: FArray
    n: int
    n_clusters: int
    kind: str

    @property
    def se(self) -> FArray:
        """Standard errors."""
        return np.sqrt(np.diag(self.vcov))


def _groups(cluster: NDArray[np.int64] | None, n: int) -> tuple[NDArray[np.int64], int]:
    if cluster is None:
        return np.arange(n), n
    codes, inv = np.unique(cluster, return_inverse=True)
    return inv.astype(np.int64), len(codes)


def _cr2_pieces(
    x: FArray, m: FArray, members: list[NDArray[np.int64]]
) -> list[tuple[FArray, FArray]]:
    """Per cluster: (Q V, d) with A_g = I + (QV) diag(d) (QV)'."""
    out = []
    for idx in members:
        xg = x[idx]
        q, r = np.linalg.qr(xg)
        lam, vec = np.linalg.eigh(r @ m @ r.T)
        one_minus = 1 - lam
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.where(one_minus > 1e-10, one_minus**-0.5 - 1, -1.0)
        out.append((q @ vec, d))
    return out


def _apply_a(piece: tuple[FArray, FArray], v: FArray) -> FArray:
    qv, d = piece
    return (
        v + qv @ (d[:, None] * (qv.T @ v)) if v.ndim == 2 else v + qv @ (d * (qv.T @ v))
    )


def ols_robust(
    y: FArray,
    x: FArray,
    cluster: NDArray[np.int64] | None = None,
    kind: str = "CR2",
) -> OlsFit:
    """Least squares with a cluster-robust covariance.

    Parameters
    ----------
    y, x
        Outcome ``(n,)`` and full-rank design ``(n, p)``.
    cluster
        Cluster label per row (integers or anything ``np.unique`` sorts); None for
        heteroskedasticity-robust (each row its own cluster).
    kind
        ``"CR2"`` (default, Bell-McCaffrey df) or ``"CR1"`` (``G - 1`` df).
    """
    n, p = x.shape
    xtx = x.T @ x
    if np.linalg.matrix_rank(xtx) < p:
        raise EstimationError(
            "the regressors are collinear (e.g. a covariate is constant)"
        )
    m = np.linalg.inv(xtx)
    beta = m @ (x.T @ y)
    e = y - x @ beta
    inv, g = _groups(cluster, n)
    if g < 2:
        raise EstimationError("cluster-robust standard errors need at least 2 clusters")
    if kind == "CR1":
        scores = np.zeros((g, p))
        np.add.at(scores, inv, x * e[:, None])
        meat = scores.T @ scores
        corr = g / (g - 1) * (n - 1) / (n - p) if n > p else np.nan
        vcov = corr * m @ meat @ m
        return OlsFit(beta, vcov, np.full(p, g - 1.0), e, n, g, kind)
    if kind != "CR2":
        raise ValueError(f"unknown kind {kind!r}")
    order = np.argsort(inv, kind="stable")
    bounds = np.searchsorted(inv[order], np.arange(g + 1))
    members = [order[bounds[j] : bounds[j + 1]] for j in range(g)]
    pieces = _cr2_pieces(x, np.asarray(m, dtype=np.float64), members)
    scores = np.empty((g, p))
    # W_g = X_g' A_g X_g M (p x p) and |A_g X_g M e_j|^2 for the df
    w_all = np.empty((g, p, p))
    z_sq = np.empty((g, p))
    for j, (idx, piece) in enumerate(zip(members, pieces, strict=True)):
        xg = x[idx]
        scores[j] = xg.T @ _apply_a(piece, e[idx])
        z = _apply_a(piece, xg @ m)
        w_all[j] = xg.T @ z
        z_sq[j] = (z * z).sum(0)
    meat = scores.T @ scores
    vcov = m @ meat @ m
    df = np.empty(p)
    for c in range(p):
        wc = w_all[:, :, c].T  # p x G
        utu = np.diag(z_sq[:, c]) - wc.T @ m @ wc
        df[c] = np.trace(utu) ** 2 / np.sum(utu * utu)
    return OlsFit(beta, vcov, df, e, n, g, kind)
