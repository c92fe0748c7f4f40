"""Import observations: validate everything, then write the whole batch in one transaction.

Rules (also in docs/import.md)
------------------------------
* **Validation first.** Every row is checked (codes, period, gender, value, count, status,
  known indicator, organisation and unit, role) before anything is written; the first bad
  row is reported as a :class:`~tillit.core.errors.DataError` naming file, row and field.
* **One transaction.** The batch record and all its observations are written together; an
  error or a killed process leaves the database as it was.
* **Natural key.** An observation is identified by (indicator, organisation, unit, period,
  gender). Within one batch a key may appear twice only with identical content; a
  conflicting duplicate is a DataError naming both rows.
* **Idempotent.** A row whose key exists with the same value, count and status is
  *unchanged* and not rewritten. A row whose key exists with a different value is
  *updated*: the new value replaces the old and the row then points to the new batch.
  A batch with nothing new and nothing updated writes nothing (no batch record); its
  report has ``batch_id`` of the earlier batch with the same content hash (also in
  ``duplicate_of``), or ``None`` when no identical batch exists.
* **Roles.** ``actor=None`` is a trusted system call (CLI, demo loader). An ``admin`` may
  import anything; a ``member`` only rows of their own organisation and its units; other
  roles (``researcher``, ``public``) may not import.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psycopg
from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError

from tillit.core.errors import Conflict, DataError, PermissionDenied
from tillit.domain import access
from tillit.domain.records import Actor, Indicator, Unit
from tillit.services.catalog import upsert_indicators_conn, upsert_units
from tillit.sources.batch import dedupe_batch, diff_existing
from tillit.sources.frame import (
    content_sha256,
    first_bad,
    normalise_observations,
    row_label,
    source_field,
)
from tillit.sources.kolada import KoladaClient
from tillit.sources.kolada_meta import indicators_from_records
from tillit.sources.readers import (
    guess_format,
    kolada_entries_frame,
    read_observations,
)
from tillit.store.bulk import (
    bulk_load,
    existing_observations,
    insert_observations,
    update_observations,
)
from tillit.store.db import write_transaction
from tillit.store.tables import import_batches, indicators, organisations, units

__all__ = [
    "ImportReport",
    "fetch_kolada",
    "import_bytes",
    "import_file",
    "import_frame",
]

Progress = Callable[[int, int], None]
KEY_COLUMNS = ("indicator_id", "organisation_id", "unit_id", "period", "gender")


@dataclass(frozen=True)
class ImportReport:
    """What an import did.

    Attributes
    ----------
    batch_id
        The new batch, or (when nothing was written) the earlier identical batch or None.
    n_rows
        Distinct observations in the input.
    n_new, n_updated, n_unchanged
        Rows inserted, rows whose value changed, rows already stored as given.
    duplicate_of
        The earlier batch with the same content hash, if any.
    """

    batch_id: int | None
    n_rows: int
    n_new: int
    n_updated: int
    n_unchanged: int
    duplicate_of: int | None = None
    source: str = ""
    filename: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Stable JSON keys."""
        return {
            "batch_id": self.batch_id,
            "n_rows": self.n_rows,
            "n_new": self.n_new,
            "n_updated": self.n_updated,
            "n_unchanged": self.n_unchanged,
            "duplicate_of": self.duplicate_of,
            "source": self.source,
            "filename": self.filename,
        }

    def summary(self) -> str:
        """One line for people."""
        dup = (
            f" (same content as batch {self.duplicate_of})"
            if self.duplicate_of is not None
            else ""
        )
        return (
            f"{self.n_rows} rows: {self.n_new} new, {self.n_updated} updated, "
            f"{self.n_unchanged} unchanged; batch {self.batch_id}{dup}"
        )


def _check_role(actor: Actor | None) -> None:
    if actor is not None and not access.may_import(actor):
        raise PermissionDenied(f"role '{actor.role}' may not import data")


def _resolve(
    conn: Connection, obs: pd.DataFrame, file: str | None
) -> tuple[np.ndarray, np.ndarray]:
    """Organisation and unit ids per row; DataError for the first unknown code."""
    unit_codes = [c for c in obs["unit_code"].unique() if c]
    urows: list[Any] = []
    for k in range(0, len(unit_codes), 500):
        urows += conn.execute(
            select(units.c.code, units.c.id, organisations.c.code)
            .join(organisations, organisations.c.id == units.c.organisation_id)
            .where(units.c.code.in_(unit_codes[k : k + 500]))
        ).all()
    unit_id = {c: i for c, i, _o in urows}
    unit_org = {c: o for c, _i, o in urows}
    has_unit = (obs["unit_code"] != "").to_numpy()
    bad = has_unit & ~obs["unit_code"].isin(unit_id.keys()).to_numpy()
    _raise_first(bad, obs, file, "unit_code", lambda c: f"unknown unit {c!r}")
    owner_s = obs["unit_code"].map(unit_org).astype(object)
    owner = owner_s.where(owner_s.notna(), "").to_numpy(dtype=object)
    org = obs["org_code"].to_numpy(dtype=object)
    clash = has_unit & (org != "") & (org != owner)
    i = first_bad(clash)
    if i is not None:
        raise DataError(
            f"unit {obs['unit_code'].iat[i]!r} belongs to organisation {owner[i]!r}, "
            f"not {org[i]!r}",
            file=file,
            row=row_label(obs, i),
            field=source_field(obs, "org_code"),
        )
    org = np.where(org == "", owner, org)
    obs["org_code"] = pd.Series(org, index=obs.index, dtype=object)
    known = dict(conn.execute(select(organisations.c.code, organisations.c.id)).all())
    bad = ~obs["org_code"].isin(known.keys()).to_numpy()
    _raise_first(bad, obs, file, "org_code", _unknown_org_message(known))
    org_id = obs["org_code"].map(known).to_numpy(dtype=np.int64)
    uid = obs["unit_code"].map(unit_id).fillna(0).to_numpy(dtype=np.int64)
    return org_id, uid


def _unknown_org_message(known: dict[str, int]) -> Callable[[str], str]:
    def msg(code: str) -> str:
        hint = ""
        if code.isdigit() and len(code) < 4 and code.zfill(4) in known:
            hint = f" (did a spreadsheet drop the leading zero of {code.zfill(4)}?)"
        elif not known:
            hint = " (the database has no organisations: run `tillit db seed`)"
        return f"unknown municipality or organisation {code!r}{hint}"

    return msg


def _raise_first(
    bad: np.ndarray,
    obs: pd.DataFrame,
    file: str | None,
    field: str,
    message: Callable[[str], str],
) -> None:
    i = first_bad(bad)
    if i is not None:
        col = "indicator" if field == "indicator" else field
        raise DataError(
            message(str(obs[col].iat[i])),
            file=file,
            row=row_label(obs, i),
            field=source_field(obs, field),
        )


def _known_indicators(conn: Connection, obs: pd.DataFrame, file: str | None) -> None:
    ids = list(obs["indicator"].unique())
    known: set[str] = set()
    for k in range(0, len(ids), 500):
        known |= set(
            conn.execute(
                select(indicators.c.id).where(indicators.c.id.in_(ids[k : k + 500]))
            ).scalars()
        )
    bad = ~obs["indicator"].isin(known).to_numpy()
    _raise_first(
        bad,
        obs,
        file,
        "indicator",
        lambda c: (
            f"unknown indicator {c!r}: load its metadata first "
            "(tillit import --metadata kpi.csv, or tillit kolada metadata)"
        ),
    )


def import_frame(
    engine: Engine,
    df: pd.DataFrame,
    *,
    source: str,
    filename: str = "",
    actor: Actor | None = None,
    progress: Progress | None = None,
    indicators_meta: Iterable[Indicator] | None = None,
) -> ImportReport:
    """Validate and import a table of observations as one batch.

    Parameters
    ----------
    engine
        Database.
    df
        Columns ``indicator, org_code, unit_code, period, gender, value`` and optional
        ``count``, ``status`` (see :func:`~tillit.sources.frame.normalise_observations`).
    source
        ``csv``, ``kolada-json``, ``kolada-api``, ``demo`` ...
    filename
        Recorded with the batch and named in errors.
    actor
        Who imports; None for a trusted system call.
    progress
        Called as ``progress(done, total)`` while rows are written.
    indicators_meta
        Indicator metadata to upsert in the same transaction (admins and system calls only),
        so that a file may bring its own indicators.

    Returns
    -------
    ImportReport
    """
    _check_role(actor)
    file = filename or None
    obs = normalise_observations(df, file=file)
    meta = list(indicators_meta or [])
    try:
        report = _import_checked(engine, obs, meta, source, filename, actor, progress)
    except (OperationalError, sqlite3.OperationalError) as exc:
        if "locked" not in str(exc).lower():
            raise
        raise Conflict(
            "the database is busy with another import; try again in a moment"
        ) from exc
    except (IntegrityError, sqlite3.IntegrityError, psycopg.IntegrityError) as exc:
        # the natural key was checked before writing: a concurrent import got there first
        raise Conflict(
            "another import wrote some of these observations at the same time; "
            "import the file again"
        ) from exc
    if report.n_new or report.n_updated:  # followed pilots re-run on new data (#5)
        from tillit.services.evaluation import on_new_data

        on_new_data(engine, report.batch_id)
    return report


def _import_checked(
    engine: Engine,
    obs: pd.DataFrame,
    meta: list[Indicator],
    source: str,
    filename: str,
    actor: Actor | None,
    progress: Progress | None,
) -> ImportReport:
    file = filename or None
    with write_transaction(engine) as conn:
        if meta:
            if actor is not None and not actor.is_admin:
                raise PermissionDenied("only an admin may add indicator metadata")
            upsert_indicators_conn(conn, meta)
        _known_indicators(conn, obs, file)
        obs["_org_id"], obs["_unit_id"] = _resolve(conn, obs, file)
        obs = dedupe_batch(obs, file)
        org_id = obs["_org_id"].to_numpy(dtype=np.int64)
        unit_id = obs["_unit_id"].to_numpy(dtype=np.int64)
        if actor is not None and not actor.is_admin:
            foreign = org_id != (actor.organisation_id or -1)
            i = first_bad(foreign)
            if i is not None:
                raise PermissionDenied(
                    f"you may import data only for your own organisation; row "
                    f"{row_label(obs, i)} is for {obs['org_code'].iat[i]!r}"
                )
        return _write(conn, obs, org_id, unit_id, source, filename, actor, progress)


def _write(
    conn: Connection,
    obs: pd.DataFrame,
    org_id: np.ndarray,
    unit_id: np.ndarray,
    source: str,
    filename: str,
    actor: Actor | None,
    progress: Progress | None,
) -> ImportReport:
    sha = content_sha256(obs)
    frame = pd.DataFrame(
        {
            "indicator_id": obs["indicator"],
            "organisation_id": org_id,
            "unit_id": unit_id,
            "period": obs["period"],
            "year": obs["year"],
            "month": obs["month"],
            "gender": obs["gender"],
            "value": obs["value"],
            "count": obs["count"],
            "status": obs["status"],
        }
    )
    orgs = np.unique(org_id).tolist()
    old = existing_observations(
        conn,
        frame["indicator_id"].unique().tolist(),
        orgs if len(orgs) <= 500 else None,
    )
    new, upd, n_same = diff_existing(frame, old)
    dup = conn.execute(
        select(import_batches.c.id)
        .where(import_batches.c.sha256 == sha)
        .order_by(import_batches.c.id)
        .limit(1)
    ).scalar()
    if len(new) == 0 and len(upd) == 0:
        return ImportReport(
            batch_id=dup,
            n_rows=len(frame),
            n_new=0,
            n_updated=0,
            n_unchanged=n_same,
            duplicate_of=dup,
            source=source,
            filename=filename,
        )
    batch_id = conn.execute(
        insert(import_batches)
        .values(
            source=source,
            filename=filename[:400],
            sha256=sha,
            n_rows=len(frame),
            n_new=len(new),
            n_updated=len(upd),
            n_unchanged=n_same,
            user_id=actor.user_id if actor else None,
            organisation_id=actor.organisation_id if actor else None,
        )
        .returning(import_batches.c.id)
    ).scalar_one()
    total, done = len(new) + len(upd), 0

    def step(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, total)

    # key order makes the unique-index inserts sequential (several times faster)
    new = new.sort_values(list(KEY_COLUMNS), kind="stable").assign(batch_id=batch_id)
    upd = upd.assign(batch_id=batch_id)
    with bulk_load(conn, len(new)):
        insert_observations(conn, new, step)
    update_observations(conn, upd, step)
    return ImportReport(
        batch_id=batch_id,
        n_new=len(new),
        n_updated=len(upd),
        n_unchanged=n_same,
        duplicate_of=dup,
        n_rows=len(frame),
        source=source,
        filename=filename,
    )


def import_bytes(
    engine: Engine,
    data: bytes,
    filename: str,
    *,
    fmt: str | None = None,
    actor: Actor | None = None,
    progress: Progress | None = None,
    indicators_meta: Iterable[Indicator] | None = None,
) -> ImportReport:
    """Import an uploaded file's bytes; ``fmt`` ``csv`` or ``kolada-json`` (guessed if None)."""
    _check_role(actor)
    fmt = fmt or guess_format(filename, data)
    df = read_observations(data, fmt, filename=filename)
    return import_frame(
        engine,
        df,
        source=fmt,
        filename=filename,
        actor=actor,
        progress=progress,
        indicators_meta=indicators_meta,
    )


def import_file(
    engine: Engine,
    path: str | Path,
    *,
    fmt: str | None = None,
    actor: Actor | None = None,
    progress: Progress | None = None,
    indicators_meta: Iterable[Indicator] | None = None,
) -> ImportReport:
    """Import a file from disk; ``fmt`` ``csv`` or ``kolada-json`` (guessed if None)."""
    p = Path(path)
    if not p.is_file():
        raise DataError("file not found", file=str(p))
    return import_bytes(
        engine,
        p.read_bytes(),
        str(p),
        fmt=fmt,
        actor=actor,
        progress=progress,
        indicators_meta=indicators_meta,
    )


def _known_indicator_ids(engine: Engine, ids: Iterable[str]) -> set[str]:
    wanted = list(ids)
    with engine.connect() as conn:
        return set(
            conn.execute(
                select(indicators.c.id).where(indicators.c.id.in_(wanted))
            ).scalars()
        )


def fetch_kolada(
    engine: Engine,
    client: KoladaClient,
    *,
    kpis: Sequence[str],
    municipalities: Sequence[str] | None = None,
    ous: Sequence[str] | None = None,
    years: Sequence[int] | range,
    actor: Actor | None = None,
    progress: Progress | None = None,
    on_page: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Fetch values from the Kolada API and import them as one batch.

    KPI metadata missing from the database is fetched first (``/kpi/{ids}``); for
    organisational units (``ous``) their metadata is fetched (``/ou/{ids}``) and stored
    as units. ``on_page(pages, rows)`` reports download progress.

    Raises
    ------
    KoladaUnavailable
        When the API cannot be reached (it needs the network).
    """
    _check_role(actor)
    kpis = [k.strip().upper() for k in kpis if k.strip()]
    if not kpis:
        raise DataError("give at least one KPI id (--kpi N00945)", field="kpi")
    missing = sorted(set(kpis) - _known_indicator_ids(engine, kpis))
    meta = indicators_from_records(client.kpis(missing)) if missing else []
    if ous:
        unit_rows = client._values(f"ou/{','.join(ous)}")
        upsert_units(
            engine,
            [
                Unit(
                    code=str(u["id"]),
                    name=str(u.get("title") or u["id"])[:200],
                    organisation_code=str(u.get("municipality", "")),
                )
                for u in unit_rows
            ],
        )
        pages = client.ou_values(kpis, list(ous), years)
    else:
        pages = client.values(kpis, municipalities, years)
    frames, offset, n = [], 0, 0
    for k, entries in enumerate(pages, start=1):
        df = kolada_entries_frame(entries, file="Kolada API")
        df["_e"] += offset
        offset += len(entries)
        n += len(df)
        frames.append(df)
        if on_page:
            on_page(k, n)
    df = pd.concat(frames, ignore_index=True) if frames else kolada_entries_frame([])
    label = f"kolada:{','.join(kpis)}:{min(years, default='')}-{max(years, default='')}"
    return import_frame(
        engine,
        df,
        source="kolada-api",
        filename=label,
        actor=actor,
        progress=progress,
        indicators_meta=meta,
    )
