"""The compensation spec: validation naming the path, round trip, arrays, sources."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tillit.core.compensation import DEFAULTS, Priors
from tillit.core.errors import DataError
from tillit.domain.compensation import REGISTRATION_DEFAULTS, facts, parse_spec, sources

RATES = {"day_personal": 426, "day_service": 400, "evening": 470, "night": 560}
SPEC: dict[str, Any] = {
    "version": 1,
    "title": "Test",
    "models": [
        {"name": "Beviljad", "basis": "granted_time", "rates": dict(RATES),
         "goals": [{"indicator": "continuity", "target": 12, "bonus_share": 0.02}]},
        {"name": "Utförd", "basis": "performed_time_electronic", "rates": dict(RATES),
         "visits": {"min_minutes": 10, "rounding_minutes": 5, "cap_at_granted": True},
         "travel": {"mode": "per_hour", "rate": 300}, "cancellation": {"paid_share": 0.5}},
        {"name": "Nivå", "basis": "per_service_level",
         "levels": [{"min_hours": 0, "amount": 6000}, {"min_hours": 25, "amount": 18000}]},
        {"name": "Besök", "basis": "per_visit", "visit_rate": 210},
        {"name": "Peng", "basis": "capitation", "capitation": 12000, "fixed_monthly": 200},
        {"name": "Anslag", "basis": "fixed_budget", "budget": 5e8},
    ],
    "behaviour": {"staff_cost": {"mean": 300}, "selection": {"for_profit": {"mean": 0.5}}},
}  # fmt: skip


def with_change(path: str, value: Any) -> dict[str, Any]:
    spec = copy.deepcopy(SPEC)
    obj: Any = spec
    keys = path.replace("]", "").replace("[", ".").split(".")
    for k in keys[:-1]:
        obj = obj[int(k)] if k.isdigit() else obj[k]
    last = keys[-1]
    if value is DELETE:
        del obj[last]
    else:
        obj[int(last) if last.isdigit() else last] = value
    return spec


DELETE = object()


def test_a_valid_spec_round_trips_and_converts() -> None:
    spec = parse_spec(SPEC)
    again = parse_spec(spec.to_dict())
    assert again == spec
    arr = spec.to_arrays()
    assert arr.m == 6 and arr.basis.tolist() == [0, 1, 4, 3, 5, 6]
    assert arr.level_amount[2, :2].tolist() == [6000, 18000]
    assert (
        spec.models[1].registration.minutes_per_visit
        == REGISTRATION_DEFAULTS["performed_time_electronic"][0]
    )
    pri = spec.priors()
    assert (
        pri.priors["staff_cost"][0].mean == 300
        and pri.priors["selection"][1].mean == 0.5
    )


@pytest.mark.parametrize(
    ("path", "value", "field", "words"),
    [
        (
            "models[0].rates.day_personal",
            -5,
            "models[0].rates.day_personal",
            "negative",
        ),
        (
            "models[1].cancellation.paid_share",
            1.5,
            "models[1].cancellation.paid_share",
            "100 %",
        ),
        (
            "models[0].goals[0].bonus_share",
            2,
            "models[0].goals[0].bonus_share",
            "100 %",
        ),
        ("models[3].basis", "hourly", "models[3].basis", "unknown basis"),
        ("models[1].rates.night", DELETE, "models[1].rates.night", "missing"),
        ("models[3].visit_rate", DELETE, "models[3].visit_rate", "missing"),
        ("models[4].capitation", DELETE, "models[4].capitation", "missing"),
        ("models[0].rates.weekend", 500, "models[0].rates.weekend", "unknown key"),
        (
            "models[2].levels[1].min_hours",
            0,
            "models[2].levels[1].min_hours",
            "increasing",
        ),
        (
            "models[1].travel.mode",
            "free",
            "models[1].travel.mode",
            "unknown travel mode",
        ),
        ("models[5].name", "Beviljad", "models[5].name", "used twice"),
        (
            "models[1].visits.cap_at_granted",
            "yes",
            "models[1].visits.cap_at_granted",
            "true or false",
        ),
        ("behaviour.staff_cost.sd", -1, "behaviour.staff_cost.sd", "negative"),
        ("version", 2, "version", "unsupported"),
        (
            "models[0].rates.evening",
            "470",
            "models[0].rates.evening",
            "kronor per hour",
        ),
    ],
)
def test_a_bad_value_is_refused_naming_its_path(
    path: str, value: Any, field: str, words: str
) -> None:
    with pytest.raises(DataError) as err:
        parse_spec(with_change(path, value))
    assert err.value.field == field
    assert words in err.value.message


def test_every_behaviour_parameter_has_a_source() -> None:
    src = sources()
    assert set(src) == set(DEFAULTS)
    known = set(facts()["facts"]) | {"assumption", "kolada_U21401"}
    assert all(s["source"] in known for s in src.values())
    Priors.default()  # the defaults validate


def test_the_pinned_survey_figures() -> None:
    f = facts()["facts"]
    s = f["skr_2016_models"]
    assert (
        s["granted_time"],
        s["performed_time_electronic"],
        s["performed_time_self_reported"],
        s["per_service_or_level"],
    ) == (62, 47, 20, 12)
    assert s["municipalities_answering"] == 145
    r = f["skr_rates"]
    assert (r["2013"]["mean"], r["2016"]["mean"], r["2019"]["mean"]) == (353, 377, 426)
    assert f["sse_2016_compliance"]["delivered_share_mean"] == 0.86
