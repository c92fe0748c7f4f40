"""The catalog: organisations, units, indicators and peer groups (idempotent upserts).

Every function takes an :class:`~sqlalchemy.Engine`, runs in one transaction and returns
how many rows it inserted or changed (0 when everything was already as given), so running
it twice is harmless.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, delete, insert, select, update

from tillit.core.errors import DataError
from tillit.domain.geography import geography
from tillit.domain.records import Indicator, Unit
from tillit.sources.kolada_meta import read_kpi_metadata, read_municipality_groups
from tillit.store.db import write_transaction
from tillit.store.tables import (
    indicators,
    organisations,
    peer_group_members,
    peer_groups,
    units,
)

__all__ = [
    "geography_peer_groups",
    "import_kpi_metadata",
    "import_municipality_groups",
    "organisation_codes",
    "seed_geography",
    "upsert_indicators",
    "upsert_indicators_conn",
    "upsert_peer_groups",
    "upsert_units",
]

_ORG_FIELDS = ("name", "kind", "county_code", "skr_group")
_IND_FIELDS = tuple(f for f in Indicator.__dataclass_fields__ if f != "id")


def _upsert(
    conn: Connection,
    table: Any,
    key: str,
    rows: list[dict[str, Any]],
    fields: Iterable[str],
) -> int:
    """Insert missing rows and update changed ones (by ``key``); return rows written."""
    return len(_upsert_keys(conn, table, key, rows, fields))


def _upsert_keys(
    conn: Connection,
    table: Any,
    key: str,
    rows: list[dict[str, Any]],
    fields: Iterable[str],
) -> set[Any]:
    """Insert missing rows and update changed ones; return the keys written."""
    if not rows:
        return set()
    fields = tuple(fields)
    cols = [table.c[key], *(table.c[f] for f in fields)]
    existing = {r[0]: tuple(r[1:]) for r in conn.execute(select(*cols)).all()}
    new = [r for r in rows if r[key] not in existing]
    changed = [
        r
        for r in rows
        if r[key] in existing and tuple(r[f] for f in fields) != existing[r[key]]
    ]
    if new:
        conn.execute(insert(table), new)
    for r in changed:
        conn.execute(
            update(table)
            .where(table.c[key] == r[key])
            .values({f: r[f] for f in fields})
        )
    return {r[key] for r in new} | {r[key] for r in changed}


def _dedupe(rows: Iterable[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Last row wins for a repeated key."""
    return list({r[key]: r for r in rows}.values())


def upsert_indicators_conn(conn: Connection, rows: Iterable[Indicator]) -> int:
    """:func:`upsert_indicators` inside an open transaction."""
    dicts = _dedupe((asdict(r) for r in rows), "id")
    for d in dicts:
        if not d["id"] or not d["title"]:
            raise DataError(
                f"indicator {d['id']!r} needs an id and a title", field="title"
            )
    return _upsert(conn, indicators, "id", dicts, _IND_FIELDS)


def upsert_indicators(engine: Engine, rows: Iterable[Indicator]) -> int:
    """Insert or update indicator metadata by id; return rows inserted or changed."""
    with write_transaction(engine) as conn:
        return upsert_indicators_conn(conn, rows)


def _org_ids(conn: Connection, codes: Iterable[str]) -> dict[str, int]:
    wanted = set(codes)
    rows = conn.execute(select(organisations.c.code, organisations.c.id)).all()
    return {c: i for c, i in rows if c in wanted}


def upsert_units(engine: Engine, rows: Iterable[Unit]) -> int:
    """Insert or update organisational units; the organisation is given by its code.

    Raises
    ------
    DataError
        When a unit's organisation code is unknown.
    """
    rows = list(rows)
    with write_transaction(engine) as conn:
        ids = _org_ids(conn, (u.organisation_code for u in rows))
        dicts = []
        for n, u in enumerate(rows, start=1):
            if u.organisation_code not in ids:
                raise DataError(
                    f"unknown organisation {u.organisation_code!r} for unit {u.code!r}",
                    row=n,
                    field="organisation_code",
                )
            dicts.append(
                {
                    "code": u.code,
                    "name": u.name,
                    "organisation_id": ids[u.organisation_code],
                    "kind": u.kind,
                }
            )
        return _upsert(
            conn,
            units,
            "code",
            _dedupe(dicts, "code"),
            ("name", "organisation_id", "kind"),
        )


def _write_groups(
    conn: Connection,
    groups: Mapping[str, tuple[str, str, list[str]]],
    *,
    keep_titles: bool = False,
) -> int:
    codes = {c for _t, _k, members in groups.values() for c in members}
    ids = _org_ids(conn, codes)
    unknown = sorted(codes - ids.keys())
    if unknown:
        raise DataError(
            f"unknown organisation code(s) in peer groups: {', '.join(unknown[:5])}",
            field="member",
        )
    rows = [{"id": g, "title": t, "kind": k} for g, (t, k, _m) in groups.items()]
    if keep_titles:  # only add groups that are missing; leave stored titles alone
        stored = set(conn.execute(select(peer_groups.c.id)).scalars())
        rows = [r for r in rows if r["id"] not in stored]
    written = _upsert_keys(conn, peer_groups, "id", rows, ("title", "kind"))
    wanted = {(g, ids[c]) for g, (_t, _k, members) in groups.items() for c in members}
    current = set(
        conn.execute(
            select(peer_group_members.c.group_id, peer_group_members.c.organisation_id)
        ).all()
    )
    current = {p for p in current if p[0] in groups}
    drop = current - wanted
    add = wanted - current
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


def upsert_peer_groups(
    engine: Engine, groups: Mapping[str, tuple[str, str, list[str]]]
) -> int:
    """Create or update peer groups: group id -> (title, kind, member org codes).

    The member list replaces the stored one. Returns the number of groups whose title,
    kind or membership changed.
    """
    with write_transaction(engine) as conn:
        return _write_groups(conn, groups)


def geography_peer_groups(geo: pd.DataFrame) -> dict[str, tuple[str, str, list[str]]]:
    """Peer groups implied by the packaged geography: SKR groups 2023 and counties."""
    mun = geo[geo["kind"] == "municipality"]
    groups: dict[str, tuple[str, str, list[str]]] = {}
    for gid, g in mun.groupby("skr_kolada_group_id", sort=True):
        if not gid:
            continue
        first = g.iloc[0]
        title = f"SKR kommungrupp 2023 {first['skr_group_code']}: {first['skr_group']}"
        groups[str(gid)] = (title, "skr", sorted(g["code"]))
    for cc, g in mun.groupby("county_code", sort=True):
        if not cc:
            continue
        groups[f"county-{cc!s}"] = (
            str(g.iloc[0]["county_name"]),
            "county",
            sorted(g["code"]),
        )
    return groups


def seed_geography(engine: Engine) -> None:
    """Ensure all municipalities, regions and the country exist, with SKR and county groups.

    Idempotent: existing organisations keep their id; names, kinds, counties and SKR
    groups are brought up to date.
    """
    geo = geography()
    rows = [
        {
            "code": r.code,
            "name": r.name,
            "kind": r.kind,
            "county_code": r.county_code or None,
            "skr_group": r.skr_group or None,
        }
        for r in geo.itertuples(index=False)
    ]
    with write_transaction(engine) as conn:
        _upsert(conn, organisations, "code", rows, _ORG_FIELDS)
        # Kolada's own titles for the SKR groups (tillit kolada metadata) are kept
        _write_groups(conn, geography_peer_groups(geo), keep_titles=True)


def import_kpi_metadata(engine: Engine, data: bytes, filename: str = "") -> int:
    """Load Kolada KPI metadata (``/kpi`` JSON or the kpi.csv snapshot); rows written."""
    return upsert_indicators(engine, read_kpi_metadata(data, file=filename or None))


def import_municipality_groups(engine: Engine, data: bytes, filename: str = "") -> int:
    """Load Kolada municipality groups as peer groups (kinds ``skr``, ``similar``,
    ``kolada``); returns the number of groups created or changed."""
    groups = read_municipality_groups(data, file=filename or None)
    return upsert_peer_groups(engine, groups)


def organisation_codes(engine: Engine) -> list[str]:
    """Codes of all stored organisations, sorted."""
    with engine.connect() as conn:
        return sorted(conn.execute(select(organisations.c.code)).scalars())
