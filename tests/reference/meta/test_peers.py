"""BCG numbers against the peers: pymare (REML, DL, HK) and statsmodels (DL, HK)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tillit.core.meta import log_risk_ratio, meta_analysis

DATA = Path(__file__).parent / "data" / "dat_bcg.csv"


@pytest.fixture(scope="module")
def yv() -> tuple[np.ndarray, np.ndarray]:
    d = pd.read_csv(DATA)
    return log_risk_ratio(d.tpos, d.tneg, d.cpos, d.cneg)


def _pymare(y: np.ndarray, v: np.ndarray, est: object) -> tuple[float, float, float]:
    pymare = pytest.importorskip("pymare")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = est.fit_dataset(pymare.Dataset(y=y, v=v)).summary()  # type: ignore[attr-defined]
    fe = s.get_fe_stats()
    return (
        float(fe["est"].ravel()[0]),
        float(fe["se"].ravel()[0]),
        float(np.ravel(s.tau2)[0]),
    )


@pytest.mark.parametrize(
    ("method", "hk"), [("reml", False), ("reml", True), ("dl", False), ("dl", True)]
)
def test_pymare(yv: tuple[np.ndarray, np.ndarray], method: str, hk: bool) -> None:
    pytest.importorskip("pymare")
    from pymare.estimators import DerSimonianLaird, VarianceBasedLikelihoodEstimator

    corr = "knapp-hartung" if hk else "wald"
    est = (
        VarianceBasedLikelihoodEstimator(method="REML", small_sample_correction=corr)
        if method == "reml"
        else DerSimonianLaird(small_sample_correction=corr)
    )
    b, se, tau2 = _pymare(*yv, est)
    r = meta_analysis(*yv, method=method, hartung_knapp=hk)
    tol = (
        1e-6 if method == "reml" else 1e-12
    )  # pymare's REML uses a numerical optimiser
    assert r.estimate.estimate == pytest.approx(b, rel=tol)
    assert r.estimate.se == pytest.approx(se, rel=tol)
    assert r.tau2 == pytest.approx(tau2, rel=tol * 10)


def test_statsmodels_dl_and_hk(yv: tuple[np.ndarray, np.ndarray]) -> None:
    meta = pytest.importorskip("statsmodels.stats.meta_analysis")
    res = meta.combine_effects(*yv, method_re="chi2")
    frame = res.summary_frame()
    dl = meta_analysis(*yv, method="dl")
    fe = meta_analysis(*yv, method="fe")
    hk = meta_analysis(*yv, method="dl", hartung_knapp=True)
    assert dl.estimate.estimate == pytest.approx(res.mean_effect_re, rel=1e-12)
    assert dl.tau2 == pytest.approx(res.tau2, rel=1e-12)
    assert dl.estimate.se == pytest.approx(
        frame.loc["random effect", "sd_eff"], rel=1e-12
    )
    assert fe.estimate.se == pytest.approx(
        frame.loc["fixed effect", "sd_eff"], rel=1e-12
    )
    assert hk.estimate.se == pytest.approx(
        frame.loc["random effect wls", "sd_eff"], rel=1e-12
    )


def test_pymare_meta_regression(yv: tuple[np.ndarray, np.ndarray]) -> None:
    """mods = ~ ablat + year (REML) against pymare's likelihood estimator."""
    pymare = pytest.importorskip("pymare")
    from pymare.estimators import VarianceBasedLikelihoodEstimator

    d = pd.read_csv(DATA)
    x = d[["ablat", "year"]].to_numpy(dtype=float)
    est = VarianceBasedLikelihoodEstimator(
        method="REML", small_sample_correction="wald"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = est.fit_dataset(pymare.Dataset(y=yv[0], v=yv[1], X=x)).summary()
    fe = s.get_fe_stats()
    r = meta_analysis(*yv, moderators=d[["ablat", "year"]])
    np.testing.assert_allclose(r.tidy().estimate, fe["est"].ravel(), rtol=1e-4)
    np.testing.assert_allclose(r.tidy().se, fe["se"].ravel(), rtol=1e-4)
    assert r.tau2 == pytest.approx(float(np.ravel(s.tau2)[0]), rel=1e-5)
