"""The records of a compensation spec: models, levels, goals, registration (frozen)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Goal", "Level", "Model", "Registration"]


@dataclass(frozen=True)
class Level:
    """A need level: recipients with at least ``min_hours`` granted hours a month."""

    min_hours: float
    amount: float


@dataclass(frozen=True)
class Goal:
    """A goal-related part: bonus (penalty) share of payments when met (missed)."""

    indicator: str
    target: float
    bonus_share: float = 0.0
    penalty_share: float = 0.0


@dataclass(frozen=True)
class Registration:
    """Registration required: staff minutes per visit and per recipient-month, and the
    purchaser's minutes per recipient-month."""

    minutes_per_visit: float
    minutes_per_recipient_month: float
    purchaser_minutes_per_recipient_month: float


@dataclass(frozen=True)
class Model:
    """One compensation model (see the module docstring for the keys)."""

    name: str
    basis: str
    rates: Mapping[str, float]
    registration: Registration
    visit_rate: float = 0.0
    levels: tuple[Level, ...] = ()
    capitation: float = 0.0
    budget: float = 0.0
    fixed_monthly: float = 0.0
    travel_mode: str = "included"
    travel_rate: float = 0.0
    min_visit_minutes: float = 0.0
    rounding_minutes: float = 0.0
    cap_at_granted: bool = True
    cancel_paid_share: float = 0.0
    goals: tuple[Goal, ...] = ()
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The spec mapping of this model (parses back to an equal model)."""
        out: dict[str, Any] = {"name": self.name, "basis": self.basis}
        if self.description:
            out["description"] = self.description
        if self.rates:
            out["rates"] = dict(self.rates)
        if self.basis == "per_visit":
            out["visit_rate"] = self.visit_rate
        if self.basis == "per_service_level":
            out["levels"] = [
                {"min_hours": lv.min_hours, "amount": lv.amount} for lv in self.levels
            ]
        if self.basis == "capitation":
            out["capitation"] = self.capitation
        if self.basis == "fixed_budget":
            out["budget"] = self.budget
        out["fixed_monthly"] = self.fixed_monthly
        out["travel"] = {"mode": self.travel_mode, "rate": self.travel_rate}
        out["visits"] = {
            "min_minutes": self.min_visit_minutes,
            "rounding_minutes": self.rounding_minutes,
            "cap_at_granted": self.cap_at_granted,
        }
        out["cancellation"] = {"paid_share": self.cancel_paid_share}
        out["goals"] = [dict(g.__dict__) for g in self.goals]
        out["registration"] = {
            "minutes_per_visit": self.registration.minutes_per_visit,
            "minutes_per_recipient_month": self.registration.minutes_per_recipient_month,
            "purchaser_minutes_per_recipient_month": self.registration.purchaser_minutes_per_recipient_month,
        }
        return out
