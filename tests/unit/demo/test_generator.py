"""The demo generator: determinism, shapes, bounds, codes, scale, argument errors."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from tillit.core.errors import DataError
from tillit.domain.demo import PLANTED, demo_pilots, generate_demo, load_params
from tillit.domain.geography import municipalities


def test_bit_identical_on_rerun_and_seed_matters() -> None:
    a = generate_demo(7, scale=0.2, n_years=8)
    b = generate_demo(7, scale=0.2, n_years=8)
    pd.testing.assert_frame_equal(a.observations, b.observations, check_exact=True)
    pd.testing.assert_frame_equal(a.units, b.units)
    assert a.pilots == b.pilots
    c = generate_demo(8, scale=0.2, n_years=8)
    assert not np.array_equal(a.observations["value"], c.observations["value"])


@pytest.mark.slow
def test_default_workspace_bit_identical(demo_ws) -> None:
    again = generate_demo()
    pd.testing.assert_frame_equal(
        demo_ws.observations, again.observations, check_exact=True
    )


def test_shapes(demo_ws) -> None:
    ws = demo_ws
    geo = municipalities()
    assert list(ws.organisations["code"]) == list(geo["code"])
    assert list(ws.organisations["name"]) == list(geo["name"])
    assert list(ws.organisations["county_code"]) == list(geo["county_code"])
    assert ws.years == tuple(range(2005, 2025))
    assert 28 <= len(ws.indicators) <= 35
    obs = ws.observations
    assert 300_000 <= len(obs) <= 600_000
    assert obs["value"].notna().all()
    assert set(obs["gender"]) == {"T", "K", "M"}
    assert set(obs["period"]) == {str(y) for y in ws.years}
    key = ["indicator", "org_code", "unit_code", "period", "gender"]
    assert not obs.duplicated(key).any()
    org = obs[obs["unit_code"] == ""]
    per = org.groupby(["indicator", "gender"])["org_code"].count()
    assert (per == 290 * 20).all()
    gendered = {i.id for i in ws.indicators if i.divided_by_gender}
    assert len(gendered) >= 12
    assert set(org.loc[org["gender"] == "K", "indicator"]) == gendered


def test_indicator_metadata(demo_ws) -> None:
    params = {p["id"]: p for p in load_params()["indicators"]}
    for ind in demo_ws.indicators:
        assert ind.is_demo
        assert re.fullmatch(r"[NU]\d{5}|DEMO_\d{3}", ind.id)
        assert ind.title and ind.description.startswith(params[ind.id]["title_en"])
        if ind.id.startswith("DEMO_"):
            assert params[ind.id]["invented"] and params[ind.id]["source_kpi"] is None
        else:
            assert params[ind.id]["source_kpi"] == ind.id
    assert {"DEMO_001", "N00090", "U21401", "N15505"} <= {
        i.id for i in demo_ws.indicators
    }


def test_values_respect_bounds(demo_ws) -> None:
    params = {p["id"]: p for p in load_params()["indicators"]}
    obs = demo_ws.observations
    for iid, g in obs.groupby("indicator"):
        lo, hi = params[iid]["bounds"]
        assert lo is None or g["value"].min() >= lo
        assert hi is None or g["value"].max() <= hi
    shares = obs[obs["indicator"].isin(["N00090", "DEMO_001", "U21461"])]
    assert shares["value"].between(0, 100).all()


def test_units(demo_ws) -> None:
    units = demo_ws.units
    per = units.groupby("org_code").size()
    assert per.min() >= 1 and per.max() <= 4 and len(per) == 290
    assert units["code"].is_unique
    assert units["code"].str.fullmatch(r"V21E\d{4}\d{5}").all()
    assert (units["code"].str[4:8] == units["org_code"]).all()
    assert units["name"].str.startswith("Hemtjänst ").all()
    unit_obs = demo_ws.observations[demo_ws.observations["unit_code"] != ""]
    assert set(unit_obs["unit_code"]) == set(units["code"])
    assert set(unit_obs["indicator"]) == set(load_params()["units"])
    assert set(unit_obs["gender"]) == {"T"}


def test_gender_total_lies_between_women_and_men(demo_ws) -> None:
    obs = demo_ws.observations
    sub = obs[(obs["indicator"] == "N15505") & (obs["unit_code"] == "")]
    w = sub.pivot(index=["org_code", "period"], columns="gender", values="value")
    lo = np.minimum(w["K"], w["M"]) - 0.11
    hi = np.maximum(w["K"], w["M"]) + 0.11
    assert ((w["T"] >= lo) & (w["T"] <= hi)).mean() > 0.99
    assert (w["K"] - w["M"]).mean() > 15  # girls' merit values are higher, as in Kolada


def test_scale_subsets_and_clones() -> None:
    small = generate_demo(scale=0.1, n_years=3)
    assert len(small.organisations) == 29
    assert small.organisations["code"].isin(municipalities()["code"]).all()
    big = generate_demo(scale=1.5, n_years=2, units_per_municipality=(1, 1))
    assert len(big.organisations) == 435
    clones = big.organisations.iloc[290:]
    assert clones["code"].iloc[0] == "D00001" and (clones["kind"] == "other").all()
    assert set(big.observations["org_code"]) == set(big.organisations["code"])
    assert len(big.units) == 435


def test_pilots_cheap_path_matches(demo_ws) -> None:
    assert demo_pilots() == demo_ws.pilots
    assert demo_pilots(scale=0.5) == generate_demo(scale=0.5, n_years=2).pilots


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_years": 1},
        {"scale": 0.0},
        {"scale": float("nan")},
        {"first_year": 1800},
        {"first_year": 2095, "n_years": 10},
        {"units_per_municipality": (0, 2)},
        {"units_per_municipality": (3, 2)},
    ],
)
def test_bad_arguments_are_data_errors(kwargs) -> None:
    with pytest.raises(DataError):
        generate_demo(**kwargs)


def test_planted_facts_documented(demo_ws) -> None:
    assert demo_ws.planted == PLANTED
    assert demo_ws.planted["very_noisy"]["indicator"] == "DEMO_004"
    assert len(demo_ws.planted["near_redundant_pair"]["indicators"]) == 2
