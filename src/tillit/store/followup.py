"""Follow-up reads: indicators, organisations, peer groups and yearly values.

The one read path of the follow-up pages, the API, the CLI export and the other areas
that read the indicator store.  Every function takes a :class:`Connection` first and
returns dicts, lists or DataFrames.  Indicator dicts carry the direction as stored
(``stored_higher_is_better``), what it means (``direction``: higher, lower, neither,
unknown; see :mod:`tillit.domain.direction`) and ``higher_is_better`` to judge by, which
is None unless a source says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, and_, func, or_, select
from sqlalchemy.sql import ColumnElement

from tillit.core.errors import NotFound
from tillit.domain.direction import direction_of, judged
from tillit.store.tables import (
    indicators,
    observations,
    organisations,
    peer_group_members,
    peer_groups,
    units,
)

__all__ = [
    "IND_COLUMNS",
    "ORG_COLUMNS",
    "SERIES_COLUMNS",
    "areas",
    "count_organisations",
    "get_indicator",
    "get_organisation",
    "group_members",
    "indicator_series",
    "indicator_years",
    "known_organisations",
    "list_indicators",
    "list_organisations",
    "list_units",
    "organisation_codes",
    "peer_group",
    "peer_group_codes",
    "peer_groups_of",
    "yearly_values",
]

IND_COLUMNS = (
    "id",
    "title",
    "description",
    "area",
    "unit_of_measure",
    "divided_by_gender",
    "higher_is_better",
    "direction_source",
    "source",
    "is_public",
    "is_demo",
)
ORG_COLUMNS = ("id", "code", "name", "kind", "county_code", "skr_group", "is_demo")
SERIES_COLUMNS = (
    "org_code",
    "org_name",
    "county_code",
    "year",
    "period",
    "gender",
    "value",
)


def _indicator(row: Any) -> dict[str, Any]:
    d = dict(row._mapping)
    d["stored_higher_is_better"] = d["higher_is_better"]
    d["direction"] = direction_of(d["higher_is_better"], d["direction_source"])
    d["higher_is_better"] = judged(d["higher_is_better"], d["direction_source"])
    return d


def _visible(public_only: bool) -> ColumnElement[bool]:
    return indicators.c.is_public.is_(True) if public_only else and_(True)


# --- indicators -----------------------------------------------------------------------


def list_indicators(
    conn: Connection,
    *,
    public_only: bool,
    q: str = "",
    area: str = "",
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Indicators by area and id, optionally matching a search text and one area."""
    stmt = select(*(indicators.c[c] for c in IND_COLUMNS)).where(_visible(public_only))
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(indicators.c.title).like(like),
                func.lower(indicators.c.id).like(like),
                func.lower(indicators.c.description).like(like),
            )
        )
    if area:
        stmt = stmt.where(indicators.c.area == area)
    stmt = stmt.order_by(indicators.c.area, indicators.c.id).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [_indicator(r) for r in conn.execute(stmt)]


def areas(conn: Connection, *, public_only: bool) -> list[str]:
    """The distinct non-empty indicator areas, sorted."""
    stmt = (
        select(indicators.c.area)
        .where(_visible(public_only))
        .distinct()
        .order_by(indicators.c.area)
    )
    return [a for (a,) in conn.execute(stmt) if a]


def get_indicator(conn: Connection, indicator_id: str) -> dict[str, Any]:
    """One indicator's metadata (keys :data:`IND_COLUMNS` and ``direction``).

    Raises
    ------
    NotFound
        When no indicator has this id.
    """
    row = conn.execute(
        select(*(indicators.c[c] for c in IND_COLUMNS)).where(
            indicators.c.id == indicator_id
        )
    ).first()
    if row is None:
        raise NotFound(f"no indicator {indicator_id!r}")
    return _indicator(row)


def indicator_years(conn: Connection, indicator_id: str) -> list[int]:
    """Years with yearly organisation values of an indicator, ascending."""
    rows = conn.execute(
        select(observations.c.year)
        .where(
            observations.c.indicator_id == indicator_id,
            observations.c.unit_id == 0,
            observations.c.month == 0,
        )
        .distinct()
        .order_by(observations.c.year)
    )
    return [int(y) for (y,) in rows]


# --- organisations and peer groups ----------------------------------------------------


def list_organisations(
    conn: Connection, *, kind: str = "", q: str = "", limit: int = 1000
) -> list[dict[str, Any]]:
    """Organisations by code, optionally of one kind and matching a search text."""
    stmt = select(*(organisations.c[c] for c in ORG_COLUMNS))
    if kind:
        stmt = stmt.where(organisations.c.kind == kind)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(organisations.c.name).like(like),
                organisations.c.code.like(like),
            )
        )
    rows = conn.execute(stmt.order_by(organisations.c.code).limit(limit))
    return [dict(r._mapping) for r in rows]


def get_organisation(conn: Connection, code: str) -> dict[str, Any]:
    """One organisation by code (keys :data:`ORG_COLUMNS`); NotFound otherwise."""
    row = conn.execute(
        select(*(organisations.c[c] for c in ORG_COLUMNS)).where(
            organisations.c.code == code
        )
    ).first()
    if row is None:
        raise NotFound(f"no organisation with code {code!r}")
    return dict(row._mapping)


def organisation_codes(conn: Connection, *, kind: str | None = None) -> list[str]:
    """Codes of the stored organisations (of one kind), sorted."""
    stmt = select(organisations.c.code).order_by(organisations.c.code)
    if kind is not None:
        stmt = stmt.where(organisations.c.kind == kind)
    return list(conn.execute(stmt).scalars())


def count_organisations(conn: Connection, kind: str) -> int:
    """How many organisations of ``kind`` are stored."""
    n = conn.execute(select(func.count()).where(organisations.c.kind == kind))
    return int(n.scalar() or 0)


def known_organisations(conn: Connection, codes: Iterable[str]) -> set[str]:
    """The subset of ``codes`` that are stored organisations."""
    wanted = list(codes)
    stmt = select(organisations.c.code).where(organisations.c.code.in_(wanted))
    return set(conn.execute(stmt).scalars())


def group_members(conn: Connection, group_id: str) -> tuple[str, ...]:
    """Member organisation codes of a peer group, sorted (empty when unknown)."""
    rows = conn.execute(
        select(organisations.c.code)
        .join(peer_group_members)
        .where(peer_group_members.c.group_id == group_id)
        .order_by(organisations.c.code)
    )
    return tuple(c for (c,) in rows)


def peer_group_codes(conn: Connection, group_id: str) -> list[str]:
    """Member codes of a peer group, sorted; NotFound when the group is unknown."""
    exists = conn.execute(
        select(peer_groups.c.id).where(peer_groups.c.id == group_id)
    ).first()
    if exists is None:
        raise NotFound(f"no peer group {group_id!r}")
    return list(group_members(conn, group_id))


def peer_groups_of(
    conn: Connection, organisation_id: int, *, shared_only: bool = True
) -> list[dict[str, Any]]:
    """Peer groups containing the organisation: ``id, title, kind, size``.

    ``shared_only`` leaves out the groups a user made for themselves.  Ordered by kind
    and id.
    """
    stmt = (
        select(peer_groups.c.id, peer_groups.c.title, peer_groups.c.kind)
        .join(peer_group_members)
        .where(peer_group_members.c.organisation_id == organisation_id)
        .order_by(peer_groups.c.kind, peer_groups.c.id)
    )
    if shared_only:
        stmt = stmt.where(peer_groups.c.owner_user_id.is_(None))
    groups = conn.execute(stmt).all()
    sizes: dict[str, int] = dict(
        conn.execute(
            select(peer_group_members.c.group_id, func.count())
            .where(peer_group_members.c.group_id.in_([g[0] for g in groups]))
            .group_by(peer_group_members.c.group_id)
        ).all()
    )
    return [
        {"id": g, "title": t, "kind": k, "size": int(sizes.get(g, 0))}
        for g, t, k in groups
    ]


def peer_group(
    conn: Connection, organisation_id: int, *, kind: str | None, group_id: str | None
) -> dict[str, Any] | None:
    """The first peer group (by id) of the organisation of ``kind`` or with this id."""
    stmt = (
        select(peer_groups.c.id, peer_groups.c.title, peer_groups.c.kind)
        .join(peer_group_members)
        .where(peer_group_members.c.organisation_id == organisation_id)
    )
    if kind is not None:
        stmt = stmt.where(peer_groups.c.kind == kind)
    if group_id is not None:
        stmt = stmt.where(peer_groups.c.id == group_id)
    row = conn.execute(stmt.order_by(peer_groups.c.id)).first()
    return None if row is None else dict(row._mapping)


def list_units(conn: Connection, org_code: str) -> pd.DataFrame:
    """Units below an organisation: columns ``code, name, kind`` ordered by code."""
    stmt = (
        select(units.c.code, units.c.name, units.c.kind)
        .join(organisations, organisations.c.id == units.c.organisation_id)
        .where(organisations.c.code == org_code)
        .order_by(units.c.code)
    )
    return pd.DataFrame.from_records(
        conn.execute(stmt).all(), columns=["code", "name", "kind"]
    )


# --- values ---------------------------------------------------------------------------


def yearly_values(
    conn: Connection,
    indicator_ids: Sequence[str],
    codes: Sequence[str] | None,
    genders: Sequence[str] = ("T",),
    years: tuple[int, int] = (1900, 2100),
) -> pd.DataFrame:
    """Long frame ``indicator, org, year, gender, value`` of yearly organisation values.

    ``codes`` None reads every organisation.  Filters on organisation ids (not codes)
    so that the natural-key index (indicator, organisation, unit, period, gender)
    serves the query.
    """
    code_of: dict[int, str] = dict(
        conn.execute(select(organisations.c.id, organisations.c.code)).all()
    )
    o = observations.c
    stmt = select(o.indicator_id, o.organisation_id, o.year, o.gender, o.value).where(
        o.indicator_id.in_(list(indicator_ids)),
        o.unit_id == 0,
        o.month == 0,
        o.gender.in_(list(genders)),
        o.year.between(*years),
    )
    if years[1] - years[0] <= 30:  # lets the natural-key index seek on period
        stmt = stmt.where(o.period.in_([str(y) for y in range(years[0], years[1] + 1)]))
    if codes is not None:
        wanted = set(codes)
        stmt = stmt.where(
            o.organisation_id.in_([i for i, c in code_of.items() if c in wanted])
        )
    rows = conn.execute(stmt).all()
    cols = list(zip(*rows, strict=True)) if rows else [(), (), (), (), ()]
    return pd.DataFrame(
        {
            "indicator": pd.Series(cols[0], dtype=object),
            "org": pd.Series(cols[1], dtype=object).map(code_of),
            "year": np.asarray(cols[2], dtype=np.int64),
            "gender": pd.Series(cols[3], dtype=object),
            "value": np.array(cols[4], dtype=float),
        }
    )


def indicator_series(
    conn: Connection,
    indicator_id: str,
    *,
    org_ids: Iterable[int | str] | None = None,
    gender: str | None = "T",
    years: tuple[int, int] | Iterable[int] | None = None,
) -> pd.DataFrame:
    """Values of one indicator for organisations (not units), by org and period.

    Parameters
    ----------
    indicator_id
        e.g. ``N00945``.
    org_ids
        Organisation ids (int) or codes (str); None for all.
    gender
        ``T``, ``K`` or ``M``; None for all three.
    years
        ``(first, last)`` inclusive, or an iterable of years; None for all.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SERIES_COLUMNS` (value NaN when missing), monthly periods
        included.
    """
    org, obs = organisations, observations
    stmt = (
        select(
            org.c.code,
            org.c.name,
            org.c.county_code,
            obs.c.year,
            obs.c.period,
            obs.c.gender,
            obs.c.value,
        )
        .join(org, org.c.id == obs.c.organisation_id)
        .where(obs.c.indicator_id == indicator_id, obs.c.unit_id == 0)
        .order_by(org.c.code, obs.c.period, obs.c.gender)
    )
    if gender is not None:
        stmt = stmt.where(obs.c.gender == gender)
    if org_ids is not None:
        ids = list(org_ids)
        codes = [x for x in ids if isinstance(x, str)]
        nums = [int(x) for x in ids if not isinstance(x, str)]
        stmt = stmt.where(org.c.code.in_(codes) | org.c.id.in_(nums))
    if years is not None:
        if isinstance(years, tuple) and len(years) == 2:
            stmt = stmt.where(obs.c.year.between(years[0], years[1]))
        else:
            stmt = stmt.where(obs.c.year.in_([int(y) for y in years]))
    df = pd.DataFrame.from_records(conn.execute(stmt).all(), columns=SERIES_COLUMNS)
    df["value"] = pd.to_numeric(df["value"], errors="coerce").astype(float)
    df["year"] = df["year"].astype("int64")
    return df
