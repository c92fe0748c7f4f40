"""Planting: the national path, pilot effects and the audit facts of the demo workspace.

The generator draws a calibrated panel; this module adds what a correct analysis should
find in it: the pilots' effects (:func:`plant_pilots`), a near-redundant indicator pair
(:func:`plant_redundancy`) and bunching below a target threshold (:func:`plant_bunching`).
The very noisy indicator (DEMO_004) is planted through its parameters in ``spec.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tillit.domain.demo.pilots import Assignment

__all__ = [
    "PLANTED",
    "Effects",
    "national_path",
    "plant_bunching",
    "plant_pilots",
    "plant_redundancy",
]

PLANTED: dict[str, Any] = {
    "near_redundant_pair": {
        "indicators": ["U21454", "U21466"],
        "rule": "U21466 = its national path + b (U21454 - U21454 national path) + small noise",
        "noise_sd_share": 0.2,
    },
    "very_noisy": {
        "indicator": "DEMO_004",
        "rule": "between SD 0.08 vs within SD 0.5 on the log scale, no persistence",
    },
    "bunching": {
        "indicator": "U21401",
        "target": 15.0,
        "target_introduced_offset": 11,
        "share_moved": 0.6,
        "window": [15.0, 18.0],
        "rule": "from first_year + 11 (2016), values in (15, 18] are reported as a uniform "
        "draw in [14.0, 15.0] with probability 0.6 (lower is better; gaming the target)",
    },
}


def national_path(ind: dict[str, Any], years: np.ndarray) -> np.ndarray:
    """Observed national path inside the real years, linear trend outside."""
    ym = ind["year_means"]
    if not ym:
        line: np.ndarray = ind["level"] + ind["trend"] * (years - ind["ref_year"])
        return line
    yx = np.array(sorted(int(y) for y in ym))
    yv = np.array([ym[str(y)] for y in yx])
    path = np.interp(years, yx, yv)
    path = np.where(years < yx[0], yv[0] + ind["trend"] * (years - yx[0]), path)
    out: np.ndarray = np.where(
        years > yx[-1], yv[-1] + ind["trend"] * (years - yx[-1]), path
    )
    return out


@dataclass
class Effects:
    """Accumulated planted effects per (indicator, level): additive and multiplicative."""

    add: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    mult: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)

    def plant(self, key: tuple[str, str], kind: str, eff: np.ndarray) -> None:
        if kind == "relative":
            self.mult[key] = self.mult.get(key, 1.0) * (1.0 + eff)
        else:
            self.add[key] = self.add.get(key, 0.0) + eff

    def apply(self, key: tuple[str, str], v: np.ndarray) -> np.ndarray:
        return v * self.mult.get(key, 1.0) + self.add.get(key, 0.0)


def plant_pilots(
    assignments: list[Assignment],
    orgs: pd.DataFrame,
    units: pd.DataFrame,
    years: np.ndarray,
) -> Effects:
    """Effect arrays (targets x years) for municipality- and unit-level outcomes."""
    org_pos = {c: i for i, c in enumerate(orgs["code"])}
    unit_pos = {c: i for i, c in enumerate(units["code"])}
    unit_org = units["org_code"].map(org_pos).to_numpy()
    n_units_org = np.bincount(unit_org, minlength=len(orgs))
    fx = Effects()
    for a in assignments:
        t = a.targets
        on = (years[None, :] >= t["start_year"].to_numpy()[:, None]) * t[
            "multiplier"
        ].to_numpy()[:, None]
        orgs_i = t["org_code"].map(org_pos).to_numpy()
        for o in a.outcomes:
            if o.level == "municipality":
                m = np.zeros((len(orgs), len(years)))
                m[orgs_i] = o.effect * on
                fx.plant((o.indicator, "org"), o.kind, m)
                fx.plant((o.indicator, "unit"), o.kind, m[unit_org])
            else:
                u = np.zeros((len(units), len(years)))
                u[t["unit_code"].map(unit_pos).to_numpy()] = o.effect * on
                fx.plant((o.indicator, "unit"), o.kind, u)
                share = np.zeros((len(orgs), len(years)))
                np.add.at(share, unit_org, u)
                fx.plant(
                    (o.indicator, "org"),
                    o.kind,
                    share / np.maximum(n_units_org, 1)[:, None],
                )
    return fx


def plant_redundancy(
    values: dict[str, dict[str, np.ndarray]],
    by_id: dict[str, dict[str, Any]],
    years: np.ndarray,
    rng: np.random.Generator,
) -> None:
    a, b = PLANTED["near_redundant_pair"]["indicators"]
    pa, pb = by_id[a], by_id[b]
    sd = {
        k: float(np.hypot(p["between_sd"], p["within_sd"]))
        for k, p in ((a, pa), (b, pb))
    }
    src = values[a]["T"] - national_path(pa, years)[None, :]
    noise = PLANTED["near_redundant_pair"]["noise_sd_share"] * pb["within_sd"]
    values[b]["T"] = (
        national_path(pb, years)[None, :]
        + sd[b] / sd[a] * src
        + noise * rng.standard_normal(src.shape)
    )


def plant_bunching(
    values: dict[str, dict[str, np.ndarray]],
    years: np.ndarray,
    first_year: int,
    rng: np.random.Generator,
) -> None:
    spec = PLANTED["bunching"]
    lo, hi = spec["window"]
    after = (years >= first_year + spec["target_introduced_offset"])[None, :]
    for g, v in values[spec["indicator"]].items():
        moved = (
            after & (v > lo) & (v <= hi) & (rng.random(v.shape) < spec["share_moved"])
        )
        draw = rng.uniform(spec["target"] - 1.0, spec["target"], size=v.shape)
        values[spec["indicator"]][g] = np.where(moved, draw, v)
