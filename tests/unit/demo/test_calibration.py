"""The generated panel reproduces params.json; params.json reproduces the real panel.

Tolerances (generated vs params.json, each moment estimated by the same function as in
validation/calibrate_demo.py, on the indicator's real years, and compared with what that
estimator gave on the real panel, ``estimated``; for invented indicators with the model
parameters): between-municipality SD within 25 %, within SD within 15 %, AR(1) within 0.1,
linear trend per year within 3 % of the indicator's total SD, correlations of municipality
effects within 0.1 on average (0.35 at most). Indicators the pilots or the planted audit facts change are excluded from the
moment checks (their planted structure is tested in test_planted.py).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tillit.domain.demo import load_params
from tillit.domain.demo.calibration import (
    ar_mean_factor,
    disattenuated_correlation,
    indirect_inference,
    nearest_correlation,
    panel_moments,
)

REPO = Path(__file__).resolve().parents[3]
PLANTED_ON = {
    "DEMO_001", "DEMO_003", "N00090", "N21006", "U21401",
    "U21454", "U21461", "U21462", "U21466", "U21477",
}  # fmt: skip


def _moments(ws, params):
    obs = ws.observations
    org = obs[(obs["unit_code"] == "") & (obs["gender"] == "T")]
    groups = ws.organisations.set_index("code")["skr_group"]
    out = {}
    for iid, ind in params.items():
        w = org[org["indicator"] == iid].pivot(
            index="org_code", columns="period", values="value"
        )
        w.columns = w.columns.astype(int)
        if ind["transform"] == "log":
            w = np.log(w)
        if ind["real_years"]:
            w = w.loc[:, ind["real_years"][0] : ind["real_years"][1]]
        out[iid] = panel_moments(w, groups, ref_year=ind["ref_year"])
    return out


@pytest.fixture(scope="module")
def generated(demo_ws):
    params = {p["id"]: p for p in load_params()["indicators"]}
    return params, _moments(demo_ws, params)


def test_between_within_ar_and_trend(generated) -> None:
    params, mom = generated
    for iid, p in params.items():
        if iid in PLANTED_ON:
            continue
        m = mom[iid]
        want = p["estimated"] or p
        total = float(np.hypot(p["between_sd"], p["within_sd"]))
        assert m.between_sd == pytest.approx(want["between_sd"], rel=0.25), iid
        assert m.within_sd == pytest.approx(want["within_sd"], rel=0.15), iid
        assert m.ar1 == pytest.approx(want["ar1"], abs=0.1), iid
        # the national path: the real year means where observed, else the linear trend
        years = np.array(sorted(m.year_means))
        path = np.array([p["level"] + p["trend"] * (y - p["ref_year"]) for y in years])
        if p["year_means"]:
            path = np.array([p["year_means"].get(str(y), np.nan) for y in years])
        got = np.array([m.year_means[y] for y in years])
        ok = ~np.isnan(path)
        assert np.abs(got[ok] - path[ok]).max() <= 4 * total / np.sqrt(290), iid
        slope_want = np.polyfit(years[ok], path[ok], 1)[0]
        assert abs(m.trend - slope_want) <= 0.03 * total, iid


def test_group_effects(generated, demo_ws) -> None:
    params, mom = generated
    size = demo_ws.organisations["skr_group"].value_counts()
    for iid, p in params.items():
        if iid in PLANTED_ON:
            continue
        for g, want in p["group_effects"].items():
            # SE of a group mean of municipality means: between and averaged within noise
            se = np.hypot(p["between_sd"], p["within_sd"]) / np.sqrt(size[g])
            tol = 4 * se + 0.1 * abs(want)
            assert abs(mom[iid].group_effects[g] - want) <= tol, (iid, g)


def test_correlations(generated) -> None:
    _, mom = generated
    corr = load_params()["correlation"]
    keep = [i for i in corr["ids"] if i not in {"U21466", "U21401"}]
    pos = [corr["ids"].index(i) for i in keep]
    want = np.asarray(corr["matrix"])[np.ix_(pos, pos)]
    got = disattenuated_correlation(
        {i: mom[i].effects for i in keep}, {i: mom[i].reliability for i in keep}
    ).reindex(index=keep, columns=keep)
    iu = np.triu_indices(len(keep), 1)
    diff = np.abs(got.to_numpy()[iu] - want[iu])
    assert diff.mean() < 0.1
    assert diff.max() < 0.35
    # the strongest real structure survives: user-survey items go together
    assert got.loc["U21454", "U21461"] > 0.7


def test_params_file_is_small_and_sourced() -> None:
    path = REPO / "src" / "tillit" / "domain" / "demo" / "params.json"
    assert path.stat().st_size < 80_000
    params = json.loads(path.read_text(encoding="utf-8"))
    c = np.asarray(params["correlation"]["matrix"])
    assert np.allclose(c, c.T) and np.linalg.eigvalsh(c).min() > -1e-6
    for ind in params["indicators"]:
        assert ind["invented"] == (ind["source_kpi"] is None)
        assert ind["between_sd"] > 0 and ind["within_sd"] > 0 and 0 <= ind["ar1"] < 1


def test_estimator_recovers_known_panel() -> None:
    rng = np.random.default_rng(1)
    n, t, rho, sw, sb = 400, 12, 0.5, 2.0, 3.0
    e = np.empty((n, t))
    e[:, 0] = sw * rng.standard_normal(n)
    for k in range(1, t):
        e[:, k] = rho * e[:, k - 1] + sw * np.sqrt(1 - rho**2) * rng.standard_normal(n)
    y = 50 + 0.5 * (np.arange(t) - 5) + sb * rng.standard_normal((n, 1)) + e
    wide = pd.DataFrame(
        y, index=[f"{i:04d}" for i in range(n)], columns=range(2010, 2022)
    )
    m = panel_moments(wide, pd.Series("g", index=wide.index), ref_year=2015)
    assert m.trend == pytest.approx(0.5, abs=0.05)
    assert m.between_sd == pytest.approx(sb, rel=0.1)
    assert m.within_sd == pytest.approx(sw, rel=0.1)
    assert m.ar1 == pytest.approx(rho, abs=0.08)
    assert ar_mean_factor(0.0, np.array([5.0]))[0] == 1.0
    bad = np.array([[1.0, 0.9, -0.9], [0.9, 1.0, 0.9], [-0.9, 0.9, 1.0]])
    assert np.linalg.eigvalsh(nearest_correlation(bad)).min() > 0


@pytest.mark.slow
@pytest.mark.shared_data
def test_params_reproduce_from_real_data(shared_data) -> None:
    """params.json is what validation/calibrate_demo.py derives from the real panel."""
    spec = importlib.util.spec_from_file_location(
        "calibrate_demo", REPO / "validation" / "calibrate_demo.py"
    )
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    fresh = mod.build(shared_data, refine=False)  # the simulation step is tested below
    stored = load_params()
    assert [i["id"] for i in fresh["indicators"]] == [
        i["id"] for i in stored["indicators"]
    ]
    for a, b in zip(fresh["indicators"], stored["indicators"], strict=True):
        for key in ("level", "trend"):
            assert a[key] == pytest.approx(b[key], rel=1e-3, abs=1e-6), (a["id"], key)
        if b["estimated"]:
            for key in ("between_sd", "within_sd", "ar1"):
                got, want = a["estimated"][key], b["estimated"][key]
                assert got == pytest.approx(want, rel=1e-3), (a["id"], key)
        assert a["group_effects"] == pytest.approx(
            b["group_effects"], rel=1e-3, abs=1e-6
        )
        if b.get("gender"):
            assert a["gender"] == pytest.approx(b["gender"], rel=1e-3, abs=1e-6)
        assert a["title"] == b["title"]
    np.testing.assert_allclose(
        fresh["correlation"]["matrix"], stored["correlation"]["matrix"], atol=2e-3
    )


def test_indirect_inference_removes_short_panel_bias() -> None:
    """Eight years, persistent shocks: the estimator is biased, the model fit is not."""
    rng = np.random.default_rng(5)
    n, t, rho, sw, sb = 290, 8, 0.8, 1.0, 1.0
    e = np.empty((n, t))
    e[:, 0] = sw * rng.standard_normal(n)
    for k in range(1, t):
        e[:, k] = rho * e[:, k - 1] + sw * np.sqrt(1 - rho**2) * rng.standard_normal(n)
    y = sb * rng.standard_normal((n, 1)) + e
    mask = rng.random((n, t)) > 0.1
    idx = [f"{i:04d}" for i in range(n)]
    wide = pd.DataFrame(np.where(mask, y, np.nan), index=idx, columns=range(2015, 2023))
    m = panel_moments(wide, pd.Series("g", index=idx))
    assert m.ar1 < rho - 0.1  # the first-order correction is not enough here
    b, w, a = indirect_inference(m.mask, (m.between_sd, m.within_sd, m.ar1), seed=1)
    assert abs(a - rho) < abs(m.ar1 - rho) and a == pytest.approx(rho, abs=0.08)
    assert w == pytest.approx(sw, rel=0.15) and b == pytest.approx(sb, rel=0.25)
