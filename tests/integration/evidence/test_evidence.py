"""Evidence across pilots matches core.meta; gap map, what works, the public pages."""

from __future__ import annotations

import numpy as np
import pytest

from tillit.core.meta import meta_analysis
from tillit.services import evaluation as ev
from tillit.services import evidence as evd

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def evaluated(engine, codes) -> dict[str, str]:
    for code in codes.values():
        ev.enqueue(engine, code, "test")
    ev.run_pending(engine)
    return codes


def test_meta_matches_core_meta_directly(engine, evaluated) -> None:
    eff = evd.pilot_effects(engine)
    rows = eff[
        (eff["indicator"] == "Y0001") & (eff["change_kind"] == "trust_based_care")
    ]
    assert sorted(rows["code"]) == sorted(evaluated.values())
    direct = meta_analysis(rows["estimate"].to_numpy(), se=rows["se"].to_numpy(),
                           method="reml", hartung_knapp=True)  # fmt: skip
    m = evd.meta_for(engine, "trust_based_care", "Y0001")
    assert m["k"] == 3
    p = m["pooled"]
    for key, want in (("estimate", direct.estimate.estimate), ("se", direct.estimate.se),
                      ("ci_low", direct.estimate.ci_low), ("ci_high", direct.estimate.ci_high),
                      ("tau2", direct.tau2), ("i2", direct.i2), ("q", direct.q)):  # fmt: skip
        assert p[key] == pytest.approx(want, rel=1e-12, abs=1e-12), key
    assert p["prediction"] == pytest.approx(list(direct.prediction))
    assert p["method"] == "REML, Hartung-Knapp"
    assert sum(r["weight"] for r in m["forest"]) == pytest.approx(100)
    # planted effects 3, 2, 0: heterogeneous
    assert p["q_p"] < 0.05 and p["tau2"] > 0
    # 3 pilots < 7: no meta-regression, and it says why
    assert m["metareg"]["ok"] is False and "at least 7" in m["metareg"]["reason"]


def test_metaregression_when_enough_pilots(engine, evaluated) -> None:
    eff = evd.pilot_effects(engine)
    base = eff[eff["indicator"] == "Y0001"].iloc[0]
    rng = np.random.default_rng(3)
    rows = []
    for i in range(9):
        r = base.copy()
        r["code"] = f"X-{i}"
        pre = rng.integers(1, 6, 4)
        r[["competence", "leadership", "shared_goal", "shared_values"]] = pre
        r["estimate"] = 0.5 * pre[0] + rng.normal(0, 0.2)
        r["se"] = 0.2
        rows.append(r)
    fake = type(eff)(rows)
    out = evd._metareg(fake)
    assert out["ok"] and out["k"] == 9
    direct = meta_analysis(fake["estimate"].to_numpy(float), se=fake["se"].to_numpy(float),
                           moderators=fake[["competence", "leadership", "shared_goal",
                                            "shared_values"]].to_numpy(float),
                           method="reml", hartung_knapp=True)  # fmt: skip
    got = [c["estimate"] for c in out["coefficients"]]
    assert got == pytest.approx([c.estimate for c in direct.coefficients])


def test_gap_map_and_what_works(engine, evaluated) -> None:
    g = evd.gap_map(engine)
    cell = {(c["kind"], c["area"]): c for c in g["cells"]}
    assert (
        cell[("trust_based_care", "Hemtjänst")]["status"] == "strong"
    )  # A and B clear +
    assert cell[("trust_based_care", "Hemtjänst")]["n_pilots"] == 3
    assert cell[("new_compensation", "Hemtjänst")]["status"] == "missing"
    assert cell[("trust_based_care", "Personal")]["status"] == "mixed"  # nulls only
    w = evd.what_works(engine, "trust_based_care")
    good = {g["code"] for g in w["good_examples"]}
    assert good == {evaluated["A"], evaluated["B"]}
    f = {x["precondition"]: x for x in w["factors"]}
    assert f["competence"]["good"] == pytest.approx(4.5)
    assert f["competence"]["others"] == pytest.approx(2.0)
    assert w["compared_with"] == [evaluated["C"]]


def test_public_pages(engine, evaluated, client) -> None:
    r = client.get("/evidence")
    assert r.status_code == 200 and 'data-status="strong"' in r.text
    r = client.get("/evidence/what-works/trust_based_care?lang=en")
    assert r.status_code == 200
    assert "Good examples" in r.text and "forest" in r.text and evaluated["A"] in r.text
    assert client.get("/evidence/what-works/nope").status_code == 404
    r = client.get("/evidence/meta?indicator=Y0001")
    assert r.status_code == 200 and "Hartung-Knapp" in r.text
    api = client.get(
        "/api/v1/evidence/meta",
        params={"indicator": "Y0001", "kind": "trust_based_care"},
    ).json()
    assert api["k"] == 3 and api["pooled"]["estimate"] > 0
    assert client.get("/api/v1/evidence/gap-map").json()["cells"]
    assert client.get("/api/v1/evidence/meta?indicator=NOPE").status_code == 404
