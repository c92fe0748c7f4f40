"""Validation of a compensation spec mapping: every field checked, errors name its path.

The helpers raise :class:`~tillit.core.errors.DataError` with ``field`` the path of the
value (``models[1].rates.night``); :func:`model` and :func:`behaviour` are used by
:func:`tillit.domain.compensation.spec.parse_spec`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from tillit.core.compensation import (
    BASES,
    DEFAULTS,
    GOAL_INDICATORS,
    MAX_GOALS,
    MAX_LEVELS,
    PER_PROVIDER,
    PROVIDERS,
    TRAVEL_MODES,
    Priors,
)
from tillit.core.errors import DataError
from tillit.domain.compensation.records import Goal, Level, Model, Registration

__all__ = [
    "MAX_MODELS",
    "REGISTRATION_DEFAULTS",
    "SPEC_VERSION",
    "TIME_BASES",
    "Prior4",
    "behaviour",
    "mapping",
    "model",
    "text",
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


def mapping(raw: Any, path: str, allowed: Sequence[str]) -> Mapping[str, Any]:
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


def text(raw: Any, path: str, limit: int, *, required: bool = False) -> str:
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


_MODEL_KEYS = ("name", "basis", "description", "rates", "visit_rate", "levels", "capitation", "budget",
               "fixed_monthly", "travel", "visits", "cancellation", "goals", "registration")  # fmt: skip


def _rates(raw: Any, path: str, basis: str) -> dict[str, float]:
    given = mapping(raw, path, RATE_KEYS)
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
        m = mapping(item, p, ("min_hours", "amount"))
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
        m = mapping(item, p, ("indicator", "target", "bonus_share", "penalty_share"))
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
    m = mapping(
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


def model(raw: Any, path: str) -> Model:
    m = mapping(raw, path, _MODEL_KEYS)
    name = text(m.get("name"), f"{path}.name", 80, required=True)
    basis = m.get("basis")
    if basis not in BASES:
        raise DataError(
            f"unknown basis {basis!r} (use {', '.join(BASES)})", field=f"{path}.basis"
        )
    kw: dict[str, Any] = {
        "name": name,
        "basis": basis,
        "description": text(m.get("description"), f"{path}.description", 2000),
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
    tr = mapping(m.get("travel"), f"{path}.travel", ("mode", "rate"))
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
    vi = mapping(
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
    ca = mapping(m.get("cancellation"), f"{path}.cancellation", ("paid_share",))
    kw["cancel_paid_share"] = _share(
        ca.get("paid_share", 0.0), f"{path}.cancellation.paid_share"
    )
    kw["goals"] = _goals(m.get("goals"), f"{path}.goals")
    kw["registration"] = _registration(
        m.get("registration"), f"{path}.registration", basis
    )
    return Model(**kw)


Prior4 = tuple[float, float, float, float]


def behaviour(raw: Any) -> dict[str, tuple[Prior4, ...]]:
    """Overrides of the default priors, merged into full prior tuples."""
    m = mapping(raw, "behaviour", tuple(DEFAULTS))
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
            per = mapping(val, path, PROVIDERS)
            out[name] = tuple(
                row(
                    mapping(per.get(prov), f"{path}.{prov}", parts),
                    base[k],
                    f"{path}.{prov}",
                )
                for k, prov in enumerate(PROVIDERS)
            )
        else:
            out[name] = (row(mapping(val, path, parts), base[0], path),)
    Priors.from_numbers({**DEFAULTS, **out})  # validates sd >= 0 and lo <= mean <= hi
    return out
