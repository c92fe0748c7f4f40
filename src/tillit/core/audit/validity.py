"""Validity of indicators: do they go with the outcomes that matter (criteria)?

For each indicator and criterion (user satisfaction, staff sick leave, turnover, a quality
measure...), two associations, after removing year means:

* **between**: Pearson r of municipality means over the municipalities with both; the
  CI is Fisher's z, ``tanh(atanh(r) +- z_q / sqrt(n - 3))``; the p-value is the exact
  t-test ``t = r sqrt((n - 2) / (1 - r^2))`` on ``n - 2`` df.
* **within**: Pearson r of the deviations from each municipality's own mean (over the
  years both are observed): do the two change together? Yearly deviations of one
  municipality are not independent, so the standard error is cluster-robust by
  municipality (the slope of the standardised criterion on the standardised indicator,
  Liang-Zeger sandwich with ``G / (G - 1)``); CI on the z scale by the delta method, p
  from t on ``G - 1`` df.

All p-values of one audit are adjusted together for multiple testing (Benjamini-Hochberg
false discovery rate by default, or Holm's family-wise error rate).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from tillit.core.audit.redundancy import pairwise_corr
from tillit.core.errors import DataError

__all__ = ["adjust_pvalues", "validity"]


def adjust_pvalues(p: np.ndarray, method: str = "bh") -> np.ndarray:
    """Adjust p-values (NaN ignored): ``bh`` (Benjamini-Hochberg) or ``holm``."""
    p = np.asarray(p, dtype=float)
    out = np.full_like(p, np.nan)
    ok = np.isfinite(p)
    pv = p[ok]
    m = pv.size
    if m == 0:
        return out
    order = np.argsort(pv)
    ranked = pv[order]
    if method == "bh":
        adj = np.minimum.accumulate((ranked * m / np.arange(1, m + 1))[::-1])[::-1]
    elif method == "holm":
        adj = np.maximum.accumulate(ranked * (m - np.arange(m)))
    else:
        raise DataError(f"unknown multiple-testing method {method!r}; use bh or holm")
    res = np.empty(m)
    res[order] = np.minimum(adj, 1.0)
    out[ok] = res
    return out


def _between(mi: np.ndarray, mc: np.ndarray, q: float) -> dict[str, np.ndarray]:
    """Correlations of municipality means, (I, C) arrays."""
    ni = mi.shape[0]
    r_all, n_all = pairwise_corr(np.vstack([mi, mc]), min_n=4)
    r, n = r_all[:ni, ni:], n_all[:ni, ni:].astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = r * np.sqrt((n - 2) / (1 - r**2))
        p = 2 * stats.t.sf(np.abs(t), np.maximum(n - 2, 1))
        z, half = np.arctanh(np.clip(r, -0.999999, 0.999999)), q / np.sqrt(n - 3)
    return {"r": r, "n": n, "p": p, "lo": np.tanh(z - half), "hi": np.tanh(z + half)}


def _within(y: np.ndarray, c: np.ndarray, q: float) -> dict[str, np.ndarray]:
    """Within-municipality correlation of ``y`` (I,U,T) with one criterion ``c`` (U,T)."""
    m = np.isfinite(y) & np.isfinite(c)[None]
    cnt = m.sum(axis=2, keepdims=True)
    y0, c0 = np.where(m, y, 0.0), np.where(m, c[None], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        yd = np.where(m, y0 - y0.sum(2, keepdims=True) / cnt, 0.0)
        cd = np.where(m, c0 - c0.sum(2, keepdims=True) / cnt, 0.0)
        yd, cd = np.where(cnt > 1, yd, 0.0), np.where(cnt > 1, cd, 0.0)
        n = ((cnt[..., 0] > 1) * cnt[..., 0]).sum(axis=1).astype(float)
        g = (cnt[..., 0] > 1).sum(axis=1).astype(float)
        sy = np.sqrt((yd**2).sum(axis=(1, 2)) / n)
        sc = np.sqrt((cd**2).sum(axis=(1, 2)) / n)
        ys, cs = yd / sy[:, None, None], cd / sc[:, None, None]
        r = (ys * cs).sum(axis=(1, 2)) / n
        e = cs - r[:, None, None] * ys
        score = (ys * e).sum(axis=2)
        var = g / (g - 1) * (score**2).sum(axis=1) / n**2
        se = np.sqrt(var)
        t = r / se
        p = 2 * stats.t.sf(np.abs(t), np.maximum(g - 1, 1))
        r = np.clip(r, -1, 1)
        z = np.arctanh(np.clip(r, -0.999999, 0.999999))
        half = q * se / (1 - r**2)
    bad = (g < 3) | ~np.isfinite(r)
    nan = np.nan
    return {
        "r": np.where(bad, nan, r),
        "n": n,
        "p": np.where(bad, nan, p),
        "lo": np.where(bad, nan, np.tanh(z - half)),
        "hi": np.where(bad, nan, np.tanh(z + half)),
    }


def validity(
    y: np.ndarray,
    indicators: tuple[str, ...],
    crit: np.ndarray,
    criteria: tuple[str, ...],
    *,
    level: float = 0.95,
    method: str = "bh",
) -> pd.DataFrame:
    """Between- and within-municipality associations of indicators with criteria.

    Parameters
    ----------
    y, crit
        Year-centred arrays (indicators x units x years) of the audited indicators and
        of the criteria, on the same units and years.
    indicators, criteria
        Their ids; a pair of an indicator with itself is skipped.
    level
        Confidence level.
    method
        Multiple-testing adjustment over all tests: ``bh`` or ``holm``.

    Returns
    -------
    pandas.DataFrame
        One row per indicator, criterion and ``level`` (``between``/``within``):
        ``r, ci_low, ci_high, p_value, p_adjusted, n``.
    """
    q = stats.norm.ppf(1 - (1 - level) / 2)
    cnt_y, cnt_c = np.isfinite(y).sum(2), np.isfinite(crit).sum(2)
    with np.errstate(invalid="ignore", divide="ignore"):
        mi = np.where(cnt_y > 0, np.nansum(y, 2) / cnt_y, np.nan)
        mc = np.where(cnt_c > 0, np.nansum(crit, 2) / cnt_c, np.nan)
    b = _between(mi, mc, q)
    ni, nc = len(indicators), len(criteria)
    keys = ("r", "lo", "hi", "p", "n")
    # blocks ordered criterion-major, between before within: shape (C, 2, I)
    cols = {k: np.empty((nc, 2, ni)) for k in keys}
    for j in range(nc):
        w = _within(y, crit[j], q)
        for k in keys:
            cols[k][j, 0], cols[k][j, 1] = b[k][:, j], w[k]
    ind = np.tile(np.asarray(indicators, dtype=object), 2 * nc)
    crit_names = np.repeat(np.asarray(criteria, dtype=object), 2 * ni)
    keep = ind != crit_names
    p_value = cols["p"].ravel()[keep]
    return pd.DataFrame(
        {
            "indicator": ind[keep],
            "criterion": crit_names[keep],
            "level": np.tile(
                np.repeat(np.array(["between", "within"], dtype=object), ni), nc
            )[keep],
            "r": cols["r"].ravel()[keep],
            "ci_low": cols["lo"].ravel()[keep],
            "ci_high": cols["hi"].ravel()[keep],
            "p_value": p_value,
            "p_adjusted": adjust_pvalues(p_value, method),
            "n": cols["n"].ravel()[keep],
        }
    )
