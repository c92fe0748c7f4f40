"""One organisation's follow-up of one indicator against a peer set."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from tillit.core.followup.labels import position_label
from tillit.core.followup.peers import peer_summary, rank_within_peers
from tillit.core.followup.trend import Trend, trend
from tillit.core.results import jsonable

__all__ = ["FollowUp", "follow_up"]


@dataclass(frozen=True)
class FollowUp:
    """The follow-up of ``org`` on one indicator among ``n_peers`` peers.

    ``table`` has one row per year: the organisation's ``value``, ``rank``, ``n``
    (peers with a value), ``percentile`` (100 = best) and the peer ``min, q1, median,
    q3, max, mean``.
    """

    org: str
    higher_is_better: bool | None
    n_peers: int
    table: pd.DataFrame = field(repr=False)
    trend: Trend

    @property
    def latest(self) -> dict[str, Any]:
        """The latest year in which the organisation has a value (or an empty dict)."""
        have = self.table.dropna(subset=["value"])
        if have.empty:
            return {}
        row: dict[str, Any] = jsonable(have.iloc[-1].to_dict())
        row["year"] = int(row["year"])
        row["n"] = int(row["n"])
        return row

    def label(self, lang: str = "sv") -> str:
        """Position in the latest year, in words."""
        pct = self.latest.get("percentile")
        return position_label(
            math.nan if pct is None else pct,
            higher_is_better=self.higher_is_better,
            lang=lang,
        )

    def tidy(self) -> pd.DataFrame:
        """The per-year table (a copy)."""
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        """Stable JSON shape: org, higher_is_better, n_peers, years, trend, latest."""
        out: dict[str, Any] = jsonable(
            {
                "org": self.org,
                "higher_is_better": self.higher_is_better,
                "n_peers": self.n_peers,
                "years": self.table.to_dict(orient="records"),
                "trend": self.trend.to_dict(),
                "latest": self.latest,
                "label": {"sv": self.label("sv"), "en": self.label("en")},
            }
        )
        return out

    def summary(self) -> str:
        """A few lines for people."""
        lat = self.latest
        if not lat:
            return f"{self.org}: no values"
        return (
            f"{self.org} {lat['year']}: value {lat['value']:.4g}, rank "
            f"{lat['rank']:.0f} of {lat['n']} ({self.label('en')}); "
            + self.trend.summary()
        )


def follow_up(
    df: pd.DataFrame,
    org: str,
    *,
    higher_is_better: bool | None,
    last_n: int = 5,
) -> FollowUp:
    """Compare ``org`` with all organisations in ``df`` (the peer set, ``org`` included).

    Parameters
    ----------
    df
        Long data with columns ``org, year, value``.
    org
        The organisation followed up; it need not have a value in every year.
    higher_is_better
        Direction of the indicator (``None`` if unknown).
    last_n
        Years used for the trend.
    """
    ranks = rank_within_peers(df, higher_is_better=higher_is_better)
    summ = peer_summary(ranks)
    own = ranks.loc[ranks["org"] == org, ["year", "value", "rank", "percentile"]]
    table = summ.merge(own, on="year", how="left")
    table = table[
        [
            "year",
            "value",
            "rank",
            "n",
            "percentile",
            "min",
            "q1",
            "median",
            "q3",
            "max",
            "mean",
        ]
    ].sort_values("year", ignore_index=True)
    return FollowUp(
        org=org,
        higher_is_better=higher_is_better,
        n_peers=int(ranks["org"].nunique()),
        table=table,
        trend=trend(
            table["year"],
            table["value"],
            higher_is_better=higher_is_better,
            last_n=last_n,
        ),
    )
