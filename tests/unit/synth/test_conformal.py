"""Conformal inference for synthetic control (Chernozhukov, Wüthrich & Zhu 2021).

Held to: a brute-force transcription of scinference's ``movingblock``, ``iid`` and
``confidence_interval`` with the weights from scipy's SLSQP (another solver than
ours); exactness by simulation (the moving-block test of a true null rejects at most
at its level, and the pointwise intervals cover); and Prop 99.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import optimize

from tillit.cli.main import main
from tillit.core.errors import EstimationError
from tillit.core.synth import conformal_sc
from tillit.core.synth.conformal import conformal_test

PROP99 = (
    Path(__file__).parents[2] / "reference" / "synth" / "data" / "california_prop99.csv"
)


def _slsqp_residuals(y1: np.ndarray, Y0: np.ndarray) -> np.ndarray:
    J = Y0.shape[1]
    res = optimize.minimize(
        lambda w: np.sum((y1 - Y0 @ w) ** 2),
        np.full(J, 1 / J),
        jac=lambda w: -2 * Y0.T @ (y1 - Y0 @ w),
        bounds=[(0, 1)] * J,
        constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1}],
        method="SLSQP",
        options={"ftol": 1e-15, "maxiter": 1000},
    )
    return y1 - Y0 @ res.x


def _brute_mb(y1: np.ndarray, Y0: np.ndarray, T0: int, theta0: float) -> float:
    """scinference's movingblock(), loop for loop."""
    T = len(y1)
    T1 = T - T0
    y = y1.copy()
    y[T0:] -= theta0
    u = _slsqp_residuals(y, Y0)
    uc = np.r_[u, u]
    S = [np.sum(np.abs(uc[s : s + T1])) for s in range(T)]
    return float(np.mean(np.array(S) >= S[T0] - 1e-9))


def _data(seed: int, T0: int = 30, T1: int = 4, J: int = 6, effect: float = 0.0):
    rng = np.random.default_rng(seed)
    Y0 = rng.normal(size=(T0 + T1, J)) + np.linspace(0, 2, T0 + T1)[:, None]
    y1 = Y0[:, :3].mean(axis=1) + rng.normal(scale=0.5, size=T0 + T1)
    y1[T0:] += effect
    return y1, Y0


def _long(y1: np.ndarray, Y0: np.ndarray) -> pd.DataFrame:
    T, J = Y0.shape
    names = ["treated", *[f"d{j}" for j in range(J)]]
    return pd.DataFrame(
        {
            "unit": np.repeat(names, T),
            "period": np.tile(np.arange(2000, 2000 + T), J + 1),
            "y": np.concatenate([y1, Y0.T.ravel()]),
        }
    )


@pytest.mark.parametrize("theta0", [0.0, 1.0, 3.0])
def test_moving_block_p_equals_brute_force(theta0: float) -> None:
    y1, Y0 = _data(1, effect=1.0)
    p, _ = conformal_test(y1, Y0, 30, theta0)
    assert p == pytest.approx(_brute_mb(y1, Y0, 30, theta0), abs=1e-12)


def test_iid_p_is_seeded_and_counts_like_scinference() -> None:
    y1, Y0 = _data(2, effect=2.0)
    a = conformal_test(y1, Y0, 30, 0.0, permutation="iid", rng=np.random.default_rng(5))
    b = conformal_test(y1, Y0, 30, 0.0, permutation="iid", rng=np.random.default_rng(5))
    assert a == b
    # brute force with the same permutations
    rng = np.random.default_rng(5)
    perms = np.argsort(rng.random((5000, len(y1))), axis=1)
    u = np.abs(_slsqp_residuals(y1, Y0))
    S = u[perms[:, 30:]].sum(axis=1)
    assert a[0] == pytest.approx((1 + np.sum(u[30:].sum() - 1e-9 <= S)) / 5001)
    assert a[0] < 0.01


def test_interval_equals_brute_force_inversion() -> None:
    y1, Y0 = _data(3, effect=1.5)
    df = _long(y1, Y0)
    grid = np.linspace(-3, 6, 91)
    res = conformal_sc(
        df,
        outcome="y",
        unit="unit",
        time="period",
        treated_unit="treated",
        treatment_start=2030,
        grid=grid,
        alpha=0.1,
    )
    for k in range(4):
        idx = np.r_[np.arange(30), 30 + k]
        ps = []
        for th in grid:
            z = y1[idx].copy()
            z[-1] -= th
            u = np.abs(_slsqp_residuals(z, Y0[idx]))
            ps.append(np.mean(u >= u[-1] - 1e-9))
        keep = grid[np.array(ps) > 0.1]
        assert res.ci_low[k] == pytest.approx(keep.min(), abs=1e-12)
        assert res.ci_high[k] == pytest.approx(keep.max(), abs=1e-12)
        assert res.ci_low[k] < 1.5 < res.ci_high[k]
    d = res.to_dict()
    assert d["method"] == "conformal" and len(d["periods"]) == 4
    assert res.tidy().shape == (4, 4) and "pointwise" in res.summary()


@pytest.mark.slow
def test_moving_block_test_is_exact_by_simulation() -> None:
    """A true null with iid errors is rejected at most at the test's level."""
    rej, cover = [], []
    for s in range(300):
        y1, Y0 = _data(100 + s, T0=19, T1=1, J=4, effect=0.7)
        p, _ = conformal_test(y1, Y0, 19, 0.7)
        rej.append(p <= 0.1)
        p0, _ = conformal_test(y1, Y0, 19, 0.0)
        cover.append(p0 > 0.1)
    assert np.mean(rej) <= 0.1 + 2.5 * np.sqrt(0.1 * 0.9 / 300)
    assert np.mean(rej) >= 0.1 - 2.5 * np.sqrt(0.1 * 0.9 / 300)  # not conservative


def test_unbounded_when_the_level_is_unattainable() -> None:
    y1, Y0 = _data(4, T0=9, T1=2)
    res = conformal_sc(
        _long(y1, Y0),
        outcome="y",
        unit="unit",
        time="period",
        treated_unit="treated",
        treatment_start=2009,
        alpha=0.05,
    )
    assert np.all(np.isneginf(res.ci_low)) and np.all(np.isposinf(res.ci_high))
    assert "unbounded" in res.summary()
    assert res.to_dict()["periods"][0]["ci_low"] is None


def test_did_estimator_and_errors() -> None:
    y1, Y0 = _data(5)
    df = _long(y1, Y0)
    kw = {
        "outcome": "y",
        "unit": "unit",
        "time": "period",
        "treated_unit": "treated",
        "treatment_start": 2030,
        "ci": False,
    }
    res = conformal_sc(df, estimator="did", **kw)
    m = Y0.mean(axis=1)
    u = np.abs(y1 - np.mean(y1 - m) - m)
    S = [np.r_[u, u][s : s + 4].sum() for s in range(34)]
    assert res.p_value == pytest.approx(np.mean(np.array(S) >= S[30] - 1e-12))
    with pytest.raises(EstimationError, match="estimator"):
        conformal_sc(df, estimator="lasso", **kw)
    with pytest.raises(EstimationError, match="permutation"):
        conformal_sc(df, permutation="x", **kw)


def test_prop99_and_the_cli(tmp_path: Path) -> None:
    df = pd.read_csv(PROP99)
    kw = {
        "outcome": "cigsale",
        "unit": "state",
        "time": "year",
        "treated_unit": "California",
        "treatment_start": 1989,
    }
    iid = conformal_sc(df, permutation="iid", seed=1, ci=False, **kw)
    assert iid.p_value < 0.001  # 12 post years of large negative gaps
    mb = conformal_sc(df, ci=False, **kw)
    assert mb.p_value == pytest.approx(3 / 31)  # T = 31 shifts, 12-year block
    run = CliRunner().invoke(
        main,
        [
            "estimate",
            "synth",
            "--data",
            str(PROP99),
            "--outcome",
            "cigsale",
            "--unit",
            "state",
            "--time",
            "year",
            "--treated-unit",
            "California",
            "--treatment-start",
            "1989",
            "--placebo",
            "none",
            "--conformal",
            "--level",
            "0.9",
            "--format",
            "json",
        ],
    )
    assert run.exit_code == 0, run.output
    out = json.loads(run.output)["conformal"]
    assert out["p_value"] == pytest.approx(mb.p_value)
    assert out["level"] == pytest.approx(0.9)
    assert all(p["ci_high"] < 0 for p in out["periods"])
