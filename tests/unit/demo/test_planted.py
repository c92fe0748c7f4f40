"""Planted pilot effects are recoverable; planted audit facts are where docs/demo.md says.

The evaluators here are deliberately simple group-mean difference-in-differences (not the
project's DiD engine): per treated target, (mean after - mean before) minus the same for
the comparison group, averaged; standard errors from the spread of the per-target
contrasts (P1, P3) or from placebo municipalities (P2). Relative effects are estimated on
the log scale and compared with log(1 + effect). Every check is at 3.5 standard errors,
and each pilot's strongest outcome must also be distinguishable from zero, so a generator
that planted nothing (or the wrong sign) fails.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tillit.domain.demo.pilots import MODERATION_SLOPE, PRECONDITIONS

Z = 3.5


def _wide(ws, indicator: str, unit: bool = False) -> pd.DataFrame:
    obs = ws.observations
    sub = obs[(obs["indicator"] == indicator) & (obs["gender"] == "T")]
    sub = sub[(sub["unit_code"] != "") if unit else (sub["unit_code"] == "")]
    w = sub.pivot(
        index="unit_code" if unit else "org_code", columns="period", values="value"
    )
    w.columns = w.columns.astype(int)
    return w


def _scale(w: pd.DataFrame, kind: str) -> pd.DataFrame:
    return np.log(w) if kind == "relative" else w


def _truth(outcome: dict) -> float:
    e = outcome["true_effect"]
    return float(np.log1p(e)) if outcome["effect_kind"] == "relative" else e


def _pilot(ws, pid: str) -> dict:
    return next(p for p in ws.pilots if p["id"] == pid)


def _excluded(ws, pid: str) -> set[str]:
    """Organisations treated by any other pilot (they are not clean controls)."""
    return {t["org_code"] for p in ws.pilots if p["id"] != pid for t in p["treated"]}


def _change(w: pd.DataFrame, start: int) -> pd.Series:
    cols = w.columns.to_numpy()
    return w.loc[:, cols >= start].mean(axis=1) - w.loc[:, cols < start].mean(axis=1)


def _staggered_did(ws, outcome: dict) -> tuple[float, float, pd.Series]:
    p1 = _pilot(ws, "P1")
    w = _scale(_wide(ws, outcome["indicator"]), outcome["effect_kind"])
    treated = pd.DataFrame(p1["treated"]).set_index("org_code")
    never = w.index.difference(treated.index).difference(list(_excluded(ws, "P1")))
    d = pd.Series(
        {
            org: _change(w.loc[[org]], s).iloc[0] - _change(w.loc[never], s).mean()
            for org, s in treated["start_year"].items()
        }
    )
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d))), d


@pytest.mark.parametrize("k", range(4))
def test_p1_staggered_adoption_effects(demo_ws, k: int) -> None:
    outcome = _pilot(demo_ws, "P1")["outcomes"][k]
    est, se, _ = _staggered_did(demo_ws, outcome)
    truth = _truth(outcome)
    assert abs(est - truth) <= Z * se, (outcome["indicator"], est, truth, se)
    if outcome["indicator"] == "DEMO_001":
        assert abs(est) > Z * se  # the headline effect is clearly there


def test_p1_design(demo_ws) -> None:
    p1 = _pilot(demo_ws, "P1")
    assert p1["design"] == "staggered adoption"
    starts = pd.Series([t["start_year"] for t in p1["treated"]])
    assert sorted(starts.unique()) == [2013, 2015, 2017, 2019]
    assert starts.value_counts().min() >= 10
    mult = np.array([t["effect_multiplier"] for t in p1["treated"]])
    assert mult.mean() == pytest.approx(1.0, abs=1e-9)
    score = np.array(
        [np.mean([t["preconditions"][c] for c in PRECONDITIONS]) for t in p1["treated"]]
    )
    np.testing.assert_allclose(
        mult, 1 + MODERATION_SLOPE * (score - score.mean()), atol=1e-9
    )
    assert ((score >= 1) & (score <= 5)).all()


def test_p1_moderation_by_preconditions(demo_ws) -> None:
    """Municipalities with better preconditions cut reporting time more."""
    p1 = _pilot(demo_ws, "P1")
    outcome = next(o for o in p1["outcomes"] if o["indicator"] == "DEMO_001")
    _, _, d = _staggered_did(demo_ws, outcome)
    score = pd.Series(
        {
            t["org_code"]: np.mean(list(t["preconditions"].values()))
            for t in p1["treated"]
        }
    )
    slope = np.polyfit(score[d.index], d, 1)[0]
    assert slope < 0  # effect is negative; better preconditions make it more negative


def test_p2_single_municipality(demo_ws) -> None:
    p2 = _pilot(demo_ws, "P2")
    assert p2["design"] == "single-municipality synthetic control"
    (target,) = p2["treated"]
    assert target["org_code"] == "1980"  # Västerås
    controls_pool = None
    for outcome in p2["outcomes"]:
        w = _scale(_wide(demo_ws, outcome["indicator"]), outcome["effect_kind"])
        controls_pool = w.index.difference([*_excluded(demo_ws, "P2"), "1980"])
        change = _change(w, target["start_year"])
        est = change["1980"] - change[controls_pool].mean()
        placebo = change[controls_pool] - change[controls_pool].mean()
        se = float(placebo.std(ddof=1))
        truth = _truth(outcome)
        assert abs(est - truth) <= Z * se, (outcome["indicator"], est, truth, se)
        if outcome["indicator"] == "DEMO_001":
            assert abs(est) > 2.5 * se and (placebo.abs() >= abs(est)).mean() < 0.02
    assert controls_pool is not None and len(controls_pool) > 150


@pytest.mark.parametrize("k", range(3))
def test_p3_cluster_randomised_units(demo_ws, k: int) -> None:
    p3 = _pilot(demo_ws, "P3")
    outcome = p3["outcomes"][k]
    assert outcome["level"] == "unit"
    w = _scale(_wide(demo_ws, outcome["indicator"], unit=True), outcome["effect_kind"])
    treated = [t["unit_code"] for t in p3["treated"]]
    control = p3["control_units"]
    start = p3["start_years"][0]
    change = _change(w, start)
    est = change[treated].mean() - change[control].mean()
    se = np.sqrt(
        change[treated].var() / len(treated) + change[control].var() / len(control)
    )
    truth = _truth(outcome)
    assert abs(est - truth) <= Z * se, (outcome["indicator"], est, truth, se)
    if outcome["indicator"] == "DEMO_001":
        assert abs(est) > Z * se


def test_p3_randomisation_is_within_municipalities(demo_ws) -> None:
    p3 = _pilot(demo_ws, "P3")
    units = demo_ws.units.set_index("code")["org_code"]
    t_orgs = {units[t["unit_code"]] for t in p3["treated"]}
    c_orgs = {units[c] for c in p3["control_units"]}
    assert t_orgs == c_orgs and len(t_orgs) >= 20
    assert not t_orgs & _excluded(demo_ws, "P3")
    assert set(p3["randomised_units"]) == {t["unit_code"] for t in p3["treated"]} | set(
        p3["control_units"]
    )


def test_near_redundant_pair(demo_ws) -> None:
    a, b = demo_ws.planted["near_redundant_pair"]["indicators"]
    x, y = _wide(demo_ws, a).stack(), _wide(demo_ws, b).stack()
    r = np.corrcoef(x, y)[0, 1]
    assert r > 0.95
    # no other pair of user-survey items is anywhere near that close
    items = ["U21461", "U21462", "U21467", "U21475", "U21477", "U23463", "U23471"]
    for item in items:
        assert np.corrcoef(x, _wide(demo_ws, item).stack())[0, 1] < 0.8, item


def test_very_noisy_indicator(demo_ws) -> None:
    def reliability(w: pd.DataFrame) -> float:
        within = w.sub(w.mean(axis=1), axis=0).to_numpy().var()
        return float(w.mean(axis=1).var() - within / w.shape[1]) / float(
            w.to_numpy().var()
        )

    noisy = reliability(
        np.log(_wide(demo_ws, demo_ws.planted["very_noisy"]["indicator"]))
    )
    assert noisy < 0.1
    for other in ("DEMO_002", "N15505", "U21467"):
        assert reliability(_wide(demo_ws, other)) > 0.2, other


def test_bunching_after_target(demo_ws) -> None:
    spec = demo_ws.planted["bunching"]
    target, start = spec["target"], 2005 + spec["target_introduced_offset"]
    w = _wide(demo_ws, spec["indicator"])
    before = w.loc[:, w.columns < start].stack()
    after = w.loc[:, w.columns >= start].stack()

    def just_below(v):
        return ((v > target - 1) & (v <= target)).mean()

    def just_above(v):
        return ((v > target) & (v <= target + 1)).mean()

    assert just_below(after) > 1.8 * just_below(before)
    assert just_above(after) < 0.75 * just_above(before)
