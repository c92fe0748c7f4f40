"""Aggregate group-time cells into an event study and an overall effect, as R ``did``'s
``aggte`` does: cells weighted by their group's share ``P(G = g)``, with the influence
of the estimated shares added (``wif``), so the standard errors need no refit.

Influence functions here are per unit and already scaled so that
``estimate - truth ~ sum_i psi_i``; the variance is ``sum_clusters (sum psi)^2``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["aggregate", "cluster_cov"]


def _combine(
    theta: np.ndarray,
    psi: np.ndarray,
    pg_cell: np.ndarray,
    psi_pg_cell: np.ndarray,
    keep: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """``sum pg theta / sum pg`` over kept cells and its influence function.

    ``theta`` (C, K), ``psi`` (n, C, K), ``pg_cell`` (C,), ``psi_pg_cell`` (n, C).
    """
    p = pg_cell[keep]
    tot = p.sum()
    est = (p[:, None] * theta[keep]).sum(axis=0) / tot
    main = np.einsum("c,ick->ik", p / tot, psi[:, keep])
    wif = np.einsum("ic,ck->ik", psi_pg_cell[:, keep], theta[keep] - est[None]) / tot
    out: np.ndarray = main + wif
    return est, out


def aggregate(
    theta: np.ndarray,
    psi: np.ndarray,
    cell_g: np.ndarray,
    cell_e: np.ndarray,
    unit_g: np.ndarray,
    w_unit: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Event-study (by ``cell_e``) and simple (post cells) aggregations.

    Returns ``events``, ``est`` (E, K), ``psi_e`` (n, E, K), ``overall`` (K,) and
    ``psi_o`` (n, K). NaN cells (not estimable) are left out.
    """
    groups = np.unique(cell_g)
    wsum = w_unit.sum()
    ind = (unit_g[:, None] == groups[None, :]).astype(float)  # (n, Gc)
    pg = (w_unit[:, None] * ind).sum(axis=0) / wsum
    psi_pg = w_unit[:, None] * (ind - pg[None, :]) / wsum
    gi = np.searchsorted(groups, cell_g)
    pg_cell, psi_pg_cell = pg[gi], psi_pg[:, gi]
    ok = np.isfinite(theta).all(axis=1)
    events = np.unique(cell_e[ok])
    est = np.empty((events.size, theta.shape[1]))
    psi_e = np.empty((psi.shape[0], events.size, theta.shape[1]))
    th = np.where(np.isfinite(theta), theta, 0.0)
    for i, e in enumerate(events):
        est[i], psi_e[:, i] = _combine(
            th, psi, pg_cell, psi_pg_cell, ok & (cell_e == e)
        )
    post = ok & (cell_e >= 0)
    if post.any():
        overall, psi_o = _combine(th, psi, pg_cell, psi_pg_cell, post)
    else:
        overall = np.full(theta.shape[1], np.nan)
        psi_o = np.zeros((psi.shape[0], theta.shape[1]))
    return events, est, psi_e, overall, psi_o


def cluster_cov(psi: np.ndarray, cluster: np.ndarray) -> np.ndarray:
    """Covariance ``S'S`` of the cluster sums of ``psi`` (n, m)."""
    s = np.zeros((int(cluster.max()) + 1, psi.shape[1]))
    np.add.at(s, cluster, psi)
    out: np.ndarray = s.T @ s
    return out
