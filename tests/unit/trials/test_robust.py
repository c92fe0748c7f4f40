"""Cluster-robust covariance: CR1 vs statsmodels, CR2 and its df vs a dense computation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tillit.core.errors import EstimationError
from tillit.core.trials import ols_robust


def _data(seed: int = 0, g: int = 12) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(2, 9, size=g)
    cl = np.repeat(np.arange(g), sizes)
    n = cl.size
    x = np.column_stack([np.ones(n), rng.normal(size=n), (cl % 2).astype(float)])
    y = x @ [1.0, 0.5, -0.3] + rng.normal(size=g)[cl] + rng.normal(size=n)
    return y, x, cl


def _dense_cr2(
    y: np.ndarray, x: np.ndarray, cl: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Textbook CR2 and Bell-McCaffrey df with n x n matrices."""
    n, p = x.shape
    m = np.linalg.inv(x.T @ x)
    h = x @ m @ x.T
    e = y - h @ y
    ih = np.eye(n) - h
    meat = np.zeros((p, p))
    a_blocks = {}
    for g in np.unique(cl):
        idx = np.flatnonzero(cl == g)
        lam, vec = np.linalg.eigh(ih[np.ix_(idx, idx)])
        inv_sqrt = np.where(lam > 1e-10, 1 / np.sqrt(np.clip(lam, 1e-300, None)), 0.0)
        a = vec @ np.diag(inv_sqrt) @ vec.T
        a_blocks[g] = (idx, a)
        s = x[idx].T @ a @ e[idx]
        meat += np.outer(s, s)
    vcov = m @ meat @ m
    df = np.empty(p)
    for j in range(p):
        cols = []
        for idx, a in a_blocks.values():
            cols.append(ih[:, idx] @ a @ x[idx] @ m[:, j])
        u = np.column_stack(cols)
        utu = u.T @ u
        df[j] = np.trace(utu) ** 2 / np.trace(utu @ utu)
    return vcov, df


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cr2_matches_dense(seed: int) -> None:
    y, x, cl = _data(seed)
    fit = ols_robust(y, x, cl, "CR2")
    vcov, df = _dense_cr2(y, x, cl)
    np.testing.assert_allclose(fit.vcov, vcov, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(fit.df, df, rtol=1e-10)


def test_cr2_with_cluster_fixed_effects_uses_pseudo_inverse() -> None:
    y, x, cl = _data(3)
    fe = pd.get_dummies(cl).to_numpy(dtype=float)
    xx = np.column_stack([x[:, 1], fe])
    fit = ols_robust(y, xx, cl, "CR2")
    vcov, df = _dense_cr2(y, xx, cl)
    assert fit.vcov[0, 0] == pytest.approx(vcov[0, 0], rel=1e-9)
    assert fit.df[0] == pytest.approx(df[0], rel=1e-9)


def test_cr1_matches_statsmodels() -> None:
    sm = pytest.importorskip("statsmodels.api")
    y, x, cl = _data(4)
    fit = ols_robust(y, x, cl, "CR1")
    ref = sm.OLS(y, x).fit(cov_type="cluster", cov_kwds={"groups": cl})
    np.testing.assert_allclose(fit.beta, ref.params, rtol=1e-12)
    np.testing.assert_allclose(fit.vcov, ref.cov_params(), rtol=1e-10)
    assert np.all(fit.df == 11)


def test_no_cluster_is_hc2_and_hc1() -> None:
    sm = pytest.importorskip("statsmodels.api")
    y, x, _ = _data(5)
    np.testing.assert_allclose(
        ols_robust(y, x, None, "CR2").vcov,
        sm.OLS(y, x).fit(cov_type="HC2").cov_params(),
        rtol=1e-10,
    )
    np.testing.assert_allclose(
        ols_robust(y, x, None, "CR1").vcov,
        sm.OLS(y, x).fit(cov_type="HC1").cov_params(),
        rtol=1e-10,
    )


def test_two_sample_hc2_is_welch_variance() -> None:
    rng = np.random.default_rng(6)
    d = np.r_[np.ones(7), np.zeros(11)]
    y = rng.normal(size=18) * (1 + d)
    fit = ols_robust(y, np.column_stack([d, np.ones(18)]), None, "CR2")
    welch = y[d == 1].var(ddof=1) / 7 + y[d == 0].var(ddof=1) / 11
    assert fit.vcov[0, 0] == pytest.approx(welch, rel=1e-12)


def test_matches_clubsandwich_pins() -> None:
    """PyMARE's pinned clubSandwich 0.5.11 CR2 + df, constant within-cluster weights."""
    pymare = pytest.importorskip("pymare")
    data = Path(pymare.__file__).parent / "tests" / "data"
    if not (data / "clubsandwich_reference.json").exists():
        pytest.skip("pymare without its test data")
    ref = json.loads((data / "clubsandwich_reference.json").read_text())
    d = pd.read_csv(data / "robumeta_correlated_effects.csv")
    models = {"intercept": [], "within": ["within"], "both": ["within", "between"]}
    cases = [c for c in ref["cases"] if c["variances"] == "var_constant_within_study"]
    assert len(cases) == 6
    for c in cases:
        x = np.column_stack([np.ones(len(d))] + [d[m] for m in models[c["model"]]])
        sw = np.sqrt(1 / (d[c["variances"]].to_numpy() + c["tau2"]))
        fit = ols_robust(
            d.effect.to_numpy() * sw, x * sw[:, None], d.study.to_numpy(), "CR2"
        )
        np.testing.assert_allclose(fit.beta, c["beta"], rtol=1e-10)
        np.testing.assert_allclose(fit.se, c["se"], rtol=1e-10)
        np.testing.assert_allclose(fit.df, c["dof"], rtol=1e-10)


def test_errors() -> None:
    y, x, cl = _data(7)
    with pytest.raises(EstimationError):
        ols_robust(y, np.column_stack([x, x[:, 1]]), cl)
    with pytest.raises(EstimationError):
        ols_robust(y, x, np.zeros(len(y), int))
