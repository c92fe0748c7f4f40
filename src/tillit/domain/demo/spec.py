"""Authored choices for the demo workspace: which indicators, how they are modelled.

These are *choices*, not data. ``validation/calibrate_demo.py`` combines them with moments
derived from the real Kolada panel and writes ``params.json``; the generator reads only
``params.json``. Indicators modelled on a Kolada KPI keep its id and Swedish title (the
title is read from the real panel's ``kpi_selection.csv`` by the calibration script);
invented ones (Kolada has no reporting-time, manager-administration, turnover or incident
indicators) have ``DEMO_nnn`` ids and documented, plausible parameters in ``INVENTED``.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "INVENTED",
    "INVENTED_CORRELATIONS",
    "INVENTED_GROUP_EFFECTS",
    "REAL",
    "UNIT_INDICATORS",
]

# id: (area, title_en, unit_of_measure, transform, bounds, decimals, higher_is_better)
# transform "log": modelled on the log scale (costs, hours, waiting days); bounds apply to
# the reported value. Bounds None means unbounded on that side.
# fmt: off
REAL: dict[str, tuple[str, str, str, str, tuple[float | None, float | None], int, bool | None]] = {
    # home care (hemtjänst)
    "N21006": ("Hemtjänst", "Home care cost per recipient (SEK)", "kr/brukare", "log", (0, None), 0, None),
    "N21701": ("Hemtjänst", "Residents 65+ with home care (%)", "%", "log", (0, 100), 1, None),
    "N21826": ("Hemtjänst", "Granted home-care hours per recipient and month", "timmar", "log", (0, None), 1, None),
    "U21401": ("Hemtjänst", "Staff continuity: staff met in 14 days (mean)", "antal", "identity", (1, None), 1, False),
    "U21454": ("Hemtjänst", "User assessment: treatment, trust and safety (index)", "index", "identity", (0, 100), 1, True),
    "U21461": ("Hemtjänst", "User assessment: enough time (%)", "%", "identity", (0, 100), 0, True),
    "U21462": ("Hemtjänst", "User assessment: can influence times (%)", "%", "identity", (0, 100), 0, True),
    "U21466": ("Hemtjänst", "User assessment: always good treatment (%)", "%", "identity", (0, 100), 0, True),
    "U21467": ("Hemtjänst", "User assessment: feels very safe (%)", "%", "identity", (0, 100), 0, True),
    "U21475": ("Hemtjänst", "User assessment: staff arrive on time (%)", "%", "identity", (0, 100), 0, True),
    "U21477": ("Hemtjänst", "User assessment: trust in staff (%)", "%", "identity", (0, 100), 0, True),
    "U21200": ("Hemtjänst", "Employee engagement (HME), home care", "index", "identity", (0, 100), 1, True),
    # elderly care
    "N20007": ("Äldreomsorg", "Elderly care cost per resident 65+ (SEK)", "kr/inv 65+", "log", (0, None), 0, None),
    "N23009": ("Äldreomsorg", "Nursing home cost per resident (SEK)", "kr/brukare", "log", (0, None), 0, None),
    "U23401": ("Äldreomsorg", "Waiting days for a nursing-home place (mean)", "dagar", "log", (1, None), 0, False),
    "U23463": ("Äldreomsorg", "Nursing home users: always good treatment (%)", "%", "identity", (0, 100), 0, True),
    "U23471": ("Äldreomsorg", "Nursing home users: holistic view (%)", "%", "identity", (0, 100), 0, True),
    "N23801": ("Äldreomsorg", "Residents 80+ in nursing homes (%)", "%", "log", (0, 100), 1, None),
    # staff
    "N00090": ("Personal", "Sick leave among municipal employees (%)", "%", "log", (0, 100), 1, False),
    "N00200": ("Personal", "Permanent monthly-paid employees (%)", "%", "identity", (0, 100), 1, True),
    "N20200": ("Personal", "Permanent employees in elderly and disability care (%)", "%", "identity", (0, 100), 1, True),
    "U00200": ("Personal", "Employee engagement (HME), whole municipality", "index", "identity", (0, 100), 1, True),
    # schools
    "N15505": ("Grundskola", "Grade-9 merit value, municipal schools (mean)", "meritvärde", "identity", (0, 340), 1, True),
    "N15428": ("Grundskola", "Grade-9 pupils eligible for vocational programmes (%)", "%", "identity", (0, 100), 1, True),
    "N15008": ("Grundskola", "Cost per pupil, municipal compulsory school (SEK)", "kr/elev", "log", (0, None), 0, None),
    "N15813": ("Grundskola", "Certified teachers in compulsory school (%)", "%", "identity", (0, 100), 1, True),
    "N17461": ("Gymnasieskola", "Upper-secondary graduation within 4 years (%)", "%", "identity", (0, 100), 1, True),
}
# fmt: on

_SMALL_TOWN_GROUPS = {
    "Storstäder": 2.0,
    "Större stad": 1.0,
    "Pendlingskommun nära storstad": 0.8,
    "Landsbygdskommun, ej nära större stad": -0.8,
    "Landsbygdskommun med besöksnäring": -0.6,
}

# Invented indicators: Kolada has no such KPIs. Parameters are plausible guesses documented
# in docs/demo.md (reporting time ~ a fifth of working time and rising, cf. the Trust
# Delegation's reports on detail control); level is the 2015 value on the model scale.
INVENTED: dict[str, dict[str, Any]] = {
    "DEMO_001": {
        "title": "Dokumentations- och rapporteringstid i hemtjänsten, andel av arbetstid (%)",
        "title_en": "Documentation and reporting time in home care, share of working time (%)",
        "area": "Hemtjänst",
        "unit_of_measure": "%",
        "transform": "log",
        "bounds": (0, 100),
        "decimals": 1,
        "higher_is_better": False,
        # log scale: 18 % in 2015, +1.8 % a year, municipality SD ~ 18 %, year-to-year ~ 6 %
        "level": 2.89,
        "trend": 0.018,
        "between_sd": 0.18,
        "within_sd": 0.06,
        "ar1": 0.6,
        "group_scale": 0.04,
    },
    "DEMO_002": {
        "title": "Enhetschefers tid för administration och uppföljning, timmar per vecka",
        "title_en": "First-line managers' time on administration and follow-up, hours per week",
        "area": "Personal",
        "unit_of_measure": "timmar/vecka",
        "transform": "identity",
        "bounds": (0, 60),
        "decimals": 1,
        "higher_is_better": False,
        "level": 14.0,
        "trend": 0.15,
        "between_sd": 2.5,
        "within_sd": 1.0,
        "ar1": 0.5,
        "group_scale": 0.7,
    },
    "DEMO_003": {
        "title": "Personalomsättning i hemtjänsten, andel (%)",
        "title_en": "Staff turnover in home care (%)",
        "area": "Personal",
        "unit_of_measure": "%",
        "transform": "log",
        "bounds": (0, 100),
        "decimals": 1,
        "higher_is_better": False,
        # log scale: 17 % in 2015, municipality SD ~ 22 %, year-to-year ~ 14 %
        "level": 2.83,
        "trend": 0.006,
        "between_sd": 0.22,
        "within_sd": 0.14,
        "ar1": 0.4,
        "group_scale": 0.05,
    },
    "DEMO_004": {
        "title": "Avvikelserapporter i hemtjänsten per 1 000 besök",
        "title_en": "Incident reports in home care per 1,000 visits",
        "area": "Hemtjänst",
        "unit_of_measure": "per 1 000 besök",
        "transform": "log",
        "bounds": (0, None),
        "decimals": 1,
        "higher_is_better": None,
        # planted "very noisy" indicator: reliability of a municipality mean ~ 3 %
        "level": 1.386,
        "trend": 0.01,
        "between_sd": 0.08,
        "within_sd": 0.5,
        "ar1": 0.0,
        "group_scale": 0.0,
    },
}
INVENTED_GROUP_EFFECTS = _SMALL_TOWN_GROUPS

# Correlations of municipality (between) effects involving invented indicators.
INVENTED_CORRELATIONS: dict[tuple[str, str], float] = {
    ("DEMO_001", "DEMO_002"): 0.5,
    ("DEMO_001", "DEMO_003"): 0.3,
    ("DEMO_001", "U21462"): -0.35,
    ("DEMO_001", "U21454"): -0.3,
    ("DEMO_001", "U21461"): -0.3,
    ("DEMO_001", "N00090"): 0.25,
    ("DEMO_001", "U21200"): -0.3,
    ("DEMO_002", "U00200"): -0.2,
    ("DEMO_003", "N00090"): 0.3,
    ("DEMO_003", "U21200"): -0.35,
    ("DEMO_003", "N20200"): -0.3,
    ("DEMO_003", "U21401"): 0.3,
}

# Unit-level (home-care unit) indicators: unit effect SD and unit noise SD as multiples of
# the municipality's between and within SD (invented: units are smaller, so noisier).
UNIT_INDICATORS: dict[str, tuple[float, float]] = {
    "DEMO_001": (0.6, 1.5),
    "U21454": (0.6, 1.5),
    "DEMO_003": (0.6, 1.5),
}
