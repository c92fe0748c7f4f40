"""Reliability maths against slow, obvious loops and simulations with known truth."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from tillit.core.audit import (
    center_by_year,
    mdc,
    random_panel,
    reliability,
    retest_correlation,
)


def slow_icc(x: np.ndarray) -> tuple[float, float, float]:
    """One-way ANOVA ICC(1), ICC(1,k) and MSW by plain loops over groups (NaN skipped)."""
    groups = [[v for v in row if not math.isnan(v)] for row in x]
    groups = [g for g in groups if g]
    allv = [v for g in groups for v in g]
    big_n, a = len(allv), len(groups)
    grand = sum(allv) / big_n
    ssb = sum(len(g) * (sum(g) / len(g) - grand) ** 2 for g in groups)
    ssw = sum((v - sum(g) / len(g)) ** 2 for g in groups for v in g)
    msb, msw = ssb / (a - 1), ssw / (big_n - a)
    n0 = (big_n - sum(len(g) ** 2 for g in groups) / big_n) / (a - 1)
    return (msb - msw) / (msb + (n0 - 1) * msw), (msb - msw) / msb, msw


def test_unbalanced_icc_matches_slow_loop() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(3, 25, 7)) + rng.normal(size=(3, 25, 1))
    x[rng.random(x.shape) < 0.3] = np.nan
    x[0, 3] = np.nan  # a unit with no data
    t = reliability(x, center_years=False)
    for i in range(3):
        icc, icc_k, msw = slow_icc(x[i])
        assert t.loc[i, "icc"] == pytest.approx(icc, rel=1e-10)
        assert t.loc[i, "icc_k"] == pytest.approx(icc_k, rel=1e-10)
        assert t.loc[i, "msw"] == pytest.approx(msw, rel=1e-10)
    assert t.loc[0, "n_units"] == 24


def test_centring_removes_year_means() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 10, 5))
    x[0, 2, 3] = np.nan
    c = center_by_year(x)
    assert np.nanmean(c, axis=1) == pytest.approx(np.zeros((2, 5)), abs=1e-12)
    assert np.isnan(c[0, 2, 3])
    # adding a national trend changes nothing after centring
    trend = np.arange(5.0) * 100
    a = reliability(x, n_treated=3)
    b = reliability(x + trend, n_treated=3)
    assert np.allclose(a["icc"], b["icc"]) and np.allclose(a["mdc"], b["mdc"])


def test_retest_correlation_matches_loop() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(1, 40, 4)) + rng.normal(size=(1, 40, 1))
    x[0, :5, 1] = np.nan
    r, pairs = retest_correlation(x)
    zs, ws = [], []
    for t in range(3):
        a, b = x[0, :, t], x[0, :, t + 1]
        ok = ~np.isnan(a) & ~np.isnan(b)
        zs.append(np.arctanh(stats.pearsonr(a[ok], b[ok])[0]))
        ws.append(ok.sum() - 3)
    assert r[0] == pytest.approx(np.tanh(np.average(zs, weights=ws)))
    assert pairs[0] == 3


def test_mdc_formula() -> None:
    mult = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    assert mdc(2.0, n_treated=10, n_control=40) == pytest.approx(
        mult * 2.0 * math.sqrt(2 * (1 / 10 + 1 / 40))
    )
    assert mdc(2.0, n_treated=10, n_control=40, pre=3, post=3) == pytest.approx(
        mult * 2.0 * math.sqrt((2 / 3) * (1 / 10 + 1 / 40))
    )


def test_icc_recovers_truth_and_ci_covers() -> None:
    """400 indicators (one per seed) with true ICC 0.3, 20% missing: 95% CI coverage."""
    p = random_panel(400, 50, 6, icc=0.3, seed=3, missing=0.2)
    t = reliability(p.values)
    cover = ((t["icc_low"] < 0.3) & (t["icc_high"] > 0.3)).mean()
    margin = 2.58 * math.sqrt(0.95 * 0.05 / 400)
    assert abs(cover - 0.95) < margin
    assert t["icc"].mean() == pytest.approx(0.3, abs=0.02)
    # snr = s2_b / s2_w = 0.3 / 0.7
    assert t["snr"].median() == pytest.approx(0.3 / 0.7, rel=0.15)


def test_icc_p_value_is_uniform_without_signal() -> None:
    p = random_panel(400, 40, 5, icc=0.0, seed=4)
    t = reliability(p.values)
    rate = (t["icc_p"] < 0.05).mean()
    assert rate <= 0.05 + 2.33 * math.sqrt(0.05 * 0.95 / 400)


def test_agrees_with_statsmodels_mixedlm_on_balanced_data() -> None:
    sm = pytest.importorskip("statsmodels.formula.api")
    import pandas as pd

    rng = np.random.default_rng(7)
    b = rng.normal(size=(30, 1)) * 1.5
    y = 3 + b + rng.normal(size=(30, 6))
    df = pd.DataFrame({"y": y.ravel(), "g": np.repeat(np.arange(30), 6)})
    fit = sm.mixedlm("y ~ 1", df, groups=df["g"]).fit(reml=True)
    s2b, s2w = float(fit.cov_re.iloc[0, 0]), float(fit.scale)
    t = reliability(y[None], center_years=False).iloc[0]
    # balanced one-way ANOVA = REML when the estimate is interior
    assert t["var_between"] == pytest.approx(s2b, rel=1e-4)
    assert t["var_within"] == pytest.approx(s2w, rel=1e-4)
    assert t["icc"] == pytest.approx(s2b / (s2b + s2w), rel=1e-4)


def test_degenerate_inputs_give_nan_not_crash() -> None:
    x = np.full((2, 4, 3), np.nan)
    x[1, 0, :] = [1.0, 2.0, 3.0]  # one unit only
    t = reliability(x)
    assert t["icc"].isna().all()
    assert (t["n_units"] == [0, 1]).all()
