"""R did's published mpdta numbers, to the printed digit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tillit.core.did import att_gt

HERE = Path(__file__).parent
PUB = json.loads((HERE / "published.json").read_text())


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    return pd.read_csv(HERE / "data" / "mpdta.csv")


def _fit(df: pd.DataFrame, **kw):  # type: ignore[no-untyped-def]
    return att_gt(
        df,
        outcomes=["lemp"],
        unit="countyreal",
        time="year",
        cohort="first.treat",
        **kw,
    )["lemp"]


def test_mpdta_shape(mpdta: pd.DataFrame) -> None:
    assert mpdta.shape == (2500, 6)
    assert sorted(mpdta["first.treat"].unique()) == [0, 2004, 2006, 2007]


def test_att_gt_and_se_match_published_digits(mpdta: pd.DataFrame) -> None:
    o = _fit(mpdta, compare_controls=False)
    got = o.att_gt.tidy()
    assert len(got) == len(PUB["att_gt"]) == 12
    for row, pub in zip(got.itertuples(), PUB["att_gt"], strict=True):
        assert (row.group, row.time) == (pub["group"], pub["time"])
        assert round(row.estimate, 4) == pytest.approx(pub["estimate"], abs=1e-12)
        assert round(row.se, 4) == pytest.approx(pub["se"], abs=1e-12)


def test_aggregations_match_published_digits(mpdta: pd.DataFrame) -> None:
    o = _fit(mpdta, compare_controls=False)
    assert round(o.simple.estimate[0], 4) == PUB["simple"]["estimate"]
    assert round(o.group_overall.estimate[0], 4) == PUB["group_overall"]["estimate"]
    assert round(o.dynamic_overall.estimate[0], 4) == PUB["dynamic_overall"]["estimate"]
    assert round(o.diagnostics["pretrend"]["p_value"], 5) == PUB["pretrend_p_value"]
    assert o.n_units == 500 and o.n_periods == 5


@pytest.mark.slow
def test_bootstrap_se_near_r(mpdta: pd.DataFrame) -> None:
    # One bootstrap SE is one Monte Carlo draw (its sd is ~3% at 1999 draws, and R's
    # printed figure is one such draw too), so compare the mean over five seeds.
    fits = [
        _fit(mpdta, bootstrap=1999, seed=20240601 + s, compare_controls=False)
        for s in range(5)
    ]
    o = fits[0]
    for key in ("simple", "group_overall", "dynamic_overall"):
        se = np.mean([getattr(f, key).se[0] for f in fits])
        assert se == pytest.approx(PUB[key]["bootstrap_se"], rel=0.08), key
    # ATT(g,t) bootstrap SEs near the analytic (R-printed) ones
    pub = np.array([r["se"] for r in PUB["att_gt"]])
    assert np.allclose(o.att_gt.se, pub, rtol=0.12)
    assert np.all(o.att_gt.crit > 1.96) and np.isfinite(o.dynamic.crit)


def test_covariates_dr_simple(mpdta: pd.DataFrame) -> None:
    # R did, xformla = ~lpop, est_method = "dr": simple ATT -0.0418 (also moderndid)
    o = _fit(mpdta, covariates=["lpop"], method="dr", compare_controls=False)
    assert round(o.simple.estimate[0], 4) == -0.0418
    assert round(o.att_gt.estimate[0], 4) == -0.0145
