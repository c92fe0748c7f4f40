"""A plain-Python transcription of the simulator's rules, recipient by recipient.

Written from the rules in ``tillit.core.compensation.engine``'s docstring and
``docs/compensation.md``, not from the engine's code: one loop over draws, one over
recipients, scalars only.  Slow, and only for small populations in tests.
"""

from __future__ import annotations

import math
from typing import Any

from tillit.core.compensation import BASES, GOAL_INDICATORS, PROVIDERS, TRAVEL_MODES
from tillit.core.compensation.codes import INCENTIVE, SELECTION_WEIGHT

HARD_Z = 0.8416212335729143


def _rate(m: Any, i: int, p: float, e: float, n: float) -> float:
    return (
        p * (1 - e - n) * m.rate_day_personal[i]
        + p * e * m.rate_evening[i]
        + p * n * m.rate_night[i]
        + (1 - p) * m.rate_day_service[i]
    )


def reference(pop: Any, models: Any, draws: Any) -> dict[str, list[list[float]]]:
    """Yearly ``cost_total``, ``provider_cost``, ``delivered_hours``, ``staff_hours``,
    ``paid_hours``, ``registration_hours_staff``, ``travel_hours``, ``continuity`` and
    ``moved`` per model and draw."""
    v = draws.values
    keys = ("cost_total", "provider_cost", "delivered_hours", "staff_hours", "paid_hours",
            "registration_hours_staff", "travel_hours", "continuity", "moved")  # fmt: skip
    out: dict[str, list[list[float]]] = {k: [] for k in keys}
    for i in range(models.m):
        basis = BASES[int(models.basis[i])]
        klass = INCENTIVE[basis]
        rows: dict[str, list[float]] = {k: [] for k in keys}
        for d in range(draws.n):
            c = float(v["cancel_rate"][d])
            pay = dict.fromkeys(range(len(PROVIDERS)), 0.0)
            granted = dict.fromkeys(pay, 0.0)
            deliv = dict.fromkeys(pay, 0.0)
            cost = staff = paid = reg = travel = 0.0
            moved = 0
            met_sum = dict.fromkeys(pay, 0.0)
            met_n = dict.fromkeys(pay, 0)
            team = float(v["team_size"][d]) * (
                float(v["fragmentation"][d]) if klass != "prospective" else 1.0
            )
            two_a_day = any(pop.visits[r] >= 2 * 365 / 12 for r in range(pop.n))
            for r in range(pop.n):
                g, vis = float(pop.granted_hours[r]), float(pop.visits[r])
                p, e, n = (
                    float(pop.personal_share[r]),
                    float(pop.evening_share[r]),
                    float(pop.night_share[r]),
                )
                z, k = float(pop.complexity[r]), int(pop.provider[r])
                w = SELECTION_WEIGHT[basis]
                if (
                    k > 0
                    and w > 0
                    and z > HARD_Z
                    and pop.uniform[r] < v["selection"][d][k] * w
                ):
                    k, moved = 0, moved + 1
                x = (g - 30.0) / 10.0
                if klass == "per_visit":
                    mu = float(v["rush"][d])
                else:
                    mu = float(v[f"delivered_{klass}"][d][k])
                s = (
                    mu
                    + float(v["need_slope"][d]) * x
                    + float(v["individual_sd"][d]) * float(pop.noise[r])
                )
                s = min(max(s, 0.2), 1.0)
                kz = math.exp(float(v["complexity"][d]) * z)
                home = g * (1 - c) * s * kz
                made = vis * (1 - c)
                rate = _rate(models, i, p, e, n)
                planned = 60.0 * g / vis if vis > 0 else 0.0
                amount = float(models.fixed_monthly[i])
                cps = float(models.cancel_paid_share[i])
                if basis == "granted_time":
                    amount += g * rate
                elif basis in (
                    "performed_time_electronic",
                    "performed_time_self_reported",
                ):
                    minutes = planned * s * kz
                    if basis == "performed_time_self_reported":
                        minutes *= 1 + float(v["self_report_inflation"][d])
                    minutes = max(minutes, float(models.min_visit_minutes[i]))
                    rnd = float(models.rounding_minutes[i])
                    if rnd > 0:
                        minutes = math.ceil(minutes / rnd - 1e-9) * rnd
                    hours = made * minutes / 60.0
                    if bool(models.cap_at_granted[i]):
                        hours = min(hours, g)
                    paid += hours
                    amount += hours * rate + c * cps * g * rate
                elif basis == "per_visit":
                    amount += (made + vis * c * cps) * float(models.visit_rate[i])
                elif basis == "per_service_level":
                    level = -1
                    for j, t in enumerate(models.level_threshold[i]):
                        if g >= t:
                            level = j
                    amount += (
                        float(models.level_amount[i][level]) if level >= 0 else 0.0
                    )
                elif basis == "capitation":
                    amount += float(models.capitation[i])
                elif basis == "fixed_budget":
                    amount += (
                        float(models.budget[i])
                        / 12.0
                        * g
                        / float(sum(pop.granted_hours))
                    )
                mode = TRAVEL_MODES[int(models.travel_mode[i])]
                t_planned = made * float(pop.travel_minutes[r]) / 60.0
                if mode == "per_hour":
                    t_used = t_planned
                    amount += t_used * float(models.travel_rate[i])
                else:
                    t_used = t_planned * float(v["travel_factor"][d][k])
                    if mode == "per_visit":
                        amount += made * float(models.travel_rate[i])
                rg = (
                    made * float(models.reg_minutes_visit[i]) / 60.0
                    + float(models.reg_minutes_month[i]) / 60.0
                )
                oh = float(v["overhead"][d][k])
                ob = 1 + 0.2 * p * e + 0.5 * p * n
                lost = c * 0.5 * g
                staff += (1 + oh) * (home + t_used + rg) + lost
                cost += ((1 + oh) * (home * ob + t_used + rg) + lost) * float(
                    v["staff_cost"][d]
                )
                pay[k] += amount
                granted[k] += g
                deliv[k] += home
                reg += rg
                travel += t_used
                in_group = vis >= 2 * 365 / 12 if two_a_day else vis > 0
                if in_group:
                    n14 = made * 14.0 / (365.0 / 12.0)
                    met_sum[k] += team * (1 - (1 - 1 / team) ** n14)
                    met_n[k] += 1
            base_pay = dict(pay)  # goal shares are of the other payments
            for j in range(models.goal_indicator.shape[1]):
                code = int(models.goal_indicator[i][j])
                if code < 0:
                    continue
                bonus = {}
                for k in pay:
                    if granted[k] <= 0:
                        continue
                    if GOAL_INDICATORS[code] == "continuity":
                        ok = (
                            met_n[k] > 0
                            and met_sum[k] / met_n[k] <= models.goal_target[i][j]
                        )
                    else:
                        ok = deliv[k] / granted[k] >= models.goal_target[i][j]
                    share = (
                        models.goal_bonus[i][j] if ok else -models.goal_penalty[i][j]
                    )
                    bonus[k] = share * base_pay[k]
                for k, b in bonus.items():
                    pay[k] += b
            rows["cost_total"].append(12 * sum(pay.values()))
            rows["provider_cost"].append(12 * cost)
            rows["delivered_hours"].append(12 * sum(deliv.values()))
            rows["staff_hours"].append(12 * staff)
            rows["paid_hours"].append(
                12 * paid if klass == "retrospective" else math.nan
            )
            rows["registration_hours_staff"].append(12 * reg)
            rows["travel_hours"].append(12 * travel)
            rows["continuity"].append(
                sum(met_sum.values()) / max(sum(met_n.values()), 1)
            )
            rows["moved"].append(float(moved))
        for key in keys:
            out[key].append(rows[key])
    return out
