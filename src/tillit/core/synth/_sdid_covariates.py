"""Synthetic DiD with time-varying covariates, the two ways the references offer.

``optimized`` (Arkhangelsky et al. 2021, footnote on covariates; R ``synthdid``'s ``X``
argument, ``sc.weight.fw.covariates``): the SDID estimator is applied to the residuals
``Y - X beta``, with ``beta``, ``lambda`` and ``omega`` chosen together: each
iteration takes one exact-line-search Frank-Wolfe step for ``lambda`` and for
``omega`` on the collapsed residual matrix and one gradient step ``1/t`` for ``beta``,
until the penalised objective changes by less than ``min_decrease^2`` (at most
``max_iter`` iterations; no sparsification, as R).  The estimate is
``(-omega, 1/N1)' (Y - X beta) (-lambda, 1/T1)``.  :func:`fw_covariates` runs many
same-shape problems (placebo replicates) in lock step, each following R's iterates.

``projected`` (Kranz 2022, R ``xsynthdid``; Stata ``sdid``'s
``covariates(, projected)``): ``beta`` from a two-way fixed-effects regression of
``Y`` on ``X`` over the never-treated units only (:func:`project`), then plain SDID
on ``Y - X beta``.
"""

from __future__ import annotations

import numpy as np

from tillit.core.errors import EstimationError
from tillit.core.synth._sdid_core import BlockFit

__all__ = ["collapse_x", "contract", "fit_blocks_x", "fw_covariates", "project"]


def contract(X: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """``sum_c beta[..., c] X[..., c]`` (R's ``contract3``): ``(..., N, T)``."""
    out: np.ndarray = np.einsum("...ntc,...c->...nt", X, beta)
    return out


def collapse_x(X: np.ndarray, N0: int, T0: int, w1: np.ndarray | None) -> np.ndarray:
    """R's ``collapsed.form`` of each covariate slice: ``(..., N0+1, T0+1, C)``."""
    from tillit.core.synth._sdid_core import collapsed

    Xm = np.moveaxis(X, -1, -3)  # (..., C, N, T)
    w = None if w1 is None else np.expand_dims(w1, -2)
    return np.moveaxis(collapsed(Xm, N0, T0, w), -3, -1)


def _fw_step(
    A: np.ndarray, x: np.ndarray, b: np.ndarray, eta: np.ndarray
) -> np.ndarray:
    """R's ``fw.step`` for a batch: ``A`` ``(B, n, m)``, ``x`` ``(B, m)``, ``b`` ``(B, n)``."""
    Ax = (A @ x[:, :, None])[:, :, 0]
    half = ((Ax - b)[:, None, :] @ A)[:, 0, :] + eta[:, None] * x
    i = np.argmin(half, axis=1)
    rows = np.arange(len(x))
    dx = -x
    dx[rows, i] += 1.0
    derr = A[rows, :, i] - Ax
    den = np.sum(derr * derr, axis=1) + eta * np.sum(dx * dx, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        step = -np.sum(half * dx, axis=1) / den
    step = np.where(np.all(dx == 0, axis=1) | ~np.isfinite(step), 0.0, step)
    out: np.ndarray = x + np.clip(step, 0.0, 1.0)[:, None] * dx
    return out


def fw_covariates(
    Yc: np.ndarray,
    Xc: np.ndarray,
    zeta_lambda: np.ndarray,
    zeta_omega: np.ndarray,
    min_decrease: np.ndarray,
    lam: np.ndarray,
    om: np.ndarray,
    *,
    update_lambda: bool,
    update_omega: bool,
    omega_intercept: bool,
    max_iter: int = 10_000,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """R's ``sc.weight.fw.covariates`` for ``B`` same-shape collapsed problems.

    ``Yc`` ``(B, N0+1, T0+1)``, ``Xc`` ``(B, N0+1, T0+1, C)``; ``lam`` ``(B, T0)`` and
    ``om`` ``(B, N0)`` are the starting (or, not updated, the fixed) weights; the
    time weights always have an intercept (R's ``lambda.intercept`` default).
    Returns ``lambda``, ``omega`` and ``beta`` ``(B, C)``.  Each iteration is, per
    problem: ``Y_beta = Y - X beta``; a Frank-Wolfe step for ``lambda`` on the
    column-centred control rows and one for ``omega`` on the row-centred
    pre-periods; ``beta <- beta - (1/t) grad``; stop when the objective moves by at
    most ``min_decrease^2`` (R's loop and stopping rule, first two always run).
    """
    B, n, m = Yc.shape
    N0, T0 = n - 1, m - 1
    lam, om = lam.astype(float).copy(), om.astype(float).copy()
    XC = np.ascontiguousarray(np.moveaxis(Xc, -1, 1))  # (B, C, N0+1, T0+1)
    beta = np.zeros((B, XC.shape[1]))
    eta_l = N0 * zeta_lambda**2
    eta_o = T0 * zeta_omega**2
    zl2, zo2 = zeta_lambda**2, zeta_omega**2
    ones = np.ones((B, 1))

    def update(
        a: np.ndarray, Y: np.ndarray, lam: np.ndarray, om: np.ndarray
    ) -> tuple[np.ndarray, ...]:
        Yl = Y[:, :N0, :]
        Yl = Yl - Yl.mean(axis=1, keepdims=True)
        if update_lambda:
            lam = _fw_step(Yl[:, :, :T0], lam, Yl[:, :, T0], eta_l[a])
        err_l = (Yl[:, :, :T0] @ lam[:, :, None])[:, :, 0] - Yl[:, :, T0]
        Yo = np.swapaxes(Y[:, :, :T0], 1, 2)  # (B, T0, N0+1)
        if omega_intercept:
            Yo = Yo - Yo.mean(axis=1, keepdims=True)
        if update_omega:
            om = _fw_step(Yo[:, :, :N0], om, Yo[:, :, N0], eta_o[a])
        err_o = (Yo[:, :, :N0] @ om[:, :, None])[:, :, 0] - Yo[:, :, N0]
        val = (
            zo2[a] * np.sum(om * om, 1)
            + zl2[a] * np.sum(lam * lam, 1)
            + np.sum(err_o * err_o, 1) / T0
            + np.sum(err_l * err_l, 1) / N0
        )
        return lam, om, err_l, err_o, val

    every = np.arange(B)
    lam, om, err_l, err_o, _ = update(every, Yc - contract(Xc, beta), lam, om)
    prev = np.full(B, np.nan)
    last = np.full(B, np.nan)
    active = np.ones(B, dtype=bool)
    a = every
    for t in range(1, max_iter + 1):
        if t > 2:
            keep = np.abs(prev[a] - last[a]) > min_decrease[a] ** 2
            if not keep.all():
                active[a[~keep]] = False
                a = a[keep]
        if not len(a):
            break
        full = len(a) == B  # all running: views instead of gathered copies
        X = XC if full else XC[a]
        la, oa = (lam, om) if full else (lam[a], om[a])
        lam_v = np.concatenate([la, -ones[: len(a)]], 1)
        om_v = np.concatenate([oa, -ones[: len(a)]], 1)
        el, eo = (err_l, err_o) if full else (err_l[a], err_o[a])
        xl = (X[:, :, :N0, :] @ lam_v[:, None, :, None])[..., 0]  # (b, C, N0)
        xo = (om_v[:, None, None, :] @ X[:, :, :, :T0])[:, :, 0, :]  # (b, C, T0)
        g = (xl @ el[:, :, None])[..., 0] / N0 + (xo @ eo[:, :, None])[..., 0] / T0
        beta[a] += g / t  # beta - (1/t) grad.beta, with R's grad.beta = -g
        Yb = (Yc if full else Yc[a]) - np.einsum("bcnt,bc->bnt", X, beta[a])
        lam[a], om[a], err_l[a], err_o[a], val = update(a, Yb, la, oa)
        prev[a], last[a] = last[a], val
    if not (np.all(np.isfinite(beta)) and np.all(np.isfinite(om))):
        raise EstimationError(
            "the covariate weights diverged; rescale the covariates (e.g. logs)"
        )
    return lam, om, beta


def project(Y: np.ndarray, X: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``beta`` of ``Y ~ X + unit FE + time FE`` over the panel rows ``rows`` (Kranz).

    ``Y`` ``(N, T)``, ``X`` ``(N, T, C)``; the panel is balanced, so the fixed effects
    are removed by double demeaning and ``beta`` is least squares on what is left.
    """

    def within(A: np.ndarray) -> np.ndarray:
        out: np.ndarray = (
            A
            - A.mean(axis=0, keepdims=True)
            - A.mean(axis=1, keepdims=True)
            + A.mean(axis=(0, 1), keepdims=True)
        )
        return out

    y = within(Y[rows]).reshape(-1)
    Z = within(X[rows]).reshape(-1, X.shape[-1])
    if np.linalg.matrix_rank(Z) < Z.shape[1]:
        raise EstimationError(
            "a covariate does not vary within the never-treated units once unit and "
            "period effects are removed (or covariates are collinear)"
        )
    beta, *_ = np.linalg.lstsq(Z, y, rcond=None)
    out: np.ndarray = beta
    return out


def fit_blocks_x(
    designs: list[tuple[np.ndarray, int, int]],
    Xs: list[np.ndarray],
    method: str,
    weights: list[np.ndarray | None],
) -> list[BlockFit]:
    """:func:`tillit.core.synth._sdid_core.fit_blocks` with covariates (``optimized``).

    Options (regularisation, tolerance) are R's defaults from ``Y`` itself; blocks of
    the same shape are solved in one lock-step batch.
    """
    from tillit.core.synth import _sdid_core as core

    prep = []
    for (Y, N0, T0), X, w in zip(designs, Xs, weights, strict=True):
        core._check_block(Y, N0, T0)
        opts, sigma = core.default_options(Y, N0, T0, method)
        w1 = None if w is None else w[N0:]
        om0, lam0 = core._init_weights(method, N0, T0, None if w is None else w[:N0])
        om0 = np.full(N0, 1.0 / N0) if om0 is None else om0
        lam0 = np.full(T0, 1.0 / T0) if lam0 is None else lam0
        prep.append((Y, X, N0, T0, opts, sigma, w1, om0, lam0))
    out: list[BlockFit | None] = [None] * len(prep)
    shapes: dict[tuple[int, ...], list[int]] = {}
    for k, (Y, X, N0, T0, *_) in enumerate(prep):
        shapes.setdefault((*Y.shape, N0, T0, X.shape[-1]), []).append(k)
    for ks in shapes.values():
        P = [prep[k] for k in ks]
        o = P[0][4]
        Yc = np.stack([core.collapsed(p[0], p[2], p[3], p[6]) for p in P])
        Xc = np.stack([collapse_x(p[1], p[2], p[3], p[6]) for p in P])
        lam, om, beta = fw_covariates(
            Yc,
            Xc,
            np.array([p[4].zeta_lambda for p in P]),
            np.array([p[4].zeta_omega for p in P]),
            np.array([p[4].min_decrease for p in P]),
            np.stack([p[8] for p in P]),
            np.stack([p[7] for p in P]),
            update_lambda=o.update_lambda,
            update_omega=o.update_omega,
            omega_intercept=o.omega_intercept,
            max_iter=o.max_iter,
        )
        for j, (k, p) in enumerate(zip(ks, P, strict=True)):
            Y, X, N0, T0, opts, sigma, w1 = p[:7]
            res = Y - contract(X, beta[j])
            tau = core.tau(res, N0, T0, om[j], lam[j], w1)
            out[k] = core.BlockFit(tau, om[j], lam[j], N0, T0, sigma, opts, w1, beta[j])
    return [f for f in out if f is not None]
