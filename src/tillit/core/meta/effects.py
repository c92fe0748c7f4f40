"""Effect sizes and sampling variances from 2x2 counts or group summaries.

Same definitions as metafor's ``escalc`` (no continuity correction unless a cell is zero,
then 0.5 is added to all four cells of that study, metafor's default ``add=1/2, to="only0"``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from tillit.core.errors import DataError

__all__ = [
    "log_odds_ratio",
    "log_risk_ratio",
    "mean_difference",
    "standardised_mean_difference",
]


def _cells(*arrays: ArrayLike) -> list[np.ndarray]:
    cells = [np.asarray(a, dtype=float) for a in arrays]
    if any(np.any(~np.isfinite(c) | (c < 0)) for c in cells):
        raise DataError("counts must be non-negative numbers")
    zero = np.any([c == 0 for c in cells], axis=0)
    return [c + 0.5 * zero for c in cells]


def log_risk_ratio(
    tpos: ArrayLike, tneg: ArrayLike, cpos: ArrayLike, cneg: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """Log risk ratio and its variance (metafor ``escalc("RR")``).

    Example
    -------
    >>> y, v = log_risk_ratio([4], [119], [11], [128])
    >>> round(float(y[0]), 4), round(float(v[0]), 4)
    (-0.8893, 0.3256)
    """
    a, b, c, d = _cells(tpos, tneg, cpos, cneg)
    y = np.log(a / (a + b)) - np.log(c / (c + d))
    v = 1 / a - 1 / (a + b) + 1 / c - 1 / (c + d)
    return y, v


def log_odds_ratio(
    tpos: ArrayLike, tneg: ArrayLike, cpos: ArrayLike, cneg: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """Log odds ratio and its variance (metafor ``escalc("OR")``)."""
    a, b, c, d = _cells(tpos, tneg, cpos, cneg)
    return np.log(a * d / (b * c)), 1 / a + 1 / b + 1 / c + 1 / d


def mean_difference(
    m1: ArrayLike,
    sd1: ArrayLike,
    n1: ArrayLike,
    m2: ArrayLike,
    sd2: ArrayLike,
    n2: ArrayLike,
) -> tuple[np.ndarray, np.ndarray]:
    """Raw mean difference and its (heteroscedastic) variance (``escalc("MD")``)."""
    m1, sd1, n1, m2, sd2, n2 = (
        np.asarray(a, dtype=float) for a in (m1, sd1, n1, m2, sd2, n2)
    )
    return m1 - m2, sd1**2 / n1 + sd2**2 / n2


def standardised_mean_difference(
    m1: ArrayLike,
    sd1: ArrayLike,
    n1: ArrayLike,
    m2: ArrayLike,
    sd2: ArrayLike,
    n2: ArrayLike,
) -> tuple[np.ndarray, np.ndarray]:
    """Hedges' g with its large-sample variance (``escalc("SMD")``, exact bias correction)."""
    from scipy.special import gammaln

    m1, sd1, n1, m2, sd2, n2 = (
        np.asarray(a, dtype=float) for a in (m1, sd1, n1, m2, sd2, n2)
    )
    df = n1 + n2 - 2
    sp = np.sqrt(((n1 - 1) * sd1**2 + (n2 - 1) * sd2**2) / df)
    cmm = np.exp(gammaln(df / 2) - 0.5 * np.log(df / 2) - gammaln((df - 1) / 2))
    g = cmm * (m1 - m2) / sp
    v = 1 / n1 + 1 / n2 + g**2 / (2 * (n1 + n2))
    return g, v
