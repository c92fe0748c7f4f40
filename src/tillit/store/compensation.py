"""The compensation area's repository: the model register, saved runs, indicator values.

Every function takes a :class:`~sqlalchemy.Connection` inside the caller's transaction
(services open it) and returns plain values, dicts or DataFrames; key clashes become
:class:`~tillit.core.errors.Conflict`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Connection, and_, delete, func, insert, select, tuple_
from sqlalchemy.exc import IntegrityError

from tillit.core.errors import Conflict, NotFound
from tillit.store.tables import (
    compensation_register,
    compensation_runs,
    indicators,
    observations,
    organisations,
)

__all__ = [
    "REGISTER_FRAME",
    "delete_demo_register",
    "existing_indicators",
    "get_run",
    "municipal_values",
    "organisation",
    "organisation_code",
    "organisation_ids",
    "register_frame",
    "replace_register",
    "save_run",
]

REGISTER_FRAME = [
    "municipality", "municipality_name", "year", "name", "basis", "rate_day_kr",
    "goal_related", "covers", "source", "note", "is_demo",
]  # fmt: skip


def organisation_ids(conn: Connection, codes: Iterable[str]) -> dict[str, int]:
    """``code -> id`` of the organisations among ``codes`` that exist."""
    wanted = sorted(set(codes))
    out: dict[str, int] = {}
    for k in range(0, len(wanted), 500):
        rows = conn.execute(
            select(organisations.c.code, organisations.c.id).where(
                organisations.c.code.in_(wanted[k : k + 500])
            )
        ).all()
        out.update({str(c): int(i) for c, i in rows})
    return out


def organisation_code(conn: Connection, organisation_id: int) -> str:
    """The code of organisation ``organisation_id`` (NotFound if none)."""
    code = conn.execute(
        select(organisations.c.code).where(organisations.c.id == organisation_id)
    ).scalar()
    if code is None:
        raise NotFound(f"no organisation {organisation_id}")
    return str(code)


def organisation(conn: Connection, code: str) -> dict[str, Any]:
    """``id, code, name, kind, skr_group`` of one organisation."""
    row = conn.execute(
        select(
            organisations.c.id,
            organisations.c.code,
            organisations.c.name,
            organisations.c.kind,
            organisations.c.skr_group,
        ).where(organisations.c.code == code)
    ).first()
    if row is None:
        raise NotFound(f"no organisation with code {code!r}")
    return {"id": int(row[0]), "code": str(row[1]), "name": str(row[2]),
            "kind": str(row[3]), "skr_group": row[4] or ""}  # fmt: skip


def replace_register(
    conn: Connection,
    rows: Sequence[dict[str, Any]],
    *,
    user_id: int | None,
    is_demo: bool = False,
) -> tuple[int, int]:
    """Write register rows (``organisation_id`` and the entry's fields), replacing rows
    with the same organisation, year and name; returns ``(written, replaced)``."""
    if not rows:
        return 0, 0
    keys = [(r["organisation_id"], r["year"], r["name"]) for r in rows]
    c = compensation_register.c
    replaced = 0
    for k in range(0, len(keys), 300):
        part = keys[k : k + 300]
        res = conn.execute(
            delete(compensation_register).where(
                tuple_(c.organisation_id, c.year, c.name).in_(part)
            )
        )
        replaced += int(res.rowcount or 0)
    values = [{**r, "user_id": user_id, "is_demo": is_demo} for r in rows]
    try:
        conn.execute(insert(compensation_register), values)
    except IntegrityError as exc:
        raise Conflict(
            "another import wrote the same register rows at the same time; try again"
        ) from exc
    return len(values), replaced


def delete_demo_register(conn: Connection) -> int:
    """Remove the demo rows of the register; returns how many."""
    res = conn.execute(
        delete(compensation_register).where(compensation_register.c.is_demo.is_(True))
    )
    return int(res.rowcount or 0)


def register_frame(
    conn: Connection,
    *,
    codes: Iterable[str] | None = None,
    years: tuple[int, int] | None = None,
) -> pd.DataFrame:
    """Register rows with the municipality's code and name (:data:`REGISTER_FRAME`)."""
    r, o = compensation_register.c, organisations.c
    stmt = (
        select(
            o.code,
            o.name,
            r.year,
            r.name,
            r.basis,
            r.rate_day_kr,
            r.goal_related,
            r.covers,
            r.source,
            r.note,
            r.is_demo,
        )
        .join(organisations, organisations.c.id == r.organisation_id)
        .order_by(o.code, r.year, r.name)
    )
    if codes is not None:
        stmt = stmt.where(o.code.in_(sorted(set(codes))))
    if years is not None:
        stmt = stmt.where(r.year.between(years[0], years[1]))
    df = pd.DataFrame.from_records(conn.execute(stmt).all(), columns=REGISTER_FRAME)
    df["goal_related"] = df["goal_related"].astype(bool)
    df["is_demo"] = df["is_demo"].astype(bool)
    return df


def existing_indicators(conn: Connection, ids: Iterable[str]) -> set[str]:
    """The ids among ``ids`` that are in the indicator store."""
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    return set(
        conn.execute(
            select(indicators.c.id).where(indicators.c.id.in_(wanted))
        ).scalars()
    )


def municipal_values(
    conn: Connection,
    indicator_ids: Sequence[str],
    *,
    codes: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Yearly whole-municipality values (gender T): ``municipality, year, kpi, value``."""
    o, ob = organisations.c, observations.c
    stmt = (
        select(o.code, ob.year, ob.indicator_id, ob.value)
        .join(organisations, o.id == ob.organisation_id)
        .where(
            and_(
                ob.indicator_id.in_(list(indicator_ids)),
                ob.unit_id == 0,
                ob.month == 0,
                ob.gender == "T",
                o.kind == "municipality",
                ob.value.is_not(None),
            )
        )
    )
    if codes is not None:
        stmt = stmt.where(o.code.in_(sorted(set(codes))))
    return pd.DataFrame.from_records(
        conn.execute(stmt).all(), columns=["municipality", "year", "kpi", "value"]
    )


def save_run(
    conn: Connection,
    *,
    organisation_id: int | None,
    title: str,
    spec: dict[str, Any],
    population: dict[str, Any],
    result: dict[str, Any],
    draws: int,
    seed: int,
    user_id: int | None,
) -> int:
    """Store a simulation run; returns its id."""
    key = conn.execute(
        insert(compensation_runs).values(
            organisation_id=organisation_id, title=title[:200],
            spec=json.dumps(spec, ensure_ascii=False), population=json.dumps(population, ensure_ascii=False),
            result=json.dumps(result, ensure_ascii=False, allow_nan=False), draws=draws, seed=seed,
            user_id=user_id,
        )
    ).inserted_primary_key  # fmt: skip
    return int(key[0]) if key is not None else 0


def get_run(conn: Connection, run_id: int) -> dict[str, Any]:
    """One saved run (``spec``, ``population``, ``result`` parsed)."""
    if not 0 < run_id < 2**31:
        raise NotFound(f"no simulation run {run_id}")
    r = compensation_runs.c
    row = conn.execute(
        select(
            r.id,
            r.organisation_id,
            r.title,
            r.spec,
            r.population,
            r.result,
            r.draws,
            r.seed,
            r.user_id,
            func.coalesce(organisations.c.code, ""),
        )
        .outerjoin(organisations, organisations.c.id == r.organisation_id)
        .where(r.id == run_id)
    ).first()
    if row is None:
        raise NotFound(f"no simulation run {run_id}")
    return {
        "id": int(row[0]), "organisation_id": row[1], "title": row[2],
        "spec": json.loads(row[3]), "population": json.loads(row[4]),
        "result": json.loads(row[5]), "draws": int(row[6]), "seed": int(row[7]),
        "user_id": row[8], "organisation_code": row[9],
    }  # fmt: skip
