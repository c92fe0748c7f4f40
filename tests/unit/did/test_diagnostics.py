"""Diagnostics by hand: Wald test, balance, honest-DiD intervals, verdicts."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from tillit.core.did import _diagnostics as diag


def test_pretrend_wald_by_hand() -> None:
    att = np.array([0.1, -0.2])
    v = np.array([[0.01, 0.002], [0.002, 0.02]])
    w = diag.pretrend_wald(att, v)
    stat = att @ np.linalg.inv(v) @ att
    assert w["statistic"] == pytest.approx(stat, rel=1e-12)
    assert w["p_value"] == pytest.approx(stats.chi2.sf(stat, 2), rel=1e-12)
    many = diag.pretrend_wald_many(np.stack([att, 2 * att]), np.stack([v, v]))
    assert many[1]["statistic"] == pytest.approx(4 * stat, rel=1e-12)
    assert diag.pretrend_wald(np.zeros(0), np.zeros((0, 0)))["p_value"] is None


def test_balance_standardised_difference() -> None:
    vals = np.array([[1.0], [2.0], [3.0], [5.0], [7.0], [9.0]])
    treated = np.array([True, True, True, False, False, False])
    b = diag.balance(vals, treated, ~treated, ["x"])[0]
    d = (2.0 - 7.0) / np.sqrt((1.0 + 4.0) / 2)
    assert b["std_diff"] == pytest.approx(d) and b["flag"]


def test_honest_smoothness_m0_is_linear_extrapolation() -> None:
    # universal base: event times -3, -2, (-1 is the reference), 0, 1
    e = np.array([-3.0, -2.0, 0.0, 1.0])
    beta = np.array([-0.2, -0.1, 0.5, 0.7])
    v = np.eye(4) * 0.01
    h = diag.honest_bounds(e, beta, v, base_period="universal", m=(0.0, 0.1))
    slope = 0.0 - beta[1]  # delta_-1 - delta_-2
    want = beta[2:].mean() - np.mean([1, 2]) * slope
    sd0 = h["smoothness"][0]
    assert sd0["estimate"] == pytest.approx(want)
    lin = np.array([0, 1.5, 0.5, 0.5])  # coefficients of the estimator on beta
    se = np.sqrt(lin @ v @ lin)
    assert sd0["ci_high"] - sd0["estimate"] == pytest.approx(1.959964 * se, rel=1e-5)
    # relative magnitudes at Mbar = 0 is the plain interval of the post average
    rm0 = h["relative_magnitudes"][0]
    se_post = np.sqrt(0.01 / 2)
    assert rm0["ci_low"] == pytest.approx(0.6 - 1.959964 * se_post, rel=1e-5)
    assert h["breakdown_mbar"] is not None


def test_folded_normal_critical_value() -> None:
    assert diag._folded_cv(0.0, 0.05) == pytest.approx(1.959964, rel=1e-6)
    c = diag._folded_cv(2.0, 0.05)
    assert stats.norm.cdf(c - 2) - stats.norm.cdf(-c - 2) == pytest.approx(0.95)


def test_verdicts_do_not_overstate() -> None:
    v = diag.verdict("y", 0.1, -0.05, 0.25, 0.95, 0.5, None)
    assert "consistent with no effect" in v["en"] and "excludes" not in v["en"]
    assert "förenliga med ingen effekt" in v["sv"]
    assert "does not prove" in v["en"] and "bevisar inte" in v["sv"]
    v = diag.verdict("y", -0.3, -0.5, -0.1, 0.95, 0.01, 0.0)
    assert "a decrease" in v["en"] and "weakens" in v["en"]
    assert "exact parallel trends" in v["en"]
    v = diag.verdict("y", float("nan"), float("nan"), float("nan"), 0.95, None, None)
    assert "no conclusion" in v["en"]
