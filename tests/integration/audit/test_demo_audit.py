"""The audit on the demo panel in the store finds what was planted and nothing else.

Planted (docs/demo.md, ``tillit.domain.demo.PLANTED``): U21454/U21466 near-duplicates,
DEMO_004 mostly noise, bunching of U21401 under "at most 15" from 2016. The placebo
targets (no target year: bunching only) sit where nothing was planted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine

from tillit.domain.demo import PLANTED
from tillit.domain.records import Actor
from tillit.services import audit as au
from tillit.services.demo import load_demo
from tillit.services.demo.audit import load_demo_inventories
from tillit.store.db import make_engine, upgrade
from tillit.web.charts.audit import figures

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ADMIN = Actor(role="admin")
PLACEBOS = ["U21475>=90", "U21462>=80", "DEMO_001<=20", "N21701>=10"]


@pytest.fixture(scope="module")
def demo_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The demo workspace 2005-2018 (3 years under the planted target) and inventories."""
    path: Path = tmp_path_factory.mktemp("demo") / "demo.db"
    eng = make_engine(f"sqlite:///{path}")
    upgrade(eng)
    load_demo(eng, n_years=14)
    assert load_demo_inventories(eng) == 6
    yield eng
    eng.dispose()


def test_demo_inventories_load_once_and_link(demo_engine: Engine) -> None:
    assert load_demo_inventories(demo_engine) == 0  # idempotent
    invs = au.list_inventories(demo_engine, ADMIN)
    assert {i.organisation_code for i in invs} == {
        "0180",
        "1480",
        "0380",
        "1280",
        "1980",
    }
    assert all(i.is_demo and i.n_requirements >= 30 for i in invs)
    stock = {i.label: i.id for i in invs if i.organisation_code == "0180"}
    _a, _b, change = au.compare_inventories(
        demo_engine, ADMIN, stock["Inventering 2023"], stock["Inventering 2025"]
    )
    assert change.counts() == {"added": 1, "removed": 1, "changed": 2, "unchanged": 34}
    assert change.hours_delta < 0


def test_audit_finds_the_planted_facts_and_nothing_else(demo_engine: Engine) -> None:
    bunch = PLANTED["bunching"]
    target = f"{bunch['indicator']}<={bunch['target']:g}:2016"
    inv = next(
        i
        for i in au.list_inventories(demo_engine, ADMIN)
        if i.organisation_code == "0180"
    )
    rep = au.run_audit(
        demo_engine, ADMIN, area="Hemtjänst", targets=[target, *PLACEBOS],
        inventory_id=inv.id, threshold=0.9, min_unique=0.1,
    )  # fmt: skip
    rec = pd.DataFrame(rep.document["recommendations"]).set_index("indicator")
    assert len(rec) == 14
    assert rec.index[rec["unreliable"]].tolist() == [PLANTED["very_noisy"]["indicator"]]
    assert (
        sorted(rec.index[rec["redundant"]])
        == PLANTED["near_redundant_pair"]["indicators"]
    )
    assert rec.index[rec["gamed"]].tolist() == [bunch["indicator"]]
    pairs = {
        (p["indicator_a"], p["indicator_b"]) for p in rep.document["redundant_pairs"]
    }
    assert pairs == {tuple(PLANTED["near_redundant_pair"]["indicators"])}
    gaming = pd.DataFrame(rep.document["gaming"]).set_index("indicator")
    assert gaming.loc["U21401", "bunching_q"] < 1e-6
    assert (gaming.drop(index="U21401")["bunching_q"] > 0.05).all()
    assert rec.loc["DEMO_004", "action"] == "drop"
    assert (
        rec.loc["U21466", "action"] == "slim" or rec.loc["U21454", "action"] == "slim"
    )
    assert rec.loc["DEMO_004", "hours_per_year"] > 0  # linked to the deviation reports
    figs = figures(rep.document)
    assert "DEMO_004" in figs["icc"]
    assert "U21401" in figs["histograms"]
