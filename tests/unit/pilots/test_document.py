"""The pilot document: validation, normalisation, registrability and outcome origins."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tillit.core.errors import DataError
from tillit.domain.pilots import (
    CHANGE_KINDS,
    DESIGNS,
    ESTIMATORS,
    check_registrable,
    empty_document,
    outcome_origins,
    parse_document,
    parse_sites,
)
from tillit.domain.registry import canonical_json, make_entry, verify_chain

GOOD = {
    "title": "  Tillitsbaserad hemtjänst ",
    "change_kind": "trust_based_care",
    "change": "Ingen minuttid",
    "sites": "0180, 2025\n1480, V15E148000101, 2025-03\n\n0180, 2025",
    "hypotheses": "Mindre rapportering\n\n Nöjdare brukare ",
    "primary_outcomes": "N00001, N00002;N00001",
    "secondary_outcomes": ["N00002", "N00003"],
    "design": "staggered_adoption",
    "analysis": {"estimator": "sdid", "control_group": "never treated",
                 "covariates": "N00004", "min_effect": "−1,5"},
    "preconditions": {"competence": "4", "leadership": 2, "shared_goal": ""},
}  # fmt: skip


def test_parse_normalises() -> None:
    doc = parse_document(GOOD)
    assert doc["title"] == "Tillitsbaserad hemtjänst"
    assert doc["sites"] == [
        {"org": "0180", "unit": "", "start": "2025"},
        {"org": "1480", "unit": "V15E148000101", "start": "2025-03"},
    ]
    assert doc["hypotheses"] == ["Mindre rapportering", "Nöjdare brukare"]
    assert doc["primary_outcomes"] == ["N00001", "N00002"]
    assert doc["secondary_outcomes"] == ["N00003"]  # a primary is not also secondary
    assert doc["analysis"] == {"estimator": "sdid", "control_group": "never treated",
                               "covariates": ["N00004"], "min_effect": -1.5}  # fmt: skip
    assert doc["preconditions"] == {"competence": 4, "leadership": 2,
                                    "shared_goal": None, "shared_values": None}  # fmt: skip
    assert parse_document(doc) == doc  # idempotent
    assert json.loads(canonical_json(doc)) == doc  # storable in the registry
    check_registrable(doc)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": " "}, "title"),
        ({"change_kind": "abolish_everything"}, "change_kind"),
        ({"design": "rct"}, "design"),
        ({"analysis": {"estimator": "ols"}}, "analysis.estimator"),
        ({"analysis": {"min_effect": "big"}}, "analysis.min_effect"),
        ({"analysis": {"min_effect": "nan"}}, "analysis.min_effect"),
        ({"preconditions": {"competence": 6}}, "preconditions.competence"),
        ({"preconditions": {"leadership": "high"}}, "preconditions.leadership"),
        ({"primary_outcomes": "N0001 <script>"}, "primary_outcomes"),
        ({"sites": "0180"}, "sites"),
        ({"sites": "0180, 20255"}, "sites[0].start"),
        ({"sites": "0180, 2025-13"}, "sites[0].start"),
        ({"sites": [{"org": "01 80", "start": "2025"}]}, "sites[0].org"),
        ({"change": "x" * 5001}, "change"),
        ({"randomisation": {"treated": []}}, "randomisation"),
    ],
)
def test_parse_names_the_bad_field(change, field) -> None:
    with pytest.raises(DataError) as info:
        parse_document({**GOOD, **change})
    assert info.value.field == field


def test_controlled_lists() -> None:
    assert {
        "trust_based_care",
        "removed_reporting",
        "new_compensation",
        "other",
    } == set(CHANGE_KINDS)
    assert {
        "randomised",
        "stepped_rollout",
        "matched_comparison",
        "staggered_adoption",
    } == set(DESIGNS)
    assert {"did", "event-study", "synth", "sdid", "trial"} == set(ESTIMATORS)
    blank = empty_document()
    assert parse_document({**blank, "title": "x"})["sites"] == []


@pytest.mark.parametrize(
    ("missing", "field"),
    [
        ({"change": ""}, "change"),
        ({"sites": []}, "sites"),
        ({"hypotheses": []}, "hypotheses"),
        ({"primary_outcomes": []}, "primary_outcomes"),
        (
            {"analysis": {"estimator": "did", "control_group": ""}},
            "analysis.control_group",
        ),
        ({"design": "randomised"}, "randomisation"),
    ],
)
def test_registrable_needs_the_essentials(missing, field) -> None:
    doc = parse_document({**GOOD, **missing})
    with pytest.raises(DataError, match="cannot register") as info:
        check_registrable(doc)
    assert info.value.field == field
    rec = {"seed": 1, "treated": ["0180"], "control": ["1480"]}
    if field == "randomisation":
        check_registrable(parse_document({**GOOD, **missing, "randomisation": rec}))


def test_sites_from_mappings() -> None:
    assert parse_sites([{"org": "0180", "start": 2025}]) == [
        {"org": "0180", "unit": "", "start": "2025"}
    ]
    with pytest.raises(DataError):
        parse_sites([["0180", "2025"]])


def test_outcome_origins() -> None:
    v1 = parse_document(GOOD)
    v2 = {**v1, "secondary_outcomes": ["N00003", "N00009"]}
    v3 = {
        **v2,
        "primary_outcomes": ["N00001", "N00003"],
        "secondary_outcomes": ["N00009"],
    }
    got = {o.indicator: o for o in outcome_origins([v1, v2, v3])}
    assert got["N00001"].pre_registered and got["N00001"].role == "primary"
    assert (
        got["N00003"].pre_registered
        and got["N00003"].role_at_registration == "secondary"
    )
    assert (
        got["N00003"].role == "primary"
    )  # promoted later: still shown as pre-registered
    assert not got["N00009"].pre_registered and got["N00009"].added_in_version == 2
    assert "N00002" not in got  # dropped in v3
    assert outcome_origins([]) == []
    assert got["N00009"].to_dict()["added_in_version"] == 2


def test_conclusion_of_a_version_one_pilot_verifies() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    e1 = make_entry(None, pilot_id="P-0001", version=1, kind="registration",
                    content=parse_document(GOOD), registered_at=t0)  # fmt: skip
    e2 = make_entry(e1, pilot_id="P-0001", version=1, kind="conclusion",
                    content={"verdict": "ok"}, registered_at=t0 + timedelta(days=1))  # fmt: skip
    assert verify_chain([e1, e2]).ok
    e3 = make_entry(None, pilot_id="P-0002", version=1, kind="conclusion",
                    content={"verdict": "never registered"}, registered_at=t0)  # fmt: skip
    assert not verify_chain([e3]).ok
