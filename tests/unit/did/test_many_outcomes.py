"""K outcomes in one call equal K separate calls; degenerate outcomes do not stop the rest."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from tillit.core.did import att_gt
from tillit.core.errors import EstimationError

KW = {"unit": "id", "time": "year", "cohort": "g", "honest": False}


@pytest.mark.parametrize("covariates", [[], ["x"]])
def test_vectorised_equals_one_by_one(
    sim: Callable[..., pd.DataFrame], covariates: list[str]
) -> None:
    df = sim(n=100, periods=6, k=4, seed=1)
    names = [f"y{j}" for j in range(4)]
    many = att_gt(
        df, outcomes=names, covariates=covariates, bootstrap=199, seed=7, **KW
    )
    for name in names:
        one = att_gt(
            df, outcomes=[name], covariates=covariates, bootstrap=199, seed=7, **KW
        )[name]
        got = many[name]
        np.testing.assert_allclose(got.att_gt.estimate, one.att_gt.estimate, atol=1e-12)
        np.testing.assert_allclose(got.dynamic.se, one.dynamic.se, rtol=1e-10)
        assert got.dynamic.crit == pytest.approx(one.dynamic.crit, rel=1e-12)
        assert got.diagnostics["comparison_group"]["estimate"] == pytest.approx(
            one.diagnostics["comparison_group"]["estimate"], abs=1e-12
        )


def test_degenerate_outcomes_reported(sim: Callable[..., pd.DataFrame]) -> None:
    df = sim(n=80, periods=5, k=2, seed=2)
    df["empty"] = np.nan
    df["flat"] = 3.0
    res = att_gt(df, outcomes=["y0", "empty", "flat", "y1"], **KW)
    assert list(res.outcomes) == ["y0", "y1"]
    assert "missing" in res.degenerate["empty"]
    assert "constant" in res.degenerate["flat"]
    d = res.to_dict()
    assert set(d["degenerate"]) == {"empty", "flat"}
    with pytest.raises(EstimationError, match="no outcome could be estimated"):
        att_gt(df, outcomes=["empty", "flat"], **KW)


def test_missing_values_use_that_outcomes_units(
    sim: Callable[..., pd.DataFrame],
) -> None:
    df = sim(n=90, periods=5, k=2, seed=4)
    holes = df.id.isin([3, 10, 11]) & (df.year == 2003)
    df.loc[holes, "y1"] = np.nan
    res = att_gt(df, outcomes=["y0", "y1"], **KW)
    alone = att_gt(df[~df.id.isin([3, 10, 11])], outcomes=["y1"], **KW)["y1"]
    np.testing.assert_allclose(
        res["y1"].att_gt.estimate, alone.att_gt.estimate, atol=1e-12
    )
    np.testing.assert_allclose(res["y1"].simple.se, alone.simple.se, rtol=1e-12)
    assert res["y1"].n_units == 87 and res["y0"].n_units == 90


def test_multiple_testing_shapes(sim: Callable[..., pd.DataFrame]) -> None:
    df = sim(n=100, periods=6, k=3, seed=8, effect=0.0)
    df["y2"] = df["y2"] + 1.0 * ((df.g > 0) & (df.year >= df.g))
    res = att_gt(df, outcomes=["y0", "y1", "y2"], bootstrap=499, seed=3, **KW)
    mt = res.multiple_testing
    p, holm, bh, rw = (
        np.asarray(mt[k]) for k in ("p_value", "holm", "bh", "romano_wolf")
    )
    assert np.all(holm >= p - 1e-15) and np.all(bh >= p - 1e-15)
    assert np.all(bh <= holm + 1e-15)
    assert np.all(np.isfinite(rw)) and rw[2] < 0.01
    assert np.all(rw <= np.minimum(1, 3 * np.maximum(p, 1 / 499)) + 0.05)


@pytest.mark.parametrize("control", ["never", "notyet"])
def test_sufficient_statistics_path_equals_influence_path(
    sim: Callable[..., pd.DataFrame], control: str
) -> None:
    """Unconditional, unit-clustered fits use cohort sums; clustering on a copy of the
    unit column forces the per-unit influence path: both must agree."""
    df = sim(n=90, periods=6, k=3, seed=31)
    df["unit_copy"] = df["id"]
    names = ["y0", "y1", "y2"]
    kw = {
        **KW,
        "honest": True,
        "control": control,
        "bootstrap": 99,
        "seed": 4,
        "keep_influence": True,
        "compare_controls": False,
    }
    fast = att_gt(df, outcomes=names, **kw)
    slow = att_gt(df, outcomes=names, cluster="unit_copy", **kw)
    for name in names:
        a, b = fast[name], slow[name]
        for tab in (
            "att_gt",
            "simple",
            "group",
            "calendar",
            "dynamic",
            "dynamic_overall",
        ):
            ta, tb = getattr(a, tab), getattr(b, tab)
            np.testing.assert_allclose(ta.estimate, tb.estimate, atol=1e-12)
            np.testing.assert_allclose(ta.se, tb.se, rtol=1e-9)
            np.testing.assert_allclose(
                ta.cband_low, tb.cband_low, rtol=1e-9, atol=1e-12
            )
        np.testing.assert_allclose(a.influence, b.influence, atol=1e-9)
        se_a = a.diagnostics["se_analytic"]["att_gt"]
        np.testing.assert_allclose(
            se_a, b.diagnostics["se_analytic"]["att_gt"], rtol=1e-9
        )
        pa, pb = a.diagnostics["pretrend"], b.diagnostics["pretrend"]
        assert pa["statistic"] == pytest.approx(pb["statistic"], rel=1e-9)
        ha, hb = a.diagnostics["honest"], b.diagnostics["honest"]
        assert ha["se"] == pytest.approx(hb["se"], rel=1e-9)
    ra, rb = fast.multiple_testing["romano_wolf"], slow.multiple_testing["romano_wolf"]
    np.testing.assert_allclose(ra, rb)


def test_bootstrap_with_dropped_units_equals_influence_path(
    sim: Callable[..., pd.DataFrame],
) -> None:
    """Units dropped for a missing value keep their column of multipliers but add
    nothing: the cohort-block bootstrap equals the per-unit path, and the outcome with
    no gaps is unaffected by the other's gaps."""
    df = sim(n=120, periods=6, k=2, seed=8)
    df.loc[df.sample(25, random_state=3).index, "y1"] = np.nan
    df["unit_copy"] = df["id"]
    kw = {**KW, "bootstrap": 99, "seed": 6, "compare_controls": False}
    fast = att_gt(df, outcomes=["y0", "y1"], **kw)
    slow = att_gt(df, outcomes=["y0", "y1"], cluster="unit_copy", **kw)
    alone = att_gt(df, outcomes=["y0"], **kw)
    assert fast["y1"].n_units < fast["y0"].n_units == 120
    for name in ("y0", "y1"):
        a, b = fast[name], slow[name]
        np.testing.assert_allclose(a.att_gt.se, b.att_gt.se, rtol=1e-9)
        np.testing.assert_allclose(a.dynamic.cband_low, b.dynamic.cband_low, rtol=1e-9)
    np.testing.assert_allclose(fast["y0"].att_gt.se, alone["y0"].att_gt.se, rtol=1e-12)
