"""Read queries on the indicator store, each one SQL statement on a Connection.

The web layer and services use these; each returns a pandas DataFrame (or a dict) with
the columns named in its docstring, so callers never see SQLAlchemy rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd
from sqlalchemy import Connection, and_, func, select

from tillit.core.errors import NotFound
from tillit.store.tables import (
    indicators,
    observations,
    organisations,
    peer_group_members,
    peer_groups,
    units,
)

__all__ = [
    "get_indicator",
    "get_org",
    "indicator_series",
    "list_indicators",
    "list_units",
    "org_profile",
    "peer_group_codes",
    "peer_groups_for",
]

_SERIES_COLS = [
    "org_code",
    "org_name",
    "county_code",
    "year",
    "period",
    "gender",
    "value",
]


def _frame(conn: Connection, stmt: Any, columns: list[str]) -> pd.DataFrame:
    rows = conn.execute(stmt).all()
    return pd.DataFrame.from_records(rows, columns=columns)


def indicator_series(
    conn: Connection,
    indicator_id: str,
    *,
    org_ids: Iterable[int | str] | None = None,
    gender: str | None = "T",
    years: tuple[int, int] | Iterable[int] | None = None,
) -> pd.DataFrame:
    """Values of one indicator for organisations (not units), ordered by org and period.

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
        Columns ``org_code, org_name, county_code, year, period, gender, value``
        (value NaN when missing).
    """
    o = organisations
    stmt = (
        select(
            o.c.code,
            o.c.name,
            o.c.county_code,
            observations.c.year,
            observations.c.period,
            observations.c.gender,
            observations.c.value,
        )
        .join(o, o.c.id == observations.c.organisation_id)
        .where(observations.c.indicator_id == indicator_id, observations.c.unit_id == 0)
        .order_by(o.c.code, observations.c.period, observations.c.gender)
    )
    if gender is not None:
        stmt = stmt.where(observations.c.gender == gender)
    if org_ids is not None:
        ids = list(org_ids)
        codes = [x for x in ids if isinstance(x, str)]
        nums = [int(x) for x in ids if not isinstance(x, str)]
        stmt = stmt.where(o.c.code.in_(codes) | o.c.id.in_(nums))
    if years is not None:
        if isinstance(years, tuple) and len(years) == 2:
            stmt = stmt.where(observations.c.year.between(years[0], years[1]))
        else:
            stmt = stmt.where(observations.c.year.in_([int(y) for y in years]))
    df = _frame(conn, stmt, _SERIES_COLS)
    df["value"] = pd.to_numeric(df["value"], errors="coerce").astype(float)
    df["year"] = df["year"].astype("int64")
    return df


def org_profile(conn: Connection, org_code: str) -> pd.DataFrame:
    """All indicator values of one organisation (its own, not its units').

    Returns
    -------
    pandas.DataFrame
        Columns ``indicator_id, title, area, unit_of_measure, higher_is_better, year,
        period, gender, value``, ordered by indicator, period and gender.

    Raises
    ------
    NotFound
        When no organisation has this code.
    """
    org = get_org(conn, org_code)
    i = indicators
    stmt = (
        select(
            observations.c.indicator_id,
            i.c.title,
            i.c.area,
            i.c.unit_of_measure,
            i.c.higher_is_better,
            observations.c.year,
            observations.c.period,
            observations.c.gender,
            observations.c.value,
        )
        .join(i, i.c.id == observations.c.indicator_id)
        .where(observations.c.organisation_id == org["id"], observations.c.unit_id == 0)
        .order_by(
            observations.c.indicator_id, observations.c.period, observations.c.gender
        )
    )
    cols = [
        "indicator_id",
        "title",
        "area",
        "unit_of_measure",
        "higher_is_better",
        "year",
        "period",
        "gender",
        "value",
    ]
    df = _frame(conn, stmt, cols)
    df["value"] = pd.to_numeric(df["value"], errors="coerce").astype(float)
    return df


def list_indicators(conn: Connection, *, public_only: bool) -> pd.DataFrame:
    """Indicators with how many values are stored and for which years.

    Returns
    -------
    pandas.DataFrame
        Columns ``id, title, description, area, unit_of_measure, divided_by_gender,
        higher_is_better, source, is_public, is_demo, n_values, first_year, last_year``,
        ordered by id; ``n_values`` 0 for indicators without data.
    """
    stats = (
        select(
            observations.c.indicator_id,
            func.count().label("n_values"),
            func.min(observations.c.year).label("first_year"),
            func.max(observations.c.year).label("last_year"),
        )
        .group_by(observations.c.indicator_id)
        .subquery()
    )
    i = indicators
    stmt = (
        select(
            *i.c,
            func.coalesce(stats.c.n_values, 0),
            stats.c.first_year,
            stats.c.last_year,
        )
        .outerjoin(stats, stats.c.indicator_id == i.c.id)
        .order_by(i.c.id)
    )
    if public_only:
        stmt = stmt.where(i.c.is_public.is_(True))
    cols = [c.name for c in i.c] + ["n_values", "first_year", "last_year"]
    return _frame(conn, stmt, cols)


def get_indicator(conn: Connection, indicator_id: str) -> dict[str, Any]:
    """One indicator's metadata as a dict; NotFound when unknown."""
    row = conn.execute(
        select(indicators).where(indicators.c.id == indicator_id)
    ).first()
    if row is None:
        raise NotFound(f"no indicator {indicator_id!r}")
    return dict(row._mapping)


def get_org(conn: Connection, code: str) -> dict[str, Any]:
    """One organisation as a dict (``id, code, name, kind, county_code, skr_group,
    is_demo``); NotFound when unknown."""
    row = conn.execute(
        select(organisations).where(organisations.c.code == code)
    ).first()
    if row is None:
        raise NotFound(f"no municipality or organisation with code {code!r}")
    return dict(row._mapping)


def peer_groups_for(conn: Connection, org_code: str) -> pd.DataFrame:
    """Peer groups the organisation belongs to.

    Returns
    -------
    pandas.DataFrame
        Columns ``group_id, title, kind, n_members``, ordered by kind and title.
    """
    m2 = peer_group_members.alias("m2")
    mine = (
        select(peer_group_members.c.group_id)
        .join(organisations, organisations.c.id == peer_group_members.c.organisation_id)
        .where(organisations.c.code == org_code)
    )
    stmt = (
        select(peer_groups.c.id, peer_groups.c.title, peer_groups.c.kind, func.count())
        .join(m2, m2.c.group_id == peer_groups.c.id)
        .where(peer_groups.c.id.in_(mine))
        .group_by(peer_groups.c.id, peer_groups.c.title, peer_groups.c.kind)
        .order_by(peer_groups.c.kind, peer_groups.c.title)
    )
    return _frame(conn, stmt, ["group_id", "title", "kind", "n_members"])


def peer_group_codes(conn: Connection, group_id: str) -> list[str]:
    """Organisation codes of a peer group's members, sorted; NotFound when unknown."""
    exists = conn.execute(
        select(peer_groups.c.id).where(peer_groups.c.id == group_id)
    ).first()
    if exists is None:
        raise NotFound(f"no peer group {group_id!r}")
    stmt = (
        select(organisations.c.code)
        .join(
            peer_group_members,
            and_(
                peer_group_members.c.organisation_id == organisations.c.id,
                peer_group_members.c.group_id == group_id,
            ),
        )
        .order_by(organisations.c.code)
    )
    return list(conn.execute(stmt).scalars())


def list_units(conn: Connection, org_code: str) -> pd.DataFrame:
    """Units below an organisation: columns ``code, name, kind`` ordered by code."""
    stmt = (
        select(units.c.code, units.c.name, units.c.kind)
        .join(organisations, organisations.c.id == units.c.organisation_id)
        .where(organisations.c.code == org_code)
        .order_by(units.c.code)
    )
    return _frame(conn, stmt, ["code", "name", "kind"])
