"""Continuous-treatment DiD against OLS and sandwich variances written out (2x2), the
staggered aggregation, and input checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tillit.core.did.contdid import cont_did
from tillit.core.errors import DataError, EstimationError


def dose_panel(
    n: int = 400, T: int = 2, seed: int = 0, cohorts=(0, 2001)
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = rng.choice(cohorts, n)
    d = np.where(g > 0, rng.uniform(0.5, 3, n), 0.0)
    df = pd.DataFrame(
        {
            "id": np.repeat(np.arange(n), T),
            "year": np.tile(np.arange(2000, 2000 + T), n),
        }
    )
    df["g"], df["d"], df["c"] = g[df.id], d[df.id], df.id % 20
    tr = (df.g > 0) & (df.year >= df.g)
    df["y"] = (
        rng.normal(size=n)[df.id]
        + rng.normal(size=len(df))
        + tr * (df.d + 0.3 * df.d**2)
    )
    df["y2"] = -df["y"] + rng.normal(size=len(df))
    return df


def test_two_by_two_equals_ols_and_sandwich() -> None:
    df = dose_panel()
    grid = [0.8, 1.5, 2.7]
    o = cont_did(
        df, outcomes=["y"], unit="id", time="year", cohort="g", dose="d", dose_grid=grid
    )["y"]
    wide = df.pivot(index="id", columns="year", values="y")
    unit = df.groupby("id")[["g", "d"]].first()
    dy = (wide[2001] - wide[2000]).to_numpy()
    tr, d = (unit.g > 0).to_numpy(), unit.d.to_numpy()
    x = np.column_stack([d[tr] ** p for p in range(4)])
    beta, *_ = np.linalg.lstsq(x, dy[tr], rcond=None)
    e = dy[tr] - x @ beta
    bread = np.linalg.inv(x.T @ x)
    v_beta = bread @ (x.T * e**2) @ x @ bread
    c = dy[~tr]
    v_c = np.sum((c - c.mean()) ** 2) / c.size**2
    xg = np.column_stack([np.asarray(grid) ** p for p in range(4)])
    att = xg @ beta - c.mean()
    se = np.sqrt(np.einsum("ij,jk,ik->i", xg, v_beta, xg) + v_c)
    curve = pd.DataFrame(o.extra["dose_response"])
    np.testing.assert_allclose(curve.estimate, att, atol=1e-10)
    np.testing.assert_allclose(curve.se, se, rtol=1e-9)
    dxg = np.column_stack(
        [np.zeros(3)] + [p * np.asarray(grid) ** (p - 1) for p in range(1, 4)]
    )
    np.testing.assert_allclose(
        pd.DataFrame(o.extra["acrt"]).estimate, dxg @ beta, atol=1e-9
    )
    assert o.overall.estimate[0] == pytest.approx(dy[tr].mean() - c.mean(), abs=1e-12)
    slope = (
        np.column_stack(
            [np.zeros(tr.sum())] + [p * d[tr] ** (p - 1) for p in range(1, 4)]
        )
        @ beta
    )
    assert o.extra["acrt_overall"]["estimate"] == pytest.approx(slope.mean(), abs=1e-10)


def test_staggered_many_outcomes_event_study_and_honest() -> None:
    df = dose_panel(n=900, T=5, seed=2, cohorts=(0, 2002, 2003))
    kw = {"unit": "id", "time": "year", "cohort": "g", "dose": "d", "cluster": "c"}
    both = cont_did(df, outcomes=["y", "y2"], **kw)
    one = cont_did(df, outcomes=["y2"], **kw)
    np.testing.assert_allclose(
        both["y2"].event.estimate, one["y2"].event.estimate, atol=1e-12
    )
    np.testing.assert_allclose(both["y2"].vcov, one["y2"].vcov, atol=1e-12)
    ev = both["y"].event
    assert np.all(
        np.abs(ev.estimate[ev.labels["event_time"] < 0])
        < 4 * ev.se[ev.labels["event_time"] < 0]
    )
    assert both["y"].extra["acrt_overall"]["estimate"] == pytest.approx(
        1 + 0.6 * 1.75, abs=0.35
    )
    assert both.honest("y", m_grid=[0.0]).num_post_periods == int(
        (ev.labels["event_time"] >= 0).sum()
    )


def test_bad_doses_are_named() -> None:
    df = dose_panel()
    df.loc[(df.g > 0).idxmax(), "d"] = 9.0  # one row of a treated unit differs
    with pytest.raises(DataError, match="changes over time"):
        cont_did(df, outcomes=["y"], unit="id", time="year", cohort="g", dose="d")
    df = dose_panel()
    df.loc[df.g > 0, "d"] = 0.0
    with pytest.raises(DataError, match="not positive"):
        cont_did(df, outcomes=["y"], unit="id", time="year", cohort="g", dose="d")
    with pytest.raises(EstimationError, match="degree"):
        cont_did(
            dose_panel(),
            outcomes=["y"],
            unit="id",
            time="year",
            cohort="g",
            dose="d",
            degree=7,
        )
