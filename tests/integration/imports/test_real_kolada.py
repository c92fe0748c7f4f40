"""The real Kolada panel (574,742 values, 104 KPIs) and metadata import intact."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from tillit.services import catalog, imports
from tillit.store.db import make_engine, upgrade
from tillit.store.tables import indicators, observations, organisations, peer_groups

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.shared_data]


def test_real_kolada_panel_imports_intact(shared_data: Path, tmp_path: Path) -> None:
    meta_dir = shared_data / "kolada_metadata_v3_2026"
    panel_path = shared_data / "kolada_panel_2024" / "kolada_selected_long.csv"
    engine = make_engine(f"sqlite:///{tmp_path / 'real.db'}")
    upgrade(engine)
    catalog.seed_geography(engine)
    assert (
        catalog.import_kpi_metadata(engine, (meta_dir / "kpi.csv").read_bytes()) == 6099
    )
    groups_csv = (meta_dir / "municipality_groups.csv").read_bytes()
    assert catalog.import_municipality_groups(engine, groups_csv) == 3630
    report = imports.import_file(engine, panel_path)
    panel = pd.read_csv(panel_path, dtype=str, keep_default_na=False)
    assert (report.n_rows, report.n_new) == (len(panel), 574_742)

    with engine.connect() as conn:
        stored = pd.DataFrame(
            conn.execute(
                select(
                    observations.c.indicator_id,
                    organisations.c.code,
                    observations.c.period,
                    observations.c.gender,
                    observations.c.value,
                ).join(
                    organisations, organisations.c.id == observations.c.organisation_id
                )
            ).all(),
            columns=["kpi", "municipality", "period", "gender", "stored"],
        )
        titles = dict(conn.execute(select(indicators.c.id, indicators.c.title)).all())
        by_gender = dict(
            conn.execute(select(indicators.c.id, indicators.c.divided_by_gender)).all()
        )
        kinds = dict(
            conn.execute(
                select(peer_groups.c.kind, func.count()).group_by(peer_groups.c.kind)
            ).all()
        )

    # every value, bit for bit, on the natural key
    m = panel.merge(
        stored,
        on=["kpi", "municipality", "period", "gender"],
        how="outer",
        indicator=True,
    )
    assert (m["_merge"] == "both").all()
    assert np.array_equal(m["value"].astype(float).to_numpy(), m["stored"].to_numpy())
    # random spot checks with a fixed seed, and named ones
    key = stored.set_index(["kpi", "municipality", "period", "gender"])["stored"]
    for row in panel.sample(300, random_state=20261127).itertuples():
        assert key[(row.kpi, row.municipality, row.period, row.gender)] == float(
            row.value
        )
    assert key[("N00090", "0000", "2009", "K")] == 6.3  # Sweden, women
    assert key[("N00090", "0000", "2009", "M")] == 3.6
    assert key[("N00090", "0000", "2009", "T")] == 5.7
    # counts per KPI and gender splits; regions and the country are in
    assert stored.groupby("kpi").size().equals(panel.groupby("kpi").size())
    assert (
        stored.groupby(["kpi", "gender"])
        .size()
        .equals(panel.groupby(["kpi", "gender"]).size())
    )
    assert (stored["municipality"] == "0000").sum() == (
        panel["municipality"] == "0000"
    ).sum()
    assert (
        stored["municipality"].str.startswith("00").sum()
        == panel["municipality"].str.startswith("00").sum()
    )
    # titles and gender flags as in Kolada's metadata
    kpi = pd.read_csv(meta_dir / "kpi.csv", dtype=str, keep_default_na=False).set_index(
        "id"
    )
    for kid in panel["kpi"].unique():
        assert titles[kid] == kpi.loc[kid, "title"]
        assert by_gender[kid] == (kpi.loc[kid, "is_divided_by_gender"] == "True")
    # Kolada's municipality groups became peer groups
    assert kinds["skr"] == 9 and kinds["similar"] > 3000 and kinds["county"] == 21
    engine.dispose()
