"""Synthetic control for one treated unit on matrices (Abadie, Diamond & Hainmueller 2010).

Donor weights ``w`` minimise the V-weighted predictor distance
``(X1 - X0 w)' V (X1 - X0 w)`` over the simplex (ADH 2010, eq. (1) and Section 2.3).
Predictor rows are scaled by their standard deviation across all units (as R ``Synth``).
``V`` is supplied or chosen by the nested problem: minimise the pre-period outcome MSPE
``||Z1 - Z0 w*(V)||^2 / T`` over diagonal ``V`` on the simplex.  The outer problem is
solved by L-BFGS on ``V = softmax(theta)`` with the exact gradient of ``w*(V)`` on its
active set (implicit differentiation of the inner KKT system), from an equal-weight and a
regression-based start followed by a Nelder-Mead polish; the inner problem by the exact
active-set solver, warm-started from the previous active set.

Variants: ``demeaned`` (each unit's pre-period mean is removed from its outcomes, i.e.
an intercept; Doudchenko & Imbens 2016, Ferman & Pinto 2021) is applied by the caller to
the outcome matrix; ``penalty`` ``lambda > 0`` adds ``lambda sum_j w_j ||X1 - X0j||_V^2``
(Abadie & L'Hour 2021, eq. (5)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from tillit.core.errors import EstimationError
from tillit.core.synth._solvers import simplex_lsq, solve_sym

__all__ = ["SCFit", "fit_sc", "scale_predictors"]


@dataclass(frozen=True, eq=False)
class SCFit:
    """One synthetic-control fit."""

    weights: np.ndarray
    v: np.ndarray | None
    synthetic: np.ndarray
    gap: np.ndarray
    T0: int
    loss_v: float

    @property
    def pre_rmspe(self) -> float:
        """Root mean squared gap before treatment."""
        return float(np.sqrt(np.mean(self.gap[: self.T0] ** 2)))

    @property
    def post_rmspe(self) -> float:
        """Root mean squared gap from the treatment start on."""
        return float(np.sqrt(np.mean(self.gap[self.T0 :] ** 2)))

    @property
    def ratio(self) -> float:
        """Post/pre RMSPE ratio (ADH 2010 Section 4)."""
        pre = self.pre_rmspe
        return self.post_rmspe / pre if pre > 0 else np.inf


def scale_predictors(X: np.ndarray) -> np.ndarray:
    """Divide each predictor row by its standard deviation across units (ddof 1)."""
    sd = X.std(axis=1, ddof=1, keepdims=True)
    return X / np.where(sd > 0, sd, 1.0)


class _Nested:
    """The outer objective ``L(theta)`` with its gradient and a warm-started inner solve."""

    def __init__(
        self,
        X1: np.ndarray,
        X0: np.ndarray,
        Z1: np.ndarray,
        Z0: np.ndarray,
        penalty: float,
    ) -> None:
        self.X1, self.X0, self.Z1, self.Z0 = X1, X0, Z1, Z0
        self.D2 = (X0 - X1[:, None]) ** 2  # (k, J) squared predictor distances
        self.penalty = penalty
        self.w: np.ndarray | None = None
        self.evals = 0

    def inner(self, v: np.ndarray) -> np.ndarray:
        sv = np.sqrt(v)
        c = self.penalty * (v @ self.D2) if self.penalty > 0 else None
        # no warm start: with a nearly degenerate V the minimiser is not unique, and the
        # outer objective must be a function of V alone, not of the search path
        w = simplex_lsq(sv[:, None] * self.X0, sv * self.X1, c=c)
        self.w = w
        self.evals += 1
        return w

    def loss(self, w: np.ndarray) -> float:
        r = self.Z1 - self.Z0 @ w
        return float(r @ r) / len(r)

    def value_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        v = _softmax(theta)
        w = self.inner(v)
        F = np.flatnonzero(w > 0)
        resid = self.Z1 - self.Z0[:, F] @ w[F]
        val = float(resid @ resid) / len(resid)
        g_w = -2.0 * (self.Z0[:, F].T @ resid) / len(resid)
        XF = self.X0[:, F]
        p = len(F)
        K = np.zeros((p + 1, p + 1))
        K[:p, :p] = (XF * v[:, None]).T @ XF
        K[:p, p] = K[p, :p] = 1.0
        sol = solve_sym(K, np.concatenate([g_w, [0.0]]))
        a = sol[:p]
        r_h = self.X1 - XF @ w[F]
        rhs = XF * r_h[:, None]
        if self.penalty > 0:
            rhs = rhs - 0.5 * self.penalty * self.D2[:, F]
        grad_v = rhs @ a
        grad_theta = v * (grad_v - v @ grad_v)
        return val, grad_theta


def _softmax(theta: np.ndarray) -> np.ndarray:
    e = np.exp(theta - theta.max())
    return e / e.sum()


def _regression_start(
    X1: np.ndarray, X0: np.ndarray, Z1: np.ndarray, Z0: np.ndarray
) -> np.ndarray | None:
    """R ``Synth``'s regression-based start: ``diag(beta beta')`` of Z on X."""
    X = np.vstack([np.hstack([X0, X1[:, None]]), np.ones(X0.shape[1] + 1)]).T
    Z = np.hstack([Z0, Z1[:, None]]).T
    beta, *_ = np.linalg.lstsq(X, Z, rcond=None)
    d = np.einsum("ij,ij->i", beta[:-1], beta[:-1])
    if not np.all(np.isfinite(d)) or d.sum() <= 0:
        return None
    return np.log(np.maximum(d / d.sum(), 1e-8))


def _starts(prob: _Nested, n_random: int) -> list[np.ndarray]:
    """Equal, regression (R ``Synth``), univariate-fit, leave-one-out and Dirichlet starts."""
    k = prob.X0.shape[0]
    starts = [np.zeros(k)]
    reg = _regression_start(prob.X1, prob.X0, prob.Z1, prob.Z0)
    if reg is not None:
        starts.append(reg)
    uni = np.empty(k)
    for h in range(k):
        e = np.full(k, 1e-6)
        e[h] = 1.0
        prob.w = None
        uni[h] = prob.loss(prob.inner(e / e.sum()))
    inv = 1.0 / np.maximum(uni, 1e-12)
    starts.append(np.log(inv / inv.sum()))
    for h in range(k):  # leave-one-predictor-out starts
        e = np.zeros(k)
        e[h] = -10.0
        starts.append(e)
    rng = np.random.default_rng(20100517)  # fixed: results must not depend on a seed
    starts.extend(
        np.log(np.maximum(rng.dirichlet(np.full(k, 0.5), size=n_random), 1e-12))
    )
    return starts


def nested_v(
    X1: np.ndarray,
    X0: np.ndarray,
    Z1: np.ndarray,
    Z0: np.ndarray,
    penalty: float = 0.0,
    n_random: int = 4,
    n_runs: int = 2,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Choose ``V`` by minimising the outcome MSPE of ``w*(V)``; return ``v, w, loss``.

    Every start is evaluated once; L-BFGS with exact gradients descends from the
    ``n_runs`` best, then Nelder-Mead polishes the best point.
    """
    k = X0.shape[0]
    prob = _Nested(X1, X0, Z1, Z0, penalty)
    if k == 1:
        v = np.ones(1)
        w = prob.inner(v)
        return v, w, prob.loss(w)
    best = (np.inf, np.zeros(k))
    starts = _starts(prob, n_random)
    first = [prob.loss(prob.inner(_softmax(th))) for th in starts]
    for j in np.argsort(first, kind="stable")[:n_runs]:  # descend from the best starts
        th0 = starts[j]
        res = minimize(
            prob.value_grad,
            th0,
            jac=True,
            method="L-BFGS-B",
            bounds=[(-12.0, 12.0)] * k,
            options={"maxiter": 40, "ftol": 1e-12, "gtol": 1e-9},
        )
        if res.fun < best[0]:
            best = (float(res.fun), res.x)
    polish = minimize(
        lambda th: prob.value_grad(th)[0],
        best[1],
        method="Nelder-Mead",
        options={"maxiter": 10 * k, "xatol": 1e-6, "fatol": 1e-10},
    )
    theta = polish.x if polish.fun < best[0] else best[1]
    v = _softmax(theta)
    prob.w = None
    w = prob.inner(v)
    return v, w, prob.loss(w)


def fit_sc(
    y1: np.ndarray,
    Y0: np.ndarray,
    T0: int,
    *,
    X1: np.ndarray | None = None,
    X0: np.ndarray | None = None,
    v: np.ndarray | None = None,
    penalty: float = 0.0,
    scale: bool = True,
) -> SCFit:
    """Fit a synthetic control for outcome path ``y1`` from donor paths ``Y0`` ``(J, T)``.

    Without predictors the weights minimise the pre-period MSPE directly (every
    pre-period outcome a predictor with equal weight).  With predictors ``X1`` ``(k,)``
    and ``X0`` ``(k, J)``, ``v`` is used when given, else chosen by :func:`nested_v`.
    """
    J = Y0.shape[0]
    if J < 2:
        raise EstimationError(
            "too few donor units: synthetic control needs at least two"
        )
    Z1, Z0 = y1[:T0], Y0[:, :T0].T
    if X0 is None or X1 is None:
        c = None
        if penalty > 0:
            c = penalty * np.sum((Z0 - Z1[:, None]) ** 2, axis=0)
        w = simplex_lsq(Z0, Z1, c=c)
        vv = None
    else:
        if scale:
            Xs = scale_predictors(np.hstack([X1[:, None], X0]))
            X1, X0 = Xs[:, 0], Xs[:, 1:]
        if v is not None:
            vv = np.asarray(v, dtype=float) / np.sum(v)
            sv = np.sqrt(vv)
            c = penalty * (vv @ (X0 - X1[:, None]) ** 2) if penalty > 0 else None
            w = simplex_lsq(sv[:, None] * X0, sv * X1, c=c)
        else:
            vv, w, _ = nested_v(X1, X0, Z1, Z0, penalty)
    synthetic = w @ Y0
    gap = y1 - synthetic
    loss = float(np.mean(gap[:T0] ** 2))
    return SCFit(w, vv, synthetic, gap, T0, loss)
