"""Survey rounds, single-use links, answers, erasure and CSV import (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from tillit.core.errors import Conflict, DataError, NotFound, PermissionDenied
from tillit.services import survey_results as sr
from tillit.services import surveys as sv
from tillit.store.survey_tables import survey_links, survey_responses, survey_rounds

pytestmark = pytest.mark.integration


def test_round_with_own_questions_is_an_extended_version(engine, actors) -> None:
    code = sv.create_round(
        engine, actors["stockholm"], "0180", "2025", "staff",
        extra_questions="own1 | likert | local | Vi hinner prata. | We have time to talk.",
    )  # fmt: skip
    rnd = sv.get_round(engine, actors["public"], code)
    assert rnd.instrument.version == 2
    assert rnd.instrument.question("own1").sv == "Vi hinner prata."
    assert "local" in {s.id for s in rnd.instrument.scales}
    with pytest.raises(DataError, match="row 1"):
        sv.create_round(engine, actors["admin"], "0180", "2025", "staff",
                        extra_questions="tm1 | likert | x")  # fmt: skip
    with pytest.raises(DataError, match="already exists"):
        sv.create_round(engine, actors["admin"], "0180", "2025", "staff",
                        extra_questions="tm1 | likert | x | a | b")  # fmt: skip


def test_only_the_organisation_manages_its_rounds(engine, actors) -> None:
    with pytest.raises(PermissionDenied):
        sv.create_round(engine, actors["goteborg"], "0180", "2025", "staff")
    with pytest.raises(PermissionDenied):
        sv.create_round(engine, actors["researcher"], "0180", "2025", "staff")
    code = sv.create_round(engine, actors["stockholm"], "", "2025", "citizen")
    assert sv.get_round(engine, actors["public"], code).organisation_code == "0180"
    with pytest.raises(PermissionDenied):
        sv.issue_links(engine, actors["goteborg"], code, 3)
    with pytest.raises(PermissionDenied):
        sv.close_round(engine, actors["public"], code)


def test_threshold_only_by_admin_and_never_below_five(engine, actors) -> None:
    code = sv.create_round(engine, actors["stockholm"], "0180", "2024", "staff")
    with pytest.raises(PermissionDenied):
        sv.set_threshold(engine, actors["stockholm"], code, 10)
    with pytest.raises(DataError):
        sv.set_threshold(engine, actors["admin"], code, 4)
    sv.set_threshold(engine, actors["admin"], code, 8)
    assert sv.get_round(engine, actors["public"], code).threshold == 8


def test_links_are_single_use_hashed_and_erasable(engine, actors) -> None:
    code = sv.create_round(engine, actors["stockholm"], "0180", "2026", "staff")
    links = sv.issue_links(engine, actors["stockholm"], code, 3, unit_code="U-S1",
                           staff_group="Undersköterska")  # fmt: skip
    assert len(set(links)) == 3 and all(len(c) >= 20 for c in links)
    with engine.connect() as conn:
        stored = set(conn.execute(select(survey_links.c.code_hash)).scalars())
    assert not stored & set(links)  # only hashes are stored
    assert sv.hash_code(links[0]) in stored
    sv.submit_answers(engine, links[0], {"tm1": "4", "tm2": "5", "doc_hours": "6,5",
                                         "free": "Bra."})  # fmt: skip
    with pytest.raises(Conflict, match="already been used"):
        sv.submit_answers(engine, links[0], {"tm1": "1"})
    with pytest.raises(DataError, match="tm1"):
        sv.submit_answers(engine, links[1], {"tm1": "7"})
    with pytest.raises(NotFound):
        sv.submit_answers(engine, "not-a-code", {"tm1": "3"})
    with engine.connect() as conn:
        rows = conn.execute(
            select(survey_responses).where(
                survey_responses.c.link_hash == sv.hash_code(links[0])
            )
        ).all()
        cols = set(survey_responses.c.keys())
    assert len(rows) == 1
    assert json.loads(rows[0].answers) == {"doc_hours": 6.5, "free": "Bra.", "tm1": 4,
                                           "tm2": 5}  # fmt: skip
    assert rows[0].staff_group == "Undersköterska"
    # nothing that identifies a person or a moment is stored with the answers
    assert not cols & {"ip", "address", "user_agent", "email", "created_at", "user_id"}
    assert sv.erase_answers(engine, links[0]) is True
    assert sv.link_info(engine, links[0])["state"] == "erased"
    with engine.connect() as conn:
        assert (
            conn.execute(
                select(survey_responses.c.id).where(
                    survey_responses.c.link_hash == sv.hash_code(links[0])
                )
            ).first()
            is None
        )
    with pytest.raises(Conflict):
        sv.submit_answers(engine, links[0], {"tm1": "3"})  # an erased link stays used


def test_csv_import_names_row_and_field_and_is_atomic(engine, actors) -> None:
    code = sv.create_round(engine, actors["stockholm"], "0180", "2023", "staff")
    good = "unit;staff_group;tm1;tm2;doc_hours\nU-S1;A;4;5;3\nU-S2;B;2;3;10\n"
    assert sv.import_csv(engine, actors["stockholm"], code, good.encode(), "x.csv") == 2
    bad_value = "unit,tm1,tm2\nU-S1,4,5\nU-S1,4,9\n"
    with pytest.raises(DataError) as e:
        sv.import_csv(engine, actors["stockholm"], code, bad_value, "y.csv")
    assert e.value.row == 2 and e.value.field == "tm2" and e.value.file == "y.csv"
    bad_unit = "unit,tm1\nU-S1,4\nU-G1,4\n"  # a Göteborg unit in a Stockholm round
    with pytest.raises(DataError) as e:
        sv.import_csv(engine, actors["stockholm"], code, bad_unit, "z.csv")
    assert e.value.row == 2 and e.value.field == "unit"
    with pytest.raises(DataError, match="unknown column"):
        sv.import_csv(engine, actors["stockholm"], code, "unit,bogus\nU-S1,1\n")
    assert (
        sv.get_round(engine, actors["public"], code).n_responses == 2
    )  # no partial rows


def test_results_only_when_closed(engine, actors) -> None:
    code = sv.create_round(engine, actors["stockholm"], "0180", "2022", "staff")
    sv.import_csv(engine, actors["stockholm"], code,
                  "tm1,tm2\n" + "4,4\n" * 6)  # fmt: skip
    with pytest.raises(Conflict, match="closed"):
        sr.results(engine, actors["public"], code)
    sv.close_round(engine, actors["stockholm"], code)
    res = sr.results(engine, actors["public"], code)
    row = res["total"].set_index("scale").loc["trust_manager"]
    assert row["n"] == 6 and row["mean"] == pytest.approx(4.0)
    with pytest.raises(Conflict):
        sv.import_csv(engine, actors["stockholm"], code, "tm1\n3\n")
    with engine.connect() as conn:
        assert (
            conn.execute(
                select(survey_rounds.c.status).where(survey_rounds.c.code == code)
            ).scalar()
            == "closed"
        )


def test_demo_rounds_show_some_groups_and_suppress_others(engine, actors) -> None:
    info = sr.load_demo_surveys(engine)
    assert info["rounds"] and sr.load_demo_surveys(engine)["skipped"]
    first = info["rounds"][0]
    res = sr.results(engine, actors["public"], first)
    assert not res["total"]["suppressed"].any()
    groups = res["staff_group"]
    assert groups["suppressed"].any() and (~groups["suppressed"]).any()


def test_burden_ledger_estimate_and_comparison(engine, actors) -> None:
    from tillit.services.demo.audit import load_demo_inventories

    load_demo_inventories(engine)
    est = sr.ledger_estimate(engine, actors["admin"], "0180")
    assert est is not None and est["hours_per_week"] > 0
    assert sr.ledger_estimate(engine, actors["admin"], "2580") is None  # no inventory
    code = sv.create_round(engine, actors["stockholm"], "0180", "2015", "staff")
    sv.import_csv(engine, actors["stockholm"], code, "doc_hours\n" + "4\n6\n" * 3)
    sv.close_round(engine, actors["stockholm"], code)
    total = sr.results(engine, actors["public"], code)["total"]
    b = sr.burden(total, est["hours_per_week"])
    assert b["reported"] == pytest.approx(5.0)
    assert b["difference"] == pytest.approx(5.0 - est["hours_per_week"])


def test_pilot_units_against_other_units_before_and_after(
    engine, actors, monkeypatch
) -> None:
    sites = [{"pilot": "P-9001", "title": "Tillitsbaserad hemtjänst", "org": "0180",
              "unit": "U-S1", "start": "2013"}]  # fmt: skip
    monkeypatch.setattr(
        sr, "_pilot_sites", lambda conn, org: sites if org == "0180" else []
    )
    for period, pilot_level in (("2012", 3), ("2013", 5)):
        code = sv.create_round(engine, actors["stockholm"], "0180", period, "citizen")
        body = (
            "unit,ts1,ts2,ts3\n"
            + f"U-S1,{pilot_level},{pilot_level},{pilot_level}\n" * 6
        )
        body += "U-S2,3,3,3\n" * 6
        sv.import_csv(engine, actors["stockholm"], code, body)
        sv.close_round(engine, actors["stockholm"], code)
    out = sr.pilot_change(engine, actors["public"], code)["pilots"]
    assert [p["pilot"] for p in out] == ["P-9001"] and out[0]["level"] == "unit"
    t = out[0]["table"]
    t = t[t["scale"] == "trust_services"].set_index(["phase", "group"])["mean"]
    assert t[("before", "pilot")] == pytest.approx(3.0)
    assert t[("after", "pilot")] == pytest.approx(5.0)
    assert t[("after", "other")] == pytest.approx(3.0)
