"""Codes shared by the compensation simulator: payment bases, provider types, flags.

The engine works with small integers; these tuples give each integer its code (the
layers above word the codes in Swedish or English). Order matters: a basis code is its
index in :data:`BASES`.

Payment bases (SOU 2017:56 groups payment into fixed, variable and goal-related parts;
SKR's 2016 survey counts the variable bases municipalities used):

=================================  =========================================================
``granted_time``                   variable: kronor per *granted* hour (beviljad tid)
``performed_time_electronic``      variable: per performed hour, measured electronically
``performed_time_self_reported``   variable: per performed hour, reported by the staff
``per_visit``                      variable: kronor per visit (or task) made
``per_service_level``              fixed per recipient: a monthly amount per need level
``capitation``                     fixed per recipient: one monthly amount per recipient
``fixed_budget``                   fixed: a yearly budget (anslag), shared by granted hours
=================================  =========================================================
"""

from __future__ import annotations

__all__ = [
    "BASES",
    "FLAGS",
    "GOAL_INDICATORS",
    "INCENTIVE",
    "PROVIDERS",
    "RETROSPECTIVE",
    "SELECTION_WEIGHT",
    "TRAVEL_MODES",
    "basis_index",
]

BASES = (
    "granted_time",
    "performed_time_electronic",
    "performed_time_self_reported",
    "per_visit",
    "per_service_level",
    "capitation",
    "fixed_budget",
)
"""Payment bases, in engine order."""

PROVIDERS = ("in_house", "for_profit", "non_profit")
"""Provider types (egen regi, privat vinstdrivande, idéburen), in engine order."""

INCENTIVE = {
    "granted_time": "prospective",
    "performed_time_electronic": "retrospective",
    "performed_time_self_reported": "retrospective",
    "per_visit": "per_visit",
    "per_service_level": "prospective",
    "capitation": "prospective",
    "fixed_budget": "prospective",
}
"""Whether pay is fixed before delivery (prospective), follows delivered time
(retrospective) or follows visits made (per_visit): it selects the delivery prior."""

RETROSPECTIVE = frozenset(b for b, k in INCENTIVE.items() if k == "retrospective")

SELECTION_WEIGHT = {
    "granted_time": 0.5,
    "performed_time_electronic": 0.0,
    "performed_time_self_reported": 0.0,
    "per_visit": 0.0,
    "per_service_level": 1.0,
    "capitation": 1.0,
    "fixed_budget": 1.0,
}
"""How much of a provider's selection propensity a basis activates: flat payments per
recipient leave the whole risk of a costly recipient with the provider (1), payment per
granted hour leaves the complexity risk but not the volume risk (0.5), payment for the
time actually spent leaves none (0). An assumption of this simulator (docs)."""

TRAVEL_MODES = ("included", "per_visit", "per_hour")
"""How travel time is paid: inside the rate, a fixed sum per visit, or per travel hour."""

GOAL_INDICATORS = ("continuity", "delivered_share")
"""Indicators a goal-related part can reward: staff met per recipient in 14 days (lower
is better, cf. Kolada U21401) and the share of granted time delivered (higher is
better)."""

FLAGS = ("under_delivery", "over_delivery", "rushing", "selection", "margin_risk")
"""Incentive flags the simulator raises (thresholds in :mod:`.engine`)."""


def basis_index(code: str) -> int:
    """The engine index of a basis code (``ValueError`` for an unknown one)."""
    return BASES.index(code)
