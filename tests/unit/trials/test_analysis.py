"""Trial analysis: estimates vs regressions, RI vs exact enumeration, designs, errors."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from tillit.core.errors import DataError, EstimationError
from tillit.core.trials import analyse_trial, n_allocations, permute_within


def _cluster_trial(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g, m = 16, 6
    cl = np.repeat(np.arange(g), m)
    d = np.repeat(rng.permutation(np.r_[np.ones(8), np.zeros(8)]), m)
    u = np.repeat(rng.normal(size=g), m)
    pre = u + rng.normal(size=g * m)
    y = 0.4 * d + u + 0.6 * pre + rng.normal(size=g * m)
    return pd.DataFrame({"y": y, "d": d, "cl": cl, "pre": pre, "s": cl % 2})


def _ols_coef(y: np.ndarray, x: np.ndarray) -> float:
    return float(np.linalg.lstsq(x, y, rcond=None)[0][0])


def test_ancova_estimate_is_the_regression_coefficient() -> None:
    df = _cluster_trial()
    r = analyse_trial(df, "y", "d", cluster="cl", covariates=["pre"], permutations=0)
    x = np.column_stack([df.d, np.ones(len(df)), df.pre])
    assert r.estimate.estimate == pytest.approx(
        _ols_coef(df.y.to_numpy(), x), rel=1e-12
    )
    assert r.design == "cluster" and r.n_clusters == 16 and r.n_treated == 8
    assert r.balance is not None and r.balance.rows[0]["covariate"] == "pre"


def test_cuped_and_none() -> None:
    df = _cluster_trial(1)
    r = analyse_trial(df, "y", "d", covariates=["pre"], adjust="cuped", permutations=0)
    theta = np.polyfit(df.pre, df.y, 1)[0]
    adj = df.y - theta * (df.pre - df.pre.mean())
    expect = adj[df.d == 1].mean() - adj[df.d == 0].mean()
    assert r.estimate.estimate == pytest.approx(expect, rel=1e-10)
    plain = analyse_trial(df, "y", "d", adjust="none", permutations=0, balance=False)
    assert plain.estimate.estimate == pytest.approx(
        df.y[df.d == 1].mean() - df.y[df.d == 0].mean(), rel=1e-12
    )


def test_ri_exact_enumeration_tiny_design() -> None:
    """8 units, 4 treated: 70 allocations, enumerated, vs a brute-force loop."""
    rng = np.random.default_rng(2)
    d = np.r_[1, 1, 1, 1, 0, 0, 0, 0].astype(float)
    x = rng.normal(size=8)
    y = 1.0 * d + x + rng.normal(size=8)
    df = pd.DataFrame({"y": y, "d": d, "x": x})
    r = analyse_trial(df, "y", "d", covariates=["x"], permutations=100, seed=1)
    assert r.exact and r.permutations == 70
    obs = _ols_coef(y, np.column_stack([d, np.ones(8), x]))
    count = 0
    for idx in itertools.combinations(range(8), 4):
        dd = np.zeros(8)
        dd[list(idx)] = 1
        b = _ols_coef(y, np.column_stack([dd, np.ones(8), x]))
        count += abs(b) >= abs(obs) - 1e-12
    assert r.ri_p_value == pytest.approx(count / 70, abs=1e-12)


def test_ri_monte_carlo_stratified_close_to_exact() -> None:
    rng = np.random.default_rng(3)
    s = np.repeat([0, 1], 5)
    d = np.r_[1, 1, 0, 0, 0, 1, 1, 1, 0, 0].astype(float)
    y = 0.8 * d + s + rng.normal(size=10)
    df = pd.DataFrame({"y": y, "d": d, "s": s})
    r = analyse_trial(df, "y", "d", stratum="s", permutations=20000, seed=4)
    assert not r.exact and r.design == "stratified"
    z = np.column_stack([np.ones(10), s])
    obs = _ols_coef(y, np.column_stack([d, z]))
    draws = []
    for a in itertools.combinations(range(5), 2):
        for b in itertools.combinations(range(5, 10), 3):
            dd = np.zeros(10)
            dd[list(a) + list(b)] = 1
            draws.append(_ols_coef(y, np.column_stack([dd, z])))
    exact = np.mean(np.abs(draws) >= abs(obs) - 1e-12)
    assert n_allocations(d, s) == len(draws) == 100
    assert abs(r.ri_p_value - exact) < 4 * np.sqrt(exact * (1 - exact) / 20000) + 1e-4


def test_ri_is_reproducible_from_seed() -> None:
    df = _cluster_trial(5)
    a = analyse_trial(df, "y", "d", cluster="cl", stratum="s", permutations=300, seed=9)
    b = analyse_trial(df, "y", "d", cluster="cl", stratum="s", permutations=300, seed=9)
    c = analyse_trial(
        df, "y", "d", cluster="cl", stratum="s", permutations=300, seed=10
    )
    assert a.ri_p_value == b.ri_p_value
    np.testing.assert_array_equal(a.ri_draws, b.ri_draws)
    assert not np.array_equal(a.ri_draws, c.ri_draws)
    assert a.design == "stratified-cluster"


def test_cluster_permutation_keeps_strata_counts() -> None:
    rng = np.random.default_rng(0)
    vals = np.array([1, 0, 0, 1, 1, 0, 0, 0], float)
    blocks = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    draws = permute_within(vals, blocks, 500, rng)
    assert np.all(draws[:, :4].sum(1) == 2) and np.all(draws[:, 4:].sum(1) == 1)
    assert len({tuple(r) for r in draws}) == n_allocations(vals, blocks) == 24


def _stepped_wedge(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    c, t = 6, 4
    cl = np.repeat(np.arange(c), t)
    tt = np.tile(np.arange(t), c)
    start = np.repeat([1, 1, 2, 2, 3, 3], t)
    d = (tt >= start).astype(float)
    y = (
        0.5 * d
        + 0.3 * tt
        + np.repeat(rng.normal(size=c), t)
        + 0.4 * rng.normal(size=c * t)
    )
    return pd.DataFrame({"y": y, "d": d, "c": cl, "t": tt})


def test_stepped_wedge_fixed_effects_and_ri() -> None:
    df = _stepped_wedge()
    r = analyse_trial(df, "y", "d", cluster="c", time="t", permutations=20000, seed=3)
    fe = np.column_stack(
        [
            df.d,
            pd.get_dummies(df.c).to_numpy(float),
            pd.get_dummies(df.t, drop_first=True).to_numpy(float),
        ]
    )
    obs = _ols_coef(df.y.to_numpy(), fe)
    assert r.estimate.estimate == pytest.approx(obs, rel=1e-10)
    assert r.design == "stepped-wedge"
    # brute force: all distinct orders of the crossover periods (90 of them)
    starts = set(itertools.permutations([1, 1, 2, 2, 3, 3]))
    draws = []
    for s in starts:
        dd = (df.t.to_numpy() >= np.repeat(s, 4)).astype(float)
        fe[:, 0] = dd
        draws.append(_ols_coef(df.y.to_numpy(), fe))
    exact = np.mean(np.abs(draws) >= abs(obs) - 1e-12)
    assert len(starts) == 90
    assert abs(r.ri_p_value - exact) < 4 * np.sqrt(exact * (1 - exact) / 20000) + 1e-4


def test_errors_are_user_errors() -> None:
    df = _cluster_trial()
    with pytest.raises(DataError, match="0 or 1"):
        analyse_trial(df.assign(d=df.d * 2), "y", "d", permutations=0)
    bad = df.copy()
    bad.loc[0, "d"] = 1 - bad.loc[0, "d"]
    with pytest.raises(DataError, match="varies within cluster"):
        analyse_trial(bad, "y", "d", cluster="cl", permutations=0)
    with pytest.raises(DataError, match="no column"):
        analyse_trial(df, "nope", "d")
    with pytest.raises(EstimationError):
        analyse_trial(df.assign(d=1.0), "y", "d")
    sw = _stepped_wedge()
    sw.loc[3, "d"] = 0.0  # cluster 0 switches back off
    with pytest.raises(DataError, match="stays treated"):
        analyse_trial(sw, "y", "d", cluster="c", time="t")
    with pytest.raises(DataError, match="not a number"):
        analyse_trial(df.assign(y=["x"] * len(df)), "y", "d")


def test_result_shapes() -> None:
    df = _cluster_trial()
    r = analyse_trial(
        df, "y", "d", cluster="cl", covariates=["pre"], permutations=50, seed=1
    )
    d = r.to_dict()
    for key in (
        "estimate",
        "se",
        "ci_low",
        "ci_high",
        "p_value",
        "ri_p_value",
        "df",
        "seed",
        "design",
        "balance",
        "coefficients",
    ):
        assert key in d
    assert list(r.tidy().term) == ["treatment", "pre"]
    assert "randomisation inference" in r.summary()
    import matplotlib

    matplotlib.use("Agg")
    assert r.plot() is not None
