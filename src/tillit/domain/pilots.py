"""The pilot document: what a governance pilot tries, where, why, and how it is evaluated.

A pilot document is what gets pre-registered (frozen into the registry by
:func:`tillit.domain.registry.make_entry`). It is a plain JSON object with these keys:

========================  ==============================================================
``title``                 short name of the pilot
``change_kind``           one of :data:`CHANGE_KINDS` (the kind of governance change)
``change``                what governance change is tried, in words
``sites``                 where: ``[{"org": "0180", "unit": "", "start": "2025"}]``
                          (organisation code, optional unit code, start ``YYYY[-MM]``)
``hypotheses``            why: a list of hypotheses (at least one to register)
``primary_outcomes``      indicator ids (from the indicator store), at least one to register
``secondary_outcomes``    indicator ids
``design``                one of :data:`DESIGNS`
``analysis``              ``{"estimator", "control_group", "covariates", "min_effect"}``
                          (estimator from :data:`ESTIMATORS`; min_effect: the smallest
                          effect that matters, in the primary outcome's unit, or null)
``preconditions``         ``{competence, leadership, shared_goal, shared_values}``: 1-5
                          or null (the source document's preconditions)
``randomisation``         null, or the recorded assignment ``{"seed", "design",
                          "treated", "control"}``
========================  ==============================================================

:func:`parse_document` validates and normalises any mapping (raising
:class:`~tillit.core.errors.DataError` naming the field); :func:`check_registrable` adds
the rules a document must meet before it can be registered.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tillit.core.errors import DataError
from tillit.domain.records import parse_period

__all__ = [
    "CHANGE_KINDS",
    "DESIGNS",
    "ESTIMATORS",
    "PRECONDITIONS",
    "STATUSES",
    "OutcomeOrigin",
    "check_registrable",
    "empty_document",
    "outcome_origins",
    "parse_document",
    "parse_sites",
]

CHANGE_KINDS: dict[str, tuple[str, str]] = {
    "trust_based_care": (
        "Tillitsbaserad styrning (t.ex. hemtjänst utan minutstyrning)",
        "Trust-based governance (e.g. home care without minute-level time control)",
    ),
    "removed_reporting": (
        "Borttaget rapporteringskrav",
        "Removed reporting requirement",
    ),
    "new_compensation": ("Ny ersättningsmodell", "New compensation model"),
    "other": ("Annan förändring", "Other change"),
}
"""Controlled list of kinds of governance change: code -> (Swedish, English)."""

DESIGNS: dict[str, tuple[str, str]] = {
    "randomised": ("Randomiserad", "Randomised"),
    "stepped_rollout": ("Stegvis införande", "Stepped rollout"),
    "matched_comparison": (
        "Matchad jämförelse / syntetisk kontroll",
        "Matched comparison / synthetic control",
    ),
    "staggered_adoption": ("Förskjutet införande", "Staggered adoption"),
}
"""Evaluation designs: code -> (Swedish, English)."""

ESTIMATORS: dict[str, str] = {
    "did": "Callaway-Sant'Anna difference-in-differences",
    "event-study": "event study",
    "synth": "synthetic control",
    "sdid": "synthetic difference-in-differences",
    "trial": "randomised trial analysis",
}
"""Pre-registered estimators (engine names) with a description."""

PRECONDITIONS: dict[str, tuple[str, str]] = {
    "competence": ("Kompetens", "Competence"),
    "leadership": ("Ledarskap", "Leadership"),
    "shared_goal": ("Gemensamt mål", "A shared goal"),
    "shared_values": ("Gemensamma värderingar", "Shared values"),
}
"""Preconditions the source document names, scored 1-5 by the pilot itself."""

STATUSES = ("draft", "registered", "concluded")

_INDICATOR = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
_ORG = re.compile(r"^[A-Za-z0-9]{1,16}$")
_UNIT = re.compile(r"^[A-Za-z0-9_.-]{0,32}$")
_MAX_TEXT = 5000


def empty_document() -> dict[str, Any]:
    """A blank document with every key (the new-draft form starts from it)."""
    return {
        "title": "",
        "change_kind": "other",
        "change": "",
        "sites": [],
        "hypotheses": [],
        "primary_outcomes": [],
        "secondary_outcomes": [],
        "design": "staggered_adoption",
        "analysis": {
            "estimator": "did",
            "control_group": "",
            "covariates": [],
            "min_effect": None,
        },
        "preconditions": dict.fromkeys(PRECONDITIONS),
        "randomisation": None,
    }


def _text(value: Any, field: str, limit: int = _MAX_TEXT) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise DataError("must be text", field=field)
    out = value.strip()
    if len(out) > limit:
        raise DataError(f"at most {limit} characters", field=field)
    return out


def _texts(value: Any, field: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = list(value.splitlines())
    if not isinstance(value, Sequence):
        raise DataError("must be a list of texts", field=field)
    out = [_text(v, f"{field}[{i}]", 1000) for i, v in enumerate(value)]
    return [v for v in out if v][:50]


def _ids(value: Any, field: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = re.split(r"[\s,;]+", value)
    if not isinstance(value, Sequence):
        raise DataError("must be a list of indicator ids", field=field)
    out: list[str] = []
    for v in value:
        v = str(v).strip()
        if not v:
            continue
        if not _INDICATOR.match(v):
            raise DataError(f"{v!r} is not an indicator id", field=field)
        if v not in out:
            out.append(v)
    return out[:50]


def _choice(value: Any, allowed: Mapping[str, Any], field: str) -> str:
    if value not in allowed:
        raise DataError(f"one of {', '.join(allowed)}", field=field)
    return str(value)


def parse_sites(value: Any) -> list[dict[str, str]]:
    """Sites from a list of mappings or from text lines ``org[,unit],start``."""
    if value is None:
        return []
    if isinstance(value, str):
        rows = []
        for i, line in enumerate(value.splitlines(), start=1):
            parts = [p.strip() for p in line.split(",")]
            if not any(parts):
                continue
            if len(parts) == 2:
                parts = [parts[0], "", parts[1]]
            if len(parts) != 3:
                raise DataError(
                    f"line {i}: write 'municipality code, start' or "
                    "'municipality code, unit code, start'",
                    field="sites",
                )
            rows.append({"org": parts[0], "unit": parts[1], "start": parts[2]})
        value = rows
    if not isinstance(value, Sequence):
        raise DataError("must be a list of sites", field="sites")
    out: list[dict[str, str]] = []
    for i, s in enumerate(value):
        f = f"sites[{i}]"
        if not isinstance(s, Mapping):
            raise DataError("each site is {org, unit, start}", field=f)
        org, unit = str(s.get("org", "")).strip(), str(s.get("unit") or "").strip()
        start = str(s.get("start", "")).strip()
        if not _ORG.match(org):
            raise DataError(f"{org!r} is not an organisation code", field=f"{f}.org")
        if not _UNIT.match(unit):
            raise DataError(f"{unit!r} is not a unit code", field=f"{f}.unit")
        if parse_period(start) is None:
            raise DataError("start must be YYYY or YYYY-MM", field=f"{f}.start")
        site = {"org": org, "unit": unit, "start": start}
        if site not in out:
            out.append(site)
    if len(out) > 2000:
        raise DataError("at most 2000 sites", field="sites")
    return out


def _min_effect(value: Any) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        x = float(str(value).replace(",", ".").replace("−", "-"))
    except ValueError:
        raise DataError("must be a number", field="analysis.min_effect") from None
    if not math.isfinite(x):
        raise DataError("must be a finite number", field="analysis.min_effect")
    return x


def _preconditions(value: Any) -> dict[str, int | None]:
    value = value or {}
    if not isinstance(value, Mapping):
        raise DataError("must be a mapping", field="preconditions")
    out: dict[str, int | None] = {}
    for k in PRECONDITIONS:
        v = value.get(k)
        if v is None or (isinstance(v, str) and not v.strip()):
            out[k] = None
            continue
        try:
            n = int(str(v))
        except ValueError:
            raise DataError("a score from 1 to 5", field=f"preconditions.{k}") from None
        if not 1 <= n <= 5:
            raise DataError("a score from 1 to 5", field=f"preconditions.{k}")
        out[k] = n
    return out


def _randomisation(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or "seed" not in value:
        raise DataError("a recorded assignment with its seed", field="randomisation")
    return {
        "seed": int(value["seed"]),
        "design": str(value.get("design", "complete")),
        "treated": [str(x) for x in value.get("treated", [])],
        "control": [str(x) for x in value.get("control", [])],
    }


def parse_document(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Validate and normalise a pilot document (drafts may be incomplete).

    Raises
    ------
    DataError
        Naming the field and what it must be.
    """
    if not isinstance(raw, Mapping):
        raise DataError("a pilot document is a JSON object")
    analysis = raw.get("analysis") or {}
    if not isinstance(analysis, Mapping):
        raise DataError("must be a mapping", field="analysis")
    primary = _ids(raw.get("primary_outcomes"), "primary_outcomes")
    secondary = [
        i
        for i in _ids(raw.get("secondary_outcomes"), "secondary_outcomes")
        if i not in primary
    ]
    title = _text(raw.get("title"), "title", 300)
    if not title:
        raise DataError("a pilot needs a title", field="title")
    return {
        "title": title,
        "change_kind": _choice(
            raw.get("change_kind", "other"), CHANGE_KINDS, "change_kind"
        ),
        "change": _text(raw.get("change"), "change"),
        "sites": parse_sites(raw.get("sites")),
        "hypotheses": _texts(raw.get("hypotheses"), "hypotheses"),
        "primary_outcomes": primary,
        "secondary_outcomes": secondary,
        "design": _choice(raw.get("design", "staggered_adoption"), DESIGNS, "design"),
        "analysis": {
            "estimator": _choice(
                analysis.get("estimator", "did"), ESTIMATORS, "analysis.estimator"
            ),
            "control_group": _text(
                analysis.get("control_group"), "analysis.control_group", 1000
            ),
            "covariates": _ids(analysis.get("covariates"), "analysis.covariates"),
            "min_effect": _min_effect(analysis.get("min_effect")),
        },
        "preconditions": _preconditions(raw.get("preconditions")),
        "randomisation": _randomisation(raw.get("randomisation")),
    }


def check_registrable(doc: Mapping[str, Any]) -> None:
    """Rules for a document that is to be frozen in the registry.

    A registered pilot states what is changed, where and from when, at least one
    hypothesis and one primary outcome, and its control group.
    """
    rules = [
        ("change", bool(doc.get("change")), "describe the governance change"),
        ("sites", bool(doc.get("sites")), "name at least one site and its start"),
        ("hypotheses", bool(doc.get("hypotheses")), "state at least one hypothesis"),
        (
            "primary_outcomes",
            bool(doc.get("primary_outcomes")),
            "choose at least one primary outcome",
        ),
        (
            "analysis.control_group",
            bool((doc.get("analysis") or {}).get("control_group")),
            "describe the control group",
        ),
    ]
    for field, ok, msg in rules:
        if not ok:
            raise DataError(f"cannot register yet: {msg}", field=field)
    if doc.get("design") == "randomised" and not doc.get("randomisation"):
        raise DataError(
            "cannot register yet: a randomised design records its assignment and seed "
            "(use 'Randomise' on the draft)",
            field="randomisation",
        )


@dataclass(frozen=True)
class OutcomeOrigin:
    """Whether an outcome was pre-registered (version 1) or added later."""

    indicator: str
    role: str  # primary | secondary
    pre_registered: bool
    added_in_version: int  # 1 when pre-registered
    role_at_registration: str | None  # primary | secondary | None (absent in v1)

    def to_dict(self) -> dict[str, Any]:
        """JSON shape."""
        return {
            "indicator": self.indicator,
            "role": self.role,
            "pre_registered": self.pre_registered,
            "added_in_version": self.added_in_version,
            "role_at_registration": self.role_at_registration,
        }


def outcome_origins(versions: Sequence[Mapping[str, Any]]) -> list[OutcomeOrigin]:
    """Origins of the outcomes of the last of ``versions`` (v1 first, one per version)."""
    if not versions:
        return []

    def roles(doc: Mapping[str, Any]) -> dict[str, str]:
        r = dict.fromkeys(doc.get("secondary_outcomes", []), "secondary")
        r.update(dict.fromkeys(doc.get("primary_outcomes", []), "primary"))
        return r

    first = roles(versions[0])
    out = []
    for ind, role in roles(versions[-1]).items():
        added = next(
            (k + 1 for k, doc in enumerate(versions) if ind in roles(doc)),
            len(versions),
        )
        out.append(OutcomeOrigin(ind, role, ind in first, added, first.get(ind)))
    return sorted(out, key=lambda o: (o.role != "primary", o.added_in_version))
