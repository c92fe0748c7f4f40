"""Position labels in words and the gender gap of a series."""

from __future__ import annotations

import math

import pandas as pd

__all__ = ["gender_gap", "position_label"]

_LABELS = {
    # (quartile, direction known) -> (sv, en)
    ("top", True): ("bland de 25 % bästa", "among the best 25%"),
    ("bottom", True): ("bland de 25 % sämsta", "among the worst 25%"),
    ("top", False): ("bland de 25 % högsta", "among the highest 25%"),
    ("bottom", False): ("bland de 25 % lägsta", "among the lowest 25%"),
    ("middle", True): ("i mellersta hälften", "in the middle half"),
    ("middle", False): ("i mellersta hälften", "in the middle half"),
    ("unknown", True): ("okänd position", "position unknown"),
    ("unknown", False): ("okänd position", "position unknown"),
}


def position_label(
    percentile: float | None, *, higher_is_better: bool | None, lang: str = "sv"
) -> str:
    """Describe a percentile (0-100, 100 = best) in words.

    The top quartile is ``percentile >= 75``, the bottom ``<= 25``. When the direction
    is unknown the words say highest/lowest instead of best/worst.

    Examples
    --------
    >>> position_label(80, higher_is_better=True)
    'bland de 25 % bästa'
    >>> position_label(10, higher_is_better=None, lang="en")
    'among the lowest 25%'
    """
    known = higher_is_better is not None
    if percentile is None or not math.isfinite(float(percentile)):
        q = "unknown"
    elif percentile >= 75:
        q = "top"
    elif percentile <= 25:
        q = "bottom"
    else:
        q = "middle"
    sv, en = _LABELS[(q, known)]
    return en if lang == "en" else sv


def gender_gap(
    df: pd.DataFrame,
    *,
    year: str = "year",
    gender: str = "gender",
    value: str = "value",
) -> pd.DataFrame:
    """Women minus men, per year, from long data with a ``gender`` column (T/K/M).

    Returns
    -------
    pandas.DataFrame
        ``year, T, K, M, gap, ratio`` with ``gap = K - M`` and ``ratio = K / M``
        (NaN where a value is missing or ``M`` is zero).
    """
    first = df.drop_duplicates(subset=[year, gender])
    wide = first.set_index([year, gender])[value].unstack(gender)
    wide = wide.reindex(columns=["T", "K", "M"]).astype(float).sort_index()
    wide["gap"] = wide["K"] - wide["M"]
    m = wide["M"].where(wide["M"] != 0)
    wide["ratio"] = wide["K"] / m
    wide.index.name = "year"
    wide.columns.name = None
    out = wide.reset_index()
    out["year"] = out["year"].astype(int)
    return out
