"""Batched random-effects meta-analysis: K meta-analyses of up to k studies at once.

Everything here works on arrays of shape ``(K, k)`` (effects, variances) and a design
``(K, k, p)``; a missing study is a non-finite effect or variance and gets weight zero.
The formulas follow metafor's ``rma.uni`` (Viechtbauer 2010, J. Stat. Softw. 36(3)):

* ``P = W - W X (X'WX)^{-1} X'W`` with ``W = diag(1 / (v + tau^2))`` and the identities
  ``P y = W (y - X b)``, ``tr P = tr W - tr((X'WX)^{-1} X'W^2X)`` and
  ``tr(PP) = tr W^2 - 2 tr(A^{-1} X'W^3X) + tr((A^{-1} X'W^2X)^2)`` (``A = X'WX``),
  so no ``k x k`` matrix is ever formed.
* REML and ML by Fisher scoring with step halving (metafor's default algorithm),
  PM by bisection on the generalised Q statistic, DL in closed form.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["BatchFit", "fit_batch", "loglik", "qprofile_tau2"]

FArray = NDArray[np.float64]
METHODS = ("fe", "dl", "he", "reml", "ml", "pm")


@dataclass(frozen=True)
class BatchFit:
    """Raw arrays of a batched fit; see :func:`fit_batch`."""

    beta: FArray  # (K, p)
    vb: FArray  # (K, p, p), already scaled for Hartung-Knapp when asked
    tau2: FArray  # (K,)
    tau2_se: FArray  # (K,)
    q: FArray  # (K,) Cochran's Q (fixed-effect weights)
    k: NDArray[np.int64]  # (K,) studies used
    p: int
    i2: FArray  # (K,) percent
    h2: FArray  # (K,)
    hk_scale: FArray  # (K,) Hartung-Knapp s^2 (1 when not used)
    converged: NDArray[np.bool_]  # (K,)
    iterations: NDArray[np.int64]  # (K,)


def _pieces(
    y: FArray, w: FArray, x: FArray
) -> tuple[FArray, FArray, FArray, FArray, FArray]:
    """Return beta, A^{-1}, weighted residuals P y, tr P and tr PP for weights ``w``."""
    if x.shape[2] == 1:  # one coefficient: closed form, no batched linear algebra
        x1 = x[:, :, 0]
        wx2 = w * x1 * x1
        ainv1 = 1 / wx2.sum(1)
        beta1 = (w * x1 * y).sum(1) * ainv1
        py1 = w * (y - x1 * beta1[:, None])
        b2 = (wx2 * w).sum(1) * ainv1
        b3 = (wx2 * w * w).sum(1) * ainv1
        tr_p1 = w.sum(1) - b2
        tr_pp1 = (w * w).sum(1) - 2 * b3 + b2 * b2
        return beta1[:, None], ainv1[:, None, None], py1, tr_p1, tr_pp1
    a = np.einsum("nki,nk,nkj->nij", x, w, x)
    ainv = np.linalg.inv(a)
    xwy = np.einsum("nki,nk,nk->ni", x, w, y)
    beta = np.einsum("nij,nj->ni", ainv, xwy)
    py = w * (y - np.einsum("nki,ni->nk", x, beta))
    b2 = ainv @ np.einsum("nki,nk,nkj->nij", x, w**2, x)
    b3 = ainv @ np.einsum("nki,nk,nkj->nij", x, w**3, x)
    tr_p = w.sum(1) - np.trace(b2, axis1=1, axis2=2)
    tr_pp = (
        (w**2).sum(1)
        - 2 * np.trace(b3, axis1=1, axis2=2)
        + np.einsum("nij,nji->n", b2, b2)
    )
    return beta, ainv, py, tr_p, tr_pp


def _weights(v: FArray, tau2: FArray, mask: NDArray[np.bool_]) -> FArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(mask, 1.0 / (v + tau2[:, None]), 0.0)
    return w


def _dl(y: FArray, v: FArray, x: FArray, mask: NDArray[np.bool_], p: int) -> FArray:
    w = _weights(v, np.zeros(len(y)), mask)
    _, _, py, tr_p, _ = _pieces(y, w, x)
    q = (py**2 / np.where(mask, w, 1.0)).sum(1)
    k = mask.sum(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out: FArray = np.maximum(0.0, (q - (k - p)) / tr_p)
    return out


def _he(y: FArray, v: FArray, x: FArray, mask: NDArray[np.bool_], p: int) -> FArray:
    """Hedges' (HE) estimator, metafor's default starting value for REML/ML."""
    w = mask.astype(float)
    _, ainv, r, _, _ = _pieces(y, w, x)
    h = np.einsum("nki,nij,nkj->nk", x, ainv, x) * w
    with np.errstate(divide="ignore", invalid="ignore"):
        he = ((r**2).sum(1) - (v * w * (1 - h)).sum(1)) / (mask.sum(1) - p)
    out: FArray = np.maximum(0.0, he)
    return out


def loglik(
    y: FArray, v: FArray, x: FArray, mask: NDArray[np.bool_], tau2: FArray, reml: bool
) -> FArray:
    """(Restricted) log-likelihood at ``tau2`` up to a constant, one value per row."""
    w = _weights(v, tau2, mask)
    _, ainv, py, _, _ = _pieces(y, w, x)
    with np.errstate(divide="ignore", invalid="ignore"):
        ll = np.where(mask, np.log(v + tau2[:, None]), 0.0).sum(1)
        ll += (py**2 / np.where(mask, w, 1.0)).sum(1)
    if reml:
        ll -= np.linalg.slogdet(ainv)[1]
    out: FArray = -0.5 * ll
    return out


def _scoring(
    y: FArray,
    v: FArray,
    x: FArray,
    mask: NDArray[np.bool_],
    reml: bool,
    tol: float = 1e-10,
) -> tuple[FArray, NDArray[np.bool_], NDArray[np.int64]]:
    """REML/ML tau^2: Fisher scoring from the HE and DL starts, keep the higher optimum.

    metafor starts from HE only; the restricted likelihood can have two maxima (a
    five-study example in PyMARE's metafor reference does), so both starts are run
    and the one with the larger (restricted) likelihood wins.
    """
    p = x.shape[2]
    tau2, done, iters = _score_from(y, v, x, mask, reml, _he(y, v, x, mask, p), tol)
    ll = loglik(y, v, x, mask, tau2, reml)
    tau2_b, done_b, iters_b = _score_from(
        y, v, x, mask, reml, _dl(y, v, x, mask, p), tol
    )
    better = loglik(y, v, x, mask, tau2_b, reml) > ll + 1e-12
    return (
        np.where(better, tau2_b, tau2),
        np.where(better, done_b, done),
        np.where(better, iters_b, iters),
    )


def _score(
    y: FArray,
    v: FArray,
    x: FArray,
    mask: NDArray[np.bool_],
    tau2: FArray,
    reml: bool,
    newton: bool = False,
) -> tuple[FArray, FArray]:
    """Twice the (restricted) score in tau^2 and the information used for the step.

    The expected (Fisher) information ``tr PP`` (REML) or ``tr W^2`` (ML), or with
    ``newton`` the observed one, ``2 y'PPPy - tr PP`` (``- tr W^2``), where positive.
    """
    w = _weights(v, tau2, mask)
    _, ainv, py, tr_p, tr_pp = _pieces(y, w, x)
    ypp = (py**2).sum(1)
    score, info = (ypp - tr_p, tr_pp) if reml else (ypp - w.sum(1), (w**2).sum(1))
    if newton:
        wu = w * py
        back = np.einsum("nij,nj->ni", ainv, np.einsum("nki,nk->ni", x, wu))
        ppy = wu - w * np.einsum("nki,ni->nk", x, back)
        observed = 2 * (py * ppy).sum(1) - info
        info = np.where(observed > 0, observed, info)
    return score, info


def _score_from(
    y: FArray,
    v: FArray,
    x: FArray,
    mask: NDArray[np.bool_],
    reml: bool,
    tau2: FArray,
    tol: float = 1e-10,
    fisher_steps: int = 30,
) -> tuple[FArray, NDArray[np.bool_], NDArray[np.int64]]:
    """Fisher scoring (metafor's algorithm) from ``tau2``, finished by a bracketed root.

    With ``tol < 1e-6`` the steps use the observed information where it is positive
    (Newton: quadratic convergence); with metafor's ``tol = 1e-5`` they are metafor's
    Fisher steps, so its printed digits are reproduced exactly.

    Each iterate's score sign narrows a bracket ``[lo, hi]`` around a root of the
    score (a local maximum: positive score below, negative above); a Fisher step that
    leaves it or turns tau^2 negative is replaced by bisection. Rows not converged
    after ``fisher_steps`` (scoring converges only linearly where the likelihood is
    flat, and metafor's plain version can cycle near the boundary) finish with the
    Illinois method on the score inside their bracket.
    """
    n = len(y)
    done = np.zeros(n, dtype=bool)
    iters = np.zeros(n, dtype=np.int64)
    lo, hi = np.zeros(n), np.full(n, np.inf)
    s_lo, s_hi = np.full(n, np.inf), np.full(n, -np.inf)
    for _ in range(fisher_steps):
        act = np.flatnonzero(~done)
        score, info = np.zeros(n), np.ones(n)
        score[act], info[act] = _score(
            y[act], v[act], x[act], mask[act], tau2[act], reml, tol < 1e-6
        )
        up = score > 0
        lo, s_lo = (
            np.where(up & (tau2 >= lo), tau2, lo),
            np.where(up & (tau2 >= lo), score, s_lo),
        )
        dn = ~up & (tau2 <= hi)
        hi, s_hi = np.where(dn, tau2, hi), np.where(dn, score, s_hi)
        with np.errstate(divide="ignore", invalid="ignore"):
            new = tau2 + score / info
        outside = ~np.isfinite(new) | (new < lo) | (new > hi)
        mid = np.where(np.isfinite(hi), (lo + hi) / 2, 2 * np.maximum(lo, 1e-8))
        new = np.where(done, tau2, np.where(outside, mid, new))
        iters += ~done
        done |= (np.abs(new - tau2) < tol * np.maximum(1.0, tau2)) | (
            hi - lo < tol * np.maximum(1.0, lo)
        )
        tau2 = new
        if done.all():
            return np.maximum(tau2, 0.0), done, iters
    # no upper end yet: double until the score turns negative
    for _ in range(80):
        need = ~done & ~np.isfinite(hi)
        if not need.any():
            break
        trial = np.where(need, 2 * np.maximum(np.maximum(lo, tau2), 1e-8), tau2)
        sc, _ = _score(y, v, x, mask, trial, reml)
        hi = np.where(need & (sc <= 0), trial, hi)
        s_hi = np.where(need & (sc <= 0), sc, s_hi)
        lo = np.where(need & (sc > 0), trial, lo)
        s_lo = np.where(need & (sc > 0), sc, s_lo)
        tau2 = np.where(need, trial, tau2)
    if lo.size and np.any(~done & np.isfinite(s_lo) & np.isfinite(hi)):
        root, steps = _illinois(
            lambda t, r: _score(y[r], v[r], x[r], mask[r], t[r], reml)[0],
            lo,
            hi,
            s_lo,
            s_hi,
            done,
            tol,
        )
        tau2 = np.where(done, tau2, root)
        iters += np.where(done, 0, steps)
        done = done | np.isfinite(root)
    return np.maximum(tau2, 0.0), done, iters


def _illinois(
    f: Callable[[FArray, NDArray[np.bool_]], FArray],
    lo: FArray,
    hi: FArray,
    f_lo: FArray,
    f_hi: FArray,
    skip: NDArray[np.bool_],
    rtol: float,
    max_iter: int = 200,
) -> tuple[FArray, NDArray[np.int64]]:
    """Vectorised Illinois (modified regula falsi) for a decreasing ``f`` on [lo, hi].

    ``f(t, rows)`` evaluates rows ``rows`` (a mask) at ``t[rows]``. Needs
    ``f_lo > 0 >= f_hi`` on active rows; returns the root and iterations used.
    """
    lo, hi, f_lo, f_hi = lo.copy(), hi.copy(), f_lo.copy(), f_hi.copy()
    side = np.zeros(lo.size)
    steps = np.zeros(lo.size, dtype=np.int64)
    finished = skip | (f_hi == 0) | (hi - lo <= rtol * np.maximum(hi, 1e-8))
    for _ in range(max_iter):
        if finished.all():
            break
        with np.errstate(divide="ignore", invalid="ignore"):
            mid = (lo * f_hi - hi * f_lo) / (f_hi - f_lo)
        bad = ~np.isfinite(mid) | (mid <= lo) | (mid >= hi)
        mid = np.where(bad, (lo + hi) / 2, mid)
        act = ~finished
        f_mid = np.zeros(lo.size)
        f_mid[act] = f(mid, act)
        pos = act & (f_mid > 0)
        neg = act & ~(f_mid > 0)
        lo, hi = np.where(pos, mid, lo), np.where(neg, mid, hi)
        f_lo = np.where(pos, f_mid, np.where(neg & (side > 0), f_lo / 2, f_lo))
        f_hi = np.where(neg, f_mid, np.where(pos & (side < 0), f_hi / 2, f_hi))
        side = np.where(pos, -1.0, np.where(neg, 1.0, side))
        steps += act
        finished |= (hi - lo <= rtol * np.maximum(hi, 1e-8)) | (act & (f_mid == 0))
    root = np.where(np.abs(f_lo) < np.abs(f_hi), lo, hi)
    return root, steps


def _gen_q(
    y: FArray, v: FArray, x: FArray, mask: NDArray[np.bool_], tau2: FArray
) -> FArray:
    """Generalised Q: sum w (y - X b)^2 at ``tau2`` (decreasing in tau2)."""
    w = _weights(v, tau2, mask)
    a = np.einsum("nki,nk,nkj->nij", x, w, x)
    beta = np.linalg.solve(a, np.einsum("nki,nk,nk->ni", x, w, y)[:, :, None])[:, :, 0]
    r = y - np.einsum("nki,ni->nk", x, beta)
    out: FArray = (w * r * r).sum(1)
    return out


def _solve_gen_q(
    y: FArray, v: FArray, x: FArray, mask: NDArray[np.bool_], target: FArray
) -> FArray:
    """Smallest tau^2 >= 0 with Q(tau^2) = target (0 when Q(0) <= target).

    Vectorised Illinois (modified regula falsi) on a bracket, so every row keeps a
    sign change and converges superlinearly; stops at a relative width of 1e-13.
    """
    n = len(y)
    lo = np.zeros(n)
    f_lo = _gen_q(y, v, x, mask, lo) - target
    spread = np.nanmax(np.where(mask, y, np.nan), 1) - np.nanmin(
        np.where(mask, y, np.nan), 1
    )
    hi = np.maximum(1.0, 10 * spread**2)
    f_hi = _gen_q(y, v, x, mask, hi) - target
    for _ in range(60):  # widen until Q(hi) < target
        over = f_hi > 0
        if not over.any():
            break
        lo = np.where(over, hi, lo)
        f_lo = np.where(over, f_hi, f_lo)
        hi = np.where(over, hi * 10, hi)
        f_hi = np.where(over, _gen_q(y, v, x, mask, hi) - target, f_hi)
    zero = f_lo <= 0  # Q(0) <= target: the bound is 0
    root, _ = _illinois(
        lambda t, r: _gen_q(y[r], v[r], x[r], mask[r], t[r]) - target[r],
        lo,
        hi,
        f_lo,
        f_hi,
        zero,
        1e-13,
    )
    return np.where(zero, 0.0, root)


def qprofile_tau2(
    y: FArray, v: FArray, x: FArray, mask: NDArray[np.bool_], p: int, level: float
) -> tuple[FArray, FArray]:
    """Q-profile confidence interval for tau^2 (Viechtbauer 2007), as metafor's confint."""
    from scipy import stats

    df = mask.sum(1) - p
    alpha = 1 - level
    upper_q = stats.chi2.ppf(1 - alpha / 2, df)
    lower_q = stats.chi2.ppf(alpha / 2, df)
    lo = _solve_gen_q(y, v, x, mask, upper_q)
    hi = _solve_gen_q(y, v, x, mask, lower_q)
    return lo, hi


def fit_batch(
    y: FArray,
    v: FArray,
    x: FArray,
    method: str = "reml",
    hartung_knapp: bool = False,
    tol: float = 1e-10,
    adhoc: bool = False,
) -> BatchFit:
    """Fit K (meta-)regressions at once.

    Parameters
    ----------
    y, v
        Effects and sampling variances, shape ``(K, k)``; non-finite marks a missing study.
    x
        Design, shape ``(K, k, p)`` (first column usually the intercept).
    method
        ``"fe"``, ``"dl"``, ``"he"`` (Hedges), ``"reml"``, ``"ml"`` or ``"pm"``.
    hartung_knapp
        Scale the covariance by the Hartung-Knapp factor (metafor's ``test="knha"``).
    adhoc
        With ``hartung_knapp``: never scale the covariance down (the factor is at
        least 1; Knapp & Hartung 2003's ad hoc correction, Jackson et al. 2017,
        section 4.3; metafor's ``test="adhoc"``).
    tol
        REML/ML stop when a step changes tau^2 by less than ``tol * max(1, tau^2)``;
        metafor's default is 1e-5 (its printed digits depend on it), ours 1e-10.
    """
    mask = np.isfinite(y) & np.isfinite(v) & np.all(np.isfinite(x), axis=2)
    y = np.where(mask, y, 0.0)
    v = np.where(mask, v, 1.0)
    x = np.where(mask[:, :, None], x, 0.0)
    n, _, p = x.shape
    k = mask.sum(1).astype(np.int64)
    converged = np.ones(n, dtype=bool)
    iters = np.zeros(n, dtype=np.int64)
    if method == "fe":
        tau2 = np.zeros(n)
    elif method == "dl":
        tau2 = _dl(y, v, x, mask, p)
    elif method == "he":
        tau2 = _he(y, v, x, mask, p)
    elif method in ("reml", "ml"):
        tau2, converged, iters = _scoring(y, v, x, mask, method == "reml", tol)
    elif method == "pm":
        tau2 = _solve_gen_q(y, v, x, mask, (k - p).astype(float))
    else:
        raise ValueError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
    # heterogeneity statistics from the fixed-effect weights
    w0 = _weights(v, np.zeros(n), mask)
    _, _, py0, tr_p0, _ = _pieces(y, w0, x)
    q = (py0**2 / np.where(mask, w0, 1.0)).sum(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        typical = (k - p) / tr_p0
        if method == "fe":
            i2 = np.maximum(0.0, 100 * (q - (k - p)) / q)
            h2 = q / (k - p)
        else:
            i2 = 100 * tau2 / (tau2 + typical)
            h2 = (tau2 + typical) / typical
    w = _weights(v, tau2, mask)
    beta, vb, py, _, tr_pp = _pieces(y, w, x)
    if method == "reml":
        tau2_se = np.sqrt(2 / tr_pp)
    elif method == "ml":
        tau2_se = np.sqrt(2 / (w**2).sum(1))
    else:
        tau2_se = np.full(n, np.nan)
    scale = np.ones(n)
    if hartung_knapp:
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = (py**2 / np.where(mask, w, 1.0)).sum(1) / (k - p)
        if adhoc:
            scale = np.maximum(scale, 1.0)
        vb = vb * scale[:, None, None]
    return BatchFit(
        beta=beta,
        vb=vb,
        tau2=tau2,
        tau2_se=tau2_se,
        q=q,
        k=k,
        p=p,
        i2=i2,
        h2=h2,
        hk_scale=scale,
        converged=converged,
        iterations=iters,
    )
