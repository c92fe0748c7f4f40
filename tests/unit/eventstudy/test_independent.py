"""The imputation, two-stage and interaction-weighted estimators against the same
estimators written out with dense dummy matrices, pseudo-inverses and loops."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tillit.core.did.imputation import imputation
from tillit.core.did.sunab import sun_abraham
from tillit.core.did.twostage import two_stage

from .conftest import staggered


def _dummies(df: pd.DataFrame) -> np.ndarray:
    u = pd.get_dummies(df["id"]).to_numpy(float)
    t = pd.get_dummies(df["year"]).to_numpy(float)[:, 1:]
    return np.hstack([u, t])


def _wls(z: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    return np.linalg.pinv(z.T @ (w[:, None] * z)) @ (z.T @ (w * y))


def dense_bjs(df: pd.DataFrame, y: str, w: str | None, cl: str) -> tuple[float, float]:
    """BJS overall ATT and its Theorem-3 SE, written out (dense, loops)."""
    rel = np.where(df.g > 0, df.year - df.g, -np.inf)
    d1 = rel >= 0
    ww = df[w].to_numpy() if w else np.ones(len(df))
    z = _dummies(df)
    z0, z1 = z[~d1], z[d1]
    gram_inv = np.linalg.pinv(z0.T @ (ww[~d1, None] * z0))
    gamma = gram_inv @ (z0.T @ (ww[~d1] * df[y].to_numpy()[~d1]))
    tau = df[y].to_numpy()[d1] - z1 @ gamma
    w1 = ww[d1] / ww[d1].sum()
    est = float(w1 @ tau)
    v0 = -ww[~d1] * (z0 @ gram_inv @ (z1.T @ w1))
    eps0 = df[y].to_numpy()[~d1] - z0 @ gamma
    sub = df[d1]
    eps1 = tau.copy()
    for (_, _), idx in sub.groupby([sub.g, sub.year - sub.g]).indices.items():
        eps1[idx] = tau[idx] - np.average(tau[idx], weights=w1[idx])
    var = 0.0
    for c in df[cl].unique():
        m0 = (df[cl].to_numpy() == c)[~d1]
        m1 = (df[cl].to_numpy() == c)[d1]
        var += (v0[m0] @ eps0[m0] + w1[m1] @ eps1[m1]) ** 2
    return est, float(np.sqrt(var))


def dense_gardner(df: pd.DataFrame, y: str, w: str | None) -> tuple[float, float]:
    """Gardner's static ATT and GMM SE with every matrix formed (cluster: unit)."""
    rel = np.where(df.g > 0, df.year - df.g, -np.inf)
    d = (rel >= 0).astype(float)[:, None]
    ww = df[w].to_numpy() if w else np.ones(len(df))
    x1 = _dummies(df)
    x10 = x1 * (1 - d)
    yv = df[y].to_numpy()
    gamma = _wls(x10, yv, ww)
    ytil = yv - x1 @ gamma
    beta = _wls(d, ytil, ww)
    e2 = ytil - d @ beta
    e1 = ytil * (1 - d[:, 0])
    v = (d.T @ (ww[:, None] * x1)) @ np.linalg.pinv(x10.T @ (ww[:, None] * x10))
    omega = 0.0
    for c in df.id.unique():
        m = df.id.to_numpy() == c
        psi = d[m].T @ (ww[m] * e2[m]) - v @ (x10[m].T @ (ww[m] * e1[m]))
        omega += float(psi @ psi)
    bread = 1 / float((d.T @ (ww[:, None] * d))[0, 0])
    return float(beta[0]), float(np.sqrt(bread * omega * bread))


def dense_sunab(df: pd.DataFrame, y: str) -> tuple[np.ndarray, np.ndarray]:
    """Sun-Abraham IW estimates and SEs by event time (dense OLS, CR1 by unit)."""
    rel = np.where(df.g > 0, df.year - df.g, -np.inf)
    pairs = sorted(
        {(g, e) for g, e in zip(df.g, rel, strict=True) if g > 0 and e != -1}
    )
    x = np.column_stack([(df.g == g) & (rel == e) for g, e in pairs]).astype(float)
    z = np.hstack([x, _dummies(df)])
    zinv = np.linalg.pinv(z.T @ z)
    b = zinv @ z.T @ df[y].to_numpy()
    res = df[y].to_numpy() - z @ b
    p = len(pairs)
    meat = np.zeros((z.shape[1], z.shape[1]))
    for c in df.id.unique():
        m = df.id.to_numpy() == c
        s = z[m].T @ res[m]
        meat += np.outer(s, s)
    n_obs, g = len(df), df.id.nunique()
    k = p + df.year.nunique()
    vc = (g / (g - 1) * (n_obs - 1) / (n_obs - k) * zinv @ meat @ zinv)[:p, :p]
    events = sorted({e for _, e in pairs})
    lam = np.zeros((len(events), p))
    for i, e in enumerate(events):
        for j, (_, ee) in enumerate(pairs):
            if ee == e:
                lam[i, j] = x[:, j].sum()
        lam[i] /= lam[i].sum()
    return lam @ b[:p], np.sqrt(np.diag(lam @ vc @ lam.T))


@pytest.mark.parametrize("weight", [None, "pop"])
@pytest.mark.parametrize("unbalanced", [False, True])
def test_imputation_equals_dense_bjs(weight: str | None, unbalanced: bool) -> None:
    df = staggered(unbalanced=unbalanced, seed=3)
    res = imputation(df, outcomes=["y0", "y1"], unit="id", time="year", cohort="g",
                     weight=weight, cluster="state")  # fmt: skip
    for y in ("y0", "y1"):
        est, se = dense_bjs(df, y, weight, "state")
        assert res[y].overall.estimate[0] == pytest.approx(est, abs=1e-10)
        assert res[y].overall.se[0] == pytest.approx(se, rel=1e-9)


@pytest.mark.parametrize("weight", [None, "pop"])
def test_two_stage_equals_dense_gmm(weight: str | None) -> None:
    df = staggered(unbalanced=True, seed=5)
    res = two_stage(
        df, outcomes=["y0"], unit="id", time="year", cohort="g", weight=weight
    )
    est, se = dense_gardner(df, "y0", weight)
    assert res["y0"].overall.estimate[0] == pytest.approx(est, abs=1e-10)
    assert res["y0"].overall.se[0] == pytest.approx(se, rel=1e-9)


def test_two_stage_post_effects_equal_imputation() -> None:
    df = staggered(seed=7)
    kw = {"outcomes": ["y0"], "unit": "id", "time": "year", "cohort": "g"}
    a, b = imputation(df, **kw)["y0"].event, two_stage(df, **kw)["y0"].event
    post_a = a.estimate[a.labels["event_time"] >= 0]
    post_b = b.estimate[b.labels["event_time"] >= 0]
    np.testing.assert_allclose(post_a, post_b, atol=1e-12)


def test_sunab_equals_dense_ols() -> None:
    df = staggered(unbalanced=True, seed=11)
    res = sun_abraham(df, outcomes=["y0"], unit="id", time="year", cohort="g")
    est, se = dense_sunab(df, "y0")
    np.testing.assert_allclose(res["y0"].event.estimate, est, atol=1e-10)
    np.testing.assert_allclose(res["y0"].event.se, se, rtol=1e-9)
