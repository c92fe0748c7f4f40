"""Bad input is a clear DataError/EstimationError naming the problem."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from tillit.core.did import att_gt
from tillit.core.errors import DataError, EstimationError

KW = {"unit": "id", "time": "year", "cohort": "g", "compare_controls": False}


def test_missing_column(sim: Callable[..., pd.DataFrame]) -> None:
    with pytest.raises(DataError, match=r"missing column.*nope") as err:
        att_gt(sim(), outcomes=["nope"], **KW)
    assert err.value.field == "nope"


def test_unit_with_two_cohorts(sim: Callable[..., pd.DataFrame]) -> None:
    df = sim()
    df.loc[(df.id == 7) & (df.year == 2003), "g"] = 2005
    df.loc[(df.id == 7) & (df.year != 2003), "g"] = 2007
    with pytest.raises(DataError, match="unit 7 has two cohorts"):
        att_gt(df, outcomes=["y0"], **KW)


def test_duplicate_rows(sim: Callable[..., pd.DataFrame]) -> None:
    df = sim()
    df = pd.concat([df, df.iloc[[5]]])
    with pytest.raises(DataError, match="two rows for period"):
        att_gt(df, outcomes=["y0"], **KW)


def test_non_numeric_outcome(sim: Callable[..., pd.DataFrame]) -> None:
    df = sim()
    df["y0"] = df["y0"].astype(object)
    df.loc[3, "y0"] = "n/a"
    with pytest.raises(DataError, match="not a number") as err:
        att_gt(df, outcomes=["y0"], **KW)
    assert err.value.row == 4


def test_no_never_treated(sim: Callable[..., pd.DataFrame]) -> None:
    df = sim(never_share=0.0)
    with pytest.raises(EstimationError, match="no never-treated units"):
        att_gt(df, outcomes=["y0"], control="never", **KW)
    res = att_gt(df, outcomes=["y0"], control="notyet", **KW)
    assert any("no never-treated" in n for n in res.notes)
    assert res.n_periods < df.year.nunique()


def test_too_few_clusters_for_bootstrap(sim: Callable[..., pd.DataFrame]) -> None:
    df = sim()
    df["region"] = df.id % 4
    with pytest.raises(EstimationError, match="only 4 clusters"):
        att_gt(df, outcomes=["y0"], cluster="region", bootstrap=99, **KW)


def test_no_treated_units(sim: Callable[..., pd.DataFrame]) -> None:
    df = sim()
    df["g"] = 0
    with pytest.raises(EstimationError, match="no treated units"):
        att_gt(df, outcomes=["y0"], **KW)


def test_unbalanced_panel_dropped_and_reported(
    sim: Callable[..., pd.DataFrame],
) -> None:
    df = sim(n=80)
    df = df.drop(index=df.index[(df.id == 2) & (df.year == 2004)])
    res = att_gt(df, outcomes=["y0"], **KW)
    assert res.n_units == 79
    assert any("not observed in every period" in n for n in res.notes)


def test_early_and_late_cohorts(sim: Callable[..., pd.DataFrame]) -> None:
    df = sim(n=80)
    df.loc[df.id == 1, "g"] = 2001  # treated in the first period: dropped
    df.loc[df.id == 2, "g"] = 2050  # after the panel: never treated
    res = att_gt(df, outcomes=["y0"], **KW)
    assert res.n_units == 79
    assert any("after the last period" in n for n in res.notes)


def test_bad_options(sim: Callable[..., pd.DataFrame]) -> None:
    with pytest.raises(EstimationError, match="unknown method"):
        att_gt(sim(), outcomes=["y0"], method="ols", **KW)
    with pytest.raises(EstimationError, match="base_period"):
        att_gt(sim(), outcomes=["y0"], base_period="first", **KW)
    with pytest.raises(EstimationError, match="unknown control"):
        att_gt(sim(), outcomes=["y0"], control="all", **KW)


def test_nan_cohort_means_never(sim: Callable[..., pd.DataFrame]) -> None:
    df = sim(n=80)
    a = att_gt(df, outcomes=["y0"], **KW)["y0"]
    df["g"] = df["g"].replace(0, np.nan)
    b = att_gt(df, outcomes=["y0"], **KW)["y0"]
    np.testing.assert_array_equal(a.att_gt.estimate, b.att_gt.estimate)
