"""Monotonicity of the simulator's outputs in its inputs (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tillit.core.compensation import generate_population, simulate, single

from .test_engine import NEUTRAL, RATES, fixed_priors

POP = generate_population(
    400, mean_hours=30.0, share_heavy=0.05, private_share=0.3, seed=5
)
rate = st.floats(100.0, 2000.0, allow_nan=False)
share = st.floats(0.5, 1.0, allow_nan=False)
SETTINGS = settings(max_examples=25, deadline=None)


def cost(model: object, **priors: object) -> float:
    return float(
        simulate(POP, model, fixed_priors(**priors)).outputs["cost_total"][0, 0]
    )  # type: ignore[arg-type]


@SETTINGS
@given(rate, rate)
def test_granted_time_cost_rises_with_the_rate(a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    assert cost(single("G", "granted_time", **dict.fromkeys(RATES, lo))) <= cost(
        single("G", "granted_time", **dict.fromkeys(RATES, hi))
    )


@SETTINGS
@given(share, share, st.sampled_from([0.0, 5.0, 15.0]), st.sampled_from([0.0, 10.0]))
def test_performed_time_cost_rises_with_delivery(
    a: float, b: float, rnd: float, minimum: float
) -> None:
    lo, hi = sorted((a, b))
    m = single(
        "P",
        "performed_time_electronic",
        **RATES,
        rounding_minutes=rnd,
        min_visit_minutes=minimum,
    )
    assert cost(m, delivered_retrospective=lo) <= cost(m, delivered_retrospective=hi)


@SETTINGS
@given(st.sampled_from([1.0, 5.0]), st.integers(1, 4))
def test_coarser_rounding_on_a_finer_grid_never_pays_less(
    step: float, factor: int
) -> None:
    fine = single(
        "P",
        "performed_time_electronic",
        **RATES,
        rounding_minutes=step,
        cap_at_granted=False,
    )
    coarse = single(
        "P",
        "performed_time_electronic",
        **RATES,
        rounding_minutes=step * factor,
        cap_at_granted=False,
    )
    none = single("P", "performed_time_electronic", **RATES, cap_at_granted=False)
    assert cost(none) <= cost(fine) <= cost(coarse)


@SETTINGS
@given(st.floats(0.0, 20.0), st.floats(0.0, 20.0))
def test_registration_hours_rise_with_the_minutes_per_visit(a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    h = [
        simulate(
            POP,
            single("G", "granted_time", **RATES, reg_minutes_visit=x),
            fixed_priors(),
        ).metric("registration_hours")[0, 0]
        for x in (lo, hi)
    ]
    assert h[0] <= h[1]


@SETTINGS
@given(st.floats(150.0, 600.0), st.floats(150.0, 600.0))
def test_provider_margin_falls_as_staff_cost_rises(a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    m = single("G", "granted_time", **RATES)
    margin = [
        simulate(POP, m, fixed_priors(staff_cost=x)).metric("provider_margin_kr")[0, 0]
        for x in (lo, hi)
    ]
    assert margin[0] >= margin[1]


@SETTINGS
@given(st.floats(0.0, 0.3), st.floats(0.0, 0.3))
def test_cancellations_lower_performed_time_pay_when_they_are_not_paid_in_full(
    a: float, b: float
) -> None:
    lo, hi = sorted((a, b))
    m = single("P", "performed_time_electronic", **RATES, cancel_paid_share=0.5)
    assert cost(m, **{**NEUTRAL, "cancel_rate": lo}) >= cost(
        m, **{**NEUTRAL, "cancel_rate": hi}
    )


@SETTINGS
@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_more_selection_moves_more_recipients(a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    m = single("C", "capitation", capitation=10_000.0)
    moved = [
        simulate(POP, m, fixed_priors(selection=(0.0, x, x))).outputs["moved"][0, 0]
        for x in (lo, hi)
    ]
    assert moved[0] <= moved[1]


@SETTINGS
@given(st.floats(0.2, 1.5), st.floats(0.2, 1.5))
def test_granted_time_cost_rises_with_granted_hours(a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    m = single("G", "granted_time", **RATES)
    costs = []
    for f in (lo, hi):
        pop = generate_population(300, mean_hours=30.0 * f, seed=1)
        costs.append(float(simulate(pop, m).outputs["cost_total"][0, 0]))
    assert costs[0] <= costs[1] * (1 + 1e-12)
    assert np.isfinite(costs).all()
