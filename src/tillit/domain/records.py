"""Typed records and code rules shared by importers, services and the web layer."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tillit.domain import access

__all__ = [
    "ACTOR_ROLES",
    "GENDERS",
    "ORG_KINDS",
    "PUBLIC",
    "Actor",
    "Indicator",
    "Organisation",
    "Unit",
    "org_kind_for_code",
    "parse_period",
]

GENDERS = ("T", "K", "M")
ORG_KINDS = ("municipality", "region", "country", "other")

_PERIOD = re.compile(r"^(\d{4})(?:-(\d{2}))?$")


def parse_period(text: str) -> tuple[int, int] | None:
    """Parse ``YYYY`` or ``YYYY-MM`` into ``(year, month)``; month 0 means a whole year.

    Returns ``None`` when the text is not a valid period (years 1900-2100).
    """
    m = _PERIOD.match(text.strip())
    if not m:
        return None
    year = int(m.group(1))
    month = int(m.group(2) or 0)
    if not 1900 <= year <= 2100 or (m.group(2) is not None and not 1 <= month <= 12):
        return None
    return year, month


def org_kind_for_code(code: str) -> str:
    """Kolada convention: ``0000`` Sweden, ``00NN`` a region, other 4 digits a municipality."""
    if code == "0000":
        return "country"
    if len(code) == 4 and code.isdigit():
        return "region" if code.startswith("00") else "municipality"
    return "other"


@dataclass(frozen=True)
class Organisation:
    """A municipality, region, the country, or another body."""

    code: str
    name: str
    kind: str
    county_code: str | None = None
    skr_group: str | None = None
    is_demo: bool = False


@dataclass(frozen=True)
class Unit:
    """An organisational unit below an organisation (home-care unit, school, care home)."""

    code: str
    name: str
    organisation_code: str
    kind: str = "other"


@dataclass(frozen=True)
class Indicator:
    """Indicator (KPI) metadata, Kolada-compatible.

    ``higher_is_better`` counts only with ``direction_source`` (who says so; see
    :mod:`tillit.domain.direction`): a record without a source leaves a stored
    direction as it is.
    """

    id: str
    title: str
    description: str = ""
    area: str = ""
    unit_of_measure: str = ""
    divided_by_gender: bool = False
    higher_is_better: bool | None = None
    source: str = ""
    is_public: bool = True
    is_demo: bool = False
    direction_source: str = ""


ACTOR_ROLES = access.ACTOR_ROLES


@dataclass(frozen=True)
class Actor:
    """Who is asking: a signed-in user with one role, or the anonymous public reader.

    ``member`` users belong to one organisation and may import and edit for it only;
    ``researcher`` users read non-public data and run evaluations; ``admin`` may do anything;
    ``public`` (anonymous) reads public data only.
    """

    role: str = "public"
    user_id: int | None = None
    username: str = ""
    organisation_id: int | None = None

    @property
    def is_admin(self) -> bool:
        """True for administrators (:func:`tillit.domain.access.is_admin`)."""
        return access.is_admin(self)

    def can_write_for(self, organisation_id: int) -> bool:
        """May this actor import or edit data of ``organisation_id``?"""
        return access.can_write_for(self, organisation_id)

    def can_read_private(self) -> bool:
        """May this actor see indicators marked non-public?"""
        return access.can_read_private(self)


PUBLIC = Actor()
