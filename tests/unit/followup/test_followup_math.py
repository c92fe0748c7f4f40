"""Follow-up maths against slow, obvious loop implementations."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from tillit.core.followup import (
    follow_up,
    gender_gap,
    peer_summary,
    position_label,
    rank_within_peers,
    trend,
    trends,
)


def _slow_rank(values: list[float], hib: bool | None) -> list[tuple[float, float]]:
    """Competition rank (1 = best) and tie-halved percentile, by plain loops."""
    valid = [v for v in values if not math.isnan(v)]
    out = []
    for v in values:
        if math.isnan(v):
            out.append((math.nan, math.nan))
            continue
        better = sum(1 for w in valid if (w > v if hib is not False else w < v))
        worse = sum(1 for w in valid if (w < v if hib is not False else w > v))
        ties = sum(1 for w in valid if w == v) - 1
        pct = (
            100 * (worse + 0.5 * ties) / (len(valid) - 1)
            if len(valid) > 1
            else math.nan
        )
        out.append((1.0 + better, pct))
    return out


values_strategy = st.lists(
    st.one_of(
        st.sampled_from([1.0, 2.0, 2.0, 3.5]), st.just(math.nan), st.floats(-5, 5)
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=80, deadline=None)
@given(values=values_strategy, hib=st.sampled_from([True, False, None]))
def test_rank_and_percentile_match_loops(values: list[float], hib: bool | None) -> None:
    df = pd.DataFrame(
        {"org": [f"o{i}" for i in range(len(values))], "year": 2020, "value": values}
    )
    got = rank_within_peers(df, higher_is_better=hib).set_index("org")
    for i, (r, p) in enumerate(_slow_rank(values, hib)):
        row = got.loc[f"o{i}"]
        assert (math.isnan(r) and math.isnan(row["rank"])) or row["rank"] == r
        assert (math.isnan(p) and math.isnan(row["percentile"])) or row[
            "percentile"
        ] == pytest.approx(p)
    assert (got["n"] == sum(not math.isnan(v) for v in values)).all()


def test_ranks_are_per_year_and_direction_matters() -> None:
    df = pd.DataFrame(
        {
            "org": ["a", "b", "c", "a", "b", "c"],
            "year": [2020, 2020, 2020, 2021, 2021, 2021],
            "value": [1.0, 2.0, 3.0, 3.0, 2.0, 1.0],
        }
    )
    hi = rank_within_peers(df, higher_is_better=True)
    lo = rank_within_peers(df, higher_is_better=False)
    a20 = hi[(hi.org == "a") & (hi.year == 2020)].iloc[0]
    assert (a20["rank"], a20["percentile"]) == (3.0, 0.0)
    a20 = lo[(lo.org == "a") & (lo.year == 2020)].iloc[0]
    assert (a20["rank"], a20["percentile"]) == (1.0, 100.0)
    a21 = hi[(hi.org == "a") & (hi.year == 2021)].iloc[0]
    assert a21["rank"] == 1.0


def test_peer_summary_matches_numpy_per_year() -> None:
    rng = np.random.default_rng(1)
    df = pd.DataFrame(
        {"year": np.repeat([2019, 2020, 2021], 50), "value": rng.normal(size=150)}
    )
    df.loc[[3, 70], "value"] = np.nan
    got = peer_summary(df).set_index("year")
    for y, g in df.groupby("year"):
        v = g["value"].dropna().to_numpy()
        assert got.loc[y, "n"] == len(v)
        assert got.loc[y, "median"] == pytest.approx(np.median(v))
        assert got.loc[y, "q1"] == pytest.approx(np.quantile(v, 0.25))
        assert got.loc[y, "q3"] == pytest.approx(np.quantile(v, 0.75))
        assert got.loc[y, "min"] == v.min() and got.loc[y, "max"] == v.max()


def test_trend_matches_scipy_linregress() -> None:
    years = np.arange(2010, 2021)
    vals = 3.0 + 0.4 * (years - 2010) + np.sin(years)
    t = trend(years, vals, higher_is_better=False, last_n=6)
    ref = stats.linregress(years[-6:], vals[-6:])
    assert t.slope == pytest.approx(ref.slope, rel=1e-10)
    assert t.se == pytest.approx(ref.stderr, rel=1e-10)
    assert t.p_value == pytest.approx(ref.pvalue, rel=1e-8)
    assert (t.n, t.first_year, t.last_year) == (6, 2015, 2020)
    assert t.direction == "worsening"  # rising, but lower is better
    assert t.words("sv") == "försämras"


def test_trend_edge_cases() -> None:
    assert trend([2020, 2021], [1.0, 2.0], higher_is_better=True).direction == (
        "insufficient"
    )
    assert trend([], [], higher_is_better=True).n == 0
    flat = trend([2018, 2019, 2020, 2021], [1.0, 1.2, 0.8, 1.0], higher_is_better=True)
    assert flat.direction == "stable"
    exact = trend([2018, 2019, 2020], [1.0, 2.0, 3.0], higher_is_better=None)
    assert exact.direction == "increasing" and exact.se == 0.0
    assert trend([2019, 2020, 2021], [1.0, np.nan, 3.0], higher_is_better=True).n == 2


def test_trends_per_key_with_directions() -> None:
    rng = np.random.default_rng(3)
    rows = []
    for k, slope in [("a", 1.0), ("b", -1.0), ("c", 0.0)]:
        for y in range(2000, 2010):
            rows.append((k, y, slope * y + rng.normal(0, 0.01)))
    df = pd.DataFrame(rows, columns=["k", "year", "value"])
    hib = pd.Series({"a": True, "b": True, "c": None})
    got = trends(df, key="k", higher_is_better=hib, last_n=5)
    assert got.loc["a", "direction"] == "improving"
    assert got.loc["b", "direction"] == "worsening"
    ref = stats.linregress(range(2005, 2010), df[df.k == "b"]["value"].to_numpy()[-5:])
    assert got.loc["b", "slope"] == pytest.approx(ref.slope)
    assert got.loc["b", "se"] == pytest.approx(ref.stderr)


def test_position_labels() -> None:
    assert position_label(75, higher_is_better=True) == "bland de 25 % bästa"
    assert (
        position_label(25, higher_is_better=False, lang="en") == "among the worst 25%"
    )
    assert position_label(50, higher_is_better=True, lang="en") == "in the middle half"
    assert position_label(math.nan, higher_is_better=True) == "okänd position"
    assert (
        position_label(90, higher_is_better=None, lang="en") == "among the highest 25%"
    )


def test_gender_gap() -> None:
    df = pd.DataFrame(
        {
            "year": [2020, 2020, 2020, 2021, 2021],
            "gender": ["T", "K", "M", "K", "M"],
            "value": [5.0, 6.0, 4.0, 3.0, 0.0],
        }
    )
    got = gender_gap(df).set_index("year")
    assert got.loc[2020, "gap"] == 2.0 and got.loc[2020, "ratio"] == 1.5
    assert math.isnan(got.loc[2021, "ratio"]) and math.isnan(got.loc[2021, "T"])


def test_follow_up_bundles_everything() -> None:
    rng = np.random.default_rng(5)
    orgs = [f"{i:04d}" for i in range(30)]
    df = pd.DataFrame(
        [
            (o, y, rng.normal() + (2.0 if o == "0000" else 0))
            for o in orgs
            for y in range(2015, 2021)
        ],
        columns=["org", "year", "value"],
    )
    df = df[~((df.org == "0000") & (df.year == 2020))]
    fu = follow_up(df, "0000", higher_is_better=True)
    assert fu.n_peers == 30 and len(fu.table) == 6
    assert math.isnan(fu.table.iloc[-1]["value"])
    assert fu.latest["year"] == 2019
    assert fu.latest["percentile"] > 75 and fu.label("en") == "among the best 25%"
    d = fu.to_dict()
    assert set(d) == {
        "org",
        "higher_is_better",
        "n_peers",
        "years",
        "trend",
        "latest",
        "label",
    }
    assert d["years"][-1]["value"] is None  # strict JSON
    assert "0000 2019" in fu.summary()


@settings(max_examples=60, deadline=None)
@given(
    ys=st.lists(
        st.one_of(st.floats(-100, 100), st.just(math.nan)), min_size=0, max_size=12
    ),
    last_n=st.integers(1, 8),
    hib=st.sampled_from([True, False, None]),
)
def test_single_trend_agrees_with_the_grouped_version(
    ys: list[float], last_n: int, hib: bool | None
) -> None:
    years = list(range(2000, 2000 + len(ys)))
    one = trend(years, ys, higher_is_better=hib, last_n=last_n)
    many = trends(
        pd.DataFrame({"k": "a", "year": years, "value": ys}),
        key="k",
        higher_is_better=hib,
        last_n=last_n,
    )
    if many.empty:
        assert one.n == 0
        return
    row = many.loc["a"]
    assert one.n == row["n"] and one.direction == row["direction"]
    for got, want in (
        (one.slope, row["slope"]),
        (one.se, row["se"]),
        (one.p_value, row["p_value"]),
    ):
        if math.isnan(want):
            assert math.isnan(got)
        else:
            assert got == pytest.approx(want, rel=1e-6, abs=1e-9)
