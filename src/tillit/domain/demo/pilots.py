"""Planted governance pilots of the demo workspace.

Three pilots, one per evaluation design, each with documented true effects that the
generator plants in the observations (see docs/demo.md):

``P1`` staggered adoption: trust-based home care without minute scheduling, about 48
    municipalities in four cohorts (first_year + 8, 10, 12, 14; 2013-2019 by default),
    chosen with a preference for municipalities with high staff engagement (selection on
    levels, not on trends, so parallel trends hold and naive cross-sections are biased).
``P2`` single-municipality synthetic control: Västerås (1980) replaces pay-per-minute by a
    new compensation model in first_year + 12 (2017).
``P3`` cluster-randomised units: about 30 municipalities with two or more home-care units
    remove a monthly reporting requirement for a random half of their units in
    first_year + 17 (2022).

Each treated target (municipality or unit) has preconditions (competence, leadership,
shared goal, shared values; 1-5) that moderate its effect: effect_i = effect x (1 +
0.25 (P_i - mean P)), P_i the mean of the four scores, mean over the pilot's treated
targets, so the average effect on the treated equals the stated true effect exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "MODERATION_SLOPE",
    "PRECONDITIONS",
    "Assignment",
    "PlantedOutcome",
    "assign_pilots",
    "pilot_document",
]

PRECONDITIONS = ("competence", "leadership", "shared_goal", "shared_values")
MODERATION_SLOPE = 0.25
"""Relative change of a target's effect per point of its mean precondition score."""


@dataclass(frozen=True)
class PlantedOutcome:
    """One outcome of a pilot: which indicator, at which level, and the true effect."""

    indicator: str
    level: str  # "municipality" or "unit"
    kind: str  # "relative" (multiplicative, -0.15 = -15 %) or "absolute" (points)
    effect: float
    note_en: str


@dataclass(frozen=True)
class Assignment:
    """Treated targets of one pilot: codes, start years and effect multipliers."""

    pilot: dict[str, Any]
    targets: (
        pd.DataFrame
    )  # org_code, unit_code ('' = whole municipality), start_year, multiplier
    outcomes: tuple[PlantedOutcome, ...]


_P1 = (
    PlantedOutcome(
        "DEMO_001", "municipality", "relative", -0.15, "reporting time -15 %"
    ),
    PlantedOutcome(
        "U21462", "municipality", "absolute", 5.0, "users can influence times +5 points"
    ),
    PlantedOutcome(
        "U21454", "municipality", "absolute", 3.0, "user satisfaction index +3 points"
    ),
    PlantedOutcome(
        "N00090",
        "municipality",
        "absolute",
        0.0,
        "sick leave: no effect (planted null)",
    ),
)
_P2 = (
    PlantedOutcome(
        "DEMO_001", "municipality", "relative", -0.20, "reporting time -20 %"
    ),
    PlantedOutcome(
        "U21461", "municipality", "absolute", 6.0, "users have enough time +6 points"
    ),
    PlantedOutcome(
        "N21006", "municipality", "relative", -0.05, "cost per recipient -5 %"
    ),
    PlantedOutcome(
        "U21477",
        "municipality",
        "absolute",
        0.0,
        "trust in staff: no effect (planted null)",
    ),
)
_P3 = (
    PlantedOutcome("DEMO_001", "unit", "relative", -0.10, "unit reporting time -10 %"),
    PlantedOutcome(
        "U21454", "unit", "absolute", 2.0, "unit user satisfaction index +2 points"
    ),
    PlantedOutcome(
        "DEMO_003",
        "unit",
        "absolute",
        0.0,
        "unit staff turnover: no effect (planted null)",
    ),
)


def _preconditions(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Precondition scores 1-5 (one decimal), correlated through a common factor."""
    common = rng.normal(0.0, 0.6, size=(n, 1))
    raw = 3.2 + common + rng.normal(0.0, 0.5, size=(n, len(PRECONDITIONS)))
    return pd.DataFrame(np.clip(raw, 1.0, 5.0).round(1), columns=list(PRECONDITIONS))


def _targets(
    rng: np.random.Generator, orgs: list[str], units: list[str], starts: list[int]
) -> pd.DataFrame:
    pre = _preconditions(rng, len(orgs))
    score = pre.mean(axis=1)
    df = pd.DataFrame({"org_code": orgs, "unit_code": units, "start_year": starts})
    df = pd.concat([df, pre], axis=1)
    df["multiplier"] = (1.0 + MODERATION_SLOPE * (score - score.mean())).round(12)
    return df


def _pilot_meta(
    pid: str, title_sv: str, title_en: str, kind: str, design: str
) -> dict[str, Any]:
    return {
        "id": pid,
        "title_sv": title_sv,
        "title_en": title_en,
        "kind": kind,
        "design": design,
    }


def assign_pilots(
    rng: np.random.Generator,
    orgs: pd.DataFrame,
    units: pd.DataFrame,
    engagement: np.ndarray,
    first_year: int,
) -> list[Assignment]:
    """Choose treated municipalities and units for the three pilots.

    Parameters
    ----------
    rng
        Generator dedicated to pilot assignment.
    orgs
        Demo organisations (``code``), in generator order.
    units
        Demo units (``code``, ``org_code``).
    engagement
        Standardised municipality effect of staff engagement, used to make adoption in
        P1 more likely where engagement is high (selection on levels).
    first_year
        First generated year; pilot years are stated relative to it.
    """
    codes = orgs["code"].to_numpy()
    n = len(codes)
    # P2: Västerås if present, else the first organisation
    p2_org = "1980" if "1980" in set(codes) else str(codes[0])
    pool = np.flatnonzero(codes != p2_org)
    n1 = min(max(4, round(48 * n / 290)), len(pool) // 2)
    w = np.exp(0.5 * engagement[pool])
    chosen = np.sort(rng.choice(pool, size=n1, replace=False, p=w / w.sum()))
    cohorts = first_year + np.array([8, 10, 12, 14])
    starts = cohorts[rng.permutation(np.arange(n1) % 4)]
    p1 = _targets(
        rng, [str(c) for c in codes[chosen]], [""] * n1, [int(s) for s in starts]
    )
    p2 = _targets(rng, [p2_org], [""], [first_year + 12])
    p3 = _p3_targets(rng, units, set(p1["org_code"]) | {p2_org}, n, first_year + 17)
    return [
        Assignment(
            _pilot_meta(
                "P1",
                "Tillitsbaserad hemtjänst utan minuttid",
                "Trust-based home care without minute scheduling",
                "tillitsbaserad hemtjänst utan minuttid",
                "staggered adoption",
            ),
            p1,
            _P1,
        ),
        Assignment(
            _pilot_meta(
                "P2",
                "Ny ersättningsmodell i hemtjänsten",
                "New compensation model in home care",
                "ny ersättningsmodell",
                "single-municipality synthetic control",
            ),
            p2,
            _P2,
        ),
        Assignment(
            _pilot_meta(
                "P3",
                "Borttaget rapporteringskrav för hemtjänstgrupper",
                "Reporting requirement removed for home-care units",
                "borttaget rapporteringskrav",
                "cluster-randomised units",
            ),
            p3,
            _P3,
        ),
    ]


def _p3_targets(
    rng: np.random.Generator,
    units: pd.DataFrame,
    exclude: set[str],
    n_orgs: int,
    start: int,
) -> pd.DataFrame:
    """Randomise half of the units (at least one) in ~30 eligible municipalities."""
    counts = units.groupby("org_code", sort=False).size()
    eligible = np.array(
        sorted(str(c) for c, k in counts.items() if k >= 2 and c not in exclude)
    )
    n3 = min(max(2, round(30 * n_orgs / 290)), len(eligible))
    part = np.sort(rng.choice(eligible, size=n3, replace=False)) if n3 else eligible[:0]
    rows: list[str] = []
    for org in part:
        mine = units.loc[units["org_code"] == org, "code"].to_numpy()
        k = max(1, len(mine) // 2)
        rows += sorted(str(u) for u in rng.choice(mine, size=k, replace=False))
    org_of = units.set_index("code")["org_code"]
    return _targets(rng, [str(org_of[u]) for u in rows], rows, [start] * len(rows))


def pilot_document(a: Assignment, all_units: pd.DataFrame) -> dict[str, Any]:
    """The JSON-ready description of one assigned pilot, with its true effects."""
    t = a.targets
    doc = dict(a.pilot)
    doc["start_years"] = sorted({int(y) for y in t["start_year"]})
    doc["treated"] = [
        {
            "org_code": str(r["org_code"]),
            "unit_code": str(r["unit_code"]),
            "start_year": int(r["start_year"]),
            "preconditions": {p: float(r[p]) for p in PRECONDITIONS},
            "effect_multiplier": float(r["multiplier"]),
        }
        for r in t.to_dict("records")
    ]
    if (t["unit_code"] != "").any():
        orgs = sorted(set(t["org_code"]))
        part = all_units[all_units["org_code"].isin(orgs)]
        doc["randomised_units"] = sorted(part["code"].tolist())
        doc["control_units"] = sorted(set(part["code"]) - set(t["unit_code"]))
    doc["outcomes"] = [
        {
            "indicator": o.indicator,
            "level": o.level,
            "effect_kind": o.kind,
            "true_effect": o.effect,
            "description": o.note_en,
        }
        for o in a.outcomes
    ]
    doc["moderation"] = {
        "preconditions": list(PRECONDITIONS),
        "scale": "1-5",
        "slope_per_point": MODERATION_SLOPE,
        "rule": "effect_i = true_effect * (1 + slope * (mean precondition_i - mean over treated))",
    }
    return doc
