"""Power by simulation on the real panel: placebo pilots, vectorised across draws.

Each draw picks a random window of ``m + r`` consecutive periods (a random start date)
and ``N`` random units with complete data in it as "treated"; the rest with complete data
are controls. With one common start the two-way fixed-effects DiD on the window equals
``mean_T(D_i) - mean_C(D_i)`` with ``D_i`` the unit's post-minus-pre mean, so every draw
is a gather and two sums. An injected constant effect ``delta`` shifts the estimate by
``delta`` and leaves the standard error unchanged, so power at *every* effect size comes
from the same draws, and the simulated MDE is found by bisection without refitting.

The test is the two-sample t test on ``D_i`` (``pooled``: equal variances, ``J - 2`` df,
the exact small-sample test under normality and the same variance as the analytic
formula; ``unequal``: Welch-type ``sqrt(s_T^2/n_T + s_C^2/n_C)``, which is the
unit-clustered HC-type SE of the TWFE estimate, with ``n_T - 1`` df).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from tillit.core.errors import DataError, EstimationError
from tillit.core.power.panel import window_contrasts

__all__ = ["PlaceboDraws", "placebo_draws"]

FArray = NDArray[np.float64]


@dataclass(frozen=True)
class PlaceboDraws:
    """Placebo estimates, standard errors and critical values of ``B`` draws."""

    est: FArray
    se: FArray
    crit: FArray
    start: NDArray[np.int64]  # window start (column index) of each draw
    treated: NDArray[np.int64]  # (B, N) row indices of the placebo-treated units

    def power(self, effect: float | FArray) -> FArray:
        """Rejection rate when ``effect`` is added to every treated post-period value."""
        eff = np.atleast_1d(np.asarray(effect, dtype=float))
        t = (self.est[None, :] + eff[:, None]) / self.se[None, :]
        out: FArray = np.mean(np.abs(t) > self.crit[None, :], axis=1)
        return out

    def mde(self, target: float) -> float:
        """Smallest positive effect with simulated power >= ``target`` (bisection)."""
        lo, hi = (
            0.0,
            float(np.max(self.crit * self.se + np.abs(self.est))) * 1.01 + 1e-12,
        )
        if self.power(hi)[0] < target:
            return float("nan")
        for _ in range(60):
            mid = (lo + hi) / 2
            if self.power(mid)[0] >= target:
                hi = mid
            else:
                lo = mid
        return hi


def placebo_draws(
    y: FArray,
    treated: int,
    pre: int,
    post: int,
    draws: int,
    rng: np.random.Generator,
    alpha: float = 0.05,
    se_type: str = "pooled",
) -> PlaceboDraws:
    """Draw placebo pilots on the wide panel ``y`` (units x periods); see module doc."""
    if treated < 1:
        raise DataError("the number of treated units must be at least 1")
    if se_type not in ("pooled", "unequal"):
        raise DataError(f"se_type must be pooled or unequal, not {se_type!r}")
    d = window_contrasts(y, pre, post)  # (W, J)
    ok = np.isfinite(d)
    n_ok = ok.sum(1)
    usable = np.flatnonzero(n_ok >= treated + 2)
    if usable.size == 0:
        raise EstimationError(
            f"no window of {pre}+{post} periods has {treated + 2} units with complete data"
        )
    if se_type == "unequal" and treated < 2:
        raise DataError("the unequal-variance test needs at least 2 treated units")
    start = rng.choice(usable, size=draws)
    keys = rng.random((draws, d.shape[1]))
    keys[~ok[start]] = np.inf
    pick = np.argpartition(keys, treated - 1, axis=1)[:, :treated]
    # centre each window (estimates and variances are invariant) for accurate sums
    centre = np.nanmean(np.where(ok, d, np.nan)[usable], axis=1)
    d = d.copy()
    d[usable] -= centre[:, None]
    dd = np.nan_to_num(d[start])
    sel = np.take_along_axis(dd, pick, axis=1)
    n_all = n_ok[start].astype(float)
    s1_t, s2_t = sel.sum(1), (sel**2).sum(1)
    s1_c = dd.sum(1) - s1_t
    s2_c = (dd**2).sum(1) - s2_t
    n_t, n_c = float(treated), n_all - treated
    m_t, m_c = s1_t / n_t, s1_c / n_c
    ss_t = np.maximum(s2_t - n_t * m_t**2, 0.0)
    ss_c = np.maximum(s2_c - n_c * m_c**2, 0.0)
    if se_type == "pooled":
        df = n_all - 2
        se = np.sqrt((ss_t + ss_c) / df * (1 / n_t + 1 / n_c))
    else:
        df = np.full(draws, n_t - 1)
        se = np.sqrt(ss_t / (n_t - 1) / n_t + ss_c / (n_c - 1) / n_c)
    crit = stats.t.ppf(1 - alpha / 2, df)
    return PlaceboDraws(m_t - m_c, se, crit, start, pick)
