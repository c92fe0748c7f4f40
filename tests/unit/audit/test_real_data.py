"""The signal audit on real Kolada data (staff sick leave and home care indicators)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tillit.core.audit import IndicatorPanel, audit_signals

KPIS = {
    "N00090": "sick leave among municipal employees, %",
    "U21401": "home care staff continuity (staff met in 14 days)",
    "N21826": "granted home care hours per user and month",
    "N21006": "home care cost per user",
    "U21468": "home care users: holistic view, %",
    "U21477": "home care users: trust in staff, %",
    "U21454": "home care users: treatment, trust and safety index (criterion)",
}


@pytest.mark.shared_data
@pytest.mark.slow
def test_kolada_home_care_and_sick_leave(shared_data: Path) -> None:
    df = pd.read_csv(
        shared_data / "kolada_panel_2024" / "kolada_selected_long.csv",
        dtype={"municipality": str, "kpi": str},
    )
    keep = (
        (df["gender"] == "T")
        & df["kpi"].isin(list(KPIS))
        & ~df["municipality"].str.startswith("00")  # not Sweden or the regions
        & (df["period"] >= 2012)
    )
    panel = IndicatorPanel.from_long(
        df[keep], indicator="kpi", unit="municipality", year="period"
    )
    assert panel.values.shape == (7, 290, 11)
    res = audit_signals(panel, criteria=["U21454"])
    rec = res.recommendations
    # reliability: stable differences between municipalities dominate but are not all
    assert ((rec["icc"] > 0.2) & (rec["icc"] < 0.95)).all()
    assert (rec["icc_low"] < rec["icc"]).all() and (rec["icc"] < rec["icc_high"]).all()
    assert (rec["icc_k"] > rec["icc"]).all() and (rec["icc_k"] < 1).all()
    assert ((rec["retest_r"] > 0.3) & (rec["retest_r"] < 1)).all()
    assert (rec["mdc"] > 0).all() and np.isfinite(rec["mdc_sd"]).all()
    assert 0.4 < rec.loc["N00090", "icc"] < 0.85
    # redundancy: two items of the same user survey rank municipalities alike
    pairs = {
        frozenset(p)
        for p in res.redundancy.pairs()[["indicator_a", "indicator_b"]].to_numpy()
    }
    assert frozenset({"U21468", "U21477"}) in pairs
    assert ((rec["unique_share"] >= 0) & (rec["unique_share"] <= 1)).all()
    assert rec.loc["N00090", "unique_share"] > 0.8  # sick leave is its own thing
    # validity: the survey items go with the survey index; costs do not
    v = res.validity.set_index(["indicator", "level"])
    assert v.loc[("U21477", "between"), "r"] > 0.8
    assert v.loc[("N21006", "between"), "p_adjusted"] > 0.05
    assert res.figure_data()["heatmap"] is not None
