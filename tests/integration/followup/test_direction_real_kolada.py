"""No judgement without a direction, on the real Kolada panel (#12 goal 5).

The panel (104 KPIs, 574,742 values) and Kolada's own KPI metadata are imported as a
user would; Kolada's metadata carries no direction, so the municipality profile must
say highest/lowest, never best/worst, on every page, export and colour, until an
administrator records a direction with its source.  The signal audit says "not
assessed" where a measure cannot be computed (the pupil surveys with one year).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tillit.config import Settings
from tillit.core.errors import DataError, PermissionDenied
from tillit.domain.records import Actor
from tillit.services import audit, catalog, followup, imports
from tillit.store.db import make_engine, upgrade
from tillit.web.app import create_app

with warnings.catch_warnings():
    from starlette.exceptions import StarletteDeprecationWarning

    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ADMIN = Actor(role="admin", username="anna")
PUBLIC = Actor()
JUDGING = re.compile(r"bästa|sämsta|\bbest\b|\bworst\b", re.IGNORECASE)
ONE_YEAR = ("N15629", "N15659", "N17689")


@pytest.fixture(scope="module")
def engine(
    shared_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    meta = shared_data / "kolada_metadata_v3_2026" / "kpi.csv"
    panel = shared_data / "kolada_panel_2024" / "kolada_selected_long.csv"
    eng = make_engine(f"sqlite:///{tmp_path_factory.mktemp('real') / 'real.db'}")
    upgrade(eng)
    catalog.seed_geography(eng)
    catalog.import_kpi_metadata(eng, meta.read_bytes(), str(meta))
    imports.import_file(eng, panel)
    yield eng
    eng.dispose()


def test_the_profile_judges_nothing_without_a_direction(engine: Engine) -> None:
    _org, _peers, table = followup.profile(engine, PUBLIC, "0180")
    assert len(table) > 50
    assert set(table["indicator_direction"]) == {"unknown"}
    assert table["higher_is_better"].isna().all()
    for lang in ("sv", "en"):
        t = followup.profile(engine, PUBLIC, "0180", lang=lang)[2]
        assert not any(JUDGING.search(p) for p in t["position"]), lang
    sick = table.set_index("indicator").loc["N00938"]
    # Stockholm's low sick-pay rate is among the lowest, not "among the worst"
    assert sick["position"] == "bland de 25 % lägsta" and sick["rank"] >= 250
    assert not set(table["direction"]) & {"improving", "worsening"}


def test_pages_exports_and_colours_say_highest_and_lowest(
    engine: Engine, tmp_path: Path
) -> None:
    app = create_app(Settings("sqlite://", tmp_path, "k" * 32), engine=engine)
    with TestClient(app) as client:
        page = client.get("/municipalities/0180")
        assert page.status_code == 200
        assert not JUDGING.search(page.text)
        assert "q-top" not in page.text and "q-bottom" not in page.text
        assert "lägsta" in page.text
        csv = client.get("/api/v1/export/profile/0180.csv")
        assert csv.status_code == 200 and not JUDGING.search(csv.text)
        rows = client.get("/api/v1/profile", params={"org": "0180"}).json()["rows"]
        assert {r["indicator_direction"] for r in rows} == {"unknown"}
        ind = client.get("/indicators/N00938?highlight=0180")
        assert "Okänd riktning" in ind.text and not JUDGING.search(ind.text)
        fu = client.get("/followup/N00938/0180")
        assert fu.status_code == 200 and not JUDGING.search(fu.text)


def test_a_sourced_direction_is_judged_and_kolada_metadata_keeps_it(
    engine: Engine, shared_data: Path
) -> None:
    with pytest.raises(PermissionDenied):
        catalog.set_direction(
            engine, Actor(role="member", organisation_id=1), "N00090", "lower", "x"
        )
    with pytest.raises(DataError, match="who says so"):
        catalog.set_direction(engine, ADMIN, "N00090", "lower", "  ")
    source = "SKR, Personalens sjukfrånvaro 2022: lägre är bättre"
    catalog.set_direction(engine, ADMIN, "N00090", "lower", source)
    ind = followup.get_indicator(engine, PUBLIC, "N00090")
    assert ind["direction"] == "lower" and ind["higher_is_better"] is False
    assert (
        ind["direction_source"].startswith(source) and "anna" in ind["direction_source"]
    )
    row = (
        followup.profile(engine, PUBLIC, "0180")[2].set_index("indicator").loc["N00090"]
    )
    assert row["indicator_direction"] == "lower"
    assert any(w in row["position"] for w in ("bästa", "sämsta", "mellersta"))
    # re-importing Kolada's metadata (which has no direction) keeps the sourced one
    meta = shared_data / "kolada_metadata_v3_2026" / "kpi.csv"
    catalog.import_kpi_metadata(engine, meta.read_bytes(), str(meta))
    assert followup.get_indicator(engine, PUBLIC, "N00090")["direction"] == "lower"
    catalog.set_direction(engine, ADMIN, "N00090", "unknown", "")
    assert followup.get_indicator(engine, PUBLIC, "N00090")["direction"] == "unknown"


def test_the_audit_does_not_recommend_what_it_could_not_assess(engine: Engine) -> None:
    ids = sorted(followup.areas(engine, PUBLIC))  # every area holds the panel's KPIs
    assert ids
    inds = [i["id"] for i in followup.list_indicators(engine, PUBLIC, limit=100000)]
    panel_ids = [i for i in inds if followup.indicator_years(engine, i)]
    assert len(panel_ids) == 104
    rep = audit.run_audit(engine, PUBLIC, indicators_=panel_ids, use_cache=False)
    recs = {r["indicator"]: r for r in rep.document["recommendations"]}
    for kpi in ONE_YEAR:
        r = recs[kpi]
        assert r["action"] == "not assessed", r
        assert r["not_assessed"] == "reliability_one_year" and r["n_years"] == 1
        assert r["rank"] is None and r["score"] is None
        assert "not assessed" in r["evidence"]
    assessed = [r for r in recs.values() if r["action"] != "not assessed"]
    assert all(r["icc"] is not None for r in assessed)
