"""TWFE and event study vs dense-dummy OLS and the peers; Bacon sums to TWFE."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from tillit.core.did.bacon import bacon
from tillit.core.did.twfe import event_study, twfe

KW = {"unit": "id", "time": "year", "cohort": "g"}


def _dense_ols(
    df: pd.DataFrame, y: str, regs: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """OLS with every unit and year dummy; CR1 by unit with all dummies counted."""
    ud = pd.get_dummies(df.id, prefix="u", dtype=float)
    td = pd.get_dummies(df.year, prefix="t", dtype=float).iloc[:, 1:]
    X = np.column_stack([df[regs].to_numpy(float), ud.to_numpy(), td.to_numpy()])
    yy = df[y].to_numpy()
    xtx_inv = np.linalg.inv(X.T @ X)
    b = xtx_inv @ X.T @ yy
    e = yy - X @ b
    s = pd.DataFrame(X * e[:, None]).groupby(df.id.to_numpy()).sum().to_numpy()
    n, k = X.shape
    g = df.id.nunique()
    v = g / (g - 1) * (n - 1) / (n - k) * xtx_inv @ s.T @ s @ xtx_inv
    return b[: len(regs)], np.sqrt(np.diag(v))[: len(regs)]


def test_twfe_matches_dense_dummy_ols(sim: Callable[..., pd.DataFrame]) -> None:
    df = sim(n=60, periods=6, k=2, seed=21)
    df["D"] = ((df.g > 0) & (df.year >= df.g)).astype(float)
    res = twfe(df, outcomes=["y0", "y1"], ssc="full", **KW)
    for y in ("y0", "y1"):
        b, se = _dense_ols(df, y, ["D"])
        assert res.coefficients[y].estimate[0] == pytest.approx(b[0], abs=1e-10)
        assert res.coefficients[y].se[0] == pytest.approx(se[0], rel=1e-8)


@pytest.mark.slow
def test_twfe_matches_statsmodels(sim: Callable[..., pd.DataFrame]) -> None:
    smf = pytest.importorskip("statsmodels.formula.api")
    df = sim(n=60, periods=6, k=1, seed=22)
    df["D"] = ((df.g > 0) & (df.year >= df.g)).astype(float)
    m = smf.ols("y0 ~ D + C(id) + C(year)", data=df).fit(
        cov_type="cluster", cov_kwds={"groups": df["id"]}
    )
    r = twfe(df, outcomes=["y0"], ssc="full", **KW).coefficients["y0"]
    assert r.estimate[0] == pytest.approx(m.params["D"], abs=1e-10)
    assert r.se[0] == pytest.approx(m.bse["D"], rel=1e-8)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:The inplace keyword")
def test_twfe_and_event_study_match_pyfixest(sim: Callable[..., pd.DataFrame]) -> None:
    pf = pytest.importorskip("pyfixest")
    df = sim(n=80, periods=6, k=1, seed=23)
    df["D"] = ((df.g > 0) & (df.year >= df.g)).astype(float)
    f = pf.feols("y0 ~ D | id + year", data=df, vcov={"CRV1": "id"})
    r = twfe(df, outcomes=["y0"], **KW).coefficients["y0"]
    assert r.estimate[0] == pytest.approx(f.coef().iloc[0], abs=1e-10)
    assert r.se[0] == pytest.approx(f.se().iloc[0], rel=1e-8)
    es = event_study(df, outcomes=["y0"], **KW).coefficients["y0"]
    rel = np.where(df.g > 0, df.year - df.g, np.nan)
    names = []
    for e in es.labels["event_time"]:
        names.append(f"e{int(e) + 50}")
        df[names[-1]] = (rel == e).astype(float)
    f2 = pf.feols(
        "y0 ~ " + "+".join(names) + " | id + year", data=df, vcov={"CRV1": "id"}
    )
    np.testing.assert_allclose(es.estimate, f2.coef().to_numpy(), atol=1e-10)
    np.testing.assert_allclose(es.se, f2.se().to_numpy(), rtol=1e-8)


@pytest.mark.slow
def test_twfe_matches_linearmodels(sim: Callable[..., pd.DataFrame]) -> None:
    lm = pytest.importorskip("linearmodels")
    df = sim(n=60, periods=6, k=1, seed=24)
    df["D"] = ((df.g > 0) & (df.year >= df.g)).astype(float)
    p = df.set_index(["id", "year"])
    m = lm.PanelOLS(p.y0, p[["D"]], entity_effects=True, time_effects=True).fit(
        cov_type="clustered", cluster_entity=True, debiased=True, group_debias=True
    )
    r = twfe(df, outcomes=["y0"], ssc="full", **KW).coefficients["y0"]
    assert r.estimate[0] == pytest.approx(m.params["D"], abs=1e-10)
    assert r.se[0] == pytest.approx(m.std_errors["D"], rel=1e-8)


def test_bacon_weights_sum_and_reproduce_twfe(sim: Callable[..., pd.DataFrame]) -> None:
    df = sim(n=150, periods=9, k=1, seed=25)
    b = bacon(df, outcome="y0", **KW)
    c = b.comparisons
    assert c.weight.sum() == pytest.approx(1.0, abs=1e-12)
    assert (c.weight * c.estimate).sum() == pytest.approx(b.twfe, abs=1e-10)
    assert set(c.type) == {
        "treated vs never treated",
        "earlier vs later treated",
        "later vs earlier treated",
    }
    assert "Goodman-Bacon" in b.summary()
    assert b.to_dict()["twfe"] == pytest.approx(b.twfe)


def test_bacon_without_never_treated(sim: Callable[..., pd.DataFrame]) -> None:
    df = sim(n=120, periods=8, k=1, seed=26, never_share=0.0)
    b = bacon(df, outcome="y0", **KW)
    c = b.comparisons
    assert (c.weight * c.estimate).sum() == pytest.approx(b.twfe, abs=1e-10)
