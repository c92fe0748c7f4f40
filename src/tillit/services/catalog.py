"""The catalog: organisations, units, indicators and peer groups (idempotent upserts).

Every public function takes an :class:`~tillit.store.db.Engine`, runs in one
transaction and returns how many rows it inserted or changed (0 when everything was
already as given), so running it twice is harmless.  The ``*_conn`` variants run inside
a transaction the caller owns.  The SQL is in :mod:`tillit.store.catalog`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict
from datetime import date

import pandas as pd

from tillit.core.errors import DataError, PermissionDenied
from tillit.domain import access
from tillit.domain.direction import MAX_SOURCE, parse_direction
from tillit.domain.geography import geography
from tillit.domain.records import Actor, Indicator, Unit
from tillit.sources.kolada_meta import read_kpi_metadata, read_municipality_groups
from tillit.store import catalog as repo
from tillit.store import followup as reads
from tillit.store.db import Connection, Engine, read_transaction, write_transaction

__all__ = [
    "geography_peer_groups",
    "import_kpi_metadata",
    "import_municipality_groups",
    "organisation_codes",
    "seed_geography",
    "set_direction",
    "upsert_indicators",
    "upsert_indicators_conn",
    "upsert_peer_groups",
    "upsert_units",
    "upsert_units_conn",
]

Groups = Mapping[str, tuple[str, str, list[str]]]


def upsert_indicators_conn(conn: Connection, rows: Iterable[Indicator]) -> int:
    """:func:`upsert_indicators` inside an open transaction."""
    dicts = list({r.id: asdict(r) for r in rows}.values())  # last row wins
    for d in dicts:
        if not d["id"] or not d["title"]:
            raise DataError(
                f"indicator {d['id']!r} needs an id and a title", field="title"
            )
        if len(d["direction_source"]) > MAX_SOURCE:
            raise DataError(
                f"indicator {d['id']!r}: at most {MAX_SOURCE} characters",
                field="direction_source",
            )
    return repo.upsert_indicators(conn, dicts)


def upsert_indicators(engine: Engine, rows: Iterable[Indicator]) -> int:
    """Insert or update indicator metadata by id; return rows inserted or changed.

    A record's direction is stored only with its ``direction_source``; a record
    without one leaves the stored direction alone.
    """
    with write_transaction(engine) as conn:
        return upsert_indicators_conn(conn, rows)


def set_direction(
    engine: Engine, actor: Actor, indicator_id: str, direction: str, source: str
) -> None:
    """An administrator records which way an indicator is better, and who says so.

    ``direction`` is ``higher``, ``lower``, ``neither`` or ``unknown`` (which clears
    it); every known direction needs a source (a document, a law, a board decision).
    The administrator's name and the date are added to the source.
    """
    if not access.may_set_direction(actor):
        raise PermissionDenied("only an administrator may set an indicator's direction")
    hib, known = parse_direction(direction)
    source = " ".join(source.split())
    if known and not source:
        raise DataError("say who says so (a document or a decision)", field="source")
    stamp = f" ({actor.username or 'admin'}, {date.today().isoformat()})"
    text = source[: MAX_SOURCE - len(stamp)] + stamp if known else ""
    with write_transaction(engine) as conn:
        repo.set_direction(conn, indicator_id, hib, text)


def upsert_units_conn(conn: Connection, rows: Iterable[Unit]) -> int:
    """:func:`upsert_units` inside an open transaction."""
    rows = list(rows)
    ids = repo.organisation_ids(conn, (u.organisation_code for u in rows))
    dicts: dict[str, dict[str, object]] = {}
    for n, u in enumerate(rows, start=1):
        if u.organisation_code not in ids:
            raise DataError(
                f"unknown organisation {u.organisation_code!r} for unit {u.code!r}",
                row=n,
                field="organisation_code",
            )
        dicts[u.code] = {
            "code": u.code,
            "name": u.name,
            "organisation_id": ids[u.organisation_code],
            "kind": u.kind,
        }
    return repo.upsert_units(conn, list(dicts.values()))


def upsert_units(engine: Engine, rows: Iterable[Unit]) -> int:
    """Insert or update organisational units; the organisation is given by its code.

    Raises
    ------
    DataError
        When a unit's organisation code is unknown.
    """
    with write_transaction(engine) as conn:
        return upsert_units_conn(conn, rows)


def _write_groups(conn: Connection, groups: Groups, *, keep_titles: bool) -> int:
    codes = {c for _t, _k, members in groups.values() for c in members}
    ids = repo.organisation_ids(conn, codes)
    unknown = sorted(codes - ids.keys())
    if unknown:
        raise DataError(
            f"unknown organisation code(s) in peer groups: {', '.join(unknown[:5])}",
            field="member",
        )
    return repo.write_peer_groups(conn, groups, ids, keep_titles=keep_titles)


def upsert_peer_groups(engine: Engine, groups: Groups) -> int:
    """Create or update peer groups: group id -> (title, kind, member org codes).

    The member list replaces the stored one. Returns the number of groups whose title,
    kind or membership changed.
    """
    with write_transaction(engine) as conn:
        return _write_groups(conn, groups, keep_titles=False)


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
        repo.upsert_organisations(conn, rows)
        # Kolada's own titles for the SKR groups (tillit kolada metadata) are kept
        _write_groups(conn, geography_peer_groups(geo), keep_titles=True)


def import_kpi_metadata(engine: Engine, data: bytes, filename: str = "") -> int:
    """Load Kolada KPI metadata (``/kpi`` JSON or the kpi.csv snapshot); rows written.

    Kolada's metadata says nothing about direction: stored directions stay.
    """
    return upsert_indicators(engine, read_kpi_metadata(data, file=filename or None))


def import_municipality_groups(engine: Engine, data: bytes, filename: str = "") -> int:
    """Load Kolada municipality groups as peer groups (kinds ``skr``, ``similar``,
    ``kolada``); returns the number of groups created or changed."""
    groups = read_municipality_groups(data, file=filename or None)
    return upsert_peer_groups(engine, groups)


def organisation_codes(engine: Engine) -> list[str]:
    """Codes of all stored organisations, sorted."""
    with read_transaction(engine) as conn:
        return reads.organisation_codes(conn)
