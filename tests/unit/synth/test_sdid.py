"""Synthetic DiD against an independent weighted two-way fixed-effects regression."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tillit.core.errors import DataError, EstimationError
from tillit.core.synth import sdid, sdid_matrix


def _panel(seed: int = 0, n: int = 14, t: int = 10, n_tr: int = 2, t0: int = 7):
    rng = np.random.default_rng(seed)
    L = rng.normal(size=(n, 2)) @ rng.normal(size=(2, t))
    Y = L + rng.normal(scale=0.3, size=(n, t)) + np.arange(t) * 0.2
    Y[n - n_tr :, t0:] += 1.5
    return Y, n - n_tr, t0


def _long(Y: np.ndarray) -> pd.DataFrame:
    n, t = Y.shape
    return pd.DataFrame(
        {
            "unit": np.repeat([f"u{i:02d}" for i in range(n)], t),
            "period": np.tile(np.arange(2000, 2000 + t), n),
            "y": Y.ravel(),
        }
    )


def test_sdid_equals_weighted_twfe_regression() -> None:
    """Paper eq. (1): tau from WLS of Y on unit FE, time FE and W with omega*lambda weights."""
    Y, N0, T0 = _panel()
    fit = sdid_matrix(Y, N0, T0)
    n, t = Y.shape
    om = np.concatenate([fit.omega, np.full(n - N0, 1 / (n - N0))])
    la = np.concatenate([fit.lambda_, np.full(t - T0, 1 / (t - T0))])
    w = np.outer(om, la).ravel()
    keep = w > 0
    units = np.repeat(np.arange(n), t)
    times = np.tile(np.arange(t), n)
    D = ((units >= N0) & (times >= T0)).astype(float)
    X = np.column_stack([np.eye(n)[units], np.eye(t)[times][:, 1:], D])[keep]
    sw = np.sqrt(w[keep])
    beta, *_ = np.linalg.lstsq(X * sw[:, None], Y.ravel()[keep] * sw, rcond=None)
    assert beta[-1] == pytest.approx(fit.tau, abs=1e-9)


@pytest.mark.parametrize("method", ["sdid", "did"])
def test_unit_and_time_shifts_leave_estimate_unchanged(method: str) -> None:
    Y, N0, T0 = _panel(1)
    base = sdid_matrix(Y, N0, T0, method).tau
    shifted = Y + np.arange(Y.shape[0])[:, None] * 3.0 + np.arange(Y.shape[1]) * 2.0
    assert sdid_matrix(shifted, N0, T0, method).tau == pytest.approx(base, abs=1e-7)


def test_did_special_case_is_plain_did() -> None:
    Y, N0, T0 = _panel(2)
    did = (Y[N0:, T0:].mean() - Y[N0:, :T0].mean()) - (
        Y[:N0, T0:].mean() - Y[:N0, :T0].mean()
    )
    assert sdid_matrix(Y, N0, T0, "did").tau == pytest.approx(did, abs=1e-12)


def test_weights_on_simplex_and_effect_recovered() -> None:
    Y, N0, T0 = _panel(3)
    fit = sdid_matrix(Y, N0, T0)
    for w in (fit.omega, fit.lambda_):
        assert w.min() >= 0 and w.sum() == pytest.approx(1)
    assert fit.tau == pytest.approx(1.5, abs=0.6)


@pytest.mark.parametrize(
    "variance",
    ["placebo", "jackknife", pytest.param("bootstrap", marks=pytest.mark.slow)],
)
def test_variance_methods_are_seeded_and_finite(variance: str) -> None:
    df = _long(_panel(4)[0])
    kw = {
        "outcome": "y",
        "unit": "unit",
        "time": "period",
        "treated_units": ["u12", "u13"],
        "treatment_start": 2007,
        "variance": variance,
        "replications": 4,
    }
    a = sdid(df, seed=5, **kw)
    b = sdid(df, seed=5, **kw)
    assert a.estimate.se == b.estimate.se
    assert np.isfinite(a.estimate.se) and a.estimate.se > 0
    assert a.estimate.ci_low < a.estimate.estimate < a.estimate.ci_high
    d = a.to_dict()
    for key in ("estimate", "se", "ci_low", "ci_high", "unit_weights", "time_weights"):
        assert key in d


def test_staggered_is_weighted_average_of_cohorts() -> None:
    Y, _, _ = _panel(5, n=16, t=12, n_tr=0)
    Y[14, 8:] += 2.0
    Y[15, 6:] += 1.0
    df = _long(Y)
    res = sdid(
        df,
        outcome="y",
        unit="unit",
        time="period",
        treated_units=["u14", "u15"],
        treatment_start={"u14": 2008, "u15": 2006},
        variance="none",
    )
    taus = [c.estimate for c in res.cohorts]
    w = np.array([1 * 6, 1 * 4], dtype=float)  # cohorts sorted by start: 2006 then 2008
    assert res.estimate.estimate == pytest.approx(np.dot(w, taus) / w.sum())
    single = sdid(
        df[df.unit != "u14"],
        outcome="y",
        unit="unit",
        time="period",
        treated_units=["u15"],
        treatment_start=2006,
        variance="none",
    )
    assert taus[0] == pytest.approx(single.estimate.estimate, abs=1e-12)


def test_bad_input_raises_clear_errors() -> None:
    df = _long(_panel(6)[0])
    kw = {"outcome": "y", "unit": "unit", "time": "period"}
    with pytest.raises(DataError, match="unknown treated unit"):
        sdid(df, treated_units=["nope"], treatment_start=2007, **kw)
    with pytest.raises(DataError, match="after the last period"):
        sdid(df, treated_units=["u13"], treatment_start=2050, **kw)
    with pytest.raises(DataError, match="pre-treatment"):
        sdid(df, treated_units=["u13"], treatment_start=2000, **kw)
    with pytest.raises(DataError, match="unbalanced"):
        sdid(df.iloc[1:], treated_units=["u13"], treatment_start=2007, **kw)
    with pytest.raises(DataError, match="twice"):
        sdid(
            pd.concat([df, df.iloc[:1]]),
            treated_units=["u13"],
            treatment_start=2007,
            **kw,
        )
    small = df[df.unit.isin(["u00", "u13"])]
    with pytest.raises(EstimationError, match="too few donor"):
        sdid(small, treated_units=["u13"], treatment_start=2007, **kw)
    with pytest.raises(EstimationError, match="jackknife"):
        sdid(
            df, treated_units=["u13"], treatment_start=2007, variance="jackknife", **kw
        )


def _staggered_panel() -> tuple[np.ndarray, pd.DataFrame]:
    """u13, u14 start in 2008 (+2), u15 in 2006 (+1); u00-u12 never treated."""
    rng = np.random.default_rng(5)
    n, t = 16, 12
    L = rng.normal(size=(n, 2)) @ rng.normal(size=(2, t))
    Y = L + rng.normal(scale=0.3, size=(n, t)) + np.arange(t) * 0.2
    Y[13:15, 8:] += 2.0
    Y[15, 6:] += 1.0
    return Y, _long(Y)


STAGGERED = {
    "outcome": "y",
    "unit": "unit",
    "time": "period",
    "treated_units": ["u13", "u14", "u15"],
    "treatment_start": {"u13": 2008, "u14": 2008, "u15": 2006},
}

# Overall se of the staggered panel before per-cohort inference was added (the
# replicate-by-replicate code of commit b7e093b, 20 replicates, seed 3).
OVERALL_SE = {
    "placebo": 0.22362458184025863,
    "bootstrap": 0.4864577276023735,
    "jackknife": 0.7393488559893544,
}


@pytest.mark.parametrize("variance", ["placebo", "bootstrap", "jackknife"])
def test_staggered_overall_se_unchanged_and_cohorts_get_inference(
    variance: str,
) -> None:
    _, df = _staggered_panel()
    res = sdid(df, variance=variance, replications=20, seed=3, **STAGGERED)
    assert res.estimate.se == pytest.approx(OVERALL_SE[variance], rel=1e-9)
    reps = res.cohort_replicates
    assert reps.shape == (len(res.replicate_estimates), 2)
    for k, c in enumerate(res.cohorts):
        draws = reps[:, k]
        if variance == "bootstrap":
            draws = draws[~np.isnan(draws)]
        if variance == "jackknife" and len(c.treated) == 1:
            assert np.isnan(draws).sum() == 1 and np.isnan(c.inference.se)
            continue
        want = (
            np.std(draws)
            if variance != "jackknife"
            else np.sqrt(
                (len(draws) - 1) / len(draws) * np.sum((draws - draws.mean()) ** 2)
            )
        )
        assert c.inference.se == pytest.approx(want, rel=1e-12)
        assert c.inference.estimate == c.estimate
        lo, hi = c.inference.ci_low, c.inference.ci_high
        assert lo < c.estimate < hi
        assert (hi - lo) == pytest.approx(2 * 1.959963984540054 * want, rel=1e-9)
    if variance == "placebo":
        w = np.array(res.cohort_weights)
        np.testing.assert_allclose(reps @ w, res.replicate_estimates, atol=1e-12)


def test_staggered_cohort_se_equals_independent_placebo_refits() -> None:
    """Cohort se from the shared placebo replicates, rebuilt one block at a time.

    Each replicate assigns never-treated units at random to pseudo-cohorts of the
    cohorts' sizes (disjoint), fits each pseudo-cohort from scratch against the
    remaining controls; a cohort's se is the sd of its own pseudo-estimates.
    """
    Y, df = _staggered_panel()
    res = sdid(df, variance="placebo", replications=4, seed=11, **STAGGERED)
    rng = np.random.default_rng(11)
    controls = np.arange(13)
    cohorts = [(6, 1), (8, 2)]  # (start column, size), by start
    draws = np.empty((4, 2))
    for r in range(4):
        perm = rng.permutation(controls)
        cut = 13 - 3
        ctrl = np.sort(perm[:cut])
        for k, (col, size) in enumerate(cohorts):
            fake = perm[cut : cut + size]
            cut += size
            block = Y[np.concatenate([ctrl, fake])]
            draws[r, k] = sdid_matrix(block, len(ctrl), col).tau
    np.testing.assert_allclose(res.cohort_replicates, draws, atol=1e-10)
    for k, c in enumerate(res.cohorts):
        assert c.inference.se == pytest.approx(np.std(draws[:, k]), rel=1e-9)


@pytest.mark.parametrize("cohort", ["u15", "u13"])
def test_cohort_only_panel_gives_the_cohort_estimate(cohort: str) -> None:
    """Dropping the other cohort's units leaves a cohort's estimate unchanged.

    Its se is not the same: the staggered replicates draw pseudo-cohorts for all
    cohorts at once (disjoint) and refit from scratch, as Stata ``sdid`` does, while a
    one-cohort panel uses R ``synthdid``'s placebo (warm start, fixed regularisation).
    """
    _, df = _staggered_panel()
    res = sdid(df, variance="none", **STAGGERED)
    units = ["u15"] if cohort == "u15" else ["u13", "u14"]
    start = STAGGERED["treatment_start"][units[0]]
    others = set(STAGGERED["treated_units"]) - set(units)
    alone = sdid(
        df[~df.unit.isin(others)],
        outcome="y",
        unit="unit",
        time="period",
        treated_units=units,
        treatment_start=start,
        variance="none",
    )
    c = next(c for c in res.cohorts if c.start == start)
    assert c.estimate == pytest.approx(alone.estimate.estimate, abs=1e-12)
    assert c.unit_weights == pytest.approx(alone.unit_weights, abs=1e-12)


def test_cohort_inference_in_dict_tidy_and_summary() -> None:
    _, df = _staggered_panel()
    res = sdid(df, variance="placebo", replications=5, seed=2, **STAGGERED)
    d = res.to_dict()
    for c, dc in zip(res.cohorts, d["cohorts"], strict=True):
        assert dc["se"] == pytest.approx(c.inference.se)
        assert dc["ci_low"] < dc["estimate"] < dc["ci_high"]
        assert 0 <= dc["p_value"] <= 1
    tidy = res.tidy()
    assert list(tidy.term) == ["ATT", "cohort 2006", "cohort 2008"]
    assert tidy.se.notna().all()
    assert tidy.se.iloc[1] == pytest.approx(res.cohorts[0].inference.se)
    text = res.summary()
    assert f"cohort 2006: {res.cohorts[0].estimate:.4f} (se " in text
    single = sdid(
        df[~df.unit.isin(["u13", "u14"])],
        outcome="y",
        unit="unit",
        time="period",
        treated_units=["u15"],
        treatment_start=2006,
        replications=5,
        seed=2,
    )
    assert single.cohorts[0].inference.se == single.estimate.se
    assert single.to_dict()["cohorts"][0]["se"] == single.estimate.se
