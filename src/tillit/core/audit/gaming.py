"""Signs that a target is met on paper: bunching at the threshold and level shifts.

**Bunching** (Chetty et al. 2011; Kleven 2016). Values of the targeted indicator (from the
target year on) are binned with width ``h`` so that one bin starts exactly at the
threshold ``c`` (``[c, c + h)`` for a "reach at least c" target; ``(c - h, c]`` for "at
most c"). A polynomial of degree ``degree`` is fitted by OLS to the bin counts outside an
excluded window (``window_below`` bins just short of the target, ``window_above`` bins at
it), and the *excess mass* is the observed minus the fitted count in the bins at the
target. It is a fixed linear function of the counts, ``B = sum_j w_j n_j``, and counts
are sums over municipalities, so ``B = sum_u b_u`` with ``b_u`` the contribution of
municipality ``u``'s values; its standard error is therefore cluster-robust by
municipality (``G / (G - 1) sum_u (b_u - B / G)^2``), which allows a municipality's values
to be correlated over years. The one-sided p-value is ``1 - Phi(B / se)``. ``h`` defaults
to the Freedman-Diaconis width, rounded to a multiple of the data's resolution (so
integer percentages get integer bins).

**Level shift** at the target year ``Y`` (a Chow test against untargeted indicators).
Every indicator is standardised by its overall SD; ``d_t`` is the targeted indicator's
yearly mean over municipalities minus the mean of the untargeted ("control") indicators'
yearly means (or the indicator's own mean if there are no controls). The regression
``d_t = a + b (t - Y) + delta 1[t >= Y] + e_t`` tests a break in level (``delta``, in SDs)
on top of a common linear trend; ``t``-test on ``T - 3`` df, two-sided. A shift is a
*sign*, not proof, of gaming: a genuine improvement also shifts the level, which is why
the audit shows it next to the indicator's association with the criteria.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from tillit.core.errors import DataError

__all__ = [
    "Target",
    "bunching",
    "gaming_table",
    "level_shift",
    "parse_target",
    "standardised_yearly_means",
]


@dataclass(frozen=True)
class Target:
    """A target on an indicator: reach ``threshold`` (``direction`` ``above``: at least;
    ``below``: at most), in force from ``year`` (``None``: always)."""

    indicator: str
    threshold: float
    year: int | None = None
    direction: str = "above"


def parse_target(text: str) -> Target:
    """Parse ``IND=THRESHOLD[:YEAR]`` (also ``IND>=...``) or ``IND<=THRESHOLD[:YEAR]``.

    >>> parse_target("U21468<=30:2015")
    Target(indicator='U21468', threshold=30.0, year=2015, direction='below')
    """
    ops = [
        (op, d)
        for op, d in (("<=", "below"), (">=", "above"), ("=", "above"))
        if op in text
    ]
    if not ops:
        raise DataError(
            f"target {text!r} must look like IND=THRESHOLD[:YEAR]", field="target"
        )
    op, direction = ops[0]
    ind, _, rest = text.partition(op)
    thr, _, yr = rest.partition(":")
    try:
        threshold = float(thr)
        year = int(yr) if yr.strip() else None
    except ValueError:
        raise DataError(
            f"target {text!r}: threshold must be a number and year an integer",
            field="target",
        ) from None
    if not ind.strip() or not np.isfinite(threshold):
        raise DataError(
            f"target {text!r} must look like IND=THRESHOLD[:YEAR]", field="target"
        )
    return Target(ind.strip(), threshold, year, direction)


def _bin_width(v: np.ndarray) -> float:
    """Freedman-Diaconis width rounded to a multiple of the data's resolution."""
    v = v[np.isfinite(v)]
    q75, q25 = np.percentile(v, [75, 25])
    iqr = q75 - q25 if q75 > q25 else np.std(v)
    h = 2 * iqr * v.size ** (-1 / 3) if iqr > 0 else 1.0
    u = np.unique(np.round(v, 10))
    res = float(np.min(np.diff(u))) if u.size > 1 else 0.0
    if res > 0 and u.size <= v.size / 3:
        h = res * max(1.0, np.round(h / res))
    return float(h)


def _weights(
    nbins: int, lo: int, hi: int, degree: int
) -> tuple[np.ndarray, np.ndarray]:
    """Linear weights ``w`` with ``B = w @ counts`` and the fitted-count operator.

    Bins are indexed ``-nbins .. nbins - 1``; window bins are ``lo .. hi - 1``; excess is
    over bins ``0 .. hi - 1``.
    """
    k = np.arange(-nbins, nbins)
    xs = (k + 0.5) / nbins
    design = np.vander(xs, degree + 1, increasing=True)
    out = (k < lo) | (k >= hi)
    xo = design[out]
    hat = design @ np.linalg.pinv(xo)  # fitted counts of all bins from outside counts
    fit_op = np.zeros((k.size, k.size))
    fit_op[:, out] = hat
    at = (k >= 0) & (k < hi)
    w = at.astype(float) - fit_op[at].sum(axis=0)
    return w, fit_op


def bunching(
    values: np.ndarray,
    threshold: float,
    *,
    direction: str = "above",
    bin_width: float | None = None,
    bins_each_side: int = 10,
    window_below: int = 1,
    window_above: int = 1,
    degree: int = 4,
) -> dict[str, float | np.ndarray]:
    """Excess mass at a target threshold (see module docstring).

    Parameters
    ----------
    values
        Array units x years (NaN missing) of the targeted indicator in the target years.
    threshold, direction
        The target; ``above`` means "at least ``threshold``".
    bin_width
        Histogram bin width (default: Freedman-Diaconis, rounded to the resolution).
    bins_each_side, window_below, window_above, degree
        Bins on each side of the threshold, excluded bins, polynomial degree.

    Returns
    -------
    dict
        ``excess`` (count), ``excess_rel`` (excess / counterfactual count at the
        target), ``se``, ``z``, ``p_value``, ``bin_width``, ``n``, ``counts``, ``fitted``,
        ``edges`` (in the indicator's own units, increasing).
    """
    if direction not in {"above", "below"}:
        raise DataError(f"direction must be above or below, not {direction!r}")
    v = np.asarray(values, float)
    sign = 1.0 if direction == "above" else -1.0
    n = int(np.isfinite(v).sum())
    if n < 20 or v.ndim != 2:
        nan = float("nan")
        return {
            "excess": nan,
            "excess_rel": nan,
            "se": nan,
            "z": nan,
            "p_value": nan,
            "bin_width": nan,
            "n": n,
            "counts": np.zeros(0),
            "fitted": np.zeros(0),
            "edges": np.zeros(0),
        }
    h = bin_width if bin_width else _bin_width(v)
    nb = bins_each_side
    with np.errstate(invalid="ignore"):
        k = np.floor((sign * v - sign * threshold) / h + 1e-9)
    inside = np.isfinite(k) & (k >= -nb) & (k < nb)
    idx = np.where(inside, k + nb, 0).astype(int)
    w, fit_op = _weights(nb, -window_below, window_above, degree)
    b_u = np.where(inside, w[idx], 0.0).sum(axis=1)
    has = np.isfinite(v).any(axis=1)
    g = int(has.sum())
    big_b = float(b_u.sum())
    se = (
        float(np.sqrt(g / (g - 1) * ((b_u[has] - big_b / g) ** 2).sum()))
        if g > 1
        else np.nan
    )
    counts = np.bincount(idx[inside], minlength=2 * nb).astype(float)
    fitted = fit_op @ counts
    cf = float(fitted[nb : nb + window_above].sum())
    z = big_b / se if se > 0 else np.nan
    edges = sign * threshold + h * np.arange(-nb, nb + 1)
    if sign < 0:
        edges, counts, fitted = -edges[::-1], counts[::-1], fitted[::-1]
    return {
        "excess": big_b,
        "excess_rel": big_b / cf if cf > 0 else np.nan,
        "se": se,
        "z": float(z),
        "p_value": float(stats.norm.sf(z)) if np.isfinite(z) else np.nan,
        "bin_width": float(h),
        "n": n,
        "counts": counts,
        "fitted": fitted,
        "edges": edges,
    }


def standardised_yearly_means(x: np.ndarray) -> np.ndarray:
    """Yearly means over units of each indicator divided by its overall SD, (I, T)."""
    m = np.isfinite(x)
    n = m.sum(axis=(1, 2))
    x0 = np.where(m, x, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = x0.sum(axis=(1, 2)) / n
        sd = np.sqrt(
            np.where(m, (x0 - mu[:, None, None]) ** 2, 0.0).sum(axis=(1, 2)) / n
        )
        cnt = m.sum(axis=1)
        ym = np.where(cnt > 0, x0.sum(axis=1) / cnt, np.nan)
        return ym / np.where(sd > 0, sd, np.nan)[:, None]


def level_shift(
    x: np.ndarray,
    years: tuple[int, ...],
    target_index: int,
    control_index: list[int],
    year: int,
    *,
    yearly: np.ndarray | None = None,
) -> dict[str, float]:
    """Chow test for a level shift of one indicator at ``year`` (module docstring).

    ``x`` is the raw (not year-centred) panel indicators x units x years; ``yearly``
    may pass :func:`standardised_yearly_means` of ``x`` when testing many targets.
    """
    yr = np.asarray(years, float)
    nan = {
        "shift_sd": np.nan,
        "se": np.nan,
        "t": np.nan,
        "p_value": np.nan,
        "n_years": 0,
    }
    if (yr < year).sum() < 2 or (yr >= year).sum() < 2:
        return nan
    idx = [target_index, *control_index]
    ym = standardised_yearly_means(x[idx]) if yearly is None else yearly[idx]
    ctrl: np.ndarray | float = 0.0
    if len(idx) > 1:
        c = ym[1:]
        k = np.isfinite(c).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            ctrl = np.where(
                k > 0, np.where(np.isfinite(c), c, 0.0).sum(axis=0) / k, np.nan
            )
    d = ym[0] - ctrl
    ok = np.isfinite(d)
    tt = yr[ok] - year
    if ok.sum() < 5 or (tt < 0).sum() < 2 or (tt >= 0).sum() < 2:
        return nan
    design = np.column_stack([np.ones_like(tt), tt, (tt >= 0).astype(float)])
    beta, *_ = np.linalg.lstsq(design, d[ok], rcond=None)
    resid = d[ok] - design @ beta
    df = int(ok.sum()) - 3
    s2 = float(resid @ resid) / df
    cov = s2 * np.linalg.inv(design.T @ design)
    se = float(np.sqrt(cov[2, 2]))
    t = float(beta[2] / se) if se > 0 else np.nan
    p = float(2 * stats.t.sf(abs(t), df)) if np.isfinite(t) else np.nan
    return {
        "shift_sd": float(beta[2]),
        "se": se,
        "t": t,
        "p_value": p,
        "n_years": int(ok.sum()),
    }


def gaming_table(
    x: np.ndarray,
    indicators: tuple[str, ...],
    years: tuple[int, ...],
    targets: list[Target],
    controls: list[int],
    **bunch_kw: object,
) -> tuple[pd.DataFrame, dict[str, dict[str, float | np.ndarray]]]:
    """Bunching and level-shift results for each target; also the histograms."""
    rows, hists = [], {}
    yr = np.asarray(years)
    yearly = standardised_yearly_means(x) if targets else None
    for tg in targets:
        if tg.indicator not in indicators:
            raise DataError(
                f"target indicator {tg.indicator!r} is not in the panel", field="target"
            )
        i = indicators.index(tg.indicator)
        cols = yr >= tg.year if tg.year is not None else np.ones(yr.size, bool)
        b = bunching(x[i][:, cols], tg.threshold, direction=tg.direction, **bunch_kw)  # type: ignore[arg-type]
        hists[tg.indicator] = b
        ls = (
            level_shift(x, years, i, controls, tg.year, yearly=yearly)
            if tg.year is not None
            else {
                "shift_sd": np.nan,
                "se": np.nan,
                "t": np.nan,
                "p_value": np.nan,
                "n_years": 0,
            }
        )
        rows.append(
            {
                "indicator": tg.indicator,
                "threshold": tg.threshold,
                "direction": tg.direction,
                "target_year": tg.year,
                "bin_width": b["bin_width"],
                "n_values": b["n"],
                "excess": b["excess"],
                "excess_rel": b["excess_rel"],
                "bunching_se": b["se"],
                "bunching_p": b["p_value"],
                "shift_sd": ls["shift_sd"],
                "shift_se": ls["se"],
                "shift_p": ls["p_value"],
            }
        )
    columns = [
        "indicator",
        "threshold",
        "direction",
        "target_year",
        "bin_width",
        "n_values",
        "excess",
        "excess_rel",
        "bunching_se",
        "bunching_p",
        "shift_sd",
        "shift_se",
        "shift_p",
    ]
    return pd.DataFrame(rows, columns=columns), hists
