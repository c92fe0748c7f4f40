"""Randomisation inference for a regression coefficient, vectorised over re-randomisations.

The statistic is the OLS coefficient on the treatment indicator ``D`` in a regression on
``[D, Z]``. By Frisch-Waugh-Lovell, ``b(D) = D' M_Z y / D' M_Z D``. Treatment is constant
within *cells* (observations, clusters, or cluster-periods in a stepped wedge), so with
the cell-membership matrix ``C`` and a cell-level 0/1 assignment ``a``:

    D' M_Z y = a' (C' M_Z y)
    D' M_Z D = n_cell' a - (Z'C a)' (Z'Z)^{-1} (Z'C a)

which costs ``O(p * cells)`` per draw and never builds an ``n x B`` matrix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["CellStats", "cell_stats", "coefficients_for"]

FArray = NDArray[np.float64]


@dataclass(frozen=True)
class CellStats:
    """Sufficient statistics of ``y`` and ``Z`` by treatment cell."""

    s: FArray  # (cells,) sums of M_Z y
    n: FArray  # (cells,) observations per cell
    zc: FArray  # (p, cells) sums of Z rows
    zinv: FArray  # (p, p) (Z'Z)^{-1}


def cell_stats(
    y: FArray, z: FArray, cell: NDArray[np.int64], n_cells: int
) -> CellStats:
    """Compute :class:`CellStats` for outcome ``y``, nuisance design ``z`` and cell ids."""
    zinv = np.linalg.pinv(z.T @ z)
    resid = y - z @ (zinv @ (z.T @ y))
    s = np.bincount(cell, weights=resid, minlength=n_cells)
    n = np.bincount(cell, minlength=n_cells).astype(float)
    zc = np.stack(
        [
            np.bincount(cell, weights=z[:, j], minlength=n_cells)
            for j in range(z.shape[1])
        ]
    )
    return CellStats(
        s.astype(float), n.astype(float), zc.astype(float), zinv.astype(float)
    )


def coefficients_for(st: CellStats, a: FArray) -> FArray:
    """Treatment coefficients for cell assignments ``a`` of shape ``(cells, B)``."""
    num = st.s @ a
    za = st.zc @ a
    den = st.n @ a - np.einsum("ib,ib->b", za, st.zinv @ za)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 1e-12 * np.maximum(st.n @ a, 1.0), num / den, np.nan)


def ri_pvalue(
    observed: float,
    st: CellStats,
    draw: Callable[[int], FArray],
    n_draws: int,
    exact: bool,
    chunk: int = 512,
) -> tuple[float, FArray]:
    """Two-sided RI p-value of ``|b| >= |b_obs|`` and the draws' coefficients.

    ``draw(m)`` returns ``m`` cell-level assignments as ``(cells, m)``. With ``exact``
    the draws are the full enumeration (the observed allocation among them) and the
    p-value is the share at least as extreme; otherwise ``(1 + count) / (1 + B)``.
    """
    parts = []
    done = 0
    while done < n_draws:
        m = min(chunk, n_draws - done)
        parts.append(coefficients_for(st, draw(m)))
        done += m
    b = np.concatenate(parts) if parts else np.empty(0)
    tol = 1e-10 * max(1.0, abs(observed))
    extreme = np.abs(b[np.isfinite(b)]) >= abs(observed) - tol
    if exact:
        return float(extreme.mean()), b
    return float((1 + extreme.sum()) / (1 + extreme.size)), b


__all__ += ["ri_pvalue"]
