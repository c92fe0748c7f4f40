"""Synthetic DiD with covariates (#18 item 8; synthdid #70, #73, #91, #125).

``optimized`` is held to a literal, loop-by-loop transcription of R synthdid's
``sc.weight.fw.covariates`` and ``fw.step`` (written below from the R source, one
problem at a time, 1-based logic kept); ``projected`` to a two-way fixed-effects
regression solved by least squares with explicit dummies on the never-treated units.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tillit.core.errors import EstimationError
from tillit.core.synth import sdid
from tillit.core.synth._sdid_covariates import fw_covariates


def _r_fw_step(A, x, b, eta):  # R: fw.step(A, x, b, eta)
    Ax = A @ x
    half_grad = (Ax - b) @ A + eta * x
    i = int(np.argmin(half_grad))
    d_x = -x.copy()
    d_x[i] = 1 - x[i]
    if np.all(d_x == 0):
        return x
    d_err = A[:, i] - Ax
    step = -(half_grad @ d_x) / (np.sum(d_err**2) + eta * np.sum(d_x**2))
    return x + min(1.0, max(0.0, step)) * d_x


def _r_covariates(Y, X, zl, zo, min_dec, max_iter, upd_l=True, upd_o=True, icpt_o=True):
    """R synthdid's sc.weight.fw.covariates (lambda.intercept = TRUE)."""
    T0, N0 = Y.shape[1] - 1, Y.shape[0] - 1
    lam, om, beta = np.full(T0, 1 / T0), np.full(N0, 1 / N0), np.zeros(X.shape[2])

    def update(Y, lam, om):
        Yl = Y[:N0, :] - Y[:N0, :].mean(axis=0)
        if upd_l:
            lam = _r_fw_step(Yl[:, :T0], lam, Yl[:, T0], N0 * zl**2)
        err_l = Yl @ np.r_[lam, -1]
        Yo = Y[:, :T0].T
        if icpt_o:
            Yo = Yo - Yo.mean(axis=0)
        if upd_o:
            om = _r_fw_step(Yo[:, :N0], om, Yo[:, N0], T0 * zo**2)
        err_o = Yo @ np.r_[om, -1]
        val = zo**2 * np.sum(om**2) + zl**2 * np.sum(lam**2)
        val += np.sum(err_o**2) / T0 + np.sum(err_l**2) / N0
        return {"val": val, "lam": lam, "om": om, "err_l": err_l, "err_o": err_o}

    vals = [np.nan] * (max_iter + 1)  # 1-based
    t = 0
    w = update(Y - X @ beta, lam, om)
    while t < max_iter and (t < 2 or abs(vals[t - 1] - vals[t]) > min_dec**2):
        t += 1
        grad = -np.array(
            [
                w["err_l"] @ X[:N0, :, c] @ np.r_[w["lam"], -1] / N0
                + w["err_o"] @ X[:, :T0, c].T @ np.r_[w["om"], -1] / T0
                for c in range(X.shape[2])
            ]
        )
        beta = beta - grad / t
        w = update(Y - X @ beta, w["lam"], w["om"])
        vals[t] = w["val"]
    return w["lam"], w["om"], beta


@pytest.mark.parametrize("method", ["sdid", "sc", "did"])
def test_lockstep_solver_follows_r_iterates(method: str) -> None:
    rng = np.random.default_rng(1)
    B, N0, T0, C = 3, 9, 6, 2
    Yc = rng.normal(size=(B, N0 + 1, T0 + 1)) + np.arange(T0 + 1) * 0.3
    Xc = rng.normal(size=(B, N0 + 1, T0 + 1, C))
    zl, zo = np.full(B, 1e-6), np.array([0.3, 1.0, 2.0])
    md = np.array([1e-3, 1e-6, 1e-4])
    upd_l, upd_o, icpt = method == "sdid", method != "did", method != "sc"
    lam0 = np.full((B, T0), 1 / T0) if method != "sc" else np.zeros((B, T0))
    om0 = np.full((B, N0), 1 / N0)
    lam, om, beta = fw_covariates(
        Yc,
        Xc,
        zl,
        zo,
        md,
        lam0,
        om0,
        update_lambda=upd_l,
        update_omega=upd_o,
        omega_intercept=icpt,
        max_iter=400,
    )
    for b in range(B):
        rl, ro, rb = (
            _r_covariates(Yc[b], Xc[b], zl[b], zo[b], md[b], 400, upd_l, upd_o, icpt)
            if method != "sc"
            else _r_sc(Yc[b], Xc[b], zo[b], md[b])
        )
        np.testing.assert_allclose(lam[b], rl, atol=1e-10)
        np.testing.assert_allclose(om[b], ro, atol=1e-10)
        np.testing.assert_allclose(beta[b], rb, atol=1e-10)


def _r_sc(Y, X, zo, md):
    """sc_estimate: lambda fixed at zeros, no omega intercept (R's own call)."""
    T0 = Y.shape[1] - 1
    out = _r_covariates_fixed_lambda(Y, X, zo, md, np.zeros(T0))
    return out


def _r_covariates_fixed_lambda(Y, X, zo, md, lam):
    T0, N0 = Y.shape[1] - 1, Y.shape[0] - 1
    # same loop with update.lambda = FALSE starting from the given lambda
    om, beta = np.full(N0, 1 / N0), np.zeros(X.shape[2])

    def update(Y, om):
        Yl = Y[:N0, :] - Y[:N0, :].mean(axis=0)
        err_l = Yl @ np.r_[lam, -1]
        Yo = Y[:, :T0].T
        om = _r_fw_step(Yo[:, :N0], om, Yo[:, N0], T0 * zo**2)
        err_o = Yo @ np.r_[om, -1]
        val = zo**2 * np.sum(om**2) + 1e-12 * np.sum(lam**2)
        val += np.sum(err_o**2) / T0 + np.sum(err_l**2) / N0
        return val, om, err_l, err_o

    vals = [np.nan] * 401
    t = 0
    val, om, el, eo = update(Y - X @ beta, om)
    while t < 400 and (t < 2 or abs(vals[t - 1] - vals[t]) > md**2):
        t += 1
        grad = -np.array(
            [
                el @ X[:N0, :, c] @ np.r_[lam, -1] / N0
                + eo @ X[:, :T0, c].T @ np.r_[om, -1] / T0
                for c in range(X.shape[2])
            ]
        )
        beta = beta - grad / t
        val, om, el, eo = update(Y - X @ beta, om)
        vals[t] = val
    return lam, om, beta


def _panel(seed: int = 0, n: int = 16, t: int = 10, t0: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, t)).cumsum(axis=1)
    Y = rng.normal(size=(n, 1)) + np.arange(t) * 0.2 + 1.5 * x
    Y += rng.normal(scale=0.2, size=(n, t))
    Y[-2:, t0:] += 2.0
    return pd.DataFrame(
        {
            "unit": np.repeat([f"u{i:02d}" for i in range(n)], t),
            "period": np.tile(np.arange(2000, 2000 + t), n),
            "y": Y.ravel(),
            "x": x.ravel(),
        }
    )


KW = {
    "outcome": "y",
    "unit": "unit",
    "time": "period",
    "treated_units": ["u14", "u15"],
    "treatment_start": 2007,
    "variance": "none",
}


def test_projected_equals_dummy_regression_then_sdid() -> None:
    df = _panel()
    res = sdid(df, covariates=["x"], covariate_method="projected", **KW)
    ctrl = df[~df.unit.isin(["u14", "u15"])]
    D = np.column_stack(
        [
            ctrl.x,
            pd.get_dummies(ctrl.unit, dtype=float),
            pd.get_dummies(ctrl.period, dtype=float),
        ]
    )
    coef, *_ = np.linalg.lstsq(D, ctrl.y.to_numpy(), rcond=None)
    beta = coef[0]
    assert beta == pytest.approx(1.5, abs=0.1)
    assert res.cohorts[0].beta[0] == pytest.approx(beta, abs=1e-10)
    resid = df.assign(y=df.y - beta * df.x)
    ref = sdid(resid, **KW)
    assert res.estimate.estimate == pytest.approx(ref.estimate.estimate, abs=1e-10)
    d = res.to_dict()
    assert d["covariates"] == ["x"] and d["covariate_method"] == "projected"
    assert d["cohorts"][0]["covariate_coefficients"] == pytest.approx([beta])


def test_covariates_remove_the_bias_a_confounder_makes() -> None:
    df = _panel(2)
    # the treated units' covariate jumps after treatment: without it, SDID is biased
    late = df.unit.isin(["u14", "u15"]) & (df.period >= 2007)
    df.loc[late, "x"] += 3.0
    df.loc[late, "y"] += 1.5 * 3.0
    plain = sdid(df, **KW).estimate.estimate
    proj = sdid(df, covariates=["x"], covariate_method="projected", **KW)
    opt = sdid(df, covariates=["x"], **KW)
    assert abs(plain - 2.0) > 3.0
    assert proj.estimate.estimate == pytest.approx(2.0, abs=0.3)
    assert opt.estimate.estimate == pytest.approx(2.0, abs=0.5)
    assert opt.to_dict()["covariate_method"] == "optimized"


def test_covariate_errors() -> None:
    df = _panel()
    with pytest.raises(EstimationError, match="covariate method"):
        sdid(df, covariates=["x"], covariate_method="magic", **KW)
    df["c"] = 1.0
    with pytest.raises(EstimationError, match="does not vary"):
        sdid(df, covariates=["c"], covariate_method="projected", **KW)
