"""Reliability and responsiveness of indicators: how much is signal, how much noise.

One-way random-effects model per indicator (Shrout & Fleiss 1979, case 1; Searle 1971
for unbalanced data): ``y_ut = mu + b_u + e_ut`` with municipality effect ``b_u ~
(0, s2_b)`` and year-to-year noise ``e_ut ~ (0, s2_w)``. With ``center_years=True`` (the
default for panels) each year's cross-sectional mean is removed first, so national
trends are not counted as noise; the within degrees of freedom then lose ``T - 1``, which
makes the statistic Shrout & Fleiss' ICC(3,1) on a balanced panel. Everything is
vectorised over indicators.

ANOVA estimators (``n_u`` years observed for unit ``u``, ``N = sum n_u``, ``a`` units)::

    MSB = sum_u n_u (ybar_u - ybar)^2 / (a - 1)
    MSW = sum_ut (y_ut - ybar_u)^2 / (N - a [- (T - 1)])
    n0  = (N - sum_u n_u^2 / N) / (a - 1)
    ICC(1)   = (MSB - MSW) / (MSB + (n0 - 1) MSW)
    ICC(1,k) = (MSB - MSW) / MSB          reliability of a mean of n0 years
    s2_b = (MSB - MSW) / n0,  s2_w = MSW,  SNR = s2_b / s2_w

The CI uses the F distribution (Shrout & Fleiss eqs. 6-7 with ``n0``); the p-value tests
``s2_b = 0``. The minimum detectable change (MDC) of a pilot comparing ``n_treated``
with ``n_control`` municipalities, on the mean of ``pre`` and ``post`` years, is::

    MDC = (z_{1-alpha/2} + z_{power}) * s_w * sqrt((1/pre + 1/post)(1/n_t + 1/n_c))

assuming independent yearly noise (the model above).

Example
-------
Shrout & Fleiss (1979) Table 2 (6 targets x 4 judges) gives ICC(1,1) = .17,
ICC(1,4) = .44:

>>> import numpy as np
>>> from tillit.core.audit.reliability import reliability
>>> x = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6],
...               [10, 5, 6, 9], [6, 2, 4, 7]], float)
>>> t = reliability(x[None], center_years=False)
>>> round(float(t["icc"][0]), 2), round(float(t["icc_k"][0]), 2)
(0.17, 0.44)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["center_by_year", "mdc", "reliability", "retest_correlation"]


def center_by_year(x: np.ndarray) -> np.ndarray:
    """Remove each (indicator, year) cross-sectional mean; NaN stays NaN."""
    m = np.isfinite(x)
    cnt = m.sum(axis=1, keepdims=True)
    s = np.where(m, x, 0.0).sum(axis=1, keepdims=True)
    mean = np.divide(s, cnt, out=np.zeros_like(s), where=cnt > 0)
    out: np.ndarray = x - mean
    return out


def _pair_corr(
    a: np.ndarray, b: np.ndarray, axis: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pearson r of ``a`` and ``b`` along ``axis`` over pairwise-complete entries."""
    m = np.isfinite(a) & np.isfinite(b)
    n = m.sum(axis=axis)
    a0, b0 = np.where(m, a, 0.0), np.where(m, b, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ma = a0.sum(axis=axis, keepdims=True) / np.expand_dims(n, axis)
        mb = b0.sum(axis=axis, keepdims=True) / np.expand_dims(n, axis)
        da, db = np.where(m, a0 - ma, 0.0), np.where(m, b0 - mb, 0.0)
        r = (da * db).sum(axis) / np.sqrt((da**2).sum(axis) * (db**2).sum(axis))
    return np.clip(r, -1.0, 1.0), n


def retest_correlation(x: np.ndarray, min_n: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Year-to-year test-retest correlation across units, per indicator.

    The Pearson r between consecutive years (over units observed in both) is averaged
    over year pairs on Fisher's z scale, weighted by ``n - 3``.

    Returns
    -------
    r, pairs
        Averaged correlation and the number of year pairs used, per indicator.
    """
    if x.shape[2] < 2:
        nan = np.full(x.shape[0], np.nan)
        return nan, np.zeros(x.shape[0], int)
    r, n = _pair_corr(x[:, :, :-1], x[:, :, 1:], axis=1)
    ok = np.isfinite(r) & (n >= min_n) & (np.abs(r) < 1)
    w = np.where(ok, n - 3.0, 0.0)
    z = np.arctanh(np.where(ok, r, 0.0))
    wsum = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        zbar = (w * z).sum(axis=1) / wsum
    return np.where(wsum > 0, np.tanh(zbar), np.nan), ok.sum(axis=1)


def mdc(
    sigma_w: np.ndarray | float,
    *,
    n_treated: int,
    n_control: np.ndarray | int,
    alpha: float = 0.05,
    power: float = 0.8,
    pre: int = 1,
    post: int = 1,
) -> np.ndarray:
    """Minimum detectable change of a two-group pre/post pilot (see module docstring)."""
    mult = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    nc = np.asarray(n_control, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        var = (1 / pre + 1 / post) * (1 / n_treated + 1 / nc)
        return np.where(nc > 0, mult * np.asarray(sigma_w) * np.sqrt(var), np.nan)


def _anova(y: np.ndarray, centred: bool) -> dict[str, np.ndarray]:
    """One-way ANOVA pieces per indicator for ``y`` (indicators x units x years)."""
    m = np.isfinite(y)
    y0 = np.where(m, y, 0.0)
    n_u = m.sum(axis=2).astype(float)
    big_n = n_u.sum(axis=1)
    a = (n_u > 0).sum(axis=1).astype(float)
    t_eff = m.any(axis=1).sum(axis=1).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        ybar_u = y0.sum(axis=2) / n_u
        ybar = y0.sum(axis=(1, 2)) / big_n
        ssb = np.nansum(n_u * (ybar_u - ybar[:, None]) ** 2, axis=1)
        ssw = np.where(m, (y0 - np.nan_to_num(ybar_u)[:, :, None]) ** 2, 0.0).sum(
            axis=(1, 2)
        )
        df_b = a - 1
        df_w = big_n - a - (t_eff - 1 if centred else 0)
        n0 = (big_n - (n_u**2).sum(axis=1) / big_n) / df_b
        msb = np.where(df_b > 0, ssb / df_b, np.nan)
        msw = np.where(df_w > 0, ssw / df_w, np.nan)
    return {
        "msb": msb,
        "msw": msw,
        "df_b": df_b,
        "df_w": df_w,
        "n0": n0,
        "a": a,
        "N": big_n,
    }


def reliability(
    x: np.ndarray,
    *,
    center_years: bool = True,
    level: float = 0.95,
    n_treated: int = 10,
    n_control: int | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    pre: int = 1,
    post: int = 1,
) -> pd.DataFrame:
    """Reliability and responsiveness per indicator of a 3-D panel.

    Parameters
    ----------
    x
        Array indicators x units x years, NaN for missing.
    center_years
        Remove each year's cross-sectional mean first (see module docstring).
    level
        Confidence level of the ICC interval.
    n_treated, n_control, alpha, power, pre, post
        Pilot design for the minimum detectable change; ``n_control`` defaults to the
        other units with data.

    Returns
    -------
    pandas.DataFrame
        One row per indicator: ``n_units, n_obs, n0, msb, msw, icc, icc_low, icc_high,
        icc_p, icc_k, var_between, var_within, snr, retest_r, retest_pairs, sd_within,
        mdc, mdc_sd`` (MDC in the indicator's unit and in total SDs).
    """
    y = center_by_year(x) if center_years else np.asarray(x, float)
    p = _anova(y, center_years)
    msb, msw, n0 = p["msb"], p["msw"], p["n0"]
    with np.errstate(invalid="ignore", divide="ignore"):
        icc = (msb - msw) / (msb + (n0 - 1) * msw)
        icc_k = (msb - msw) / msb
        f = msb / msw
        q = 1 - (1 - level) / 2
        ok = (p["df_b"] > 0) & (p["df_w"] > 0)
        dfb, dfw = np.where(ok, p["df_b"], 1), np.where(ok, p["df_w"], 1)
        fl = f / stats.f.ppf(q, dfb, dfw)
        fu = f * stats.f.ppf(q, dfw, dfb)
        lo = np.where(ok, (fl - 1) / (fl + n0 - 1), np.nan)
        hi = np.where(ok, (fu - 1) / (fu + n0 - 1), np.nan)
        pval = np.where(ok, stats.f.sf(f, dfb, dfw), np.nan)
        var_b = np.maximum((msb - msw) / n0, 0.0)
        snr = var_b / msw
    retest, pairs = retest_correlation(y)
    nc = p["a"] - n_treated if n_control is None else np.full_like(p["a"], n_control)
    sd_w = np.sqrt(msw)
    md = mdc(
        sd_w,
        n_treated=n_treated,
        n_control=nc,
        alpha=alpha,
        power=power,
        pre=pre,
        post=post,
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        md_sd = md / np.sqrt(var_b + msw)
    return pd.DataFrame(
        {
            "n_units": p["a"].astype(int),
            "n_obs": p["N"].astype(int),
            "n0": n0,
            "msb": msb,
            "msw": msw,
            "icc": icc,
            "icc_low": lo,
            "icc_high": hi,
            "icc_p": pval,
            "icc_k": icc_k,
            "var_between": var_b,
            "var_within": msw,
            "snr": snr,
            "retest_r": retest,
            "retest_pairs": pairs,
            "sd_within": sd_w,
            "mdc": md,
            "mdc_sd": md_sd,
        }
    )
