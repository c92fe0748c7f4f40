"""Catalog writes: organisations, units, indicators and peer groups (idempotent upserts).

Every function takes the caller's :class:`Connection` (the service owns the
transaction) and returns what it wrote, so that running it twice is harmless.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table, delete, insert, select, update

from tillit.core.errors import NotFound
from tillit.store.tables import (
    indicators,
    organisations,
    peer_group_members,
    peer_groups,
    units,
)

__all__ = [
    "DIRECTION_FIELDS",
    "INDICATOR_FIELDS",
    "ORGANISATION_FIELDS",
    "flag_demo_organisations",
    "indicator_ids",
    "insert_organisations",
    "organisation_ids",
    "set_direction",
    "upsert_indicators",
    "upsert_organisations",
    "upsert_units",
    "write_peer_groups",
]

ORGANISATION_FIELDS = ("name", "kind", "county_code", "skr_group")
DIRECTION_FIELDS = ("higher_is_better", "direction_source")
INDICATOR_FIELDS = (
    "title",
    "description",
    "area",
    "unit_of_measure",
    "divided_by_gender",
    "source",
    "is_public",
    "is_demo",
)
Groups = Mapping[str, tuple[str, str, list[str]]]


def _upsert_keys(
    conn: Connection,
    table: Table,
    key: str,
    rows: Sequence[Mapping[str, Any]],
    fields: Iterable[str],
) -> set[Any]:
    """Insert missing rows and update changed ones (by ``key``); the keys written.

    A row updates only the ``fields`` it carries (so a row may leave a column alone).
    """
    if not rows:
        return set()
    fields = tuple(fields)
    cols = [table.c[key], *(table.c[f] for f in fields)]
    existing = {
        r[0]: dict(zip(fields, r[1:], strict=True)) for r in conn.execute(select(*cols))
    }
    new = [r for r in rows if r[key] not in existing]
    changed = [
        r
        for r in rows
        if r[key] in existing
        and any(r[f] != existing[r[key]][f] for f in fields if f in r)
    ]
    if new:
        conn.execute(insert(table), [dict(r) for r in new])
    for r in changed:
        conn.execute(
            update(table)
            .where(table.c[key] == r[key])
            .values({f: r[f] for f in fields if f in r})
        )
    return {r[key] for r in new} | {r[key] for r in changed}


def upsert_organisations(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
    """Organisations by code (``code`` and :data:`ORGANISATION_FIELDS`); rows written."""
    return len(_upsert_keys(conn, organisations, "code", rows, ORGANISATION_FIELDS))


def insert_organisations(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert the organisations whose code is not stored yet; returns how many."""
    have = set(conn.execute(select(organisations.c.code)).scalars())
    new = [dict(r) for r in rows if r["code"] not in have]
    if new:
        conn.execute(insert(organisations), new)
    return len(new)


def flag_demo_organisations(conn: Connection, codes: Sequence[str]) -> None:
    """Mark organisations as carrying demo values."""
    codes = list(codes)
    for k in range(0, len(codes), 500):
        conn.execute(
            update(organisations)
            .where(organisations.c.code.in_(codes[k : k + 500]))
            .values(is_demo=True)
        )


def organisation_ids(conn: Connection, codes: Iterable[str]) -> dict[str, int]:
    """Organisation code -> id for the stored ones among ``codes``."""
    wanted = set(codes)
    rows = conn.execute(select(organisations.c.code, organisations.c.id)).all()
    return {c: i for c, i in rows if c in wanted}


def indicator_ids(conn: Connection, ids: Iterable[str]) -> set[str]:
    """The stored ones among indicator ``ids``."""
    wanted = list(dict.fromkeys(ids))
    out: set[str] = set()
    for k in range(0, len(wanted), 500):
        stmt = select(indicators.c.id).where(indicators.c.id.in_(wanted[k : k + 500]))
        out |= set(conn.execute(stmt).scalars())
    return out


def upsert_indicators(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
    """Indicator metadata by id; rows inserted or changed.

    A row's direction (``higher_is_better``, ``direction_source``) is written only when
    the row names its source; a row without one (Kolada's metadata has no direction)
    leaves a stored direction and its source as they are.
    """
    out = []
    for r in rows:
        d = dict(r)
        if not d.get("direction_source"):
            d.pop("higher_is_better", None)
            d.pop("direction_source", None)
        out.append(d)
    fields = (*INDICATOR_FIELDS, *DIRECTION_FIELDS)
    return len(_upsert_keys(conn, indicators, "id", out, fields))


def set_direction(
    conn: Connection, indicator_id: str, higher_is_better: bool | None, source: str
) -> None:
    """Record an indicator's direction with its source (empty source: unknown)."""
    done = conn.execute(
        update(indicators)
        .where(indicators.c.id == indicator_id)
        .values(higher_is_better=higher_is_better, direction_source=source)
    )
    if done.rowcount != 1:
        raise NotFound(f"no indicator {indicator_id!r}")


def upsert_units(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
    """Units by code (``code, name, organisation_id, kind``); rows written."""
    fields = ("name", "organisation_id", "kind")
    return len(_upsert_keys(conn, units, "code", rows, fields))


def write_peer_groups(
    conn: Connection, groups: Groups, ids: Mapping[str, int], *, keep_titles: bool
) -> int:
    """Peer groups: id -> (title, kind, member codes); ``ids`` maps codes to org ids.

    The member lists replace the stored ones.  ``keep_titles`` only adds groups that
    are missing and leaves stored titles alone.  Returns the groups that changed.
    """
    rows = [{"id": g, "title": t, "kind": k} for g, (t, k, _m) in groups.items()]
    if keep_titles:
        stored = set(conn.execute(select(peer_groups.c.id)).scalars())
        rows = [r for r in rows if r["id"] not in stored]
    written = _upsert_keys(conn, peer_groups, "id", rows, ("title", "kind"))
    wanted = {(g, ids[c]) for g, (_t, _k, members) in groups.items() for c in members}
    pairs = select(peer_group_members.c.group_id, peer_group_members.c.organisation_id)
    current = {(g, o) for g, o in conn.execute(pairs) if g in groups}
    drop, add = current - wanted, wanted - current
    for g, o in drop:
        conn.execute(
            delete(peer_group_members).where(
                (peer_group_members.c.group_id == g)
                & (peer_group_members.c.organisation_id == o)
            )
        )
    if add:
        conn.execute(
            insert(peer_group_members),
            [{"group_id": g, "organisation_id": o} for g, o in sorted(add)],
        )
    return len(written | {g for g, _ in drop | add})
