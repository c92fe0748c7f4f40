"""Redundancy and validity against obvious computations, planted truth and null rates."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tillit.core.audit import (
    adjust_pvalues,
    center_by_year,
    pairwise_corr,
    random_panel,
    redundancy,
    unique_share,
    validity,
)

MARGIN = 2.33  # one-sided 99% binomial margin on a nominal 5% rate


def test_pairwise_corr_matches_pandas() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(5, 60)) * [[1], [10], [1000], [0.01], [3]] + 1e5
    a[1] += 0.5 * a[0]
    a[rng.random(a.shape) < 0.25] = np.nan
    r, n = pairwise_corr(a, min_n=3)
    ref = pd.DataFrame(a.T).corr(min_periods=3).to_numpy()
    assert np.allclose(r, ref, atol=1e-9)
    mask = np.isfinite(a).astype(int)
    assert (n == mask @ mask.T).all()


def test_unique_share_is_one_minus_r2_of_ols() -> None:
    rng = np.random.default_rng(1)
    z = rng.normal(size=(200, 4))
    z[:, 3] = z[:, 0] - z[:, 1] + 0.5 * rng.normal(size=200)
    r = np.corrcoef(z.T)
    u = unique_share(r)
    for i in range(4):
        others = np.column_stack([np.ones(200), np.delete(z, i, axis=1)])
        beta, *_ = np.linalg.lstsq(others, z[:, i], rcond=None)
        resid = z[:, i] - others @ beta
        r2 = 1 - resid.var() / z[:, i].var()
        assert u[i] == pytest.approx(1 - r2, rel=1e-8)


def test_redundancy_finds_planted_pair_and_nothing_else() -> None:
    p = random_panel(12, 290, 15, icc=0.5, seed=2)
    x = p.values.copy()
    x[11] = 3 * x[10] + 5 + np.random.default_rng(3).normal(size=x[10].shape)
    red = redundancy(x, p.indicators, threshold=0.8)
    pairs = red.pairs()
    assert len(pairs) == 1
    assert set(pairs.iloc[0][["indicator_a", "indicator_b"]]) == {"I10", "I11"}
    assert red.unique[10] < 0.1 and red.unique[11] < 0.1
    assert (red.unique[:10] > 0.9).all()
    assert red.shrinkage == 0.0  # 12 indicators, 290 units: plain adjusted 1 - R^2
    cl = red.clusters
    assert cl[10] == cl[11] and len(set(cl[:10])) == 10 and cl[10] not in set(cl[:10])
    assert red.r_within[10, 11] > 0.9


def test_redundancy_with_more_indicators_than_units_shrinks() -> None:
    p = random_panel(80, 40, 6, icc=0.6, seed=4)
    red = redundancy(p.values, p.indicators)
    assert 0 < red.shrinkage <= 1
    assert np.isfinite(red.unique).all() and (red.unique > 0).all()


def test_adjust_pvalues_bh_and_holm() -> None:
    p = np.array([0.01, 0.04, 0.03, np.nan, 0.005])
    bh = adjust_pvalues(p, "bh")
    # by hand: sorted .005 .01 .03 .04 (m=4): .02 .02 .04 .04
    assert np.allclose(bh[[4, 0, 2, 1]], [0.02, 0.02, 0.04, 0.04]) and np.isnan(bh[3])
    holm = adjust_pvalues(p, "holm")
    assert np.allclose(holm[[4, 0, 2, 1]], [0.02, 0.03, 0.06, 0.06])
    sm = pytest.importorskip("statsmodels.stats.multitest")
    ok = ~np.isnan(p)
    assert np.allclose(bh[ok], sm.multipletests(p[ok], method="fdr_bh")[1])
    assert np.allclose(holm[ok], sm.multipletests(p[ok], method="holm")[1])


def _panel_with_criterion(seed: int, beta_b: float, beta_w: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    b = rng.normal(size=(290, 1))
    e = rng.normal(size=(290, 12))
    ind = b + e
    crit = (
        beta_b * b + beta_w * e + rng.normal(size=(290, 1)) + rng.normal(size=(290, 12))
    )
    return np.stack([ind, crit])


def test_validity_between_matches_pearson_and_fisher_ci() -> None:
    x = center_by_year(_panel_with_criterion(0, 0.5, 0.0))
    v = validity(x[:1], ("ind",), x[1:], ("crit",))
    row = v[v["level"] == "between"].iloc[0]
    mi, mc = x[0].mean(axis=1), x[1].mean(axis=1)
    r, p = stats.pearsonr(mi, mc)
    assert row["r"] == pytest.approx(r) and row["p_value"] == pytest.approx(p)
    half = stats.norm.ppf(0.975) / math.sqrt(290 - 3)
    assert row["ci_low"] == pytest.approx(math.tanh(math.atanh(r) - half))
    within = v[v["level"] == "within"].iloc[0]
    assert abs(within["r"]) < 0.1 and within["p_value"] > 0.01


def test_validity_within_matches_demeaned_loop() -> None:
    x = center_by_year(_panel_with_criterion(1, 0.0, 0.6))
    x[0, :10, 3] = np.nan
    v = validity(x[:1], ("ind",), x[1:], ("crit",))
    row = v[v["level"] == "within"].iloc[0]
    a, c = [], []
    for u in range(290):
        ok = ~np.isnan(x[0, u]) & ~np.isnan(x[1, u])
        a += list(x[0, u, ok] - x[0, u, ok].mean())
        c += list(x[1, u, ok] - x[1, u, ok].mean())
    assert row["r"] == pytest.approx(np.corrcoef(a, c)[0, 1], rel=1e-9)
    assert row["p_value"] < 1e-6 and row["ci_low"] < row["r"] < row["ci_high"]
    between = v[v["level"] == "between"].iloc[0]
    assert between["p_value"] > 0.001


@pytest.mark.slow
def test_validity_false_positive_rate_over_200_seeds() -> None:
    """200 independent (indicator, criterion) pairs, no association: rejection <= 5% + margin."""
    ind = random_panel(200, 290, 12, icc=0.5, seed=10)
    crit = random_panel(200, 290, 12, icc=0.5, seed=11)
    x, c = center_by_year(ind.values), center_by_year(crit.values)
    v = pd.concat(
        [validity(x[i : i + 1], ("I",), c[i : i + 1], ("C",)) for i in range(200)]
    )
    bound = 0.05 + MARGIN * math.sqrt(0.05 * 0.95 / 200)
    for level in ("between", "within"):
        rate = (v[v["level"] == level]["p_value"] < 0.05).mean()
        assert rate <= bound, (level, rate)
    # and the within test is not wildly conservative either
    assert (v[v["level"] == "within"]["p_value"] < 0.05).mean() > 0.01
