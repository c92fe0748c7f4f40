"""Weight solvers on the unit simplex.

Two solvers live here:

* :func:`fw_weights` -- the Frank-Wolfe solver with exact line search that R's
  ``synthdid`` uses for the unit weights ``omega`` and the time weights ``lambda``
  (Arkhangelsky et al. 2021, Algorithm 1), vectorised over a batch of problems that
  share one shape so that placebo replications run in lock step.  Each problem in the
  batch follows exactly the iterates and the stopping rule of the sequential solver.
* :func:`simplex_lsq` -- an exact active-set solver (Wolfe's minimum-norm-point method,
  in the Lawson-Hanson form) for ``min ||A w - b||^2`` over the simplex, used for the
  synthetic-control donor weights.  It terminates at a point satisfying the KKT
  conditions; :func:`kkt_residual` measures how well they hold.
"""

from __future__ import annotations

import numpy as np

__all__ = ["fw_weights", "kkt_residual", "simplex_lsq", "solve_sym", "sparsify"]


def sparsify(v: np.ndarray) -> np.ndarray:
    """Zero weights at or below a quarter of the largest and renormalise (R synthdid).

    Works row-wise on a 2-D array.
    """
    v = np.atleast_2d(np.asarray(v, dtype=float)).copy()
    v[v <= v.max(axis=1, keepdims=True) / 4] = 0.0
    return v / v.sum(axis=1, keepdims=True)


def fw_weights(
    Y: np.ndarray,
    zeta: float | np.ndarray,
    *,
    intercept: bool,
    init: np.ndarray | None,
    min_decrease: float | np.ndarray,
    max_iter: int,
) -> np.ndarray:
    """Frank-Wolfe weights for a batch of problems (R ``synthdid:::sc.weight.fw``).

    Each problem ``k`` minimises
    ``zeta^2 ||x||^2 + ||A x - b||^2 / n`` over the simplex, with ``A = Y[k, :, :-1]``
    and ``b = Y[k, :, -1]`` (columns centred first when ``intercept``).  Every problem
    takes the iterates of R's solver: the vertex with the smallest gradient entry, the
    exact line search, and a stop once the objective falls by no more than
    ``min_decrease^2`` (or after ``max_iter`` iterations).  The iteration works on the
    Gram matrix ``H = A'A + n zeta^2 I`` and updates ``Hx`` incrementally, so one step
    costs ``O(m)`` per problem; ``Hx`` is recomputed every 64 steps against drift.

    Parameters
    ----------
    Y
        Array ``(B, n, m + 1)``; a 2-D array is treated as a batch of one.
    zeta
        Ridge parameter, scalar or one per problem.
    intercept
        Centre every column of ``Y`` (over rows) before solving.
    init
        Starting weights ``(B, m)``; uniform when ``None``.
    min_decrease
        Stopping tolerance, scalar or one per problem.
    max_iter
        Iteration cap.

    Returns
    -------
    numpy.ndarray
        Weights ``(B, m)`` (or ``(m,)`` for a 2-D input).
    """
    Y = np.asarray(Y, dtype=float)
    squeeze = Y.ndim == 2
    if squeeze:
        Y = Y[None, :, :]
    n_batch, n, m1 = Y.shape
    m = m1 - 1
    if intercept:
        Y = Y - Y.mean(axis=1, keepdims=True)
    A, b = Y[:, :, :m], Y[:, :, m]
    eta = n * np.broadcast_to(np.asarray(zeta, dtype=float) ** 2, (n_batch,))
    H = np.einsum("knm,knp->kmp", A, A)
    H[:, np.arange(m), np.arange(m)] += eta[:, None]
    q = np.einsum("knm,kn->km", A, b)
    x = np.full((n_batch, m), 1.0 / m) if init is None else np.array(init, dtype=float)
    x = x.reshape(n_batch, m)
    tol = np.broadcast_to(np.asarray(min_decrease, dtype=float) ** 2, (n_batch,))
    x[:] = _fw_loop(H, q, x, tol * n, max_iter)
    return x[0] if squeeze else x


def _fw_loop(
    H: np.ndarray, q: np.ndarray, x: np.ndarray, tol: np.ndarray, max_iter: int
) -> np.ndarray:
    """Run exact-line-search Frank-Wolfe steps on ``x'Hx/2 - q'x`` until each stops.

    ``tol`` is the stopping threshold on the decrease of ``x'Hx - 2q'x``.  Problems that
    stop leave the batch, so the remaining work shrinks.
    """
    m = x.shape[1]
    idx = np.arange(x.shape[0])
    out = x.copy()
    xs, qs, ts = x.copy(), q, tol
    Ht = np.ascontiguousarray(np.swapaxes(H, 1, 2)).reshape(
        -1, m
    )  # row k*m+i = H[k,:,i]
    hd = np.einsum("kmm->km", H).ravel()
    Hx = np.einsum("kmp,kp->km", H, xs)
    base = np.arange(len(idx)) * m
    for t in range(1, max_iter + 1):
        if t % 64 == 0:
            Hx = np.einsum("kmp,kp->km", Ht.reshape(-1, m, m), xs)  # H symmetric
        g = Hx - qs
        fi = g.argmin(axis=1) + base
        gf, hf, xf = g.ravel()[fi], Hx.ravel()[fi], xs.ravel()[fi]
        xhx = np.einsum("km,km->k", Hx, xs)
        num = np.einsum("km,km->k", g, xs) - gf
        den = hd[fi] - 2.0 * hf + xhx
        s = np.minimum(np.maximum(num / np.where(den > 0, den, np.inf), 0.0), 1.0)
        s[xf == 1.0] = 0.0
        xs *= (1.0 - s)[:, None]
        xs.ravel()[fi] += s
        Hx = Hx * (1.0 - s)[:, None] + s[:, None] * Ht[fi]
        if t >= 2:
            stop = ~((2.0 * num - s * den) * s > ts)
            if stop.any():
                out[idx[stop]] = xs[stop]
                keep = ~stop
                if not keep.any():
                    return out
                idx, qs, xs, ts, Hx = idx[keep], qs[keep], xs[keep], ts[keep], Hx[keep]
                rows = base[keep] // m
                sel = (rows[:, None] * m + np.arange(m)).ravel()
                Ht = Ht[sel]
                hd = hd[sel]
                base = np.arange(len(idx)) * m
    out[idx] = xs
    return out


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
