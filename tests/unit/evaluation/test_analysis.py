"""Pure parts of evaluation and evidence: panel balancing, verdicts, cell status, SVGs."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from tillit.core.errors import DataError
from tillit.services.eval_analysis import _balanced, evaluate_panel, plain_verdict
from tillit.services.evidence import classify
from tillit.web.pages.evidence import forest_svg, gap_map_svg

ASSUME = ("Antagande.", "Assumption.")


def _panel(effect: float = 2.0, n: int = 40, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        lvl = rng.normal(50, 3)
        for y in range(2010, 2020):
            v = lvl + 0.2 * (y - 2010) + rng.normal(0, 0.5)
            v += effect if (i < 8 and y >= 2015) else 0.0
            rows.append(("Y", f"u{i:02d}", y, v, 1, f"o{i:02d}"))
    return pd.DataFrame(
        rows, columns=["indicator", "unit", "year", "value", "batch_id", "org"]
    )


def test_balanced_keeps_complete_units_and_treated_years() -> None:
    d = _panel()
    d = d[
        ~((d["unit"] == "u30") & (d["year"] == 2013))
    ]  # a control with a gap: dropped
    d = d[~((d["unit"] == "u00") & (d["year"] == 2011))]  # a treated gap: the year goes
    long = _balanced(d, {f"u{i:02d}": 2015 for i in range(8)})
    assert "u30" not in set(long["unit"]) and 2011 not in set(long["year"])
    assert long.groupby("unit").size().nunique() == 1
    assert set(long.loc[long["cohort"] > 0, "unit"]) == {f"u{i:02d}" for i in range(8)}
    with pytest.raises(DataError):
        _balanced(d, {"nobody": 2015})


@pytest.mark.slow
@pytest.mark.parametrize("estimator", ["did", "event-study", "sdid"])
def test_evaluate_panel_recovers_a_planted_effect(estimator: str) -> None:
    panel = {"data": _panel(), "starts": {f"u{i:02d}": 2015 for i in range(8)},
             "controls": [f"u{i:02d}" for i in range(8, 40)], "level": "municipality"}  # fmt: skip
    doc = {"primary_outcomes": ["Y"], "secondary_outcomes": [],
           "analysis": {"estimator": estimator, "control_group": "never"}}  # fmt: skip
    res = evaluate_panel(
        panel, doc, meta={"Y": {"title": "Y", "higher_is_better": True}}
    )
    (o,) = res["outcomes"]
    assert o["ci_low"] <= 2.0 <= o["ci_high"] and abs(o["estimate"] - 2.0) < 0.5
    assert o["n_treated"] == 8 and o["n_controls"] == 32
    assert "improvement" in o["verdict"]["en"] and "förbättring" in o["verdict"]["sv"]


@pytest.mark.slow
def test_trial_and_missing_outcome_are_reported_per_outcome() -> None:
    d = _panel(effect=1.5, n=30, seed=2)
    panel = {"data": d, "starts": {f"u{i:02d}": 2015 for i in range(8)},
             "controls": [f"u{i:02d}" for i in range(8, 30)], "level": "unit"}  # fmt: skip
    doc = {"primary_outcomes": ["Y"], "secondary_outcomes": ["MISSING"],
           "analysis": {"estimator": "trial", "control_group": ""}}  # fmt: skip
    res = evaluate_panel(panel, doc, meta={}, seed=1)
    y, missing = res["outcomes"]
    assert y["ci_low"] <= 1.5 <= y["ci_high"] and y["series"]["kind"] == "arms"
    assert missing["estimate"] is None and missing["error"]


def test_plain_verdict_never_overstates() -> None:
    v = plain_verdict("X", 0.5, -0.1, 1.1, True, ASSUME)
    assert "includes zero" in v["en"] and "innehåller noll" in v["sv"]
    assert "improvement" not in v["en"]
    v = plain_verdict("X", -2.0, -3.0, -1.0, False, ASSUME)
    assert "a decrease" in v["en"] and "improvement" in v["en"]
    v = plain_verdict("X", -2.0, -3.0, -1.0, None, ASSUME)
    assert "improvement" not in v["en"] and "deterioration" not in v["en"]
    assert "no conclusion" in plain_verdict("X", 1, math.nan, 2, True, ASSUME)["en"]


def _rows(*cells: tuple[str, float, float, float, bool | None]) -> pd.DataFrame:
    return pd.DataFrame(cells, columns=["code", "estimate", "ci_low", "ci_high",
                                        "higher_is_better"])  # fmt: skip


def test_classify_cells() -> None:
    assert classify(_rows()) == "missing"
    assert classify(_rows(("A", 2, 1, 3, True))) == "mixed"  # one pilot only
    assert classify(_rows(("A", 2, 1, 3, True), ("B", 1, 0.2, 2, True))) == "strong"
    # same pilot twice is still one pilot
    assert classify(_rows(("A", 2, 1, 3, True), ("A", 1, 0.2, 2, True))) == "mixed"
    # conflicting clear directions
    assert classify(_rows(("A", 2, 1, 3, True), ("B", 1, 0.2, 2, True),
                          ("C", -1, -2, -0.5, True))) == "mixed"  # fmt: skip
    # lower is better: clear decreases are improvements
    assert (
        classify(_rows(("A", -2, -3, -1, False), ("B", -1, -2, -0.1, False)))
        == "strong"
    )
    assert classify(_rows(("A", 2, -1, 3, True), ("B", 1, -0.2, 2, True))) == "mixed"


def test_svgs_escape_text_and_draw_everything() -> None:
    m = {"indicator": "Y<1>", "forest": [
        {"code": "P-1", "title": "<script>", "estimate": 1.0, "ci_low": 0.5, "ci_high": 1.5},
        {"code": "P-2", "title": "B & C", "estimate": -0.5, "ci_low": -1.0, "ci_high": 0.1}],
        "pooled": {"estimate": 0.3, "ci_low": -0.2, "ci_high": 0.8,
                   "prediction": [-2.0, 2.5]}}  # fmt: skip
    svg = forest_svg(m, "en")
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "B &amp; C" in svg
    assert svg.count('class="study"') == 2 and 'class="pooled"' in svg
    g = {"kinds": ["trust_based_care", "other"], "areas": ["A<b>"],
         "cells": [{"kind": "trust_based_care", "area": "A<b>", "status": "strong",
                    "n_pilots": 2},
                   {"kind": "other", "area": "A<b>", "status": "missing", "n_pilots": 0}]}  # fmt: skip
    svg = gap_map_svg(g, "sv")
    assert "A<b>" not in svg and len(re.findall(r'data-status="(\w+)"', svg)) == 2
