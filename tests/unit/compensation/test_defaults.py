"""The default priors reproduce the published figures they were set from."""

from __future__ import annotations

import pytest

from tillit.core.compensation import generate_population, simulate
from tillit.domain.compensation import facts, parse_spec

RATES = {"day_personal": 426, "day_service": 426, "evening": 426, "night": 426}


@pytest.fixture(scope="module")
def result() -> object:
    pop = generate_population(20_000, mean_hours=30.0, share_heavy=0.05, seed=3)
    spec = parse_spec({"models": [
        {"name": "G", "basis": "granted_time", "rates": RATES},
        {"name": "P", "basis": "performed_time_electronic", "rates": RATES},
    ]})  # fmt: skip
    return simulate(pop, spec.to_arrays())


def test_delivered_share_over_the_skr_2016_mix_is_the_theses_86_percent(
    result: object,
) -> None:
    f = facts()["facts"]
    skr = f["skr_2016_models"]
    prospective = skr["granted_time"] + skr["per_service_or_level"]
    retrospective = (
        skr["performed_time_electronic"] + skr["performed_time_self_reported"]
    )
    share = result.value("delivered_share")  # type: ignore[attr-defined]
    mix = (prospective * share[0] + retrospective * share[1]) / (
        prospective + retrospective
    )
    assert mix == pytest.approx(
        f["sse_2016_compliance"]["delivered_share_mean"], abs=0.01
    )
    assert share[1] > share[0]  # higher where performed hours are paid


def test_in_house_staff_spend_58_percent_of_their_time_in_homes(result: object) -> None:
    o = result.outputs  # type: ignore[attr-defined]
    share = o["delivered_hours"][0, 0] / o["staff_hours"][0, 0]
    assert share == pytest.approx(
        facts()["facts"]["client_time_share"]["share_of_working_time_in_homes"],
        abs=0.02,
    )
