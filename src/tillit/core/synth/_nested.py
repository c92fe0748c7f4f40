"""Nested predictor weights ``V`` for synthetic control, many problems at once.

The nested problem of Abadie, Diamond & Hainmueller (2010, Section 2.3) chooses the
diagonal ``V`` (on the simplex) that minimises the pre-period outcome MSPE
``L(V) = ||Z1 - Z0 w*(V)||^2 / T0`` of the inner solution
``w*(V) = argmin_w (X1 - X0 w)' V (X1 - X0 w)`` over the donor simplex.  ``V`` is
parametrised as ``softmax(theta)`` with ``theta`` in ``[-12, 12]^k``.

Every problem of a batch (the treated unit, or all placebo refits at one start, which
share their shapes) is solved in lock-step, with every numpy call covering the whole
batch:

1. start points: equal weights, R ``Synth``'s regression start, inverse univariate
   fit, leave-one-predictor-out and four Dirichlet draws from a fixed seed;
2. a BFGS descent (Armijo backtracking, box ``[-12, 12]``) from the ``n_runs`` best
   starts, with the exact gradient of ``L``: on the inner active set ``F``, ``w*_F``
   solves the KKT system ``[[X_F'VX_F, 1], [1', 0]] [w_F; mu] = [X_F'V X1; 1]``, so
   ``dL/dv_h = a' X_F[h]' (X1_h - X_F[h] w_F)`` with ``a`` from the same matrix and the
   right-hand side ``[dL/dw_F; 0]`` (implicit differentiation);
3. a coordinate pattern search around the best point (the inner solution, hence
   ``L``, has kinks where the active set changes, which stall gradient methods),
   followed by a second BFGS descent when it moves.

A problem stops early when its loss reaches the lower bound
``min_{w in simplex} ||Z1 - Z0 w||^2 / T0`` (no ``V`` can do better): an optimality
certificate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tillit.core.synth._solvers import (
    dense_weights,
    simplex_lsq_eq,
    weighted_simplex_lsq,
)

__all__ = ["NestedBatch", "exact_fit", "nested_v_batch", "perfect_fit", "search_v"]

BOUND = 12.0  # theta box: predictor weights span at most exp(24)
FTOL = 1e-10  # a BFGS run stops when its loss falls by less than this (relative)
PSTEP, PMIN = 4.0, 1e-2  # pattern search: first and last step in theta
Support = tuple[np.ndarray, np.ndarray, np.ndarray]  # idx, lam, n of the inner solver
_SEED = 20100517  # fixed: results must not depend on a user seed


@dataclass(frozen=True, eq=False)
class NestedBatch:
    """Nested problems ``n``: predictors ``X1 (N, k)``, ``X0 (N, k, J)``, outcomes
    ``Z1 (N, T0)``, ``Z0 (N, T0, J)``, the Abadie-L'Hour ``penalty`` and, for padded
    batches, ``real`` ``(N, J)`` (padding columns repeat donor 0; see
    :func:`tillit.core.synth._scm.fit_sc_batch`)."""

    X1: np.ndarray
    X0: np.ndarray
    Z1: np.ndarray
    Z0: np.ndarray
    penalty: float = 0.0
    real: np.ndarray | None = None
    _cache: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def take(self, sel: np.ndarray) -> NestedBatch:
        """The sub-batch of problems ``sel`` (repeats allowed)."""
        sub = NestedBatch(
            self.X1[sel],
            self.X0[sel],
            self.Z1[sel],
            self.Z0[sel],
            self.penalty,
            None if self.real is None else self.real[sel],
        )
        for key in ("XT", "ZT"):
            sub._cache[key] = self._get(key)[sel]
        return sub

    def _get(self, key: str) -> np.ndarray:
        if key not in self._cache:
            if key == "XT":
                val = np.swapaxes(self.X0, 1, 2)
            elif key == "ZT":
                val = np.swapaxes(self.Z0, 1, 2)
            else:  # "D2": squared predictor distances, (N, k, J)
                val = (self.X0 - self.X1[:, :, None]) ** 2
            self._cache[key] = np.ascontiguousarray(val)
        return self._cache[key]

    def solve(
        self, theta: np.ndarray, init: Support | None = None
    ) -> tuple[np.ndarray, Support]:
        """Inner solutions at ``theta`` ``(N, S, k)``: ``v`` and the support."""
        v = _softmax(theta)
        c = None
        if self.penalty > 0:
            c = self.penalty * np.matmul(v, self._get("D2"))
        sol = weighted_simplex_lsq(self.X0, self.X1, v, c, init=init, real=self.real)
        return v, sol

    def value(
        self, theta: np.ndarray, init: Support | None = None
    ) -> tuple[np.ndarray, Support]:
        """Outer loss ``(N, S)`` at ``theta`` ``(N, S, k)`` and the inner supports."""
        f, _, sup = self._loss(theta, init, grad=False)
        return f, sup

    def value_grad(
        self, theta: np.ndarray, init: Support | None = None
    ) -> tuple[np.ndarray, np.ndarray, Support]:
        """Outer loss ``(N, S)``, its gradient ``(N, S, k)`` in ``theta``, supports."""
        return self._loss(theta, init, grad=True)

    def _loss(
        self, theta: np.ndarray, init: Support | None, grad: bool
    ) -> tuple[np.ndarray, np.ndarray, Support]:
        v, sup = self.solve(theta, init)
        idx, lam, _ = sup
        N = len(self.X1)
        rows = np.arange(N)[:, None, None]
        ZF = self._get("ZT")[rows, idx]  # (N, S, P, T0)
        resid = self.Z1[:, None, :] - np.einsum("nspt,nsp->nst", ZF, lam)
        T0 = resid.shape[-1]
        f = np.einsum("nst,nst->ns", resid, resid) / T0
        if not grad:
            return f, f, sup
        valid = lam > 0
        g_w = np.where(valid, -2.0 / T0 * np.einsum("nspt,nst->nsp", ZF, resid), 0.0)
        XF = self._get("XT")[rows, idx]  # (N, S, P, k)
        a = _kkt_solve(XF, v, valid, g_w)
        r_h = self.X1[:, None, :] - np.einsum("nspk,nsp->nsk", XF, lam)
        grad_v = r_h * np.einsum("nsp,nspk->nsk", a, XF)
        if self.penalty > 0:
            D2F = np.swapaxes(self._get("D2"), 1, 2)[rows, idx]
            grad_v -= 0.5 * self.penalty * np.einsum("nsp,nspk->nsk", a, D2F)
        g = v * (grad_v - np.sum(v * grad_v, axis=-1, keepdims=True))
        return f, g, sup

    def weights(self, theta: np.ndarray) -> np.ndarray:
        """Dense inner weights ``(N, S, J)`` at ``theta`` (cold solves)."""
        _, (idx, lam, _) = self.solve(theta)
        return dense_weights(idx, lam, self.X0.shape[2])


def _softmax(theta: np.ndarray) -> np.ndarray:
    e = np.exp(theta - theta.max(axis=-1, keepdims=True))
    out: np.ndarray = e / e.sum(axis=-1, keepdims=True)
    return out


def _kkt_solve(
    XF: np.ndarray, v: np.ndarray, valid: np.ndarray, g_w: np.ndarray
) -> np.ndarray:
    """Solve ``[[X_F'VX_F, 1], [1', 0]] [a; mu] = [g_w; 0]`` on the support (batched)."""
    P = XF.shape[-2]
    vX = XF * v[..., None, :]
    M = np.matmul(vX, np.swapaxes(XF, -1, -2))
    s = np.maximum(np.trace(M, axis1=-2, axis2=-1) / valid.sum(axis=-1), 1e-300)
    eye = np.eye(P, dtype=bool)
    both = valid[..., :, None] & valid[..., None, :]
    K = np.zeros((*valid.shape[:-1], P + 1, P + 1))
    K[..., :P, :P] = np.where(both, M / s[..., None, None] + 1e-13 * eye, eye)
    K[..., :P, P] = valid
    K[..., P, :P] = valid
    rhs = np.concatenate([g_w / s[..., None], np.zeros((*valid.shape[:-1], 1))], -1)
    sol = np.linalg.solve(K, rhs[..., None])[..., 0]
    return np.where(valid, sol[..., :P], 0.0)


def _starts(prob: NestedBatch, n_random: int) -> np.ndarray:
    """Start points ``(N, S0, k)``; the univariate losses cost ``k`` evaluations."""
    N, k, _ = prob.X0.shape
    eq = np.zeros((N, 1, k))
    reg = _regression_start(prob)[:, None, :]
    e = np.full((k, k), 1e-6) + np.eye(k) * (1.0 - 1e-6)
    uni, _ = prob.value(np.broadcast_to(np.log(e / e.sum(1, keepdims=True)), (N, k, k)))
    inv = 1.0 / np.maximum(uni, 1e-12)
    inv_start = np.log(inv / inv.sum(axis=1, keepdims=True))[:, None, :]
    loo = np.broadcast_to(-10.0 * np.eye(k), (N, k, k))
    rng = np.random.default_rng(_SEED)
    dir_ = np.log(np.maximum(rng.dirichlet(np.full(k, 0.5), size=n_random), 1e-12))
    rand = np.broadcast_to(dir_, (N, n_random, k))
    return np.concatenate([eq, reg, inv_start, loo, rand], axis=1)


def _regression_start(prob: NestedBatch) -> np.ndarray:
    """R ``Synth``'s start: ``diag(beta beta')`` of Z on X (equal weights if void)."""
    N, k, J = prob.X0.shape
    X = np.concatenate(
        [
            np.concatenate([prob.X0, prob.X1[:, :, None]], axis=2),
            np.ones((N, 1, J + 1)),
        ],
        axis=1,
    )  # (N, k + 1, J + 1): rows are regressors
    Z = np.concatenate([prob.Z0, prob.Z1[:, :, None]], axis=2)  # (N, T0, J + 1)
    if prob.real is not None:  # a padding unit is a zero row: no effect on the fit
        X[:, :, :J] *= prob.real[:, None, :]
        Z[:, :, :J] *= prob.real[:, None, :]
    beta = np.matmul(np.linalg.pinv(np.swapaxes(X, 1, 2)), np.swapaxes(Z, 1, 2))
    d = np.einsum("nkt,nkt->nk", beta[:, :k], beta[:, :k])
    good = np.all(np.isfinite(d), axis=1) & (d.sum(axis=1) > 0)
    d = np.where(good[:, None], d, 1.0)
    out: np.ndarray = np.log(np.maximum(d / d.sum(axis=1, keepdims=True), 1e-8))
    return out


def _bfgs(
    prob: NestedBatch,
    theta: np.ndarray,
    active: np.ndarray,
    max_iter: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Batched projected BFGS with Armijo backtracking; returns ``theta, f``."""
    theta = np.clip(theta, -BOUND, BOUND)
    f, g, sup = prob.value_grad(theta)
    N, R, k = theta.shape
    H = np.broadcast_to(np.eye(k), (N, R, k, k)).copy()
    fresh = np.ones((N, R), dtype=bool)
    active = active.copy()
    for _ in range(max_iter):
        if not active.any():
            break
        d = -np.einsum("nsij,nsj->nsi", H, g)
        stuck = np.sum(g * d, axis=-1) >= 0
        d[stuck] = -g[stuck]
        first = fresh | stuck  # steepest descent: first step of length one
        gn = np.maximum(np.linalg.norm(d, axis=-1, keepdims=True), 1e-300)
        d = np.where(first[..., None], d / gn, d)
        out = ((theta <= -BOUND) & (d < 0)) | ((theta >= BOUND) & (d > 0))
        d[out] = 0.0
        new_t, new_f, new_g, ok = _line_search(prob, theta, f, g, d, active, sup)
        s = new_t - theta
        y = new_g - g
        sy = np.sum(s * y, axis=-1)
        yn = np.linalg.norm(s, axis=-1) * np.linalg.norm(y, axis=-1)
        upd = ok & (sy > 1e-12 * yn)
        H[upd] = _bfgs_update(H[upd], s[upd], y[upd], sy[upd])
        H[ok & ~upd] = np.eye(k)
        small = ok & (f - new_f <= FTOL * np.maximum(np.abs(f), 1e-300))
        theta = np.where(ok[..., None], new_t, theta)
        f = np.where(ok, new_f, f)
        g = np.where(ok[..., None], new_g, g)
        fail = active & ~ok
        active &= ~(small | (fail & fresh))
        H[fail] = np.eye(k)
        fresh = fail
    return theta, f


def _bfgs_update(
    H: np.ndarray, s: np.ndarray, y: np.ndarray, sy: np.ndarray
) -> np.ndarray:
    rho = (1.0 / sy)[:, None, None]
    Iden = np.eye(H.shape[-1])
    A = Iden - rho * s[:, :, None] * y[:, None, :]
    out: np.ndarray = A @ H @ np.swapaxes(A, 1, 2) + rho * s[:, :, None] * s[:, None, :]
    return out


def _line_search(
    prob: NestedBatch,
    theta: np.ndarray,
    f: np.ndarray,
    g: np.ndarray,
    d: np.ndarray,
    active: np.ndarray,
    sup: Support,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Armijo backtracking for the active runs: steps ``4^-i`` tried four at a time.

    Each round evaluates four step lengths of every open run in one batch (inner
    solves warm-started from the run's current support) and takes the longest that
    satisfies the Armijo condition; at most two rounds.  ``sup`` is updated in place.
    """
    new_t, new_f, new_g = theta.copy(), f.copy(), g.copy()
    ok = np.zeros(f.shape, dtype=bool)
    todo = active.copy()
    for first in (-1, 3):
        if not todo.any():
            break
        rr, cc = np.nonzero(todo)
        steps = 0.25 ** np.arange(first, first + 4)
        t = theta[rr, cc][:, None, :] + steps[None, :, None] * d[rr, cc][:, None, :]
        t = np.clip(t, -BOUND, BOUND)  # (m, 4, k)
        i0, i1, i2 = (np.repeat(a[rr, cc][:, None], 4, axis=1) for a in sup)
        init = (i0, i1, i2)
        ft, gt, st = prob.take(rr).value_grad(t, init)
        slope = np.einsum("mlk,mk->ml", t - theta[rr, cc][:, None, :], g[rr, cc])
        armijo = ft <= f[rr, cc][:, None] + 1e-4 * slope
        h = np.flatnonzero(armijo.any(axis=1))
        pick = armijo.argmax(axis=1)[h]
        hr, hc = rr[h], cc[h]
        new_t[hr, hc] = t[h, pick]
        new_f[hr, hc] = ft[h, pick]
        new_g[hr, hc] = gt[h, pick]
        for a, b in zip(sup, st, strict=True):
            a[hr, hc] = b[h, pick]
        ok[hr, hc] = True
        todo[hr, hc] = False
    return new_t, new_f, new_g, ok


def _pattern(
    prob: NestedBatch, theta: np.ndarray, f: np.ndarray, rounds: int
) -> tuple[np.ndarray, np.ndarray]:
    """Coordinate pattern search on ``theta`` ``(N, k)``; step halves when stuck."""
    N, k = theta.shape
    step = np.full(N, PSTEP)
    live = np.ones(N, dtype=bool)
    dirs = np.concatenate([np.eye(k), -np.eye(k)])  # (2k, k)
    for _ in range(rounds):
        rows = np.flatnonzero(live)
        if len(rows) == 0:
            break
        cand = theta[rows, None, :] + step[rows, None, None] * dirs[None]
        if step[rows].max() >= PSTEP:  # bound moves for rows still at the first step
            far = np.where(
                (step[rows] >= PSTEP)[:, None, None],
                _corners(theta[rows]),
                theta[rows, None, :],
            )
            cand = np.concatenate([cand, far], axis=1)
        cand = np.clip(cand, -BOUND, BOUND)
        fc, _ = prob.take(rows).value(cand)
        best = fc.argmin(axis=1)
        fb = fc[np.arange(len(rows)), best]
        better = fb < f[rows] * (1 - 1e-12)
        mv = rows[better]
        theta[mv] = cand[better, best[better]]
        f[mv] = fb[better]
        still = rows[~better]
        step[still] /= 4.0
        live[still] = step[still] >= PMIN
    return theta, f


def _corners(theta: np.ndarray) -> np.ndarray:
    """Each coordinate of ``theta`` ``(m, k)`` moved to either bound: ``(m, 2k, k)``."""
    k = theta.shape[1]
    out = np.repeat(theta[:, None, :], 2 * k, axis=1)
    h = np.arange(k)
    out[:, h, h] = -BOUND
    out[:, k + h, h] = BOUND
    return out


PERFECT = 1e-18
"""A predictor fit counts as perfect when its mean squared error (scaled predictors)
is at most this times ``1 + mean(X1^2)``."""


def nested_v_batch(
    prob: NestedBatch, **search: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nested ``V`` for every problem: returns ``v (N, k)``, ``w (N, J)``, ``loss (N,)``.

    A problem whose predictors some donor mix reproduces exactly takes
    :func:`perfect_fit` (its ``v`` is reported as equal weights); the others are
    searched by :func:`search_v`, with the options ``search``.
    """
    N, k, J = prob.X0.shape
    hit, w_hit, f_hit = perfect_fit(prob)
    if not hit.any():
        return search_v(prob, **search)
    v = np.full((N, k), 1.0 / k)
    w = np.zeros((N, J))
    f = np.zeros(N)
    w[hit], f[hit] = w_hit, f_hit
    rest = np.flatnonzero(~hit)
    if len(rest):
        sub = search_v(prob.take(rest), **search)
        v[rest], w[rest], f[rest] = sub
    return v, w, f


def exact_fit(X1: np.ndarray, X0: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Whether weights ``w (N, J)`` reproduce predictors ``X1 (N, k)`` from ``X0``."""
    r = X1 - np.einsum("nkj,nj->nk", X0, w)
    out: np.ndarray = np.mean(r**2, axis=1) <= PERFECT * (1.0 + np.mean(X1**2, axis=1))
    return out


def perfect_fit(prob: NestedBatch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Problems whose predictors a donor mix reproduces exactly, and their weights.

    When ``X1 = X0 w`` has a solution on the simplex, every ``V > 0`` has the same
    inner solutions, all such ``w``: the predictors no longer pick the weights, and
    the nested problem's own criterion (the pre-period outcome fit) must.  Among
    them the weights with the best outcome fit are taken,
    ``argmin ||Z1 - Z0 w||^2`` subject to ``X0 w = X1`` on the simplex (the
    optimistic bilevel solution of Becker & Kloessner 2018 and Malo et al. 2024,
    which a search over ``V`` can only approach); :func:`search_v` would instead
    return one arbitrary member of the set.  Not used with a penalty (its inner
    solution is unique).

    Returns the mask ``(N,)`` of such problems, their weights and outcome losses.
    """
    N, k, J = prob.X0.shape
    none = (np.zeros(N, dtype=bool), np.zeros((0, J)), np.zeros(0))
    if prob.penalty > 0:
        return none
    idx, lam, _ = weighted_simplex_lsq(
        prob.X0, prob.X1, np.full((N, 1, k), 1.0 / k), real=prob.real
    )
    w0 = dense_weights(idx, lam, J)[:, 0]
    hit = exact_fit(prob.X1, prob.X0, w0)
    if not hit.any():
        return none
    ws, fs = [], []
    T0 = prob.Z0.shape[1]
    for n in np.flatnonzero(hit).tolist():
        real = np.ones(J, bool) if prob.real is None else prob.real[n]
        w = np.zeros(J)
        w[real] = simplex_lsq_eq(
            prob.Z0[n][:, real],
            prob.Z1[n],
            prob.X0[n][:, real],
            prob.X1[n],
            w0[n, real],
        )
        res = prob.Z1[n] - prob.Z0[n] @ w
        ws.append(w)
        fs.append(float(res @ res) / T0)
    return hit, np.array(ws), np.array(fs)


def search_v(
    prob: NestedBatch,
    n_random: int = 4,
    n_runs: int = 2,
    max_iter: int = 30,
    rounds: int = 15,
    n_polish: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Search ``V`` for every problem: returns ``v (N, k)``, ``w (N, J)``, ``loss (N,)``.

    Evaluates every start, descends by BFGS from the ``n_runs`` best, polishes the
    ``n_polish`` best descents by pattern search and descends again from them; problems
    whose loss reaches the outcome-only lower bound stop early (see the module
    docstring).  ``n_polish=2`` searches harder: on Prop 99 it finds a 10% lower
    pre-period MSPE than ADH's solution, with other weights (docs/synth.md).
    """
    N, k, _ = prob.X0.shape
    if k == 1:
        theta = np.zeros((N, 1, 1))
        f, _ = prob.value(theta)
        return np.ones((N, 1)), prob.weights(theta)[:, 0], f[:, 0]
    bound = _lower_bound(prob)
    starts = _starts(prob, n_random)
    f0, _ = prob.value(starts)
    order = np.argsort(f0, axis=1, kind="stable")[:, :n_runs]
    th = np.take_along_axis(starts, order[..., None], axis=1)
    best_f = f0[np.arange(N), order[:, 0]]
    open_ = best_f > bound * (1 + 1e-9)
    th, f = _bfgs(prob, th, open_[:, None] & np.ones(th.shape[:2], bool), max_iter)
    R = th.shape[1]
    keep = min(R, n_polish)
    order = np.argsort(f, axis=1, kind="stable")[:, :keep]
    th = np.take_along_axis(th, order[..., None], axis=1)
    f = np.take_along_axis(f, order, axis=1)
    open_ = f > bound[:, None] * (1 + 1e-9)
    if open_.any():
        rows, cols = np.nonzero(open_)
        sub = prob.take(rows)
        t2, f2 = _pattern(sub, th[rows, cols].copy(), f[rows, cols].copy(), rounds)
        moved = f2 < f[rows, cols]
        if moved.any():
            t3, f3 = _bfgs(sub, t2[:, None, :], moved[:, None], max_iter)
            t2, f2 = t3[:, 0], np.minimum(f3[:, 0], f2)
        th[rows, cols], f[rows, cols] = t2, f2
    pick = f.argmin(axis=1)
    theta, f = th[np.arange(N), pick], f[np.arange(N), pick]
    v = _softmax(theta)
    w = prob.weights(theta[:, None, :])[:, 0]
    return v, w, f


def _lower_bound(prob: NestedBatch) -> np.ndarray:
    """``min_w ||Z1 - Z0 w||^2 / T0`` over the simplex, per problem."""
    T0 = prob.Z0.shape[1]
    ones = np.ones((len(prob.Z1), 1, T0))
    idx, lam, _ = weighted_simplex_lsq(prob.Z0, prob.Z1, ones, real=prob.real)
    w = dense_weights(idx, lam, prob.Z0.shape[2])[:, 0]
    r = prob.Z1 - np.einsum("ntj,nj->nt", prob.Z0, w)
    out: np.ndarray = np.einsum("nt,nt->n", r, r) / T0
    return out
