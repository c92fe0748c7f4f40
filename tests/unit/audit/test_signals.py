"""The whole signal audit on panels with planted truth; result shapes and the report."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import tillit.core.audit as audit_pkg
from tillit.core.audit import (
    IndicatorPanel,
    Ledger,
    audit_signals,
    planted_inventory,
    planted_panel,
    random_panel,
)
from tillit.core.errors import DataError, EstimationError

FLAGS = ("unreliable", "redundant", "not_valid", "gamed")


def _audit(seed: int, **kw: object):  # type: ignore[no-untyped-def]
    panel, truth = planted_panel(seed=seed, n_units=200, n_years=14, target_year=2007)
    placebo = ["clean_1=55:2007", "clean_2<=45:2007"]  # targets on honest indicators
    res = audit_signals(
        panel,
        criteria=truth["criteria"],
        targets=[*truth["targets"], *placebo],
        ledger=Ledger.from_frame(planted_inventory()),
        **kw,
    )
    return res, truth


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(6))
def test_planted_truth_is_found(seed: int) -> None:
    res, truth = _audit(seed, method="holm", alpha=0.01)
    rec = res.recommendations
    flagged = {f: set(rec.index[rec[f]]) for f in FLAGS}
    assert flagged["unreliable"] == set(truth["unreliable"])
    assert flagged["redundant"] == set(truth["redundant"])
    assert flagged["gamed"] == set(truth["gamed"])
    assert set(rec.index) - flagged["not_valid"] == set(truth["valid"])
    assert rec.loc["valid", "action"] == "keep"
    assert rec.loc["noise", "action"] == "drop"


@pytest.mark.slow
def test_false_flag_rate_on_honest_indicators_over_40_seeds() -> None:
    """Clean indicators flagged valid, and placebo targets flagged gamed, at <= alpha.

    40 seeds x 6 clean indicators = 240 chances for a false "valid" (each tested between
    and within, Holm-adjusted per audit) and 80 placebo targets for a false "gamed"; the
    rate must not exceed alpha = 0.05 plus a one-sided 99% binomial margin.
    """
    false_valid = false_gamed = 0
    for seed in range(100, 140):
        panel, truth = planted_panel(
            seed=seed, n_units=150, n_years=10, target_year=2005
        )
        res = audit_signals(
            panel,
            criteria=truth["criteria"],
            targets=[*truth["targets"], "clean_1=55:2005", "clean_2<=45:2005"],
            method="holm",
        )
        rec = res.recommendations
        false_valid += int((~rec.loc[truth["clean"], "not_valid"]).sum())
        false_gamed += int(rec.loc[["clean_1", "clean_2"], "gamed"].sum())
        assert rec.loc["gamed", "gamed"] and not rec.loc["valid", "not_valid"]
    for count, n in ((false_valid, 240), (false_gamed, 80)):
        assert count / n <= 0.05 + 2.33 * (0.05 * 0.95 / n) ** 0.5, (count, n)


def test_ranking_by_hours_per_information() -> None:
    res, _ = _audit(0)
    rec = res.recommendations
    cand = rec[rec["action"].isin(["drop", "slim"])]
    assert list(cand["rank"]) == list(range(1, len(cand) + 1))
    assert (np.diff(cand["score"].to_numpy()) <= 1e-9).all()
    # the noise log has the most hours (520 h) and no information: first to drop
    assert rec.index[0] == "noise" and rec.loc["noise", "hours_per_year"] == 520.0
    assert rec.loc["clean_1", "hours_per_year"] == 5.0  # R06 (10 h) split over two
    assert rec.loc["valid", "information"] > 0.3
    assert "ICC" in rec.loc["noise", "evidence"]


def test_gaps_name_dimensions_without_valid_indicators() -> None:
    res, _ = _audit(1)
    gaps = res.gaps.set_index("name")
    assert "user experience" not in gaps.index  # the valid indicator covers it
    assert (
        gaps.loc["medication safety", "evidence"]
        == "its requirements feed no indicator"
    )
    assert gaps.loc["safety", "hours_per_year"] == 520.0
    assert "noise" in gaps.loc["safety", "evidence"]


def test_without_criteria_validity_is_not_assessed() -> None:
    panel, _ = planted_panel(seed=2, n_units=120, n_years=10)
    res = audit_signals(panel)
    rec = res.recommendations
    assert not rec["not_valid"].any()
    assert set(rec.index[rec["unreliable"]]) == {"noise"}
    assert any("no criteria" in d for d in res.diagnostics)
    assert any("no ledger" in d for d in res.diagnostics)
    # one of the near-duplicate pair is slimmed in favour of the other
    acts = rec.loc[["dup_a", "dup_b"], "action"].tolist()
    assert sorted(acts) == ["keep", "slim"]
    slimmed = "dup_a" if acts[0] == "slim" else "dup_b"
    assert rec.loc[slimmed, "keep_instead"] in {"dup_a", "dup_b"} - {slimmed}


def test_to_dict_is_strict_json_with_stable_keys() -> None:
    res, _ = _audit(3)
    d = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert set(d) == {
        "indicators",
        "criteria",
        "settings",
        "recommendations",
        "redundant_pairs",
        "validity",
        "gaming",
        "gaps",
        "diagnostics",
    }
    first = d["recommendations"][0]
    for key in (
        "indicator",
        "rank",
        "action",
        "score",
        "icc",
        "unique_share",
        "evidence",
    ):
        assert key in first
    assert d["settings"]["targets"][0]["indicator"] == "gamed"
    assert res.tidy().shape[0] == len(res.indicators)
    assert "Signal audit of 11 indicators" in res.summary()


def test_csv_export_and_figure_data(tmp_path) -> None:  # type: ignore[no-untyped-def]
    res, _ = _audit(4)
    path = tmp_path / "audit.csv"
    res.tidy().to_csv(path, index=False)
    back = pd.read_csv(path)
    assert list(back["indicator"]) == list(res.tidy()["indicator"])
    data = res.figure_data()
    assert data["heatmap"]["indicators"] == list(res.indicators)
    assert len(data["heatmap"]["r"]) == len(res.indicators)
    assert set(data["histograms"]) == {str(t) for t in res.gaming["indicator"]}
    json.dumps(data, allow_nan=False)


def test_input_errors() -> None:
    panel, _ = planted_panel(seed=0, n_units=30, n_years=6)
    with pytest.raises(DataError, match="not in the panel"):
        audit_signals(panel, criteria=["nope"])
    with pytest.raises(DataError, match="not in the panel"):
        audit_signals(panel, targets=["nope=3:2003"])
    with pytest.raises(EstimationError, match="at least 5 units"):
        audit_signals(IndicatorPanel.from_array(np.ones((2, 3, 4))))


def test_from_long_round_trip_and_errors() -> None:
    panel, _ = planted_panel(seed=0, n_units=20, n_years=5)
    long = panel.to_long()
    back = IndicatorPanel.from_long(long)
    assert back.indicators == tuple(sorted(panel.indicators))
    assert np.allclose(
        back.select(list(panel.indicators)).values, panel.values, equal_nan=True
    )
    bad = long.astype({"value": object})
    bad.loc[7, "value"] = "n/a"
    with pytest.raises(DataError) as exc:
        IndicatorPanel.from_long(bad, source="x.csv")
    assert (exc.value.row, exc.value.field) == (8, "value")
    dup = pd.concat([long, long.iloc[[3]]], ignore_index=True)
    with pytest.raises(DataError, match="duplicate") as exc:
        IndicatorPanel.from_long(dup)
    assert exc.value.row == len(dup)
    with pytest.raises(DataError, match="year must be an integer"):
        IndicatorPanel.from_long(long.assign(year=2001.5))
    with pytest.raises(DataError, match="missing column"):
        IndicatorPanel.from_long(long.drop(columns="unit"))


def test_public_api_is_explicit() -> None:
    for name in audit_pkg.__all__:
        assert hasattr(audit_pkg, name), name
    assert "audit_signals" in audit_pkg.__all__ and "Ledger" in audit_pkg.__all__


def test_degenerate_indicators_become_diagnostics_not_crashes() -> None:
    p = random_panel(4, 60, 8, seed=3)
    x = p.values.copy()
    x[1] = np.nan  # no data at all
    x[2] = 7.0  # constant
    x[3, :, :4] = np.nan  # half the years missing
    panel = IndicatorPanel.from_array(
        x, ["ok", "empty", "constant", "half"], None, list(p.years)
    )
    res = audit_signals(panel, targets=["half=50:2004", "constant=7:2003"])
    rec = res.recommendations
    # what cannot be measured is not assessed, and nothing is recommended from it (#12)
    assert rec.loc["empty", "action"] == "not assessed"
    assert rec.loc["empty", "not_assessed"] == "reliability_one_year"
    assert rec.loc["constant", "action"] == "not assessed"
    assert rec.loc["constant", "not_assessed"] == "reliability"
    assert np.isnan(rec.loc["constant", "score"]) and np.isnan(rec.loc["empty", "rank"])
    assert "not assessed" in rec.loc["constant", "evidence"]
    assert rec.loc["ok", "action"] == "keep" and np.isfinite(rec.loc["half", "icc"])
    assert any("fewer than 20" in d for d in res.diagnostics)
    json.dumps(res.to_dict(), allow_nan=False)
    json.dumps(res.figure_data(), allow_nan=False)
