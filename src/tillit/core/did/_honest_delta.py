"""The restriction sets Delta of Rambachan & Roth (2023) as polyhedra ``A delta <= d``.

``delta`` stacks the pre-period and post-period violations of parallel trends with the
reference period (t = 0, normalised to zero) left out, in the order of HonestDiD's
``betahat``: ``K`` pre-periods (t = -K..-1), then ``T`` post-periods (t = 1..T).

* ``Delta^SD(M)``: every second difference of ``(delta_-K, ..., 0, ..., delta_T)`` is in
  ``[-M, M]`` (HonestDiD ``.create_A_SD``).
* ``Delta^RM(Mbar)``: every post-period first difference is at most ``Mbar`` times the
  largest pre-period first difference. It is a union of polyhedra, one per location ``s``
  and sign of that largest difference (``.create_A_RM``).

The identified set of ``theta = l' tau_post`` given the population ``beta`` is an LP
(RR 2023 eqs. 5-6); :func:`identified_set` solves it with HiGHS.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

__all__ = [
    "a_rm",
    "a_sd",
    "identified_set",
    "post_rows",
    "rm_pieces",
    "second_diff_inverse",
    "trend",
]


def trend(k: int, t: int) -> np.ndarray:
    """Event times of the coefficients: ``(-K, ..., -1, 1, ..., T)``."""
    out: np.ndarray = np.r_[np.arange(-k, 0), np.arange(1, t + 1)].astype(float)
    return out


def _drop_zero(full: np.ndarray, k: int) -> np.ndarray:
    return np.delete(full, k, axis=1)


def a_sd(k: int, t: int) -> np.ndarray:
    """``A`` of ``Delta^SD``: ``[D2; -D2]`` with ``D2`` the second differences."""
    n = k + t
    d2 = np.zeros((n - 1, n + 1))
    for r in range(n - 1):
        d2[r, r : r + 3] = (1.0, -2.0, 1.0)
    d2 = _drop_zero(d2, k)
    return np.vstack([d2, -d2])


def second_diff_inverse(k: int, t: int) -> np.ndarray:
    """``G`` (K+T-1, K+T) such that ``v' delta = (G v)' D2 delta`` for trend-free ``v``.

    ``D2`` (the second-difference map) has full row rank and the linear trend as its
    kernel, so ``delta = pinv(D2) D2 delta + c t``; a ``v`` with ``v't = 0`` gives
    ``v' delta = (pinv(D2)' v)' D2 delta`` and the worst case over ``|D2 delta| <= M`` is
    ``M * ||G v||_1``.
    """
    d2 = a_sd(k, t)[: k + t - 1]
    out: np.ndarray = np.linalg.pinv(d2).T
    return out


def a_rm(k: int, t: int, mbar: float, s: int, positive: bool) -> np.ndarray:
    """``A`` of one piece of ``Delta^RM(Mbar)``: the largest pre-period first difference is
    the one ending at period ``s`` (``-K+1 <= s <= 0``) with sign ``+`` (``positive``) or
    ``-``; all ``d`` are zero."""
    n = k + t
    fd = np.zeros((n, n + 1))
    for r in range(n):
        fd[r, r : r + 2] = (-1.0, 1.0)
    vmax = np.zeros(n + 1)
    vmax[k + s - 1 : k + s + 1] = (-1.0, 1.0)
    if not positive:
        vmax = -vmax
    ub = np.vstack([np.tile(vmax, (k, 1)), np.tile(mbar * vmax, (t, 1))])
    a = np.vstack([fd - ub, -fd - ub])
    a = a[np.einsum("ij,ij->i", a, a) > 1e-10]
    return _drop_zero(a, k)


def rm_pieces(k: int) -> list[tuple[int, bool]]:
    """``(s, sign)`` of every polyhedron in the union ``Delta^RM``."""
    return [(s, pos) for s in range(-(k - 1), 1) for pos in (True, False)]


def post_rows(a: np.ndarray, k: int) -> np.ndarray:
    """Rows of ``A`` that involve a post-period (HonestDiD's ``postPeriodMomentsOnly``)."""
    out: np.ndarray = np.flatnonzero((a[:, k:] != 0).any(axis=1))
    return out


def identified_set(
    beta: np.ndarray, a: np.ndarray, d: np.ndarray, k: int, l_vec: np.ndarray
) -> tuple[float, float]:
    """Bounds of ``{l'(beta_post - delta_post): A delta <= d, delta_pre = beta_pre}``.

    Returns ``(nan, nan)`` when ``beta_pre`` is not in ``Delta`` (empty set).
    """
    n = beta.shape[0]
    c = np.r_[np.zeros(k), l_vec]
    a_eq = np.eye(n)[:k]
    kw = {
        "A_ub": a,
        "b_ub": d,
        "A_eq": a_eq,
        "b_eq": beta[:k],
        "bounds": [(None, None)] * n,
        "method": "highs",
    }
    lo = optimize.linprog(c, **kw)
    hi = optimize.linprog(-c, **kw)
    if lo.status == 2 or hi.status == 2:
        return float("nan"), float("nan")
    base = float(l_vec @ beta[k:])
    low = -np.inf if lo.status == 3 else float(lo.fun)
    high = np.inf if hi.status == 3 else float(-hi.fun)
    return base - high, base - low
