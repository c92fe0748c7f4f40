"""Synthetic control for one treated unit on matrices (Abadie, Diamond & Hainmueller 2010).

Donor weights ``w`` minimise the V-weighted predictor distance
``(X1 - X0 w)' V (X1 - X0 w)`` over the simplex (ADH 2010, eq. (1) and Section 2.3).
Predictor rows are scaled by their standard deviation across all units (as R ``Synth``).
``V`` is supplied or chosen by the nested problem: minimise the pre-period outcome MSPE
``||Z1 - Z0 w*(V)||^2 / T`` over diagonal ``V`` on the simplex, by the batched search
of :mod:`tillit.core.synth._nested` (multi-start BFGS with the exact gradient of
``w*(V)`` on its active set, pattern-search polish, outcome-only lower bound as an
optimality certificate); :func:`fit_sc_batch` fits many units that share their shapes
(the placebo refits) in one such batch.

Variants: ``demeaned`` (each unit's pre-period mean is removed from its outcomes, i.e.
an intercept; Doudchenko & Imbens 2016, Ferman & Pinto 2021) is applied by the caller to
the outcome matrix; ``penalty`` ``lambda > 0`` adds ``lambda sum_j w_j ||X1 - X0j||_V^2``
(Abadie & L'Hour 2021, eq. (5)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tillit.core.errors import EstimationError
from tillit.core.synth._nested import NestedBatch, exact_fit, nested_v_batch
from tillit.core.synth._solvers import simplex_lsq

__all__ = ["SCFit", "fit_sc", "fit_sc_batch", "nested_v", "scale_predictors"]


@dataclass(frozen=True, eq=False)
class SCFit:
    """One synthetic-control fit."""

    weights: np.ndarray
    v: np.ndarray | None
    synthetic: np.ndarray
    gap: np.ndarray
    T0: int
    loss_v: float
    exact: bool = False
    """Nested ``V`` found donor mixes that reproduce the predictors exactly, so ``v``
    does not matter and the weights are the best pre-period fit among those mixes."""

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


def nested_v(
    X1: np.ndarray,
    X0: np.ndarray,
    Z1: np.ndarray,
    Z0: np.ndarray,
    penalty: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Choose ``V`` by minimising the outcome MSPE of ``w*(V)``; return ``v, w, loss``.

    One problem of :func:`tillit.core.synth._nested.nested_v_batch`.
    """
    prob = NestedBatch(X1[None], X0[None], Z1[None], Z0[None], penalty)
    v, w, f = nested_v_batch(prob)
    return v[0], w[0], float(f[0])


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
    exact = bool(  # the rule of _nested.perfect_fit chose the weights
        X0 is not None
        and X1 is not None
        and v is None
        and penalty == 0
        and exact_fit(X1[None], X0[None], w[None])[0]
    )
    synthetic = w @ Y0
    gap = y1 - synthetic
    loss = float(np.mean(gap[:T0] ** 2))
    return SCFit(w, vv, synthetic, gap, T0, loss, exact)


def fit_sc_batch(
    y1: np.ndarray,
    Y0: np.ndarray,
    T0: int,
    X1: np.ndarray,
    X0: np.ndarray,
    *,
    real: np.ndarray | None = None,
    penalty: float = 0.0,
    scale: bool = True,
) -> list[SCFit]:
    """:func:`fit_sc` with nested ``V`` for ``N`` units at once (one batch).

    ``y1`` ``(N, T)``, ``Y0`` ``(N, J, T)``, ``X1`` ``(N, k)``, ``X0`` ``(N, k, J)``;
    fit ``n`` is the same as ``fit_sc(y1[n], Y0[n], T0, X1=X1[n], X0=X0[n])``.  Units
    with fewer donors are padded: ``real`` ``(N, J)`` marks the real donors (a prefix),
    and each padding column must repeat donor 0; the padding never changes the fit
    (a repeated donor never enters the inner active set, and is left out of the
    scaling and of the regression start) and is dropped from the returned weights.
    """
    N, J = Y0.shape[:2]
    real = np.ones((N, J), dtype=bool) if real is None else real
    if real.sum(axis=1).min() < 2:
        raise EstimationError(
            "too few donor units: synthetic control needs at least two"
        )
    if scale:
        allx = np.concatenate([X1[:, :, None], X0], axis=2)
        mask = np.concatenate([np.ones((N, 1), dtype=bool), real], axis=1)[:, None]
        cnt = mask.sum(axis=2, keepdims=True)
        mean = np.sum(allx * mask, axis=2, keepdims=True) / cnt
        sd = np.sqrt(
            np.sum(((allx - mean) * mask) ** 2, axis=2, keepdims=True) / (cnt - 1)
        )
        sd = np.where(sd > 0, sd, 1.0)
        X1, X0 = X1 / sd[:, :, 0], X0 / sd
    Z0 = np.swapaxes(Y0[:, :, :T0], 1, 2)
    prob = NestedBatch(X1, X0, y1[:, :T0], Z0, penalty, real=real)
    v, w, _ = nested_v_batch(prob)
    w[:, 0] += np.sum(np.where(real, 0.0, w), axis=1)
    w = np.where(real, w, 0.0)
    synthetic = np.einsum("nj,njt->nt", w, Y0)
    gap = y1 - synthetic
    loss = np.mean(gap[:, :T0] ** 2, axis=1)
    size = real.sum(axis=1)
    exact = exact_fit(X1, X0, w) & (penalty == 0)
    return [
        SCFit(w[i, : size[i]], v[i], synthetic[i], gap[i], T0, float(loss[i]), exact[i])
        for i in range(N)
    ]
