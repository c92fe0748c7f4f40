"""Conformal inference for synthetic control (Chernozhukov, Wüthrich & Zhu 2021).

"An Exact and Robust Conformal Inference Method for Counterfactual and Synthetic
Controls", JASA 116(536), Algorithm 1, as the authors' R package ``scinference``
computes it.  For a sharp null ``H0: theta_t = theta0_t`` on the post periods:

1. impose the null: ``Y1_t - theta0_t`` for the post periods;
2. fit the counterfactual on *all* periods, pre and post (synthetic control: donor
   weights on the simplex, no intercept, least squares; or DiD: ``Y1 - mean gap -
   mean(Y0)``), and take the residuals ``u_t``;
3. statistic ``S(u) = sum_{post} |u_t|`` (``q = 1``); the p-value compares it with
   the same statistic of the permuted residuals: all ``T`` cyclic shifts ("moving
   block", ``"mb"``, exact under stationary weakly dependent errors) or ``n_perm``
   random permutations (``"iid"``, seeded), ``(1 + #{S_perm >= S}) / (1 + n_perm)``.

Pointwise intervals invert the test for each post period ``t`` alone (the pre
periods and ``t``; p-value ``mean(|u| >= |u_t|)``) over a grid of ``theta``: the
interval holds the grid points with ``p > alpha`` (unbounded on a side where the grid's
end is accepted: with ``T0`` pre-periods no p-value is below ``1/(T0+1)``, so a level
above ``1 - 1/(T0+1)`` gives no bounded interval).  The grid is the caller's or, by
default, 401 points centred on the period's gap with a half-width of ten times the
pre-period RMSPE plus the gap's size; the result states the grid step (the
interval is exact to that step).

Example
-------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> Y0 = rng.normal(size=(30, 6))
>>> y1 = Y0[:, :2].mean(axis=1) + rng.normal(scale=0.1, size=30)
>>> y1[24:] += 3.0
>>> df = pd.DataFrame({"unit": np.repeat(["t", *"abcdef"], 30),
...                    "period": np.tile(np.arange(30), 7),
...                    "y": np.concatenate([y1, Y0.T.ravel()])})
>>> res = conformal_sc(df, outcome="y", unit="unit", time="period",
...                    treated_unit="t", treatment_start=24)
>>> bool(res.p_value <= 1 / 30 + 1e-12)
True
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tillit.core.errors import EstimationError
from tillit.core.results import jsonable_dict
from tillit.core.synth._panel import py, resolve_starts, to_wide
from tillit.core.synth._solvers import simplex_lsq

__all__ = ["ConformalResult", "conformal_sc", "conformal_test"]

ESTIMATORS = ("sc", "did")
PERMUTATIONS = ("mb", "iid")


def _residuals(y1: np.ndarray, Y0: np.ndarray, estimator: str) -> np.ndarray:
    """Residuals of the counterfactual fitted on every period (``Y0`` is ``T x J``)."""
    if estimator == "did":
        m = Y0.mean(axis=1)
        out: np.ndarray = y1 - np.mean(y1 - m) - m
        return out
    w = simplex_lsq(Y0, y1)
    out = y1 - Y0 @ w
    return out


def conformal_test(
    y1: np.ndarray,
    Y0: np.ndarray,
    T0: int,
    theta0: float | Sequence[float] | np.ndarray = 0.0,
    *,
    estimator: str = "sc",
    permutation: str = "mb",
    n_perm: int = 5000,
    rng: np.random.Generator | None = None,
) -> tuple[float, float]:
    """p-value and statistic of ``H0: theta = theta0`` (Algorithm 1; ``Y0`` ``T x J``)."""
    T = len(y1)
    T1 = T - T0
    y = y1.astype(float).copy()
    y[T0:] -= np.broadcast_to(np.asarray(theta0, dtype=float), (T1,))
    u = _residuals(y, Y0, estimator)
    a = np.abs(u)
    stat = float(a[T0:].sum())
    if permutation == "mb":
        c = np.concatenate([a, a])
        sums = np.convolve(c, np.ones(T1), mode="valid")[:T]  # window s: a[s..s+T1-1]
        return float(np.mean(sums >= sums[T0] - 1e-12 * max(1.0, stat))), stat
    gen = rng if rng is not None else np.random.default_rng()
    perms = np.argsort(gen.random((n_perm, T)), axis=1)[:, T0:]
    S = a[perms].sum(axis=1)
    hits = np.sum(stat - 1e-12 * max(1.0, stat) <= S)
    return float((1 + hits) / (1 + n_perm)), stat


def _interval(
    y1: np.ndarray,
    Y0: np.ndarray,
    T0: int,
    t: int,
    grid: np.ndarray,
    estimator: str,
    alpha: float,
) -> tuple[float, float, np.ndarray]:
    """Pointwise interval for post period ``t`` by inverting the test over ``grid``."""
    idx = np.r_[np.arange(T0), t]
    y, Y = y1[idx], Y0[idx]
    p = np.empty(len(grid))
    for g, theta in enumerate(grid):
        z = y.copy()
        z[-1] -= theta
        a = np.abs(_residuals(z, Y, estimator))
        p[g] = np.mean(a >= a[-1] - 1e-12 * max(1.0, a[-1]))
    order = np.argsort(grid)
    grid, p = grid[order], p[order]
    alpha = alpha + 1e-12  # p is a multiple of 1/(T0+1); 1 - 0.9 is not exactly 0.1
    keep = grid[p > alpha]
    if not len(keep):
        return math.nan, math.nan, p
    # an accepted grid edge means the interval goes on past the grid: unbounded there
    lo = -math.inf if p[0] > alpha else float(keep.min())
    hi = math.inf if p[-1] > alpha else float(keep.max())
    return lo, hi, p


@dataclass(frozen=True, eq=False)
class ConformalResult:
    """Conformal p-value of a sharp null and pointwise intervals (CWZ 2021)."""

    unit: str
    start: Any
    theta0: np.ndarray
    p_value: float
    statistic: float
    estimator: str
    permutation: str
    n_perm: int | None
    seed: int | None
    alpha: float
    times: np.ndarray
    gap: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    grid_step: float
    weights: dict[str, float]
    n_pre: int

    def to_dict(self) -> dict[str, Any]:
        """Stable JSON: p_value of the null, pointwise intervals, weights."""
        return jsonable_dict(
            {
                "method": "conformal",
                "reference": "Chernozhukov, Wuthrich & Zhu (2021), Algorithm 1",
                "unit": self.unit,
                "start": self.start,
                "theta0": self.theta0.tolist(),
                "p_value": self.p_value,
                "statistic": self.statistic,
                "estimator": self.estimator,
                "permutation": self.permutation,
                "n_perm": self.n_perm,
                "seed": self.seed,
                "level": 1 - self.alpha,
                "grid_step": self.grid_step,
                "n_pre": self.n_pre,
                "weights": {k: v for k, v in self.weights.items() if v > 1e-10},
                "periods": [
                    {"time": t, "gap": g, "ci_low": lo, "ci_high": hi}
                    for t, g, lo, hi in zip(
                        self.times.tolist(),
                        self.gap,
                        self.ci_low,
                        self.ci_high,
                        strict=True,
                    )
                ],
            }
        )

    def tidy(self) -> pd.DataFrame:
        """One row per post period: gap and its conformal interval."""
        return pd.DataFrame(
            {
                "time": self.times,
                "gap": self.gap,
                "ci_low": self.ci_low,
                "ci_high": self.ci_high,
            }
        )

    def summary(self) -> str:
        """Text for people."""
        null = "no effect" if not np.any(self.theta0) else f"theta = {self.theta0[0]:g}"
        perm = (
            "all cyclic shifts (moving block)"
            if self.permutation == "mb"
            else f"{self.n_perm} random permutations (seed {self.seed})"
        )
        lines = [
            f"Conformal inference for synthetic control ({self.estimator}), {self.unit}",
            f"  H0 {null} in every post period: p = {self.p_value:.4f} over {perm}",
            f"  {round((1 - self.alpha) * 100)}% pointwise intervals "
            f"(grid step {self.grid_step:.4g}):",
        ]
        for t, g, lo, hi in zip(
            self.times, self.gap, self.ci_low, self.ci_high, strict=True
        ):
            lines.append(f"    {py(t)}: gap {g:.4f} [{lo:.4f}, {hi:.4f}]")
        if 1 / (self.n_pre + 1) > self.alpha:
            lines.append(
                f"  only {self.n_pre} pre-periods: no per-period p-value is below "
                f"1/{self.n_pre + 1}, so the intervals at this level are unbounded"
            )
        return "\n".join(lines)

    def plot(self, ax: Any = None) -> Any:
        """Gap with its pointwise intervals."""
        from tillit.core.synth.plots import _axes

        ax = _axes(ax)
        ax.fill_between(self.times, self.ci_low, self.ci_high, alpha=0.25)
        ax.plot(self.times, self.gap, marker="o", color="black")
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_xlabel("period")
        ax.set_ylabel("effect")
        return ax


def conformal_sc(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    treated_unit: Hashable,
    treatment_start: float,
    theta0: float | Sequence[float] = 0.0,
    estimator: str = "sc",
    permutation: str = "mb",
    n_perm: int = 5000,
    seed: int | None = None,
    alpha: float = 0.1,
    ci: bool = True,
    grid: Sequence[float] | None = None,
    donors: Sequence[Hashable] | None = None,
) -> ConformalResult:
    """Conformal p-value and pointwise intervals for one treated unit.

    Parameters
    ----------
    data
        Long balanced panel.
    outcome, unit, time
        Column names.
    treated_unit, treatment_start
        The treated unit and its first treated period.
    theta0
        Effect under the null: one number for every post period, or one per period.
    estimator
        ``"sc"`` (default; simplex weights, no intercept) or ``"did"``.
    permutation
        ``"mb"`` (moving block, default) or ``"iid"`` (``n_perm`` random permutations
        drawn from ``numpy.random.default_rng(seed)``).
    alpha
        The intervals have level ``1 - alpha`` (scinference's default 0.1).
    ci
        Compute the pointwise intervals (one test per grid point and post period).
    grid
        Values of ``theta`` to test for the intervals (default: see the module).
    donors
        Donor pool (default: every other unit).
    """
    if estimator not in ESTIMATORS:
        raise EstimationError(f"unknown estimator '{estimator}'; use sc or did")
    if permutation not in PERMUTATIONS:
        raise EstimationError(f"unknown permutation '{permutation}'; use mb or iid")
    if not 0 < alpha < 1:
        raise EstimationError("alpha must be between 0 and 1")
    if not 1 <= n_perm <= 1_000_000:
        raise EstimationError("n_perm must be between 1 and 1000000")
    panel = to_wide(data, outcome=outcome, unit=unit, time=time)
    starts = resolve_starts(panel, [treated_unit], treatment_start, min_pre=2)
    ((row, T0),) = starts.items()
    pool = [i for i in range(len(panel.units)) if i != row]
    if donors is not None:
        pool = sorted({panel.index_of(d) for d in donors} - {row})
    if len(pool) < 2 and estimator == "sc":
        raise EstimationError("too few donor units: synthetic control needs two")
    y1, Y0 = panel.Y[row], panel.Y[pool].T
    T1 = len(y1) - T0
    th = np.broadcast_to(np.asarray(theta0, dtype=float), (T1,)).copy()
    rng = np.random.default_rng(seed)
    p, stat = conformal_test(
        y1,
        Y0,
        T0,
        th,
        estimator=estimator,
        permutation=permutation,
        n_perm=n_perm,
        rng=rng,
    )
    w = (
        simplex_lsq(Y0[:T0], y1[:T0])
        if estimator == "sc"
        else np.full(len(pool), 1 / len(pool))
    )
    gap = y1 - Y0 @ w
    if estimator == "did":
        gap = gap - np.mean(gap[:T0])
    lo, hi = np.full(T1, np.nan), np.full(T1, np.nan)
    step = math.nan
    if ci:
        rmspe = float(np.sqrt(np.mean(gap[:T0] ** 2)))
        for k in range(T1):
            g = (
                np.asarray(grid, dtype=float)
                if grid is not None
                else _grid(gap[T0 + k], rmspe)
            )
            lo[k], hi[k], _ = _interval(y1, Y0, T0, T0 + k, g, estimator, alpha)
            step = float(np.min(np.diff(np.sort(g)))) if len(g) > 1 else math.nan
    return ConformalResult(
        unit=str(panel.units[row]),
        start=py(panel.times[T0]),
        theta0=th,
        p_value=p,
        statistic=stat,
        estimator=estimator,
        permutation=permutation,
        n_perm=n_perm if permutation == "iid" else None,
        seed=seed,
        alpha=alpha,
        times=np.asarray(panel.times[T0:]),
        gap=gap[T0:],
        ci_low=lo,
        ci_high=hi,
        grid_step=step,
        weights={str(panel.units[j]): float(x) for j, x in zip(pool, w, strict=True)},
        n_pre=T0,
    )


def _grid(center: float, rmspe: float) -> np.ndarray:
    half = 10 * rmspe + abs(center) + 1e-9
    return np.linspace(center - half, center + half, 401)
