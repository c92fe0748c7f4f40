"""Frank-Wolfe weights on the unit simplex, as R ``synthdid`` computes them.

:func:`fw_weights` is the Frank-Wolfe solver with exact line search that R's
``synthdid`` uses for the unit weights ``omega`` and the time weights ``lambda``
(Arkhangelsky et al. 2021, Algorithm 1), vectorised over a batch of problems that
share one shape so that placebo replications run in lock step.  Each problem in the
batch follows exactly the iterates and the stopping rule of the sequential solver.
"""

from __future__ import annotations

import numpy as np

__all__ = ["fw_weights", "sparsify"]


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
