"""Exact weight solver on the unit simplex.

:func:`simplex_lsq` is an exact active-set solver (Wolfe's minimum-norm-point method,
in the Lawson-Hanson form) for ``min ||A w - b||^2`` over the simplex, used for the
synthetic-control donor weights.  It terminates at a point satisfying the KKT
conditions; :func:`kkt_residual` measures how well they hold.
:func:`weighted_simplex_lsq` is the same method vectorised over many ``V``-weighted
problems at once (the nested-V search of :mod:`tillit.core.synth._nested`), with
certified warm starts.  The Frank-Wolfe solver of synthetic DiD lives in
:mod:`tillit.core.synth._fw`.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "dense_weights",
    "kkt_residual",
    "simplex_lsq",
    "simplex_lsq_eq",
    "solve_sym",
    "weighted_simplex_lsq",
]


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
        free = [int(j) for j in np.flatnonzero(w > 0)]
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


def simplex_lsq_eq(
    A: np.ndarray,
    b: np.ndarray,
    C: np.ndarray,
    d: np.ndarray,
    w0: np.ndarray,
    *,
    tol: float = 1e-11,
    max_iter: int = 500,
) -> np.ndarray:
    """Solve ``min ||A w - b||^2`` over the simplex with ``C w = d`` too, exactly.

    A primal active-set method from a feasible ``w0``: on the free set ``F`` the step
    is the least-squares move within the null space of ``[C_F; 1']`` (so every iterate
    keeps ``C w = d`` and ``sum(w) = 1``), cut short where a weight would turn
    negative; when no move helps, the multipliers of the equalities give each fixed
    weight's reduced gradient, and the most negative one is freed.

    Parameters
    ----------
    A, b
        Objective ``(m, J)`` and ``(m,)``.
    C, d
        Extra equality constraints ``(k, J)`` and ``(k,)``.
    w0
        A feasible start: ``w0 >= 0``, ``sum(w0) = 1``, ``C w0 = d``.
    tol
        Optimality tolerance on the reduced gradient, relative to ``||A||^2 / J``.
    max_iter
        Cap on the number of steps.

    Returns
    -------
    numpy.ndarray
        Weights ``(J,)``.
    """
    J = A.shape[1]
    E = np.vstack([C, np.ones((1, J))])
    w = np.where(w0 > 0, w0, 0.0)
    scale = max(float(np.einsum("ij,ij->", A, A)) / J, 1e-300)
    free = np.flatnonzero(w > 0)
    for _ in range(max_iter):
        r = A[:, free] @ w[free] - b
        _, sv, vt = np.linalg.svd(E[:, free])
        rank = int(np.sum(sv > 1e-12 * max(sv.max(initial=0.0), 1.0)))
        N = vt[rank:].T  # null space of the free columns' constraints
        p = np.zeros(len(free))
        if N.shape[1]:
            p = N @ np.linalg.lstsq(A[:, free] @ N, -r, rcond=None)[0]
        if np.abs(A[:, free] @ p).max(initial=0.0) > 1e-13 * (1 + np.abs(r).max()):
            neg = p < 0
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(neg, w[free] / -p, np.inf)
            alpha = min(1.0, float(ratio.min()))
            w[free] = w[free] + alpha * p
            if alpha < 1.0:
                w[free[neg & (ratio <= alpha)]] = 0.0
            w = np.maximum(w, 0.0)
            free = np.flatnonzero(w > 0)
            continue
        g = A.T @ (A @ w - b)
        lam = np.linalg.lstsq(E[:, free].T, g[free], rcond=None)[0]
        red = g - E.T @ lam
        red[free] = np.inf
        j = int(np.argmin(red))
        if red[j] >= -tol * scale:
            break
        free = np.sort(np.append(free, j))
    return w


def solve_sym(M: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve ``M y = rhs``; least squares when ``M`` is (numerically) singular."""
    try:
        y: np.ndarray = np.linalg.solve(M, rhs)
    except np.linalg.LinAlgError:
        y_ls: np.ndarray = np.linalg.lstsq(M, rhs, rcond=None)[0]
        return y_ls
    err = float(np.abs(M @ y - rhs).max())
    if err == err and err <= 1e-9 * (float(np.abs(rhs).max()) + 1e-300):
        return y
    y_ls2: np.ndarray = np.linalg.lstsq(M, rhs, rcond=None)[0]
    return y_ls2


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
    return float(comp + feas)


def weighted_simplex_lsq(
    X0: np.ndarray,
    X1: np.ndarray,
    v: np.ndarray,
    c: np.ndarray | None = None,
    *,
    tol: float = 1e-11,
    init: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    real: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Many V-weighted simplex problems at once, by the method of :func:`simplex_lsq`.

    Solves, for every problem ``n`` and every predictor weighting ``s``,
    ``min_w sum_h v[n, s, h] (X1[n, h] - (X0[n] w)_h)^2 + c[n, s]'w`` over the simplex:
    the same cold start, entering rule and ratio test as :func:`simplex_lsq` on
    ``A = sqrt(v) X0``, ``b = sqrt(v) X1``, vectorised over ``(n, s)``.  The free sets
    are kept as padded index arrays of width ``k + 2`` (a minimum-norm-point free set
    has at most ``k + 1`` affinely independent columns), so one step costs a handful of
    numpy calls for the whole batch.

    Parameters
    ----------
    X0
        Donor predictors ``(N, k, J)``.
    X1
        Target predictors ``(N, k)``.
    v
        Predictor weights ``(N, S, k)``, non-negative.
    c
        Optional linear term ``(N, S, J)``.
    tol
        Optimality tolerance on the reduced gradient, relative to ``||A||^2 / J``.
    init
        Optional warm start ``(idx, lam, n)`` as returned (feasible for any ``v``).  A
        warm-started solution is kept only where it is certified unique: at most ``k``
        positive weights, affinely independent, and every other donor's reduced
        gradient above ``1e-8 ||A||^2 / J`` (strict complementarity; any other
        minimiser would have the same gradient, hence the same support, on which the
        weights are determined).  Elsewhere the problem is solved again from the cold
        start, so the result is a function of ``v`` alone, never of the search path.
    real
        Optional ``(N, J)`` mask of real donors when padding columns repeat donor 0:
        the tolerance scale then counts real donors only, so a padded problem is
        solved exactly as the unpadded one (the repeated donor never enters).

    Returns
    -------
    tuple of numpy.ndarray
        ``idx`` ``(N, S, P)`` donor indices of the support, ``lam`` ``(N, S, P)`` their
        weights (zero in the padding) and ``n`` ``(N, S)`` the support sizes; see
        :func:`dense_weights`.
    """
    N, k, J = X0.shape
    S = v.shape[1]
    P = min(k + 2, J)
    B = N * S
    XT = np.ascontiguousarray(np.swapaxes(X0, 1, 2))  # (N, J, k)
    pid = np.repeat(np.arange(N), S)
    vf = v.reshape(B, k)
    half_c = None if c is None else 0.5 * c.reshape(B, J)
    if real is None:
        sq = np.einsum("nkj,nkj->nk", X0, X0) / J
    else:
        sq = np.einsum("nkj,nkj,nj->nk", X0, X0, real) / real.sum(axis=1)[:, None]
    scale = np.maximum(np.einsum("bk,bk->b", vf, sq[pid]), 1e-300)
    if init is None:
        crit = np.matmul(v, (X0 - X1[:, :, None]) ** 2).reshape(B, J)
        if half_c is not None:
            crit = crit + 2.0 * half_c
        idx = np.repeat(crit.argmin(axis=-1)[:, None], P, axis=-1)
        lam = np.zeros((B, P))
        lam[:, 0] = 1.0
        n = np.ones(B, dtype=np.intp)
    else:
        idx, lam, n = (np.array(a).reshape(B, -1) for a in init)
        n = n[:, 0]
        sub = (XT, X1, pid, vf, half_c, scale)
        idx, lam, n = _drop_loop(sub, idx, lam, n)
    margin = np.full(B, -np.inf)
    act = np.arange(B)
    for _ in range(4 * J + 10):
        ia, pa = idx[act], pid[act]
        x = np.einsum("bpk,bp->bk", XT[pa[:, None], ia], lam[act])
        u = np.zeros((B, k))
        u[act] = vf[act] * (x - X1[pa])
        g = np.matmul(u.reshape(N, S, k), X0).reshape(B, J)  # gradients, by problem
        if len(act) < B:
            g = g[act]
        if half_c is not None:
            g += half_c[act]
        gbar = np.einsum("bp,bp->b", lam[act], np.take_along_axis(g, ia, axis=-1))
        np.put_along_axis(g, ia, np.inf, axis=-1)
        j = g.argmin(axis=-1)
        m = (g[np.arange(len(act)), j] - gbar) / scale[act]
        go = (m < -tol) & (n[act] < P)
        margin[act[~go]] = np.where(m[~go] < -tol, -np.inf, m[~go])
        act, j = act[go], j[go]
        if len(act) == 0:
            break
        idx[act, n[act]] = j
        n[act] += 1
        sub = (
            XT,
            X1,
            pid[act],
            vf[act],
            None if half_c is None else half_c[act],
            scale[act],
        )
        idx[act], lam[act], n[act] = _drop_loop(sub, idx[act], lam[act], n[act])
    if init is not None:
        redo = np.flatnonzero((margin < 1e-8) | (n > k))
        if len(redo):
            p = pid[redo]
            cold = weighted_simplex_lsq(
                X0[p],
                X1[p],
                vf[redo][:, None, :],
                None if c is None else c.reshape(B, J)[redo][:, None, :],
                tol=tol,
                real=None if real is None else real[p],
            )
            idx[redo], lam[redo], n[redo] = (a[:, 0] for a in cold)
    return idx.reshape(N, S, P), lam.reshape(N, S, P), n.reshape(N, S)


def dense_weights(idx: np.ndarray, lam: np.ndarray, J: int) -> np.ndarray:
    """Dense ``(..., J)`` weights from the support form of :func:`weighted_simplex_lsq`."""
    W = np.zeros((*idx.shape[:-1], J + 1))
    np.put_along_axis(W, np.where(lam > 0, idx, J), lam, axis=-1)
    return W[..., :J]


_Sub = tuple[
    np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, np.ndarray
]


def _drop_loop(
    sub: _Sub, idx: np.ndarray, lam: np.ndarray, n: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Batched :func:`_inner_loop` on the rows of ``sub``; returns ``idx, lam, n``."""
    P = idx.shape[-1]
    pos = np.arange(P)
    work = np.arange(len(n))
    for _ in range(P + 1):
        valid = pos < n[work, None]
        z = _affine_batch(sub, work, idx[work], valid)
        ok = np.all((z > 0) | ~valid, axis=-1)
        lam[work[ok]] = z[ok]
        bad = ~ok
        if not bad.any():
            break
        work, z, valid = work[bad], z[bad], valid[bad]
        lw = lam[work]
        neg = valid & (z <= 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios = np.where(neg, lw / (lw - z), np.inf)
        alpha = np.clip(ratios.min(axis=-1), 0.0, 1.0)[:, None]
        new = lw + alpha * (z - lw)
        keep = valid & ~((new <= 1e-15) | (neg & (ratios <= alpha)))
        none = ~keep.any(axis=-1)
        if none.any():  # numerical corner case: keep the largest weight
            top = np.where(valid, z, -np.inf).argmax(axis=-1)
            hit = none[:, None] & (pos == top[:, None])
            keep |= hit
            new = np.where(none[:, None], hit.astype(float), new)
        order = np.argsort(~keep, axis=-1, kind="stable")
        nk = keep.sum(axis=-1)
        iw = np.take_along_axis(idx[work], order, axis=-1)
        lw = np.take_along_axis(np.where(keep, new, 0.0), order, axis=-1)
        idx[work] = np.where(pos < nk[:, None], iw, iw[:, :1])
        lam[work] = lw / lw.sum(axis=-1, keepdims=True)
        n[work] = nk
    return idx, lam, n


def _affine_batch(
    sub: _Sub, work: np.ndarray, idx: np.ndarray, valid: np.ndarray
) -> np.ndarray:
    """Batched :func:`_affine_lsq` by the (scaled) KKT system; zero in the padding."""
    XT, X1, pid, v, half_c, scale = sub
    m, P = idx.shape
    p = pid[work]
    XF = XT[p[:, None], idx]  # (m, P, k)
    vX = XF * v[work, None, :]
    s = scale[work, None]
    M = np.matmul(vX, np.swapaxes(XF, 1, 2)) / s[:, :, None]
    rhs = np.matmul(vX, X1[p][:, :, None])[..., 0]
    if half_c is not None:
        rhs = rhs - np.take_along_axis(half_c[work], idx, axis=-1)
    rhs = np.where(valid, rhs / s, 0.0)
    both = valid[:, :, None] & valid[:, None, :]
    eye = np.eye(P, dtype=bool)
    K = np.zeros((m, P + 1, P + 1))
    K[:, :P, :P] = np.where(both, M + 1e-13 * eye, eye)
    K[:, :P, P] = valid
    K[:, P, :P] = valid
    b = np.concatenate([rhs, np.ones((m, 1))], axis=-1)
    sol = np.linalg.solve(K, b[..., None])[..., 0]
    return np.where(valid, sol[:, :P], 0.0)
