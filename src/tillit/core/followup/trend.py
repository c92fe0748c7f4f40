"""Linear trends of indicator series: OLS slope over the last N years with its SE.

The direction is put in words only when the slope is distinguishable from zero
(two-sided t-test at the 5 % level); otherwise the trend is "stable". With fewer than
three points no standard error exists and the direction is "insufficient".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from tillit.core.results import jsonable

__all__ = ["DIRECTIONS", "Trend", "trend", "trends"]

DIRECTIONS = {
    "improving": ("förbättras", "improving"),
    "worsening": ("försämras", "worsening"),
    "increasing": ("ökar", "increasing"),
    "decreasing": ("minskar", "decreasing"),
    "stable": ("ingen tydlig förändring", "no clear change"),
    "insufficient": ("för få år", "too few years"),
}


@dataclass(frozen=True)
class Trend:
    """An OLS trend: ``slope`` per year, its ``se``, the years used and a direction."""

    slope: float
    se: float
    p_value: float
    n: int
    first_year: int | None
    last_year: int | None
    direction: str

    def words(self, lang: str = "sv") -> str:
        """The direction in Swedish (``sv``) or English (``en``)."""
        sv, en = DIRECTIONS[self.direction]
        return sv if lang == "sv" else en

    def to_dict(self) -> dict[str, Any]:
        """Stable JSON shape."""
        out: dict[str, Any] = jsonable(
            {
                "slope": self.slope,
                "se": self.se,
                "p_value": self.p_value,
                "n": self.n,
                "first_year": self.first_year,
                "last_year": self.last_year,
                "direction": self.direction,
            }
        )
        return out

    def tidy(self) -> pd.DataFrame:
        """One-row DataFrame."""
        return pd.DataFrame([self.to_dict()])

    def summary(self) -> str:
        """One line for people."""
        if self.n < 3:
            return f"trend: {self.words('en')} (n={self.n})"
        return (
            f"trend {self.first_year}-{self.last_year}: {self.slope:+.4g} per year "
            f"(SE {self.se:.3g}, p={self.p_value:.3g}), {self.words('en')}"
        )


def _direction(
    slope: np.ndarray, p: np.ndarray, n: np.ndarray, hib: bool | None
) -> np.ndarray:
    up = "improving" if hib is True else "worsening" if hib is False else "increasing"
    down = "worsening" if hib is True else "improving" if hib is False else "decreasing"
    out = np.where(slope > 0, up, down).astype(object)
    out[~(p < 0.05)] = "stable"
    out[n < 3] = "insufficient"
    return out


def _ols_by_group(df: pd.DataFrame) -> pd.DataFrame:
    """Slope, SE, p and n per ``key`` from columns key, x, y (vectorised sums)."""
    g = df.groupby("key", sort=True)
    n = g["x"].count()
    xm = g["x"].transform("mean")
    ym = g["y"].transform("mean")
    dx, dy = df["x"] - xm, df["y"] - ym
    sxx = (dx * dx).groupby(df["key"]).sum()
    sxy = (dx * dy).groupby(df["key"]).sum()
    syy = (dy * dy).groupby(df["key"]).sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = sxy / sxx
        rss = (syy - slope * sxy).clip(lower=0.0)
        dof = n - 2
        se = pd.Series(np.sqrt(rss / dof / sxx), index=n.index).where(dof > 0)
        t = slope / se
    p = pd.Series(
        2 * stats.t.sf(np.abs(t.to_numpy()), np.maximum(dof, 1)), index=n.index
    )
    p = p.where(dof > 0)
    # a perfect fit (se == 0) with a non-zero slope is a certain trend
    p = p.where(~((se == 0) & (slope != 0)), 0.0)
    return pd.DataFrame(
        {
            "slope": slope.where(n >= 2),
            "se": se,
            "p_value": p,
            "n": n.astype(int),
            "first_year": g["x"].min(),
            "last_year": g["x"].max(),
        }
    )


def trends(
    df: pd.DataFrame,
    *,
    key: str,
    higher_is_better: bool | pd.Series | None,
    last_n: int = 5,
    year: str = "year",
    value: str = "value",
) -> pd.DataFrame:
    """OLS trends for many series at once, one row per ``key``.

    Parameters
    ----------
    df
        Long data with columns ``key``, ``year`` and ``value`` (NaN values are dropped).
    higher_is_better
        One direction for all series, or a Series indexed by key.
    last_n
        Use only each series' last ``last_n`` years with a value.

    Returns
    -------
    pandas.DataFrame
        Indexed by key: ``slope, se, p_value, n, first_year, last_year, direction``.
    """
    d = pd.DataFrame(
        {
            "key": df[key].to_numpy(),
            "x": pd.to_numeric(df[year]).astype(float).to_numpy(),
            "y": pd.to_numeric(df[value], errors="coerce").astype(float).to_numpy(),
        }
    ).dropna()
    d = d.sort_values(["key", "x"])
    d = d[d.groupby("key").cumcount(ascending=False) < max(int(last_n), 1)]
    if d.empty:
        return pd.DataFrame(
            columns=[
                "slope",
                "se",
                "p_value",
                "n",
                "first_year",
                "last_year",
                "direction",
            ]
        )
    out = _ols_by_group(d)
    if isinstance(higher_is_better, pd.Series):
        hib = higher_is_better.reindex(out.index)
        direction = pd.Series(index=out.index, dtype=object)
        for flag in (True, False, None):
            mask = hib.isna() if flag is None else (hib == flag) & hib.notna()
            if mask.any():
                sub = out[mask.to_numpy()]
                direction[mask.to_numpy()] = _direction(
                    sub["slope"].to_numpy(),
                    sub["p_value"].to_numpy(),
                    sub["n"].to_numpy(),
                    flag,
                )
        out["direction"] = direction
    else:
        out["direction"] = _direction(
            out["slope"].to_numpy(),
            out["p_value"].to_numpy(),
            out["n"].to_numpy(),
            higher_is_better,
        )
    out[["first_year", "last_year"]] = out[["first_year", "last_year"]].astype(int)
    return out


def trend(
    years: Any, values: Any, *, higher_is_better: bool | None, last_n: int = 5
) -> Trend:
    """OLS trend of one series over its last ``last_n`` years with a value.

    Examples
    --------
    >>> t = trend([2019, 2020, 2021, 2022], [1.0, 2.1, 2.9, 4.2], higher_is_better=True)
    >>> t.direction, round(t.slope, 2)
    ('improving', 1.04)
    """
    x = np.asarray(years, dtype=float)
    y = np.asarray(values, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    order = np.argsort(x, kind="stable")[-max(int(last_n), 1) :]
    x, y = x[order], y[order]
    n = len(x)
    if n == 0:
        return Trend(math.nan, math.nan, math.nan, 0, None, None, "insufficient")
    slope = se = p = math.nan
    if n >= 2:
        dx, dy = x - x.mean(), y - y.mean()
        sxx = float(dx @ dx)
        slope = float(dx @ dy) / sxx if sxx > 0 else math.nan
    if n >= 3 and math.isfinite(slope):
        rss = max(float(((dy - slope * dx) ** 2).sum()), 0.0)
        se = math.sqrt(rss / (n - 2) / sxx)
        if se > 0:
            p = float(2 * stats.t.sf(abs(slope / se), n - 2))
        else:
            p = 0.0 if slope != 0 else math.nan
    direction = _direction(
        np.array([slope]), np.array([p]), np.array([n]), higher_is_better
    )[0]
    return Trend(
        slope=slope,
        se=se,
        p_value=p,
        n=n,
        first_year=int(x.min()),
        last_year=int(x.max()),
        direction=str(direction),
    )
