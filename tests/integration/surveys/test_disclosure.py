"""Try to learn one respondent's answers through every output path; fail if we can.

The round has 17 respondents. The *target* (unit U-S1, the only ``Chef``) answers 1 on
every item and 57.25 hours of documentation; a *lone* respondent is the only one in unit
U-S3. Paths tried: the round page, the API JSON, the CSV download, the SVG chart
tooltips, the ad-hoc query (page and API), subtraction of shown children from a shown
total, differencing overlapping ad-hoc groups, comparing results before and after an
erasure, and free text as the public, another organisation's member and the API.
"""

from __future__ import annotations

import csv
import io
import re

import numpy as np
import pytest

from tillit.services import survey_results as sr
from tillit.services import surveys as sv

from .conftest import sign_in

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TARGET_HOURS = 57.25
LONE_HOURS = 53.75
SECRET = "Hemlig text från chefen"
LONE_TEXT = "Ensam i väst"
ITEMS = ["tm1", "tm2", "tm3", "to1", "to2", "au1", "au2", "co1", "le1", "sg1", "sv1"]


def _csv() -> str:
    rows = ["unit,staff_group," + ",".join(ITEMS) + ",doc_hours,free"]
    rng = np.random.default_rng(3)

    def resp(unit: str, group: str, level: int, hours: float, free: str = "") -> str:
        vals = [str(6 - level if q == "tm3" else level) for q in ITEMS]
        return f"{unit},{group},{','.join(vals)},{hours},{free}"

    for _ in range(9):
        rows.append(
            resp("U-S1", "A", int(rng.integers(4, 6)), float(rng.integers(3, 9)))
        )
    rows.append(resp("U-S1", "Chef", 1, TARGET_HOURS, SECRET))
    for g in ("A", "A", "A", "B", "B", "B"):
        rows.append(resp("U-S2", g, int(rng.integers(3, 6)), float(rng.integers(3, 9))))
    rows.append(resp("U-S3", "B", 2, LONE_HOURS, LONE_TEXT))
    return "\n".join(rows) + "\n"


@pytest.fixture(scope="module")
def code(engine, actors) -> str:
    c = sv.create_round(engine, actors["stockholm"], "0180", "2021", "staff")
    assert sv.import_csv(engine, actors["stockholm"], c, _csv()) == 17
    sv.close_round(engine, actors["stockholm"], c)
    return c


def _json_rows(client, code: str) -> list[dict]:
    r = client.get(f"/api/v1/surveys/{code}/results")
    assert r.status_code == 200, r.text
    d = r.json()
    return [{**x, "level": lv} for lv in ("total", "by_unit", "by_staff_group")
            for x in d[lv]]  # fmt: skip


def _released_values(rows: list[dict]) -> list[float]:
    return [float(x["mean"]) for x in rows if x["mean"] is not None]


def test_small_groups_carry_no_values_on_any_path(client, code) -> None:
    rows = _json_rows(client, code)
    by = {(x["level"], x["group"], x["scale"]): x for x in rows}
    for key in [
        ("by_unit", "U-S3", "doc_hours"),
        ("by_staff_group", "Chef", "doc_hours"),
        ("by_unit", "U-S2", "doc_hours"),
    ]:  # U-S2: complementary suppression
        x = by[key]
        assert x["suppressed"] and x["mean"] is None and x["n"] is None, x
    assert by[("by_unit", "U-S1", "doc_hours")]["n"] == 10
    # the target's and the lone respondent's exact values appear nowhere
    page = client.get(f"/surveys/{code}?scale=doc_hours").text
    text_csv = client.get(f"/surveys/{code}/results.csv").text
    api = client.get(f"/api/v1/surveys/{code}/results").text
    for hours in (TARGET_HOURS, LONE_HOURS):
        assert hours not in _released_values(rows)
        for out in (page, text_csv, api):
            assert str(hours) not in out and f"{hours:.4f}" not in out
    for rec in csv.DictReader(io.StringIO(text_csv)):
        if rec["group"] in ("U-S3", "Chef", "U-S2"):
            assert rec["mean"] == "" and rec["n"] == "" and rec["suppressed"] == "True"


def test_subtracting_shown_children_from_the_total_never_isolates_a_person(
    client, code
) -> None:
    rows = _json_rows(client, code)
    for level in ("by_unit", "by_staff_group"):
        for scale in {x["scale"] for x in rows}:
            total = next(
                x for x in rows if x["level"] == "total" and x["scale"] == scale
            )
            kids = [x for x in rows if x["level"] == level and x["scale"] == scale]
            shown_n = sum(x["n"] for x in kids if not x["suppressed"])
            rest = total["n"] - shown_n
            assert rest == 0 or rest >= 5, (level, scale, rest)


def test_chart_tooltips_show_only_released_totals(client, code) -> None:
    page = client.get(f"/surveys/{code}?scale=doc_hours").text
    svg = page[page.index("<svg") : page.index("</svg>")]
    tips = re.findall(r"<title>([^<]*\d{4}): ([^<]+)</title>", svg)
    assert tips, "the chart has no point tooltips"
    total = next(x for x in _json_rows(client, code)
                 if x["level"] == "total" and x["scale"] == "doc_hours")  # fmt: skip
    own = [v for name, v in tips if "Stockholm" in name]
    assert own and all(float(v) == pytest.approx(total["mean"], abs=0.05) for v in own)


def test_overlapping_ad_hoc_groups_cannot_be_subtracted(
    client, engine, actors, code
) -> None:
    # U-S1 (10 people) is released; U-S1 x A is everyone there but the target (9)
    s1 = sr.query(engine, actors["public"], code, unit="U-S1")["table"]
    assert not s1["suppressed"].any() and (s1["n"] == 10).all()
    r = client.get(
        f"/api/v1/surveys/{code}/query", params={"unit": "U-S1", "staff_group": "A"}
    )
    assert r.status_code == 200
    for x in r.json()["rows"]:
        assert x["suppressed"] and x["mean"] is None and x["n"] is None
        assert "fewer than 5" in x["reason"]
    page = client.get(
        f"/surveys/{code}", params={"q_unit": "U-S1", "q_group": "A"}
    ).text
    assert "differs from an earlier result" in page
    # total - U-S1 - U-S2 would be the lone respondent: U-S2 must not come out
    r = client.get(f"/api/v1/surveys/{code}/query", params={"unit": "U-S2"})
    assert all(x["suppressed"] and x["mean"] is None for x in r.json()["rows"])
    # the Chef group alone, and the lone unit, are refused too
    for params in (
        {"staff_group": "Chef"},
        {"unit": "U-S3"},
        {"unit": "U-S3", "staff_group": "B"},
    ):
        rows = client.get(f"/api/v1/surveys/{code}/query", params=params).json()["rows"]
        assert all(x["mean"] is None for x in rows), params


def test_free_text_only_for_the_organisation_and_big_groups(
    app, engine, actors, code
) -> None:
    from fastapi.testclient import TestClient

    with TestClient(app) as anon:
        assert SECRET not in anon.get(f"/surveys/{code}").text
        assert SECRET not in anon.get(f"/api/v1/surveys/{code}/results").text
        assert SECRET not in anon.get(f"/surveys/{code}/results.csv").text
    with TestClient(app) as other:
        sign_in(other, "goteborg")
        assert SECRET not in other.get(f"/surveys/{code}").text
    with TestClient(app) as own:
        sign_in(own, "stockholm")
        assert SECRET in own.get(f"/surveys/{code}").text
    texts = sr.free_texts(engine, actors["stockholm"], code)
    assert "U-S3" not in texts and LONE_TEXT not in texts.get("U-S1", [])
    assert LONE_TEXT in texts["all"] and texts["all"] == sorted(texts["all"])


def test_erasure_after_publication_does_not_reveal_by_comparison(
    engine, actors
) -> None:
    c = sv.create_round(engine, actors["stockholm"], "0180", "2020", "staff")
    links = sv.issue_links(engine, actors["stockholm"], c, 8, unit_code="U-S1")
    for i, link in enumerate(links):
        sv.submit_answers(engine, link, {"tm1": str(1 + i % 5), "tm2": "3",
                                         "doc_hours": str(2 + i)})  # fmt: skip
    sv.close_round(engine, actors["stockholm"], c)
    before = sr.results(engine, actors["public"], c)["total"].set_index("scale")
    assert before.loc["doc_hours", "n"] == 8
    assert sv.erase_answers(engine, links[-1])
    after = sr.results(engine, actors["public"], c)["total"].set_index("scale")
    # 7 respondents is above k, but the difference to what was shown is one person
    assert after["suppressed"].all() and after["mean"].isna().all()
    assert "differs from an earlier result" in after.loc["doc_hours", "reason"]
