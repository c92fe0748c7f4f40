"""Words for the compensation codes (English message ids; :func:`tillit.i18n.tr` them).

The engine returns codes (bases, flags, provider types, parameters); the CLI and the web
pages word them with these labels in Swedish or English.
"""

from __future__ import annotations

from tillit.i18n import N_

__all__ = ["BASIS_LABELS", "FLAG_LABELS", "PARAMETER_LABELS", "PROVIDER_LABELS"]

BASIS_LABELS = {
    "granted_time": N_("Granted time"),
    "performed_time_electronic": N_("Performed time, measured electronically"),
    "performed_time_self_reported": N_("Performed time, self-reported"),
    "per_visit": N_("Per visit"),
    "per_service_level": N_("Per service level"),
    "capitation": N_("Capitation per recipient"),
    "fixed_budget": N_("Fixed budget"),
}
FLAG_LABELS = {
    "under_delivery": N_("Under-delivery"),
    "over_delivery": N_("Over-delivery"),
    "rushing": N_("Rushing"),
    "selection": N_("Selection of easy recipients"),
    "margin_risk": N_("Provider loss"),
}
PROVIDER_LABELS = {
    "in_house": N_("In-house"),
    "for_profit": N_("For-profit"),
    "non_profit": N_("Non-profit"),
}
PARAMETER_LABELS = {
    "delivered_prospective": N_("Delivered share, pay fixed in advance"),
    "delivered_retrospective": N_("Delivered share, pay for performed time"),
    "selection": N_("Selection of easy recipients"),
    "travel_factor": N_("Travel time used"),
    "overhead": N_("Staff time outside homes"),
    "need_slope": N_("Delivery falls with need"),
    "individual_sd": N_("Spread between recipients"),
    "self_report_inflation": N_("Over-reporting of self-reported time"),
    "rush": N_("Visit length under pay per visit"),
    "complexity": N_("Complexity of recipients"),
    "cancel_rate": N_("Cancelled visits"),
    "staff_cost": N_("Staff cost per hour"),
    "team_size": N_("Staff pool per recipient"),
    "fragmentation": N_("Fragmentation under minute or visit pay"),
}
