"""Synthetic DiD with population weights and clusters above the unit (#18 items 1-2).

Independent checks: the weighted DiD special case equals a weighted two-way
fixed-effects regression solved by least squares; integer weights equal duplicated
treated units (synthetic control form, whose regularisation does not depend on the
number of treated units); one-unit clusters reproduce the unit bootstrap and jackknife
draw for draw; cluster placebo replicates never touch a treated cluster, move whole
patterns, and equal the replicate panels re-estimated one by one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tillit.core.errors import DataError, EstimationError
from tillit.core.synth import _sdid_core as core
from tillit.core.synth import sdid
from tillit.core.synth._sdid_clusters import ClusterPlacebo


def _frame(seed: int = 0, n: int = 24, t: int = 10, t0: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    county = np.arange(n) // 4  # six counties of four units
    shock = rng.normal(size=(county.max() + 1, t))[county]  # shared within a county
    L = rng.normal(size=(n, 2)) @ rng.normal(size=(2, t))
    Y = L + shock + rng.normal(scale=0.3, size=(n, t)) + np.arange(t) * 0.2
    Y[n - 3 :, t0:] += np.array([1.0, 2.0, 4.0])[:, None]  # treated: u21, u22, u23
    return pd.DataFrame(
        {
            "unit": np.repeat([f"u{i:02d}" for i in range(n)], t),
            "period": np.tile(np.arange(2000, 2000 + t), n),
            "y": Y.ravel(),
            "pop": np.repeat(1.0 + (np.arange(n) % 5) * 10.0, t),
            "county": np.repeat([f"c{c}" for c in county], t),
            "single": np.repeat([f"s{i:02d}" for i in range(n)], t),
            "spread": np.repeat([f"r{i % 6}" for i in range(n)], t),
        }
    )


TREATED = ["u21", "u22", "u23"]
KW = {"outcome": "y", "unit": "unit", "time": "period", "treatment_start": 2007}


def _wls_twfe(df: pd.DataFrame, weight: str) -> float:
    """Weighted TWFE coefficient of the treatment dummy, by least squares."""
    units = pd.factorize(df["unit"])[0]
    times = pd.factorize(df["period"])[0]
    n, t = units.max() + 1, times.max() + 1
    D = (df["unit"].isin(TREATED) & (df["period"] >= 2007)).to_numpy(float)
    X = np.column_stack([np.eye(n)[units], np.eye(t)[times][:, 1:], D])
    sw = np.sqrt(df[weight].to_numpy(float))
    beta, *_ = np.linalg.lstsq(X * sw[:, None], df["y"].to_numpy() * sw, rcond=None)
    return float(beta[-1])


def test_weighted_did_equals_weighted_twfe_regression() -> None:
    df = _frame()
    res = sdid(
        df, treated_units=TREATED, method="did", variance="none", weights="pop", **KW
    )
    assert res.estimate.estimate == pytest.approx(_wls_twfe(df, "pop"), abs=1e-10)
    plain = sdid(df, treated_units=TREATED, method="did", variance="none", **KW)
    assert abs(plain.estimate.estimate - res.estimate.estimate) > 0.05  # weights matter
    assert res.to_dict()["weights"] == "pop"


def test_integer_weights_equal_duplicated_treated_units() -> None:
    df = _frame(1)
    w = {"u21": 1.0, "u22": 2.0, "u23": 3.0}
    df["w"] = df["unit"].map(w).fillna(1.0)
    res = sdid(
        df, treated_units=TREATED, method="sc", variance="none", weights="w", **KW
    )
    copies = [df]
    for u, k in w.items():
        for j in range(1, int(k)):
            extra = df[df.unit == u].copy()
            extra["unit"] = f"{u}_copy{j}"
            copies.append(extra)
    dup = pd.concat(copies, ignore_index=True)
    treated = [u for u in dup.unit.unique() if u.split("_")[0] in w]
    ref = sdid(dup, treated_units=treated, method="sc", variance="none", **KW)
    assert res.estimate.estimate == pytest.approx(ref.estimate.estimate, abs=1e-9)
    assert res.unit_weights == pytest.approx(ref.unit_weights, abs=1e-9)


def test_equal_or_rescaled_weights_change_nothing() -> None:
    df = _frame(2)
    df["one"] = 7.0
    base = sdid(df, treated_units=TREATED, seed=3, replications=20, **KW)
    same = sdid(df, treated_units=TREATED, seed=3, replications=20, weights="one", **KW)
    assert same.estimate.estimate == pytest.approx(base.estimate.estimate, abs=1e-10)
    assert same.estimate.se == pytest.approx(base.estimate.se, abs=1e-10)
    df["pop10"] = df["pop"] * 10
    a = sdid(df, treated_units=TREATED, seed=3, replications=20, weights="pop", **KW)
    b = sdid(df, treated_units=TREATED, seed=3, replications=20, weights="pop10", **KW)
    assert a.estimate.estimate == pytest.approx(b.estimate.estimate, abs=1e-10)
    assert a.estimate.se == pytest.approx(b.estimate.se, abs=1e-10)
    assert a.estimate.estimate != pytest.approx(base.estimate.estimate, abs=1e-3)


def test_staggered_cohorts_combine_by_weighted_unit_periods() -> None:
    df = _frame(3)
    starts = {"u21": 2006, "u22": 2007, "u23": 2007}
    res = sdid(
        df,
        outcome="y",
        unit="unit",
        time="period",
        treated_units=list(starts),
        treatment_start=starts,
        weights="pop",
        variance="none",
    )
    pop = df.groupby("unit")["pop"].first()
    w = np.array([pop["u21"] * 4, (pop["u22"] + pop["u23"]) * 3])
    taus = np.array([c.estimate for c in res.cohorts])
    assert res.estimate.estimate == pytest.approx(w @ taus / w.sum(), abs=1e-12)


@pytest.mark.parametrize("variance", ["bootstrap", "jackknife"])
def test_one_unit_clusters_reproduce_the_unit_draws(variance: str) -> None:
    df = _frame(4)
    kw = {"treated_units": TREATED, "variance": variance, "replications": 30, **KW}
    a = sdid(df, seed=9, **kw)
    b = sdid(df, seed=9, cluster="single", **kw)
    np.testing.assert_allclose(b.replicate_estimates, a.replicate_estimates, atol=1e-12)
    assert b.estimate.se == pytest.approx(a.estimate.se, abs=1e-12)
    assert b.to_dict()["n_clusters"] == 24 and b.cluster == "single"


def test_cluster_bootstrap_and_jackknife_move_whole_clusters() -> None:
    df = _frame(5)
    kw = {"treated_units": TREATED, "replications": 40, **KW}
    jk = sdid(df, variance="jackknife", cluster="spread", **kw)
    assert len(jk.replicate_estimates) == 6  # one per cluster
    with pytest.raises(EstimationError, match="two clusters with treated"):
        sdid(df, variance="jackknife", cluster="county", **kw)  # all treated in one
    boot = sdid(df, variance="bootstrap", cluster="county", seed=2, **kw)
    unit = sdid(df, variance="bootstrap", seed=2, **kw)
    assert np.isfinite(boot.estimate.se) and boot.estimate.se != unit.estimate.se


def test_cluster_placebo_assignments() -> None:
    codes = np.repeat(np.arange(6), 4)
    controls = np.arange(21)
    cp = ClusterPlacebo.build(codes, controls, [np.array([21, 22, 23])])
    assert set(cp.pool.tolist()) == set(range(20))  # county 5 (u20-u23) left out
    rng = np.random.default_rng(0)
    for _ in range(50):
        ctrl, (fake,) = cp.draw(rng)
        assert len(fake) == 3 and len(set(codes[fake])) == 1
        assert set(ctrl) | set(fake) == set(range(20))
        assert not set(ctrl) & set(fake)


def test_cluster_placebo_se_equals_replicates_refitted_one_by_one() -> None:
    df = _frame(6)
    res = sdid(
        df, treated_units=TREATED, cluster="county", seed=4, replications=12, **KW
    )
    # replay the draws and re-estimate each replicate panel on its own
    Y = df.pivot(index="unit", columns="period", values="y").to_numpy()
    codes = np.repeat(np.arange(6), 4)
    base = core.fit_block(Y, 21, 7)
    cp = ClusterPlacebo.build(codes, np.arange(21), [np.array([21, 22, 23])])
    rng = np.random.default_rng(4)
    taus = []
    for _ in range(12):
        ctrl, (fake,) = cp.draw(rng)
        om = core._sum_normalize(base.omega[ctrl])
        taus.append(
            core.refit(base, [Y[np.concatenate([ctrl, fake])]], [len(ctrl)], [om])[0]
        )
    np.testing.assert_allclose(
        np.sort(res.replicate_estimates), np.sort(taus), atol=1e-8
    )
    se = float(np.std(taus))
    assert res.estimate.se == pytest.approx(se, abs=1e-8)


def test_cluster_and_weight_errors() -> None:
    df = _frame(7)
    df.loc[3, "pop"] = 99.0  # varies within u00
    with pytest.raises(DataError, match="constant within a unit"):
        sdid(df, treated_units=TREATED, weights="pop", variance="none", **KW)
    df = _frame(7)
    df.loc[5, "pop"] = -1.0
    with pytest.raises(DataError, match="positive"):
        sdid(df, treated_units=TREATED, weights="pop", variance="none", **KW)
    df = _frame(7)
    df["county"] = np.where(df.unit.isin(["u00", "u21"]), "A", "B")  # both treated
    with pytest.raises(EstimationError, match="clusters"):
        sdid(df, treated_units=TREATED, cluster="county", **KW)
    with pytest.raises(EstimationError, match="replications"):
        sdid(df, treated_units=TREATED, replications=0, **KW)
