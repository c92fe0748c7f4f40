"""Confidence sets for ``theta = l' tau_post`` by inverting the ARP tests over ``theta``.

HonestDiD evaluates the test on a fixed grid (1,000 points) and reports the smallest and
largest accepted grid point. Here a coarser grid (``grid_points``) finds the accepted
region and every accept/reject boundary at its ends is then bisected to ``1e-6`` of the
grid range, so the endpoints are sharper than HonestDiD's; they agree with HonestDiD's to
within HonestDiD's grid spacing (HonestDiD's endpoints are accepted grid points, just
inside the true ones).

* ``Delta^SD(M)``: :func:`sd_set` (``computeConditionalCS_DeltaSD``), hybrid ``FLCI``
  (default, HonestDiD ``C-F``), ``LF`` (``C-LF``) or ``ARP`` (``Conditional``).
* ``Delta^RM(Mbar)``: :func:`rm_set` (``computeConditionalCS_DeltaRM``): the union over
  the location and sign of the largest pre-period change, hybrid ``LF`` (default) or
  ``ARP``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tillit.core.did import _honest_delta as hd
from tillit.core.did._honest_arp import Hybrid, NoNuisance, Nuisance
from tillit.core.did._honest_flci import optimal_flci

__all__ = ["ConfSet", "invert", "rm_set", "sd_set"]

Test = Callable[[float], bool]  # True when theta is rejected


@dataclass(frozen=True)
class ConfSet:
    """Endpoints of a confidence set, and whether it reaches an end of its search range."""

    lb: float
    ub: float
    open_end: bool
    grid: tuple[float, float]


def invert(tests: list[Test], lo: float, hi: float, grid_points: int) -> ConfSet:
    """Accepted ``theta`` (not rejected by at least one test) in ``[lo, hi]``."""

    def accepts(theta: float) -> bool:
        return any(not t(theta) for t in tests)

    grid = np.linspace(lo, hi, grid_points)
    acc = np.array([accepts(float(g)) for g in grid])
    if not acc.any():
        return ConfSet(np.nan, np.nan, False, (lo, hi))
    first, last = int(np.argmax(acc)), int(acc.size - 1 - np.argmax(acc[::-1]))
    tol = 1e-6 * (hi - lo)
    lb = float(grid[first])
    if first > 0:
        lb = _bisect(accepts, float(grid[first - 1]), lb, tol)
    ub = float(grid[last])
    if last < acc.size - 1:
        ub = _bisect(accepts, float(grid[last + 1]), ub, tol)
    return ConfSet(lb, ub, bool(acc[0] or acc[-1]), (lo, hi))


def _bisect(
    accepts: Callable[[float], bool], out: float, inside: float, tol: float
) -> float:
    """The accepted end of ``[out, inside]`` (``out`` rejected, ``inside`` accepted)."""
    while abs(inside - out) > tol:
        mid = (out + inside) / 2
        if accepts(mid):
            inside = mid
        else:
            out = mid
    return inside


def _sd_theta(sigma: np.ndarray, k: int, l_vec: np.ndarray) -> float:
    return float(np.sqrt(l_vec @ sigma[k:, k:] @ l_vec))


def sd_set(
    beta: np.ndarray,
    sigma: np.ndarray,
    k: int,
    l_vec: np.ndarray,
    m: float,
    alpha: float,
    *,
    hybrid: str = "FLCI",
    bias: str | None = None,
    grid_points: int = 100,
    lf_draws: int = 1000,
    seed: int = 0,
) -> ConfSet:
    """Conditional/hybrid confidence set under ``Delta^SD(M)``, intersected with a sign
    restriction on the post-period bias when ``bias`` is ``positive`` or ``negative``
    (HonestDiD's ``Delta^SDPB``/``Delta^SDNB``)."""
    t = l_vec.shape[0]
    a = hd.a_sd(k, t)
    d = np.full(a.shape[0], float(m))
    if bias is not None:
        sign = -1.0 if bias == "positive" else 1.0  # positive: -delta_post <= 0
        a = np.vstack([a, sign * np.eye(k + t)[k:]])
        d = np.r_[d, np.zeros(t)]
    kappa = alpha / 10
    h = Hybrid(hybrid, kappa if hybrid != "ARP" else 0.0, lf_draws=lf_draws, seed=seed)
    if hybrid == "FLCI":
        fl = optimal_flci(sigma, k, l_vec, m, kappa)
        h = Hybrid("FLCI", kappa, fl.v, fl.half_length)
        lo, hi = fl.interval(beta)
        # exactly on the kappa-FLCI's ends the conditioning event is degenerate (the
        # truncation interval collapses onto the statistic and HonestDiD's grid end can
        # be accepted spuriously); the search starts a hair inside
        pad = 1e-9 * (hi - lo)
        lo, hi = lo + pad, hi - pad
    else:
        sdt = _sd_theta(sigma, k, l_vec)
        id_lo, id_hi = hd.identified_set(np.zeros_like(beta), a, d, k, l_vec)
        lo, hi = id_lo - 20 * sdt, id_hi + 20 * sdt
        b_lo, b_hi = hd.identified_set(beta, a, d, k, l_vec)  # widen, as for Delta^RM
        if np.isfinite(b_lo) and np.isfinite(b_hi):
            lo, hi = min(lo, b_lo - 20 * sdt), max(hi, b_hi + 20 * sdt)
    if t == 1:
        test: Test = NoNuisance(beta, sigma, a, d, k, alpha, h).rejects
    else:
        rows = hd.post_rows(a, k)
        test = Nuisance(beta, sigma, a, d, k, l_vec, alpha, h, rows).rejects
    out = invert([test], lo, hi, grid_points)
    if hybrid == "FLCI":  # the FLCI bounds the set by construction: not "open"
        out = ConfSet(out.lb, out.ub, False, out.grid)
    return out


def rm_set(
    beta: np.ndarray,
    sigma: np.ndarray,
    k: int,
    l_vec: np.ndarray,
    mbar: float,
    alpha: float,
    *,
    hybrid: str = "LF",
    grid_points: int = 100,
    lf_draws: int = 1000,
    seed: int = 0,
) -> ConfSet:
    """Conditional/hybrid confidence set under ``Delta^RM(Mbar)`` (union over pieces)."""
    t = l_vec.shape[0]
    kappa = alpha / 10 if hybrid == "LF" else 0.0
    h = Hybrid(hybrid, kappa, lf_draws=lf_draws, seed=seed)
    tests: list[Test] = []
    for s, pos in hd.rm_pieces(k):
        a = hd.a_rm(k, t, mbar, s, pos)
        if t == 1:
            keep = np.flatnonzero(a[:, -1] != 0)
            a = a[keep]
            tests.append(
                NoNuisance(beta, sigma, a, np.zeros(len(a)), k, alpha, h).rejects
            )
        else:
            rows = hd.post_rows(a, k)
            nz = np.zeros(a.shape[0])
            tests.append(Nuisance(beta, sigma, a, nz, k, l_vec, alpha, h, rows).rejects)
    lo, hi = _rm_range(beta, sigma, k, l_vec, mbar)
    return invert(tests, lo, hi, grid_points)


def _rm_range(
    beta: np.ndarray, sigma: np.ndarray, k: int, l_vec: np.ndarray, mbar: float
) -> tuple[float, float]:
    """HonestDiD's ``+-20 sd`` around zero, widened to 20 sd beyond the identified set at
    ``beta`` (HonestDiD's fixed range can cut the set when ``sd`` is small)."""
    sdt = _sd_theta(sigma, k, l_vec)
    lo, hi = -20 * sdt, 20 * sdt
    t = l_vec.shape[0]
    for s, pos in hd.rm_pieces(k):
        a = hd.a_rm(k, t, mbar, s, pos)
        i_lo, i_hi = hd.identified_set(beta, a, np.zeros(a.shape[0]), k, l_vec)
        if np.isfinite(i_lo) and np.isfinite(i_hi):
            lo, hi = min(lo, i_lo - 20 * sdt), max(hi, i_hi + 20 * sdt)
    return lo, hi
