"""Meta-analysis units: batch equals one-at-a-time, missing studies, PM, errors, shapes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from tillit.core.errors import DataError, EstimationError
from tillit.core.meta import (
    log_odds_ratio,
    log_risk_ratio,
    meta_analysis,
    meta_analysis_many,
    meta_by_group,
    standardised_mean_difference,
)


def _studies(k: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    v = rng.uniform(0.02, 0.5, size=k)
    y = 0.3 + rng.normal(size=k) * 0.3 + rng.normal(size=k) * np.sqrt(v)
    return y, v


@pytest.mark.parametrize("method", ["reml", "dl", "fe", "ml", "pm", "he"])
@pytest.mark.parametrize("hk", [False, True])
def test_batch_equals_single(method: str, hk: bool) -> None:
    ys, vs = zip(*(_studies(8, s) for s in range(6)), strict=True)
    y, v = np.array(ys), np.array(vs)
    y[2, 5:] = np.nan  # a row with 5 studies
    b = meta_analysis_many(y, v, method=method, hartung_knapp=hk)
    for i in range(6):
        ok = np.isfinite(y[i])
        r = meta_analysis(y[i, ok], v[i, ok], method=method, hartung_knapp=hk)
        assert b.estimate[i] == pytest.approx(r.estimate.estimate, rel=1e-9, abs=1e-12)
        assert b.se[i] == pytest.approx(r.estimate.se, rel=1e-9)
        assert b.tau2[i] == pytest.approx(r.tau2, rel=1e-7, abs=1e-12)
        assert b.pi_low[i] == pytest.approx(r.prediction[0], rel=1e-9)
        assert b.i2[i] == pytest.approx(r.i2, rel=1e-9, abs=1e-9)
        if method != "fe":
            assert b.tau2_ci_high[i] == pytest.approx(r.tau2_ci[1], rel=1e-8)
    assert b.k.tolist() == [8, 8, 5, 8, 8, 8]


def test_batch_rows_with_too_few_studies_are_nan() -> None:
    y = np.array([[0.1, 0.2, 0.3], [0.5, np.nan, np.nan]])
    b = meta_analysis_many(y, np.full_like(y, 0.1))
    assert np.isfinite(b.estimate[0]) and np.isnan(b.estimate[1])
    assert b.to_dict()["results"][1]["estimate"] is None


def test_meta_by_group() -> None:
    y, v = _studies(12)
    df = pd.DataFrame({"y": y, "v": v, "g": ["a", "b", "c"] * 4})
    b = meta_by_group(df, "y", "v", "g", method="dl")
    r = meta_analysis(y[1::3], v[1::3], method="dl")
    assert b.names == ("a", "b", "c")
    assert b.estimate[1] == pytest.approx(r.estimate.estimate, rel=1e-12)


def test_pm_solves_generalised_q_and_ml_maximises() -> None:
    y, v = _studies(15, 3)
    r = meta_analysis(y, v, method="pm")
    w = 1 / (v + r.tau2)
    mu = np.sum(w * y) / w.sum()
    assert np.sum(w * (y - mu) ** 2) == pytest.approx(14, rel=1e-8)

    def nll(t: float) -> float:
        w = 1 / (v + t)
        mu = np.sum(w * y) / w.sum()
        return 0.5 * (np.log(v + t).sum() + np.sum(w * (y - mu) ** 2))

    opt = optimize.minimize_scalar(
        nll, bounds=(0, 5), method="bounded", options={"xatol": 1e-12}
    )
    assert meta_analysis(y, v, method="ml").tau2 == pytest.approx(opt.x, rel=1e-5)


def test_homogeneous_data_gives_zero_tau2() -> None:
    v = np.full(10, 0.1)
    y = np.linspace(-0.01, 0.01, 10)
    r = meta_analysis(y, v)
    assert r.tau2 == 0.0 and r.i2 == 0.0 and r.tau2_ci == (0.0, 0.0)
    assert r.estimate.estimate == pytest.approx(0.0, abs=1e-12)


def test_se_input_and_errors() -> None:
    y, v = _studies()
    a = meta_analysis(y, v)
    b = meta_analysis(y, se=np.sqrt(v))
    assert a.estimate.estimate == pytest.approx(b.estimate.estimate, rel=1e-12)
    with pytest.raises(DataError):
        meta_analysis(y, v, se=v)
    with pytest.raises(DataError, match="positive"):
        meta_analysis(y, np.r_[v[:-1], 0.0])
    with pytest.raises(DataError, match="row 2"):
        meta_analysis(np.r_[y[0], np.nan, y[2:]], v)
    with pytest.raises(EstimationError):
        meta_analysis([0.1], [0.1])
    with pytest.raises(EstimationError, match="collinear"):
        meta_analysis(y, v, moderators=np.ones(len(y)))
    with pytest.raises(DataError, match="method"):
        meta_analysis(y, v, method="bayes")
    with pytest.raises(DataError, match="labels"):
        meta_analysis(y, v, labels=["a"])


def test_result_shapes_and_plot() -> None:
    y, v = _studies()
    r = meta_analysis(y, v, moderators=pd.DataFrame({"x": np.arange(10.0)}))
    d = r.to_dict()
    for key in (
        "estimate",
        "se",
        "ci_low",
        "ci_high",
        "tau2",
        "i2",
        "q",
        "q_p",
        "pi_low",
        "pi_high",
        "coefficients",
        "qm",
        "r2",
        "studies",
    ):
        assert key in d
    assert d["pi_low"] is None  # no single prediction interval for a meta-regression
    assert list(r.tidy().term) == ["intrcpt", "x"]
    assert "QM(df = 1)" in r.summary()
    import matplotlib

    matplotlib.use("Agg")
    assert r.plot() is not None
    assert meta_analysis(y, v).plot() is not None


def test_effect_sizes() -> None:
    y, v = log_risk_ratio([10, 0], [90, 50], [20, 5], [80, 45])
    assert y[0] == pytest.approx(np.log(0.1 / 0.2))
    assert v[0] == pytest.approx(1 / 10 - 1 / 100 + 1 / 20 - 1 / 100)
    assert np.isfinite(y[1])  # zero cell: 0.5 added
    lo, lv = log_odds_ratio([10], [90], [20], [80])
    assert lo[0] == pytest.approx(np.log(10 * 80 / (90 * 20)))
    assert lv[0] == pytest.approx(1 / 10 + 1 / 90 + 1 / 20 + 1 / 80)
    g, gv = standardised_mean_difference([1.0], [1.0], [20], [0.5], [1.0], [20])
    assert 0.48 < g[0] < 0.5 and gv[0] > 0.1


def test_adhoc_never_narrows_the_hartung_knapp_interval() -> None:
    """metafor's test="adhoc": the Knapp-Hartung factor s^2 is truncated at 1, so the
    standard error is the larger of the z-test and Knapp-Hartung ones, with t_{k-1}."""
    from scipy import stats

    from tillit.core.meta import meta_analysis, meta_analysis_many

    rng = np.random.default_rng(8)
    seen = set()
    for _ in range(20):
        y = rng.normal(0.3, (0.05, 0.8)[_ % 2], size=7)
        v = rng.uniform(0.01, 0.2, size=7)
        z = meta_analysis(y, v, method="dl")
        kh = meta_analysis(y, v, method="dl", test="knha")
        ad = meta_analysis(y, v, method="dl", test="adhoc")
        seen.add(kh.estimate.se < z.estimate.se)
        assert ad.estimate.se == pytest.approx(
            max(z.estimate.se, kh.estimate.se), rel=1e-12
        )
        crit = stats.t.ppf(0.975, 6)
        assert ad.estimate.ci_high == pytest.approx(
            ad.estimate.estimate + crit * ad.estimate.se
        )
        many = meta_analysis_many(y[None], v[None], method="dl", test="adhoc")
        assert many.se[0] == pytest.approx(ad.estimate.se, rel=1e-12)
        assert ad.to_dict()["test"] == "adhoc"
    assert seen == {True, False}  # both sides of the truncation were exercised
