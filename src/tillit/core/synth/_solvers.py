"""Exact weight solver on the unit simplex.

:func:`simplex_lsq` is an exact active-set solver (Wolfe's minimum-norm-point method,
in the Lawson-Hanson form) for ``min ||A w - b||^2`` over the simplex, used for the
synthetic-control donor weights.  It terminates at a point satisfying the KKT
conditions; :func:`kkt_residual` measures how well they hold.  The Frank-Wolfe solver
of synthetic DiD lives in :mod:`tillit.core.synth._fw`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["kkt_residual", "simplex_lsq", "solve_sym"]


def simplex_lsq(
    A: np.ndarray,
    b: np.ndarray,
    *,
    c: np.ndarray | None = None,
    w0: np.ndarray | None = None,
    tol: float = 1e-11,
    max_iter: int = 500,
) -> np.ndarray:
    """Solve ``min ||A w - b||^2 + c'w`` subject to ``w >= 0`` and ``sum(w) = 1`` exactly.

    An active-set method (Wolfe 1976 minimum-norm point; Lawson-Hanson steps): keep a
    free set ``F``, solve the equality-constrained problem on ``F``, step back to
    feasibility when a weight would turn negative, and add the donor with the most
    negative reduced gradient until none remains.  Without ``c`` the solution has at
    most ``rank(A) + 1`` positive weights.

    Parameters
    ----------
    A
        Matrix ``(k, J)``: one column per donor.
    b
        Target vector ``(k,)``.
    c
        Optional linear term ``(J,)`` (the penalty of Abadie & L'Hour 2021).
    w0
        Optional feasible warm start; its support is the first free set.
    tol
        Optimality tolerance on the reduced gradient, relative to ``||A||^2 / J``.
    max_iter
        Cap on the number of free-set changes.

    Returns
    -------
    numpy.ndarray
        Weights ``(J,)``.
    """
    J = A.shape[1]
    if J == 1:
        return np.ones(1)
    half_c = None if c is None else 0.5 * np.asarray(c, dtype=float)
    scale = max(float(np.einsum("ij,ij->", A, A)) / J, 1e-300)
    if w0 is not None and np.all(w0 >= 0) and abs(w0.sum() - 1.0) < 1e-9:
        w = np.array(w0, dtype=float)
        free = list(np.flatnonzero(w > 0))
        w = _inner_loop(A, b, half_c, w, free)
    else:
        d0 = A - b[:, None]
        crit = np.einsum("ij,ij->j", d0, d0)
        if c is not None:
            crit = crit + c
        j0 = int(np.argmin(crit))
        w = np.zeros(J)
        w[j0] = 1.0
        free = [j0]
    for _ in range(max_iter):
        g = A.T @ (A[:, free] @ w[free] - b)
        if half_c is not None:
            g += half_c
        red = g - g[free].mean()
        red[free] = np.inf
        j = int(np.argmin(red))
        if red[j] >= -tol * scale:
            break
        free.append(j)
        w = _inner_loop(A, b, half_c, w, free)
    return w


def _inner_loop(
    A: np.ndarray,
    b: np.ndarray,
    half_c: np.ndarray | None,
    w: np.ndarray,
    free: list[int],
) -> np.ndarray:
    """Move towards the affine optimum on ``free``, dropping blocking weights."""
    for _ in range(len(free) + 1):
        z = _affine_lsq(A[:, free], b, None if half_c is None else half_c[free])
        wf = w[free]
        if np.all(z > 0):
            w[free] = z
            return w
        neg = z <= 0
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios = np.where(neg, wf / (wf - z), np.inf)
        alpha = float(np.clip(ratios.min(), 0.0, 1.0))
        wf = wf + alpha * (z - wf)
        drop = (wf <= 1e-15) | (neg & (ratios <= alpha))
        wf[drop] = 0.0
        w[free] = wf
        keep = [f for f, d in zip(free, drop, strict=True) if not d]
        if not keep:  # numerical corner case: keep the largest weight
            keep = [free[int(np.argmax(z))]]
            w[:] = 0.0
            w[keep[0]] = 1.0
        free[:] = keep
        w /= w.sum()
    return w


def _affine_lsq(Af: np.ndarray, b: np.ndarray, half_c: np.ndarray | None) -> np.ndarray:
    """Minimise ``||Af z - b||^2 + 2 half_c'z`` over the affine hull (``sum z = 1``)."""
    p = Af.shape[1]
    if p == 1:
        return np.ones(1)
    base = Af[:, 0]
    D = Af[:, 1:] - base[:, None]
    rhs = D.T @ (b - base)
    if half_c is not None:
        rhs = rhs - (half_c[1:] - half_c[0])
    y = solve_sym(D.T @ D, rhs)
    return np.concatenate(([1.0 - y.sum()], y))


def solve_sym(M: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve ``M y = rhs``; least squares when ``M`` is (numerically) singular."""
    try:
        y = np.linalg.solve(M, rhs)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(M, rhs, rcond=None)[0]
    err = float(np.abs(M @ y - rhs).max())
    if err == err and err <= 1e-9 * (float(np.abs(rhs).max()) + 1e-300):
        return y
    return np.linalg.lstsq(M, rhs, rcond=None)[0]


def kkt_residual(
    A: np.ndarray, b: np.ndarray, w: np.ndarray, c: np.ndarray | None = None
) -> float:
    """Largest violation of the KKT conditions of :func:`simplex_lsq` at ``w``.

    With gradient ``g = A'(A w - b)`` and multiplier ``mu = -min(g)``: stationarity asks
    ``g_j = -mu`` where ``w_j > 0`` and ``g_j >= -mu`` elsewhere; returns
    ``max_j w_j (g_j - min g)`` plus feasibility errors, scaled by ``||A||^2 / J``.
    """
    g = A.T @ (A @ w - b)
    if c is not None:
        g = g + 0.5 * np.asarray(c)
    slack = g - g.min()
    scale = max(float(np.einsum("ij,ij->", A, A)) / A.shape[1], 1e-300)
    comp = float(np.max(w * slack)) / scale
    feas = abs(float(w.sum()) - 1.0) + float(max(0.0, -w.min()))
    return comp + feas
