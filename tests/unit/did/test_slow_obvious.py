"""ATT(g,t) against slow, obvious computations: group means, and per-cell OLS + logit DR."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from tillit.core.did import att_gt


def _cell_frame(df: pd.DataFrame, g: float, t: float, b: float, y: str) -> pd.DataFrame:
    wide = df.pivot(index="id", columns="year", values=y)
    coh = df.groupby("id")["g"].first()
    x = df[df.year == b].set_index("id")["x"]
    return pd.DataFrame({"dy": wide[t] - wide[b], "g": coh, "x": x})


def _base(g: float, t: float, years: np.ndarray) -> float:
    return t - 1 if t < g else g - 1


@pytest.mark.parametrize("control", ["never", "notyet"])
def test_group_means(sim: Callable[..., pd.DataFrame], control: str) -> None:
    df = sim(n=90, periods=7, k=1, seed=3)
    o = att_gt(
        df,
        outcomes=["y0"],
        unit="id",
        time="year",
        cohort="g",
        control=control,
        compare_controls=False,
        honest=False,
    )["y0"]
    years = np.sort(df.year.unique())
    for gg, tt, est in zip(
        o.att_gt.labels["group"],
        o.att_gt.labels["time"],
        o.att_gt.estimate,
        strict=True,
    ):
        b = _base(gg, tt, years)
        c = _cell_frame(df, gg, tt, b, "y0")
        treat = c.dy[c.g == gg].mean()
        if control == "never":
            ctrl = c.dy[c.g == 0].mean()
        else:
            ctrl = c.dy[(c.g == 0) | ((c.g > max(tt, b)) & (c.g != gg))].mean()
        assert est == pytest.approx(treat - ctrl, abs=1e-12)


def _dr_direct(c: pd.DataFrame, gg: float) -> float:
    """Sant'Anna-Zhao DR ATT by hand: OLS on controls + logit by generic optimiser."""
    c = c[(c.g == gg) | (c.g == 0)]
    d = (c.g == gg).to_numpy(float)
    X = np.column_stack([np.ones(len(c)), c.x.to_numpy()])
    dy = c.dy.to_numpy()
    beta = np.linalg.lstsq(X[d == 0], dy[d == 0], rcond=None)[0]

    def nll(b: np.ndarray) -> float:
        eta = X @ b
        return float(np.sum(np.logaddexp(0, eta) - d * eta))

    gam = optimize.minimize(nll, np.zeros(2), method="BFGS", options={"gtol": 1e-10}).x
    ps = 1 / (1 + np.exp(-X @ gam))
    w1 = d / d.mean()
    w0 = ps * (1 - d) / (1 - ps)
    w0 = w0 / w0.mean()
    r = dy - X @ beta
    return float(np.mean(w1 * r) - np.mean(w0 * r))


def test_doubly_robust_by_hand(sim: Callable[..., pd.DataFrame]) -> None:
    df = sim(n=150, periods=6, k=1, seed=5)
    o = att_gt(
        df,
        outcomes=["y0"],
        unit="id",
        time="year",
        cohort="g",
        covariates=["x"],
        method="dr",
        compare_controls=False,
        honest=False,
    )["y0"]
    years = np.sort(df.year.unique())
    for gg, tt, est in zip(
        o.att_gt.labels["group"],
        o.att_gt.labels["time"],
        o.att_gt.estimate,
        strict=True,
    ):
        c = _cell_frame(df, gg, tt, _base(gg, tt, years), "y0")
        assert est == pytest.approx(_dr_direct(c, gg), abs=1e-6)
