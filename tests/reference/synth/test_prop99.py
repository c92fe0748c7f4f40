"""California Proposition 99: published SDID / SC / DiD and ADH synthetic control numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tillit.core.synth import sdid, sdid_matrix, synth
from tillit.core.synth._scm import fit_sc

DATA = Path(__file__).parent / "data" / "california_prop99.csv"
KW = {
    "outcome": "cigsale",
    "unit": "state",
    "time": "year",
    "treated_units": ["California"],
    "treatment_start": 1989,
}
ADH_PREDICTORS = [
    "lnincome@1980-1988",
    "retprice@1980-1988",
    "age15to24@1980-1988",
    "beer@1984-1988",
    "cigsale@1975",
    "cigsale@1980",
    "cigsale@1988",
]
ADH_WEIGHTS = {
    "Colorado": 0.164,
    "Connecticut": 0.069,
    "Montana": 0.199,
    "Nevada": 0.234,
    "Utah": 0.334,
}


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    return pd.read_csv(DATA)


@pytest.fixture(scope="module")
def matrix(df: pd.DataFrame) -> np.ndarray:
    W = df.pivot(index="state", columns="year", values="cigsale")
    order = [s for s in sorted(W.index) if s != "California"] + ["California"]
    return W.loc[order].to_numpy()


@pytest.mark.slow
def test_table1_point_estimates(matrix: np.ndarray) -> None:
    """Arkhangelsky et al. (2021) Table 1 and R synthdid's printed -15.60383."""
    tau = {m: sdid_matrix(matrix, 38, 19, m).tau for m in ("sdid", "sc", "did")}
    assert tau["sdid"] == pytest.approx(-15.60383, abs=1e-4)
    assert round(tau["sdid"], 1) == -15.6
    assert round(tau["sc"], 1) == -19.6
    assert round(tau["did"], 1) == -27.3


@pytest.mark.slow
def test_placebo_se_seeded_and_near_table1(df: pd.DataFrame) -> None:
    """Placebo SEs with seed 4: exactly reproducible; near the paper's 200 R draws.

    The paper's values (8.4, 9.9, 17.7) come from one set of 200 draws of R's RNG.  With
    numpy's generator the SDID placebo se over seeds 0-10 ranges 7.96-10.91 (SC 9.42-12.24,
    DiD 13.9-19.5); diff-diff 3.13 gives bit-identical draws for the same seed.
    """
    got = {
        m: sdid(df, method=m, seed=4, **KW).estimate.se for m in ("sdid", "sc", "did")
    }
    assert got["sdid"] == pytest.approx(9.701, abs=1e-3)
    assert got["sc"] == pytest.approx(10.958, abs=1e-3)
    assert got["did"] == pytest.approx(17.541, abs=1e-3)
    paper = {"sdid": 8.4, "sc": 9.9, "did": 17.7}
    for m, se in got.items():
        assert abs(se / paper[m] - 1) < 0.2, m


def test_sc_inner_weights_match_pysyncon_for_a_given_v(df: pd.DataFrame) -> None:
    """Same V (equal weights on the ADH predictors): our exact QP vs pysyncon's SLSQP."""
    pysyncon = pytest.importorskip("pysyncon")
    donors = sorted(set(df.state) - {"California"})
    dp = pysyncon.Dataprep(
        foo=df,
        predictors=[],
        predictors_op="mean",
        time_predictors_prior=range(1970, 1989),
        special_predictors=[
            ("lnincome", range(1980, 1989), "mean"),
            ("retprice", range(1980, 1989), "mean"),
            ("age15to24", range(1980, 1989), "mean"),
            ("beer", range(1984, 1989), "mean"),
            ("cigsale", [1975], "mean"),
            ("cigsale", [1980], "mean"),
            ("cigsale", [1988], "mean"),
        ],
        dependent="cigsale",
        unit_variable="state",
        time_variable="year",
        treatment_identifier="California",
        controls_identifier=donors,
        time_optimize_ssr=range(1970, 1989),
    )
    v = np.full(7, 1 / 7)
    peer = pysyncon.Synth()
    peer.fit(dataprep=dp, custom_V=v)
    ours = synth(df, predictors=ADH_PREDICTORS, v=v, placebo="none", **KW)
    w = np.array([ours.weights[d] for d in donors])
    assert np.abs(w - np.asarray(peer.W)).max() < 2e-3
    assert ours.fits[0].pre_rmspe == pytest.approx(np.sqrt(peer.loss_V), rel=0.01)


@pytest.mark.slow
def test_nested_v_matches_mlsynth_global_search(df: pd.DataFrame) -> None:
    """mlsynth's VanillaSC (MSCMT differential-evolution V search) finds our weights."""
    pytest.importorskip("mlsynth")
    from mlsynth.estimators.vanillasc import VanillaSC

    d = df.copy()
    covs, windows = [], {}
    for p in ADH_PREDICTORS:
        col, _, when = p.partition("@")
        lo, _, hi = when.partition("-")
        name = f"{col}_{lo}_{hi or lo}"
        d[name] = d[col]
        covs.append(name)
        windows[name] = (int(lo), int(hi or lo))
    d["d"] = ((d.state == "California") & (d.year >= 1989)).astype(int)
    peer = VanillaSC(
        {
            "df": d,
            "outcome": "cigsale",
            "treat": "d",
            "unitid": "state",
            "time": "year",
            "covariates": covs,
            "covariate_windows": windows,
            "backend": "mscmt",
            "inference": False,
            "display_graphs": False,
        }
    ).fit()
    theirs = {str(k): float(v) for k, v in peer.weights.donor_weights.items()}
    ours = synth(df, predictors=ADH_PREDICTORS, placebo="none", **KW).weights
    for k in set(ours) | set(theirs):
        assert ours.get(k, 0.0) == pytest.approx(theirs.get(k, 0.0), abs=1e-4), k


def test_outcome_lag_weights_match_documented_example(df: pd.DataFrame) -> None:
    """All pre-period outcomes as predictors: Utah ~0.39, Montana ~0.23, Nevada ~0.21."""
    res = synth(df, placebo="none", **KW)
    w = res.weights
    assert w["Utah"] == pytest.approx(0.394, abs=0.01)
    assert w["Montana"] == pytest.approx(0.232, abs=0.01)
    assert w["Nevada"] == pytest.approx(0.205, abs=0.01)
    assert w["Connecticut"] == pytest.approx(0.109, abs=0.01)


def test_nested_v_reaches_adh_fit(df: pd.DataFrame) -> None:
    """Nested V on the ADH predictors: ADH (2010) Table 2 weights to 0.005, RMSPE 1.76."""
    W = df.pivot(index="state", columns="year", values="cigsale")
    adh = sum(W.loc[k] * v for k, v in ADH_WEIGHTS.items())
    adh_mspe = float(((W.loc["California"] - adh).loc[:1988] ** 2).mean())
    res = synth(df, predictors=ADH_PREDICTORS, placebo="none", **KW)
    assert res.fits[0].pre_rmspe ** 2 <= adh_mspe * 1.05
    assert res.pre_rmspe == pytest.approx(1.76, abs=0.01)
    for k, v in ADH_WEIGHTS.items():
        assert res.weights[k] == pytest.approx(v, abs=0.005), k
    assert sum(w > 1e-6 for w in res.weights.values()) == len(ADH_WEIGHTS)


@pytest.mark.slow
def test_nested_v_placebo_in_space_p_value_is_one_in_39(df: pd.DataFrame) -> None:
    """ADH (2010) Section 4: California's post/pre RMSPE ratio is the largest of 39."""
    res = synth(df, predictors=ADH_PREDICTORS, placebo="space", **KW)
    assert len(res.placebos) == 38
    assert res.p_value == pytest.approx(1 / 39)
    assert all(p.ratio < res.fits[0].ratio for p in res.placebos)
    for k, v in ADH_WEIGHTS.items():  # the treated fit inside the batch is the same
        assert res.weights[k] == pytest.approx(v, abs=0.005), k


def test_placebo_in_space_p_value(df: pd.DataFrame) -> None:
    res = synth(df, placebo="space", **KW)
    assert len(res.placebos) == 38
    ratios = np.array([p.ratio for p in res.placebos])
    treated = res.fits[0].ratio
    assert res.p_value == pytest.approx((1 + np.sum(ratios >= treated)) / 39)
    d = res.to_dict()
    for key in ("weights", "gap", "pre_rmspe", "post_rmspe", "p_value", "placebo_gaps"):
        assert key in d
    assert {"time", "gap"} <= set(d["gap"][0])


def test_exact_qp_matches_slsqp_on_prop99(matrix: np.ndarray) -> None:
    from scipy.optimize import minimize

    y1, Y0 = matrix[-1], matrix[:-1]
    f = fit_sc(y1, Y0, 19)
    A, b = Y0[:, :19].T / 100, y1[:19] / 100  # scaled so that SLSQP converges
    res = minimize(
        lambda x: np.sum((A @ x - b) ** 2),
        np.full(38, 1 / 38),
        jac=lambda x: 2 * A.T @ (A @ x - b),
        method="SLSQP",
        bounds=[(0, 1)] * 38,
        constraints=[{"type": "eq", "fun": lambda x: x.sum() - 1}],
        options={"ftol": 1e-14, "maxiter": 1000},
    )
    assert np.sum((A @ f.weights - b) ** 2) <= res.fun + 1e-10
    assert np.abs(f.weights - res.x).max() < 1e-3
