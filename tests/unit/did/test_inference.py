"""Bootstrap, uniform bands, adjusted p-values and clustering."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from tillit.core.did import att_gt
from tillit.core.did._inference import adjust_pvalues, bootstrap_se, romano_wolf

KW = {
    "unit": "id",
    "time": "year",
    "cohort": "g",
    "honest": False,
    "compare_controls": False,
}


def test_bootstrap_seeded_and_close_to_analytic(
    sim: Callable[..., pd.DataFrame],
) -> None:
    df = sim(n=200, periods=6, k=1, seed=11)
    a = att_gt(df, outcomes=["y0"], bootstrap=999, seed=5, **KW)["y0"]
    b = att_gt(df, outcomes=["y0"], bootstrap=999, seed=5, **KW)["y0"]
    c = att_gt(df, outcomes=["y0"], **KW)["y0"]
    np.testing.assert_array_equal(a.att_gt.se, b.att_gt.se)
    assert a.dynamic.crit == b.dynamic.crit
    np.testing.assert_allclose(a.att_gt.se, c.att_gt.se, rtol=0.15)
    # the uniform band is wider than the pointwise interval, and covers it
    assert 1.96 < a.att_gt.crit < 4
    assert np.all(a.att_gt.cband_low <= a.att_gt.ci_low + 1e-12)
    assert np.all(np.isnan(c.att_gt.cband_low))


def test_rademacher_option(sim: Callable[..., pd.DataFrame]) -> None:
    df = sim(n=120, periods=5, k=1, seed=12)
    r = att_gt(
        df, outcomes=["y0"], bootstrap=499, seed=1, multiplier="rademacher", **KW
    )
    assert np.isfinite(r["y0"].simple.se[0])


def test_cluster_variable_widens_when_clusters_share_shocks(
    sim: Callable[..., pd.DataFrame],
) -> None:
    df = sim(n=200, periods=6, k=1, seed=13)
    df["region"] = df.id % 20
    # treatment is assigned by region, and regions share period shocks
    g_region = df.groupby("region")["g"].first()
    df["g"] = g_region[df.region].to_numpy()
    shock = np.random.default_rng(0).normal(size=(20, 6)) * 2
    df["y0"] = df.y0 + shock[df.region, df.year - 2001]
    by_unit = att_gt(df, outcomes=["y0"], **KW)["y0"]
    by_region = att_gt(df, outcomes=["y0"], cluster="region", **KW)["y0"]
    assert by_region.simple.estimate[0] == pytest.approx(by_unit.simple.estimate[0])
    assert by_region.simple.se[0] > by_unit.simple.se[0]
    boot = att_gt(df, outcomes=["y0"], cluster="region", bootstrap=999, seed=2, **KW)
    assert boot["y0"].simple.se[0] == pytest.approx(by_region.simple.se[0], rel=0.35)


@pytest.mark.slow
def test_holm_bh_against_statsmodels() -> None:
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    p = np.array([0.001, 0.04, 0.03, 0.2, 0.0125, np.nan])
    got = adjust_pvalues(p)
    ok = np.isfinite(p)
    for ours, sm in (("holm", "holm"), ("bh", "fdr_bh")):
        ref = multitest.multipletests(p[ok], method=sm)[1]
        np.testing.assert_allclose(got[ours][ok], ref, atol=1e-15)
    assert np.isnan(got["holm"][-1])


def test_romano_wolf_independent_equals_sidak_like() -> None:
    rng = np.random.default_rng(0)
    tb = rng.normal(size=(20000, 3))
    t = np.array([3.0, 2.0, 0.5])
    p = romano_wolf(t, tb)
    assert p[0] <= p[1] <= p[2]
    # first step: max of 3 independent |N(0,1)| exceeds 3
    assert p[0] == pytest.approx(1 - (1 - 2 * 0.0013499) ** 3, abs=0.004)
    # last step: only itself remains
    assert p[2] == pytest.approx(0.617, abs=0.02)


@pytest.mark.parametrize("reps", [10, 49, 99, 100, 999, 1000, 1999])
def test_bootstrap_se_is_r_type1_iqr(reps: int) -> None:
    """IQR / normal IQR with R's quantile(type = 1), computed the slow way with numpy."""
    from scipy import stats

    rng = np.random.default_rng(reps)
    draws = rng.normal(size=(reps, 7, 3)) * np.array([1.0, 2.0, 0.5])
    draws[3, 2, 1] = np.nan
    draws[:, 4, 0] = 0.0  # degenerate column
    q = np.quantile(draws, [0.25, 0.75], axis=0, method="inverted_cdf")
    slow = (q[1] - q[0]) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25))
    slow = np.where(slow <= np.sqrt(np.finfo(float).eps) * 10, np.nan, slow)
    got = bootstrap_se(draws)
    assert got.shape == (7, 3)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(slow))
    assert np.isnan(got[2, 1]) and np.isnan(got[4, 0])
    np.testing.assert_allclose(got, slow, rtol=1e-15, equal_nan=True)
