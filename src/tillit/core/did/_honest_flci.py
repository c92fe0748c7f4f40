"""Optimal fixed-length confidence interval (FLCI) under ``Delta^SD(M)``.

Rambachan & Roth (2023, section 4.1), after Armstrong & Kolesar (2018/2020): among affine
estimators ``v' beta`` of ``theta = l' tau_post`` (``v = (v_pre, l)``), choose ``v_pre`` to
minimise the half-length ``chi(v) = sd(v) * cv_alpha(bias(v) / sd(v))`` of the interval
``v' beta +- chi``, where ``sd(v) = sqrt(v' Sigma v)``, ``bias(v)`` is the worst-case bias
over ``Delta^SD(M)`` and ``cv_alpha(r)`` the ``1 - alpha`` quantile of ``|N(r, 1)|``.

A finite worst-case bias requires ``v`` to ignore linear trends (``v' t = 0``); then
``bias(v) = M ||G v||_1`` exactly (:func:`._honest_delta.second_diff_inverse`).
``(b, s) -> s cv(b/s)`` is the perspective of the convex ``cv`` and increases in both
arguments, so ``chi`` is convex in ``v_pre``: one smooth convex program in
``(v_pre, u)`` with ``u >= |G v|`` (SLSQP with analytic gradients). HonestDiD reaches
the same optimum by bisection over ``sd`` with an SOCP inside and a simulated folded-normal
quantile; here the quantile is exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from tillit.core.did._honest_delta import second_diff_inverse, trend

__all__ = ["Flci", "folded_cv", "optimal_flci"]


def folded_cv(r: float, alpha: float) -> tuple[float, float]:
    """``(c, dc/dr)``: the ``1 - alpha`` quantile of ``|N(r, 1)|`` and its slope in ``r``."""
    r = abs(r)
    z = float(special.ndtri(1 - alpha))
    lo, hi = max(r + z, 0.0), r + float(special.ndtri(1 - alpha / 2))
    if r > 8.0:  # Phi(-c - r) < 1e-30: |N(r, 1)| is N(r, 1) to double precision
        return r + z, 1.0
    if hi - lo < 1e-13:
        c = hi
    else:
        f = lambda c: special.ndtr(c - r) - special.ndtr(-c - r) - (1 - alpha)  # noqa: E731
        c = float(optimize.brentq(f, lo, hi, xtol=1e-14, rtol=1e-15))
    pa, pb = np.exp(-0.5 * (c - r) ** 2), np.exp(-0.5 * (c + r) ** 2)
    return c, float((pa - pb) / (pa + pb))


@dataclass(frozen=True)
class Flci:
    """An optimal FLCI: weights ``v`` on ``beta``, half-length and its parts."""

    v: np.ndarray
    half_length: float
    sd: float
    max_bias: float

    def interval(self, beta: np.ndarray) -> tuple[float, float]:
        """``v' beta -+ half_length``."""
        c = float(self.v @ beta)
        return c - self.half_length, c + self.half_length


def _min_variance(
    sig: np.ndarray, k: int, l_vec: np.ndarray, tt: np.ndarray
) -> np.ndarray:
    """``v_pre`` of least variance with ``v't = 0`` (the optimum when ``M = 0``)."""
    s11, s12 = sig[:k, :k], sig[:k, k:]
    kkt = np.zeros((k + 1, k + 1))
    kkt[:k, :k] = 2 * s11
    kkt[:k, k] = tt[:k]
    kkt[k, :k] = tt[:k]
    rhs = np.r_[-2 * s12 @ l_vec, -tt[k:] @ l_vec]
    sol = np.linalg.lstsq(kkt, rhs, rcond=None)[0]
    out: np.ndarray = sol[:k]
    return out


def optimal_flci(
    sigma: np.ndarray, k: int, l_vec: np.ndarray, m: float, alpha: float
) -> Flci:
    """The optimal FLCI for ``theta = l' tau_post`` under ``Delta^SD(m)`` (HonestDiD
    ``findOptimalFLCI``), for ``K = k`` pre-periods and ``len(l_vec)`` post-periods."""
    t = l_vec.shape[0]
    tt = trend(k, t)
    scale = float(np.sqrt(l_vec @ sigma[k:, k:] @ l_vec))
    if not np.isfinite(scale) or scale <= 0:
        scale = float(np.sqrt(np.mean(np.diag(sigma))))
    sig = sigma / scale**2
    mm = m / scale
    v0 = _min_variance(sig, k, l_vec, tt)
    if mm == 0:
        v = np.r_[v0, l_vec]
        sd = float(np.sqrt(max(v @ sig @ v, 0.0)))
        return Flci(v, folded_cv(0.0, alpha)[0] * sd * scale, sd * scale, 0.0)
    g = second_diff_inverse(k, t)
    x, chi = _solve(sig, g, k, l_vec, tt, mm, alpha, v0)
    v = np.r_[x, l_vec]
    sd = float(np.sqrt(max(v @ sig @ v, 0.0)))
    bias = mm * float(np.abs(g @ v).sum())
    return Flci(v, chi * scale, sd * scale, bias * scale)


def _solve(
    sig: np.ndarray,
    g: np.ndarray,
    k: int,
    l_vec: np.ndarray,
    tt: np.ndarray,
    mm: float,
    alpha: float,
    v0: np.ndarray,
) -> tuple[np.ndarray, float]:
    """Minimise ``sd * cv(M sum(u) / sd)`` over ``(v_pre, u)``, ``u >= |G v|``, ``v't = 0``."""
    nu = g.shape[0]
    gp, gl = g[:, :k], g[:, k:] @ l_vec

    def parts(z: np.ndarray) -> tuple[float, float, np.ndarray]:
        v = np.r_[z[:k], l_vec]
        sv = sig @ v
        sd = float(np.sqrt(max(v @ sv, 1e-300)))
        return sd, mm * float(z[k:].sum()), sv[:k] / sd

    def fun(z: np.ndarray) -> tuple[float, np.ndarray]:
        sd, b, dsd = parts(z)
        c, dc = folded_cv(b / sd, alpha)
        grad = np.r_[(c - b / sd * dc) * dsd, np.full(nu, mm * dc)]
        return sd * c, grad

    eye = np.eye(nu)
    cons = [
        {"type": "ineq", "fun": lambda z: z[k:] - gp @ z[:k] - gl,
         "jac": lambda z: np.hstack([-gp, eye])},
        {"type": "ineq", "fun": lambda z: z[k:] + gp @ z[:k] + gl,
         "jac": lambda z: np.hstack([gp, eye])},
        {"type": "eq", "fun": lambda z: tt[:k] @ z[:k] + tt[k:] @ l_vec,
         "jac": lambda z: np.r_[tt[:k], np.zeros(nu)][None, :]},
    ]  # fmt: skip
    best: tuple[np.ndarray, float] = (v0, _half_length(sig, g, v0, l_vec, mm, alpha))
    for start in (v0, _pure_extrapolation(k, l_vec, tt)):
        z0 = np.r_[start, np.abs(gp @ start + gl)]
        res = optimize.minimize(
            fun, z0, jac=True, method="SLSQP", constraints=cons,
            options={"ftol": 1e-13, "maxiter": 1000},
        )  # fmt: skip
        x = res.x[:k]
        val = _half_length(sig, g, x, l_vec, mm, alpha)
        feasible = abs(tt[:k] @ x + tt[k:] @ l_vec) < 1e-8
        if feasible and val < best[1]:
            best = (x, val)
    return best


def _pure_extrapolation(k: int, l_vec: np.ndarray, tt: np.ndarray) -> np.ndarray:
    """``v_pre`` extrapolating the last pre-period slope (least worst-case bias)."""
    x = np.zeros(k)
    x[k - 1] = tt[k:] @ l_vec  # v_pre on beta_-1 only: -(t'l) * t_-1 = t'l
    return x


def _half_length(
    sig: np.ndarray,
    g: np.ndarray,
    x: np.ndarray,
    l_vec: np.ndarray,
    mm: float,
    alpha: float,
) -> float:
    """Exact ``chi`` of ``v = (x, l)`` (the worst-case bias recomputed, not from ``u``)."""
    v = np.r_[x, l_vec]
    sd = float(np.sqrt(max(v @ sig @ v, 1e-300)))
    b = mm * float(np.abs(g @ v).sum())
    return sd * folded_cv(b / sd, alpha)[0]
