"""The compensation spec: one or more home-care payment models, validated, with sources.

A spec is a mapping (from YAML, JSON or the web form)::

    version: 1
    title: Hemtjänst 2026
    models:
      - name: Beviljad tid
        basis: granted_time              # see tillit.core.compensation.codes.BASES
        rates: {day_personal: 426, day_service: 400, evening: 470, night: 560}
        travel: {mode: included}         # included | per_visit | per_hour, with rate
        visits: {min_minutes: 0, rounding_minutes: 0, cap_at_granted: true}
        cancellation: {paid_share: 0.5}
        fixed_monthly: 0                 # kr per recipient and month, on top
        goals: [{indicator: continuity, target: 12, bonus_share: 0.02}]
        registration: {minutes_per_visit: 0}   # defaults: REGISTRATION_DEFAULTS
    behaviour:                           # optional overrides of the priors
      staff_cost: {mean: 300}
      delivered_prospective: {for_profit: {mean: 0.84, sd: 0.06}}

:func:`parse_spec` validates it completely and raises
:class:`~tillit.core.errors.DataError` naming the field's path
(``models[1].rates.day_personal``) for a negative rate, a share above 1 (100 %), an
unknown basis or key, or a missing rate; :meth:`Spec.to_dict` writes it back (version
1) and :meth:`Spec.to_arrays` gives the engine's arrays.  Rates are kronor per hour,
amounts kronor, shares 0-1.

:data:`SOURCES` gives every behaviour parameter's source or the reason for its value
(the numbers are :data:`tillit.core.compensation.DEFAULTS`); :data:`FACTS` the published
figures they rest on (``domain/data/compensation_facts.json``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from tillit.core.compensation import (
    BASES,
    DEFAULTS,
    GOAL_INDICATORS,
    MAX_GOALS,
    MAX_LEVELS,
    PER_PROVIDER,
    PROVIDERS,
    TRAVEL_MODES,
    ModelArrays,
    Priors,
)
from tillit.core.errors import DataError
from tillit.domain.compensation.records import Goal, Level, Model, Registration
from tillit.domain.compensation.validate import (
    MAX_MODELS,
    REGISTRATION_DEFAULTS,
    SPEC_VERSION,
    TIME_BASES,
    behaviour,
    mapping,
    model,
    text,
)

__all__ = [
    "MAX_MODELS",
    "REGISTRATION_DEFAULTS",
    "SPEC_VERSION",
    "TIME_BASES",
    "Goal",
    "Level",
    "Model",
    "Registration",
    "Spec",
    "facts",
    "parse_spec",
    "sources",
]

_DATA = Path(__file__).resolve().parents[1] / "data" / "compensation_facts.json"


@dataclass(frozen=True)
class Spec:
    """A validated spec: the models and any overrides of the behaviour priors."""

    models: tuple[Model, ...]
    title: str = ""
    behaviour: Mapping[str, tuple[tuple[float, float, float, float], ...]] = field(
        default_factory=dict
    )

    def to_dict(self) -> dict[str, Any]:
        """The versioned spec mapping (parses back to an equal spec)."""
        beh: dict[str, Any] = {}
        for name, rows in self.behaviour.items():
            parts = ("mean", "sd", "lo", "hi")
            if name in PER_PROVIDER:
                beh[name] = {
                    p: dict(zip(parts, r, strict=True))
                    for p, r in zip(PROVIDERS, rows, strict=True)
                }
            else:
                beh[name] = dict(zip(parts, rows[0], strict=True))
        out: dict[str, Any] = {
            "version": SPEC_VERSION,
            "title": self.title,
            "models": [m.to_dict() for m in self.models],
        }
        if beh:
            out["behaviour"] = beh
        return out

    @classmethod
    def from_dict(cls, raw: Any) -> Spec:
        """Validate a spec mapping (:func:`parse_spec`)."""
        return parse_spec(raw)

    def priors(self) -> Priors:
        """The behaviour priors: the defaults with this spec's overrides."""
        return Priors.from_numbers({**DEFAULTS, **self.behaviour})

    def to_arrays(self) -> ModelArrays:
        """The engine's arrays for these models."""
        ms = self.models
        n = len(ms)
        thr = np.full((n, MAX_LEVELS), np.inf)
        amt = np.zeros((n, MAX_LEVELS))
        gi = np.full((n, MAX_GOALS), -1, dtype=np.int64)
        gt, gb, gp = (np.zeros((n, MAX_GOALS)) for _ in range(3))
        for i, m in enumerate(ms):
            for j, lv in enumerate(m.levels):
                thr[i, j], amt[i, j] = lv.min_hours, lv.amount
            for j, g in enumerate(m.goals):
                gi[i, j] = GOAL_INDICATORS.index(g.indicator)
                gt[i, j], gb[i, j], gp[i, j] = g.target, g.bonus_share, g.penalty_share

        def col(get: Any, dtype: Any = float) -> np.ndarray:
            return np.array([get(m) for m in ms], dtype=dtype)

        return ModelArrays(
            names=tuple(m.name for m in ms),
            basis=col(lambda m: BASES.index(m.basis), np.int64),
            rate_day_personal=col(lambda m: m.rates.get("day_personal", 0.0)),
            rate_day_service=col(lambda m: m.rates.get("day_service", 0.0)),
            rate_evening=col(lambda m: m.rates.get("evening", 0.0)),
            rate_night=col(lambda m: m.rates.get("night", 0.0)),
            visit_rate=col(lambda m: m.visit_rate),
            level_threshold=thr, level_amount=amt,
            capitation=col(lambda m: m.capitation), budget=col(lambda m: m.budget),
            fixed_monthly=col(lambda m: m.fixed_monthly),
            travel_mode=col(lambda m: TRAVEL_MODES.index(m.travel_mode), np.int64),
            travel_rate=col(lambda m: m.travel_rate),
            min_visit_minutes=col(lambda m: m.min_visit_minutes),
            rounding_minutes=col(lambda m: m.rounding_minutes),
            cap_at_granted=col(lambda m: m.cap_at_granted, bool),
            cancel_paid_share=col(lambda m: m.cancel_paid_share),
            goal_indicator=gi, goal_target=gt, goal_bonus=gb, goal_penalty=gp,
            reg_minutes_visit=col(lambda m: m.registration.minutes_per_visit),
            reg_minutes_month=col(lambda m: m.registration.minutes_per_recipient_month),
            purchaser_minutes_month=col(lambda m: m.registration.purchaser_minutes_per_recipient_month),
        )  # fmt: skip


def parse_spec(raw: Any) -> Spec:
    """Validate a spec mapping completely.

    Raises
    ------
    DataError
        With ``field`` the path of the first bad value (``models[0].rates.night``).

    Examples
    --------
    >>> spec = parse_spec({"models": [{"name": "A", "basis": "capitation",
    ...                                "capitation": 12000}]})
    >>> spec.models[0].registration.purchaser_minutes_per_recipient_month
    1.0
    >>> parse_spec({"models": [{"name": "A", "basis": "hourly"}]})
    Traceback (most recent call last):
    ...
    tillit.core.errors.DataError: field 'models[0].basis': unknown basis 'hourly' (use granted_time, performed_time_electronic, performed_time_self_reported, per_visit, per_service_level, capitation, fixed_budget)
    """
    if not isinstance(raw, Mapping):
        raise DataError(
            "a spec must be a mapping with a list of models", field="models"
        )
    m = mapping(raw, "", ("version", "title", "models", "behaviour"))
    version = m.get("version", SPEC_VERSION)
    if version != SPEC_VERSION:
        raise DataError(
            f"unsupported spec version {version!r} (this Tillit reads version {SPEC_VERSION})",
            field="version",
        )
    models = m.get("models")
    if not isinstance(models, list) or not models:
        raise DataError("give a list with at least one model", field="models")
    if len(models) > MAX_MODELS:
        raise DataError(f"at most {MAX_MODELS} models", field="models")
    parsed = tuple(model(x, f"models[{i}]") for i, x in enumerate(models))
    names = [p.name for p in parsed]
    for i, nm in enumerate(names):
        if nm in names[:i]:
            raise DataError(f"the name {nm!r} is used twice", field=f"models[{i}].name")
    return Spec(
        parsed, text(m.get("title"), "title", 200), behaviour(m.get("behaviour"))
    )


@cache
def facts() -> dict[str, Any]:
    """The published figures the defaults rest on, each with its source (JSON file)."""
    data: dict[str, Any] = json.loads(_DATA.read_text(encoding="utf-8"))
    return data


def sources() -> dict[str, dict[str, Any]]:
    """Per behaviour parameter: its source or reasoning, and whether it was verified."""
    out: dict[str, dict[str, Any]] = facts()["parameters"]
    return out


def field_names(cls: type) -> list[str]:
    """Field names of a dataclass (for forms)."""
    return [f.name for f in fields(cls)]
