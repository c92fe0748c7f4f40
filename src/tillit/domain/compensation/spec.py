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
import math
from collections.abc import Mapping, Sequence
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

SPEC_VERSION = 1
MAX_MODELS = 12
MAX_RATE = 100_000.0
MAX_AMOUNT = 10_000_000.0  # kr per recipient and month, or per visit
MAX_BUDGET = 1e12
MAX_MINUTES = 600.0
TIME_BASES = (
    "granted_time",
    "performed_time_electronic",
    "performed_time_self_reported",
)
RATE_KEYS = ("day_personal", "day_service", "evening", "night")
_DATA = Path(__file__).resolve().parents[1] / "data" / "compensation_facts.json"

REGISTRATION_DEFAULTS: dict[str, tuple[float, float, float]] = {
    "granted_time": (0.0, 0.0, 2.0),
    "performed_time_electronic": (1.0, 0.0, 5.0),
    "performed_time_self_reported": (3.0, 10.0, 10.0),
    "per_visit": (0.5, 0.0, 5.0),
    "per_service_level": (0.0, 0.0, 2.0),
    "capitation": (0.0, 0.0, 1.0),
    "fixed_budget": (0.0, 0.0, 0.0),
}
"""Registration each basis implies: staff minutes per visit, staff minutes per recipient
and month, purchaser minutes per recipient and month.  Assumptions (docs): electronic
check-in and check-out about a minute a visit, manual reporting about three minutes a
visit plus a monthly summary; the purchaser checks claims under performed-time pay."""


def _num(raw: Any, path: str, lo: float, hi: float, *, what: str = "a number") -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise DataError(f"must be {what}, not {raw!r}", field=path)
    x = float(raw)
    if not math.isfinite(x):
        raise DataError(f"must be {what} (finite)", field=path)
    if x < lo:
        raise DataError(
            f"must not be below {lo:g}, got {x:g}"
            if lo != 0
            else f"must not be negative, got {x:g}",
            field=path,
        )
    if x > hi:
        msg = (
            f"is a share and must not be above 1 (100 %), got {x:g}"
            if hi == 1.0
            else f"must not be above {hi:g}, got {x:g}"
        )
        raise DataError(msg, field=path)
    return x


def _share(raw: Any, path: str) -> float:
    return _num(raw, path, 0.0, 1.0, what="a share between 0 and 1")


def _mapping(raw: Any, path: str, allowed: Sequence[str]) -> Mapping[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise DataError("must be a mapping of keys to values", field=path)
    for k in raw:
        if k not in allowed:
            raise DataError(
                f"unknown key {k!r} (allowed: {', '.join(allowed)})",
                field=f"{path}.{k}" if path else str(k),
            )
    return raw


def _text(raw: Any, path: str, limit: int, *, required: bool = False) -> str:
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        raise DataError("must be text", field=path)
    out = raw.strip()
    if required and not out:
        raise DataError("is required", field=path)
    if len(out) > limit:
        raise DataError(f"at most {limit} characters", field=path)
    return out


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


_MODEL_KEYS = ("name", "basis", "description", "rates", "visit_rate", "levels", "capitation", "budget",
               "fixed_monthly", "travel", "visits", "cancellation", "goals", "registration")  # fmt: skip


def _rates(raw: Any, path: str, basis: str) -> dict[str, float]:
    given = _mapping(raw, path, RATE_KEYS)
    if basis not in TIME_BASES:
        return {
            k: _num(v, f"{path}.{k}", 0.0, MAX_RATE, what="kronor per hour")
            for k, v in given.items()
        }
    out = {}
    for k in RATE_KEYS:
        if k not in given or given[k] is None:
            raise DataError(
                f"the rate for {k.replace('_', ' ')} is missing (kronor per hour)",
                field=f"{path}.{k}",
            )
        out[k] = _num(given[k], f"{path}.{k}", 0.0, MAX_RATE, what="kronor per hour")
    return out


def _levels(raw: Any, path: str) -> tuple[Level, ...]:
    if not isinstance(raw, list) or not raw:
        raise DataError("give at least one level ({min_hours, amount})", field=path)
    if len(raw) > MAX_LEVELS:
        raise DataError(f"at most {MAX_LEVELS} levels", field=path)
    out, last = [], -1.0
    for j, item in enumerate(raw):
        p = f"{path}[{j}]"
        m = _mapping(item, p, ("min_hours", "amount"))
        for key in ("min_hours", "amount"):
            if key not in m:
                raise DataError("is missing", field=f"{p}.{key}")
        lo = _num(m["min_hours"], f"{p}.min_hours", 0.0, 744.0)
        if lo <= last:
            raise DataError(
                "levels must have increasing min_hours", field=f"{p}.min_hours"
            )
        last = lo
        out.append(
            Level(
                lo,
                _num(
                    m["amount"], f"{p}.amount", 0.0, MAX_AMOUNT, what="kronor a month"
                ),
            )
        )
    if out[0].min_hours != 0:
        raise DataError(
            "the first level must start at 0 hours so that every recipient has one",
            field=f"{path}[0].min_hours",
        )
    return tuple(out)


def _goals(raw: Any, path: str) -> tuple[Goal, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise DataError("must be a list of goals", field=path)
    if len(raw) > MAX_GOALS:
        raise DataError(f"at most {MAX_GOALS} goals", field=path)
    out = []
    for j, item in enumerate(raw):
        p = f"{path}[{j}]"
        m = _mapping(item, p, ("indicator", "target", "bonus_share", "penalty_share"))
        ind = m.get("indicator")
        if ind not in GOAL_INDICATORS:
            raise DataError(
                f"unknown indicator {ind!r} (use {', '.join(GOAL_INDICATORS)})",
                field=f"{p}.indicator",
            )
        if "target" not in m:
            raise DataError("is missing", field=f"{p}.target")
        target = (
            _share(m["target"], f"{p}.target")
            if ind == "delivered_share"
            else _num(m["target"], f"{p}.target", 0.0, 200.0)
        )
        out.append(
            Goal(
                str(ind),
                target,
                _share(m.get("bonus_share", 0.0), f"{p}.bonus_share"),
                _share(m.get("penalty_share", 0.0), f"{p}.penalty_share"),
            )
        )
    return tuple(out)


def _registration(raw: Any, path: str, basis: str) -> Registration:
    m = _mapping(
        raw,
        path,
        (
            "minutes_per_visit",
            "minutes_per_recipient_month",
            "purchaser_minutes_per_recipient_month",
        ),
    )
    d = REGISTRATION_DEFAULTS[basis]
    keys = (
        "minutes_per_visit",
        "minutes_per_recipient_month",
        "purchaser_minutes_per_recipient_month",
    )
    vals = [
        _num(m.get(k, d[i]), f"{path}.{k}", 0.0, MAX_MINUTES, what="minutes")
        for i, k in enumerate(keys)
    ]
    return Registration(*vals)


def _model(raw: Any, path: str) -> Model:
    m = _mapping(raw, path, _MODEL_KEYS)
    name = _text(m.get("name"), f"{path}.name", 80, required=True)
    basis = m.get("basis")
    if basis not in BASES:
        raise DataError(
            f"unknown basis {basis!r} (use {', '.join(BASES)})", field=f"{path}.basis"
        )
    kw: dict[str, Any] = {
        "name": name,
        "basis": basis,
        "description": _text(m.get("description"), f"{path}.description", 2000),
    }
    kw["rates"] = _rates(m.get("rates"), f"{path}.rates", basis)
    required = {
        "per_visit": "visit_rate",
        "capitation": "capitation",
        "fixed_budget": "budget",
    }
    for b, key in required.items():
        if basis == b and m.get(key) is None:
            raise DataError(
                f"the {key.replace('_', ' ')} is missing for basis {b}",
                field=f"{path}.{key}",
            )
    kw["visit_rate"] = _num(
        m.get("visit_rate", 0.0),
        f"{path}.visit_rate",
        0.0,
        MAX_AMOUNT,
        what="kronor per visit",
    )
    kw["capitation"] = _num(
        m.get("capitation", 0.0),
        f"{path}.capitation",
        0.0,
        MAX_AMOUNT,
        what="kronor a month",
    )
    kw["budget"] = _num(
        m.get("budget", 0.0), f"{path}.budget", 0.0, MAX_BUDGET, what="kronor a year"
    )
    if basis == "per_service_level":
        kw["levels"] = _levels(m.get("levels"), f"{path}.levels")
    kw["fixed_monthly"] = _num(
        m.get("fixed_monthly", 0.0),
        f"{path}.fixed_monthly",
        0.0,
        MAX_AMOUNT,
        what="kronor a month",
    )
    tr = _mapping(m.get("travel"), f"{path}.travel", ("mode", "rate"))
    mode = tr.get("mode", "included")
    if mode not in TRAVEL_MODES:
        raise DataError(
            f"unknown travel mode {mode!r} (use {', '.join(TRAVEL_MODES)})",
            field=f"{path}.travel.mode",
        )
    if mode != "included" and tr.get("rate") is None:
        raise DataError("the travel rate is missing", field=f"{path}.travel.rate")
    kw["travel_mode"] = mode
    kw["travel_rate"] = _num(
        tr.get("rate", 0.0), f"{path}.travel.rate", 0.0, MAX_RATE, what="kronor"
    )
    vi = _mapping(
        m.get("visits"),
        f"{path}.visits",
        ("min_minutes", "rounding_minutes", "cap_at_granted"),
    )
    kw["min_visit_minutes"] = _num(
        vi.get("min_minutes", 0.0),
        f"{path}.visits.min_minutes",
        0.0,
        MAX_MINUTES,
        what="minutes",
    )
    kw["rounding_minutes"] = _num(
        vi.get("rounding_minutes", 0.0),
        f"{path}.visits.rounding_minutes",
        0.0,
        MAX_MINUTES,
        what="minutes",
    )
    cap = vi.get("cap_at_granted", True)
    if not isinstance(cap, bool):
        raise DataError("must be true or false", field=f"{path}.visits.cap_at_granted")
    kw["cap_at_granted"] = cap
    ca = _mapping(m.get("cancellation"), f"{path}.cancellation", ("paid_share",))
    kw["cancel_paid_share"] = _share(
        ca.get("paid_share", 0.0), f"{path}.cancellation.paid_share"
    )
    kw["goals"] = _goals(m.get("goals"), f"{path}.goals")
    kw["registration"] = _registration(
        m.get("registration"), f"{path}.registration", basis
    )
    return Model(**kw)


Prior4 = tuple[float, float, float, float]


def _behaviour(raw: Any) -> dict[str, tuple[Prior4, ...]]:
    """Overrides of the default priors, merged into full prior tuples."""
    m = _mapping(raw, "behaviour", tuple(DEFAULTS))
    out: dict[str, tuple[Prior4, ...]] = {}
    parts = ("mean", "sd", "lo", "hi")
    for name, val in m.items():
        base = DEFAULTS[name]
        path = f"behaviour.{name}"

        def row(upd: Mapping[str, Any], b: tuple[float, ...], where: str) -> Prior4:
            v = [
                _num(upd.get(p, b[j]), f"{where}.{p}", -1e9, 1e9)
                for j, p in enumerate(parts)
            ]
            return (v[0], v[1], v[2], v[3])

        if name in PER_PROVIDER:
            per = _mapping(val, path, PROVIDERS)
            out[name] = tuple(
                row(
                    _mapping(per.get(prov), f"{path}.{prov}", parts),
                    base[k],
                    f"{path}.{prov}",
                )
                for k, prov in enumerate(PROVIDERS)
            )
        else:
            out[name] = (row(_mapping(val, path, parts), base[0], path),)
    Priors.from_numbers({**DEFAULTS, **out})  # validates sd >= 0 and lo <= mean <= hi
    return out


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
    m = _mapping(raw, "", ("version", "title", "models", "behaviour"))
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
    parsed = tuple(_model(x, f"models[{i}]") for i, x in enumerate(models))
    names = [p.name for p in parsed]
    for i, nm in enumerate(names):
        if nm in names[:i]:
            raise DataError(f"the name {nm!r} is used twice", field=f"models[{i}].name")
    return Spec(
        parsed, _text(m.get("title"), "title", 200), _behaviour(m.get("behaviour"))
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
