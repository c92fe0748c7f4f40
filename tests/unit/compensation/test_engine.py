"""The simulator against hand computations, a plain-loop transcription and its identities."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from tillit.core.compensation import (
    DEFAULTS,
    ModelArrays,
    Priors,
    generate_population,
    population_from_frame,
    simulate,
    single,
    tornado,
)

from ._reference import reference

RATES = {
    "rate_day_personal": 400.0,
    "rate_day_service": 400.0,
    "rate_evening": 400.0,
    "rate_night": 400.0,
}


def fixed_priors(**means: float | tuple[float, float, float]) -> Priors:
    """Every parameter fixed (sd 0): the defaults' means, changed by ``means``."""
    nums = {}
    for name, rows in DEFAULTS.items():
        vals = means.get(name)
        new = []
        for k, (mean, _sd, lo, hi) in enumerate(rows):
            m = mean if vals is None else (vals[k] if isinstance(vals, tuple) else vals)
            new.append((m, 0.0, min(lo, m), max(hi, m)))
        nums[name] = tuple(new)
    return Priors.from_numbers(nums)


NEUTRAL = {"need_slope": 0.0, "individual_sd": 0.0, "complexity": 0.0, "cancel_rate": 0.0,
           "self_report_inflation": 0.0}  # fmt: skip


def people(rows: list[dict[str, object]]) -> object:
    return population_from_frame(pd.DataFrame(rows), source="test")


def concat(*ms: ModelArrays) -> ModelArrays:
    kw: dict[str, object] = {"names": tuple(n for m in ms for n in m.names)}
    for f in dataclasses.fields(ModelArrays):
        if f.name != "names":
            kw[f.name] = np.concatenate([getattr(m, f.name) for m in ms])
    return ModelArrays(**kw)  # type: ignore[arg-type]


# --- known answers, computed by hand -------------------------------------------------------


def test_granted_time_pays_granted_hours_times_rate() -> None:
    pop = people(
        [
            {"granted_hours": 10, "visits_per_month": 20},
            {"granted_hours": 20, "visits_per_month": 40},
        ]
    )
    res = simulate(pop, single("G", "granted_time", **RATES), fixed_priors(**NEUTRAL))
    assert res.outputs["cost_total"][0, 0] == 12 * 30 * 400  # 144 000 kr


def test_evening_and_night_rates_blend_by_the_recipients_shares() -> None:
    pop = people(
        [
            {
                "granted_hours": 10,
                "personal_care_share": 0.5,
                "evening_share": 0.5,
                "night_share": 0.25,
            }
        ]
    )
    m = single(
        "G",
        "granted_time",
        rate_day_personal=400.0,
        rate_day_service=200.0,
        rate_evening=600.0,
        rate_night=800.0,
    )
    res = simulate(pop, m, fixed_priors(**NEUTRAL))
    # personal 5 h: 1.25 day x 400 + 2.5 evening x 600 + 1.25 night x 800; service 5 h x 200
    assert res.outputs["cost_total"][0, 0] == 12 * (500 + 1500 + 1000 + 1000)


def test_performed_time_rounds_up_each_visit_and_applies_the_minimum() -> None:
    pop = people([
        {"granted_hours": 10, "visits_per_month": 15},  # 40 min planned, half delivered: 20
        {"granted_hours": 2, "visits_per_month": 8},  # 15 min planned, 7.5 delivered
    ])  # fmt: skip
    m = single(
        "P",
        "performed_time_electronic",
        **RATES,
        rounding_minutes=15.0,
        min_visit_minutes=10.0,
    )
    res = simulate(pop, m, fixed_priors(**NEUTRAL, delivered_retrospective=0.5))
    # 15 visits x 30 min (20 rounded up) = 7.5 h; 8 visits x 15 min (10 minimum, rounded) = 2 h
    assert res.outputs["paid_hours"][0, 0] == 12 * 9.5
    assert res.outputs["cost_total"][0, 0] == 12 * 9.5 * 400
    assert res.outputs["delivered_hours"][0, 0] == 12 * 6.0  # half of 12 granted hours


def test_performed_time_is_capped_at_the_granted_hours() -> None:
    pop = people([{"granted_hours": 10, "visits_per_month": 15}])
    m = single(
        "P",
        "performed_time_electronic",
        **RATES,
        rounding_minutes=60.0,
        cap_at_granted=True,
    )
    res = simulate(pop, m, fixed_priors(**NEUTRAL, delivered_retrospective=0.9))
    assert res.outputs["paid_hours"][0, 0] == 12 * 10  # 15 h rounded, capped at 10


def test_per_visit_pays_made_visits_and_the_paid_share_of_cancelled() -> None:
    pop = people([{"granted_hours": 10, "visits_per_month": 20}])
    m = single("V", "per_visit", visit_rate=250.0, cancel_paid_share=0.5)
    res = simulate(pop, m, fixed_priors(**{**NEUTRAL, "cancel_rate": 0.25}))
    assert res.outputs["cost_total"][0, 0] == 12 * (15 + 0.5 * 5) * 250


def test_levels_capitation_and_budget() -> None:
    pop = people([{"granted_hours": 10}, {"granted_hours": 50}, {"granted_hours": 200}])
    lv = single("L", "per_service_level")
    lv.level_threshold[0, :3] = [0, 40, 120]
    lv.level_amount[0, :3] = [5_000, 20_000, 60_000]
    cap = single("C", "capitation", capitation=15_000.0)
    bud = single("B", "fixed_budget", budget=9_000_000.0)
    res = simulate(pop, concat(lv, cap, bud), fixed_priors(**NEUTRAL))
    assert res.outputs["cost_total"][:2, 0].tolist() == [12 * 85_000, 12 * 45_000]
    # the budget is shared by granted hours: exact up to the rounding of g / sum(g)
    assert res.outputs["cost_total"][2, 0] == pytest.approx(9_000_000, rel=1e-15)


def test_travel_paid_per_visit_and_per_hour() -> None:
    pop = people([{"granted_hours": 10, "visits_per_month": 20, "travel_minutes": 15}])
    pv = single("T1", "capitation", capitation=0.0, travel_mode=1, travel_rate=30.0)
    ph = single("T2", "capitation", capitation=0.0, travel_mode=2, travel_rate=400.0)
    res = simulate(pop, concat(pv, ph), fixed_priors(**NEUTRAL))
    assert res.outputs["cost_total"][:, 0].tolist() == [12 * 20 * 30, 12 * 5 * 400]
    assert res.outputs["travel_hours"][1, 0] == 12 * 5  # paid per hour: as planned


def test_registration_hours_follow_visits_and_months() -> None:
    pop = people([{"granted_hours": 10, "visits_per_month": 20}] * 3)
    m = single(
        "P",
        "granted_time",
        **RATES,
        reg_minutes_visit=1.5,
        reg_minutes_month=6.0,
        purchaser_minutes_month=3.0,
    )
    res = simulate(pop, m, fixed_priors(**{**NEUTRAL, "cancel_rate": 0.25}))
    staff = 12 * 3 * (15 * 1.5 + 6.0) / 60
    assert res.outputs["registration_hours_staff"][0, 0] == pytest.approx(
        staff, rel=1e-15
    )
    assert res.outputs["registration_hours_purchaser"][0, 0] == 12 * 3 * 3 / 60
    assert res.metric("registration_cost")[0, 0] == pytest.approx(
        (staff + 1.8) * 283.0, rel=1e-15
    )


def test_goal_bonus_is_a_share_of_payments_when_the_target_is_met() -> None:
    pop = people([{"granted_hours": 10, "visits_per_month": 70}])
    met = single("G", "granted_time", **RATES)
    met.goal_indicator[0, 0], met.goal_target[0, 0], met.goal_bonus[0, 0] = (
        0,
        50.0,
        0.125,
    )
    missed = single("H", "granted_time", **RATES)
    missed.goal_indicator[0, 0], missed.goal_target[0, 0], missed.goal_penalty[0, 0] = (
        1,
        0.99,
        0.25,
    )
    res = simulate(pop, concat(met, missed), fixed_priors(**NEUTRAL))
    assert res.outputs["cost_total"][:, 0].tolist() == [
        12 * 4000 * 1.125,
        12 * 4000 * 0.75,
    ]


def test_continuity_is_the_expected_number_of_distinct_staff() -> None:
    # 61 visits a month: two a day; 14 days = 61 x 14 / 30.4167 visits from a pool of 20
    pop = people([{"granted_hours": 30, "visits_per_month": 61}])
    res = simulate(pop, single("G", "granted_time", **RATES), fixed_priors(**NEUTRAL))
    n = 61 * 14 / (365 / 12)
    assert res.metric("continuity")[0, 0] == pytest.approx(
        20 * (1 - (1 - 1 / 20) ** n), rel=1e-12
    )


# --- identities -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pop() -> object:
    return generate_population(
        3000, mean_hours=32.0, share_heavy=0.06, private_share=0.4, seed=7
    )


def all_bases() -> ModelArrays:
    lv = single("L", "per_service_level")
    lv.level_threshold[0, :3] = [0, 25, 80]
    lv.level_amount[0, :3] = [6_000, 18_000, 50_000]
    g = single("G", "granted_time", **RATES, reg_minutes_visit=0.5)
    g.goal_indicator[0, 0], g.goal_target[0, 0], g.goal_bonus[0, 0] = 0, 16.0, 0.02
    return concat(
        g,
        single("E", "performed_time_electronic", **RATES, rounding_minutes=5.0, min_visit_minutes=10.0, reg_minutes_visit=1.0),
        single("S", "performed_time_self_reported", **RATES, cap_at_granted=False, cancel_paid_share=0.5, travel_mode=2, travel_rate=300.0),
        single("V", "per_visit", visit_rate=210.0, travel_mode=1, travel_rate=25.0),
        lv,
        single("C", "capitation", capitation=12_000.0, fixed_monthly=500.0),
        single("B", "fixed_budget", budget=3000 * 12 * 12_000.0),
    )  # fmt: skip


def test_total_paid_is_the_sum_of_the_providers_payments(pop: object) -> None:
    res = simulate(pop, all_bases(), draws=40, seed=3)  # type: ignore[arg-type]
    by = res.outputs["payments_by_provider"]
    assert np.array_equal(res.outputs["cost_total"], by.sum(axis=2))
    assert np.array_equal(
        res.outputs["provider_cost"], res.outputs["cost_by_provider"].sum(axis=2)
    )
    # the fixed budget is paid in full whatever the draws
    assert np.allclose(
        res.outputs["cost_total"][6], 3000 * 12 * 12_000.0, rtol=1e-12, atol=0
    )


def test_granted_time_cost_does_not_depend_on_delivery(pop: object) -> None:
    m = single("G", "granted_time", **RATES)
    low = simulate(
        pop, m, fixed_priors(delivered_prospective=0.6, selection=(0.0, 0.0, 0.0))
    )  # type: ignore[arg-type]
    high = simulate(
        pop, m, fixed_priors(delivered_prospective=1.0, selection=(0.0, 0.0, 0.0))
    )  # type: ignore[arg-type]
    assert low.outputs["cost_total"][0, 0] == high.outputs["cost_total"][0, 0]
    assert low.outputs["delivered_hours"][0, 0] < high.outputs["delivered_hours"][0, 0]


def test_performed_time_cost_scales_with_delivered_time(pop: object) -> None:
    m = single("P", "performed_time_electronic", **RATES, cap_at_granted=False)
    a = simulate(pop, m, fixed_priors(**NEUTRAL, delivered_retrospective=0.5))  # type: ignore[arg-type]
    b = simulate(pop, m, fixed_priors(**NEUTRAL, delivered_retrospective=0.75))  # type: ignore[arg-type]
    ratio = b.outputs["cost_total"][0, 0] / a.outputs["cost_total"][0, 0]
    assert ratio == pytest.approx(1.5, rel=1e-13)
    assert b.outputs["paid_hours"][0, 0] == pytest.approx(
        b.outputs["delivered_hours"][0, 0], rel=1e-13
    )


def test_engine_equals_a_plain_loop_transcription() -> None:
    small = generate_population(
        60, mean_hours=45.0, share_heavy=0.1, private_share=0.5, seed=11
    )
    models = all_bases()
    res = simulate(small, models, draws=4, seed=5)
    draws = Priors.default().sample(4, np.random.default_rng(5))
    ref = reference(small, models, draws)
    for key, want in ref.items():
        np.testing.assert_allclose(
            res.outputs[key], np.array(want), rtol=1e-11, atol=1e-9, err_msg=key
        )
    assert res.outputs["moved"].sum() > 0  # selection happened and was checked


def test_selection_moves_hard_private_recipients_to_in_house() -> None:
    pop = generate_population(
        2000,
        mean_hours=30.0,
        private_share=1.0,
        non_profit_share_of_private=0.0,
        seed=2,
    )
    cap = single("C", "capitation", capitation=10_000.0)
    res = simulate(pop, cap, fixed_priors(**NEUTRAL, selection=(0.0, 1.0, 1.0)))
    hard = int(np.sum(pop.complexity > 0.8416212335729143))
    assert res.outputs["moved"][0, 0] == hard
    assert res.outputs["granted_by_provider"][0, 0, 0] == pytest.approx(
        12 * pop.granted_hours[pop.complexity > 0.8416212335729143].sum()
    )


def test_results_have_stable_json_and_intervals(pop: object) -> None:
    res = simulate(pop, all_bases(), draws=50, seed=1)  # type: ignore[arg-type]
    d = res.to_dict()
    m0 = d["models"][0]
    for key in ("name", "basis", "cost_total", "cost_per_recipient", "provider_margin", "delivered_share",
                "registration_hours", "registration_cost", "ci_low", "ci_high", "flags"):  # fmt: skip
        assert key in m0
    assert m0["ci_low"]["cost_total"] <= m0["cost_total"] <= m0["ci_high"]["cost_total"]
    one = simulate(pop, all_bases(), draws=1).to_dict()  # type: ignore[arg-type]
    assert "ci_low" not in one["models"][0] and one["interval"] is None
    assert len(res.tidy()) == 7 * 11


def test_same_seed_same_numbers(pop: object) -> None:
    a = simulate(pop, all_bases(), draws=30, seed=9).outputs["cost_total"]  # type: ignore[arg-type]
    b = simulate(pop, all_bases(), draws=30, seed=9).outputs["cost_total"]  # type: ignore[arg-type]
    assert np.array_equal(a, b)


def test_blocks_do_not_change_the_numbers(
    pop: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    sim = importlib.import_module("tillit.core.compensation.montecarlo")

    a = sim.simulate(pop, all_bases(), draws=20, seed=4).outputs["provider_cost"]  # type: ignore[arg-type]
    monkeypatch.setattr(sim, "BLOCK_ELEMENTS", 3000 * 3)
    b = sim.simulate(pop, all_bases(), draws=20, seed=4).outputs["provider_cost"]  # type: ignore[arg-type]
    np.testing.assert_allclose(a, b, rtol=1e-13)


def test_tornado_ranks_the_parameter_that_drives_the_cost(pop: object) -> None:
    m = concat(
        single("G", "granted_time", **RATES),
        single("P", "performed_time_electronic", **RATES),
    )
    t = tornado(pop, m)  # type: ignore[arg-type]
    ranked = t.ranked("cost_per_recipient", 1)
    assert ranked[0][0] in {"delivered_retrospective", "need_slope"}
    assert all(r[3] == 0 or r[3] < 1e-6 for r in t.ranked("cost_per_recipient", 0))
    # performed time at this rate is cheaper than granted time for every parameter's range
    assert t.centre["difference_cost_per_recipient"][1] < 0
    assert t.flips(1) == []
    d = t.to_dict()
    assert d["models"][1]["parameters"][0]["parameter"] == ranked[0][0]


def test_tornado_sees_a_conclusion_that_flips() -> None:
    pop = generate_population(800, mean_hours=30.0, seed=3)
    # performed time priced so that it is cheaper only if delivery stays low
    m = concat(
        single("G", "granted_time", **RATES),
        single("P", "performed_time_electronic", **dict.fromkeys(RATES, 452.0)),
    )
    t = tornado(pop, m)
    assert "delivered_retrospective" in t.flips(1)


def test_progress_is_reported_to_the_end(pop: object) -> None:
    seen: list[tuple[int, int]] = []
    simulate(pop, all_bases(), draws=10, progress=lambda d, t: seen.append((d, t)))  # type: ignore[arg-type]
    assert seen[-1][0] == seen[-1][1] and len(seen) == seen[-1][1]
