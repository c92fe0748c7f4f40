"""Rank, percentile and peer summaries of one indicator among a peer set, per year.

All functions take a long DataFrame with one row per organisation and year and are
vectorised with pandas ``groupby``; missing values are kept in the output but take no
part in ranks, percentiles or summaries.

Definitions
-----------
rank
    Competition ranking ("1224") within the year, 1 = best. "Best" is the highest value
    when ``higher_is_better`` is true, the lowest when it is false, and the highest when
    the direction is unknown (``None``; then rank 1 simply means the highest value).
percentile
    Share (0-100) of the *other* peers with a valid value in that year that this
    organisation does better than, ties counted half: 100 = best, 0 = worst,
    50 = median. Undefined (NaN) when fewer than two peers have a value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["peer_summary", "rank_within_peers"]


def _check_columns(df: pd.DataFrame, cols: tuple[str, ...]) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"missing columns: {', '.join(missing)}")


def rank_within_peers(
    df: pd.DataFrame,
    *,
    higher_is_better: bool | None,
    org: str = "org",
    year: str = "year",
    value: str = "value",
) -> pd.DataFrame:
    """Rank and percentile of every organisation among all rows of the same year.

    Parameters
    ----------
    df
        Long data, one row per (``org``, ``year``); ``value`` may be NaN.
    higher_is_better
        Direction of the indicator; ``None`` ranks the highest value first.
    org, year, value
        Column names.

    Returns
    -------
    pandas.DataFrame
        ``org, year, value, rank, n, percentile`` sorted by year and rank; ``rank`` and
        ``percentile`` are NaN for missing values, ``n`` counts valid values in the year.

    Examples
    --------
    >>> d = pd.DataFrame({"org": list("abc"), "year": 2020, "value": [3.0, 1.0, 2.0]})
    >>> rank_within_peers(d, higher_is_better=False)["rank"].tolist()
    [1.0, 2.0, 3.0]
    """
    _check_columns(df, (org, year, value))
    out = df[[org, year, value]].copy()
    out.columns = pd.Index(["org", "year", "value"])
    out["value"] = pd.to_numeric(out["value"], errors="coerce").astype(float)
    goodness = out["value"] if higher_is_better is not False else -out["value"]
    by_year = goodness.groupby(out["year"])
    out["rank"] = by_year.rank(method="min", ascending=False)
    out["n"] = by_year.transform("count").astype(int)
    worst_first = by_year.rank(method="average", ascending=True)
    denom = (out["n"] - 1).where(out["n"] > 1)
    out["percentile"] = 100.0 * (worst_first - 1.0) / denom
    return out.sort_values(["year", "rank", "org"], na_position="last").reset_index(
        drop=True
    )


def peer_summary(
    df: pd.DataFrame, *, year: str = "year", value: str = "value"
) -> pd.DataFrame:
    """Per-year distribution of the peer set: n, min, q1, median, q3, max, mean.

    Quartiles use linear interpolation (numpy's default). Years where no peer has a
    value keep ``n = 0`` and NaN statistics.
    """
    _check_columns(df, (year, value))
    v = pd.to_numeric(df[value], errors="coerce").to_numpy(dtype=float)
    y = df[year].to_numpy()
    order = np.lexsort((v, y))  # by year, values ascending, NaN last
    ys, vs = y[order], v[order]
    years, starts = np.unique(ys, return_index=True)
    ends = np.append(starts[1:], len(ys))
    stats = np.full((len(years), 6), np.nan)
    counts = np.zeros(len(years), dtype=int)
    for i, (a, b) in enumerate(zip(starts, ends, strict=True)):  # one pass per year
        seg = vs[a:b]
        seg = seg[~np.isnan(seg)]
        counts[i] = len(seg)
        if len(seg):
            q1, med, q3 = np.quantile(seg, [0.25, 0.5, 0.75])
            stats[i] = (seg[0], q1, med, q3, seg[-1], seg.mean())
    out = pd.DataFrame(stats, columns=["min", "q1", "median", "q3", "max", "mean"])
    out.insert(0, "n", counts)
    out.insert(0, "year", years.astype(int))
    return out
