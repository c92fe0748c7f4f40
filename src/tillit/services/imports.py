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
* **Nothing hidden.** A batch with new or changed values queues, in the same
  transaction, one ``reevaluate`` job (:mod:`tillit.services.jobs`) for the pilots that
  follow these indicators; the import itself starts no thread.  Uploads through the
  web (:func:`submit_upload`) are ``import`` jobs with a progress page; the CLI imports
  synchronously with its progress bar.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tillit.core.errors import DataError, PermissionDenied
from tillit.domain import access
from tillit.domain.records import Actor, Indicator, Unit
from tillit.services import jobs
from tillit.services.catalog import upsert_indicators_conn, upsert_units_conn
from tillit.services.import_checks import (
    check_indicators,
    check_own_rows,
    resolve_codes,
)
from tillit.sources.batch import dedupe_batch, diff_existing
from tillit.sources.frame import content_sha256, normalise_observations
from tillit.sources.kolada import KoladaClient
from tillit.sources.kolada_meta import indicators_from_records
from tillit.sources.readers import guess_format, kolada_entries_frame, read_observations
from tillit.store import bulk
from tillit.store import catalog as catalog_repo
from tillit.store import imports as repo
from tillit.store.db import Connection, Engine, read_transaction, write_transaction

__all__ = [
    "MAX_UPLOAD",
    "ImportReport",
    "fetch_kolada",
    "import_bytes",
    "import_file",
    "import_frame",
    "run_import_job",
    "submit_upload",
]

Progress = Callable[[int, int], None]
AfterWrite = Callable[[Connection, "ImportReport"], None]
KEY_COLUMNS = ("indicator_id", "organisation_id", "unit_id", "period", "gender")
MAX_UPLOAD = 50 * 1024 * 1024


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


def import_frame(
    engine: Engine,
    df: pd.DataFrame,
    *,
    source: str,
    filename: str = "",
    actor: Actor | None = None,
    progress: Progress | None = None,
    indicators_meta: Iterable[Indicator] | None = None,
    units_meta: Iterable[Unit] | None = None,
    after_write: AfterWrite | None = None,
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
    units_meta
        Organisational units to upsert in the same transaction (admins and system
        calls only), e.g. the units a Kolada fetch brings.
    after_write
        Called as ``after_write(conn, report)`` inside the import's transaction, before
        it commits (a job marks itself done there).

    Returns
    -------
    ImportReport
    """
    _check_role(actor)
    file = filename or None
    obs = normalise_observations(df, file=file)
    meta, unit_rows = list(indicators_meta or []), list(units_meta or [])
    if (meta or unit_rows) and actor is not None and not access.is_admin(actor):
        raise PermissionDenied("only an admin may add indicator or unit metadata")
    with write_transaction(engine, busy=bulk.BUSY, clash=bulk.CLASH) as conn:
        if meta:
            upsert_indicators_conn(conn, meta)
        if unit_rows:
            upsert_units_conn(conn, unit_rows)
        report = _import_checked(conn, obs, source, filename, actor, progress)
        if report.n_new or report.n_updated:
            jobs.submit_conn(conn, "reevaluate", {"batch_id": report.batch_id})
        if after_write is not None:
            after_write(conn, report)
    return report


def _import_checked(
    conn: Connection,
    obs: pd.DataFrame,
    source: str,
    filename: str,
    actor: Actor | None,
    progress: Progress | None,
) -> ImportReport:
    file = filename or None
    check_indicators(conn, obs, file)
    obs["_org_id"], obs["_unit_id"] = resolve_codes(conn, obs, file)
    obs = dedupe_batch(obs, file)
    org_id = obs["_org_id"].to_numpy(dtype=np.int64)
    check_own_rows(actor, obs, org_id)
    frame = pd.DataFrame(
        {
            "indicator_id": obs["indicator"],
            "organisation_id": org_id,
            "unit_id": obs["_unit_id"].to_numpy(dtype=np.int64),
            "period": obs["period"],
            "year": obs["year"],
            "month": obs["month"],
            "gender": obs["gender"],
            "value": obs["value"],
            "count": obs["count"],
            "status": obs["status"],
        }
    )
    return _write(conn, frame, content_sha256(obs), source, filename, actor, progress)


def _write(
    conn: Connection,
    frame: pd.DataFrame,
    sha: str,
    source: str,
    filename: str,
    actor: Actor | None,
    progress: Progress | None,
) -> ImportReport:
    orgs = np.unique(frame["organisation_id"]).tolist()
    old = bulk.existing_observations(
        conn,
        frame["indicator_id"].unique().tolist(),
        orgs if len(orgs) <= 500 else None,
    )
    new, upd, n_same = diff_existing(frame, old)
    dup = repo.batch_with_content(conn, sha)
    report = ImportReport(
        batch_id=dup,
        n_rows=len(frame),
        n_new=len(new),
        n_updated=len(upd),
        n_unchanged=n_same,
        duplicate_of=dup,
        source=source,
        filename=filename,
    )
    if len(new) == 0 and len(upd) == 0:
        return report
    batch_id = repo.insert_batch(
        conn,
        source=source,
        filename=filename,
        sha256=sha,
        n_rows=len(frame),
        n_new=len(new),
        n_updated=len(upd),
        n_unchanged=n_same,
        user_id=actor.user_id if actor else None,
        organisation_id=actor.organisation_id if actor else None,
    )
    total, done = len(new) + len(upd), 0

    def step(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, total)

    # key order makes the unique-index inserts sequential (several times faster)
    new = new.sort_values(list(KEY_COLUMNS), kind="stable").assign(batch_id=batch_id)
    with bulk.bulk_load(conn, len(new)):
        bulk.insert_observations(conn, new, step)
    bulk.update_observations(conn, upd.assign(batch_id=batch_id), step)
    return replace(report, batch_id=batch_id)


def import_bytes(
    engine: Engine,
    data: bytes,
    filename: str,
    *,
    fmt: str | None = None,
    actor: Actor | None = None,
    progress: Progress | None = None,
    indicators_meta: Iterable[Indicator] | None = None,
    after_write: AfterWrite | None = None,
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
        after_write=after_write,
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


# --- uploads as jobs --------------------------------------------------------------


def submit_upload(
    engine: Engine, actor: Actor, data: bytes, filename: str, fmt: str | None = None
) -> int:
    """Queue an uploaded file as an ``import`` job of ``actor``; returns the job id.

    The role is checked here (a researcher or the public gets ``PermissionDenied`` at
    once); the rows, including that a member's rows are their own organisation's,
    are checked when the job runs.
    """
    _check_role(actor)
    name = (filename or "upload")[-200:]
    if not data:
        raise DataError("the file is empty", file=name)
    if len(data) > MAX_UPLOAD:
        raise DataError("the file is larger than 50 MB", file=name)
    payload = {
        "filename": name,
        "fmt": fmt,
        "actor": {
            "role": actor.role,
            "user_id": actor.user_id,
            "username": actor.username,
            "organisation_id": actor.organisation_id,
        },
    }
    return jobs.submit(engine, "import", payload, actor=actor, file=(name, data))


def run_import_job(ctx: jobs.JobContext) -> dict[str, Any]:
    """The ``import`` job: import the uploaded file as its owner, report as result.

    The job is marked done inside the import's transaction, so a worker that dies
    half-way leaves neither the batch nor a finished job behind.
    """
    if ctx.file is None:
        raise DataError("the uploaded file of this job is gone")
    name, data = ctx.file
    actor = Actor(**ctx.payload["actor"])

    def progress(done: int, total: int) -> None:
        ctx.progress(done, total, "writing rows")

    def finish(conn: Connection, report: ImportReport) -> None:
        ctx.complete(conn, report.to_dict())

    ctx.progress(0, 0, "checking the file")
    report = import_bytes(
        ctx.engine,
        data,
        name,
        fmt=ctx.payload.get("fmt"),
        actor=actor,
        progress=progress,
        after_write=finish,
    )
    return report.to_dict()


# --- the Kolada API ---------------------------------------------------------------


def _known_indicator_ids(engine: Engine, ids: Iterable[str]) -> set[str]:
    with read_transaction(engine) as conn:
        return catalog_repo.indicator_ids(conn, ids)


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
    organisational units (``ous``) their metadata is fetched (``/ou/{ids}``); both are
    stored in the import's own transaction, so a failed fetch or import stores none. ``on_page(pages, rows)`` reports download progress.

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
    unit_rows = [
        Unit(
            code=str(u["id"]),
            name=str(u.get("title") or u["id"])[:200],
            organisation_code=str(u.get("municipality", "")),
        )
        for u in (client.ou_metadata(list(ous)) if ous else [])
    ]
    if ous:
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
        units_meta=unit_rows,
    )
