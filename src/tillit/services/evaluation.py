"""Following a registered pilot: re-run its pre-registered analysis as data arrives.

Flow
----
* an import commits -> :func:`on_new_data` queues a job (table ``eval_jobs``) for every
  registered pilot whose outcome indicators the batch touches, and :func:`kick` starts a
  background worker thread (one per engine and process) that drains the queue;
* a job (:func:`run_job`) reads the pilot's latest *registered* document, builds the
  panel from the store (:func:`build_panel`), runs the estimator the analysis plan names
  (:func:`evaluate_panel`), and stores a snapshot (``eval_snapshots``) with estimates and
  intervals per outcome, the event-study / synthetic-control / arm series, diagnostics,
  the verdict in Swedish and English, the batch ids used and the registry version;
* progress (queued / running x % / done / failed with the message) is in the job row.

Panel rules (also in ``docs/evaluation.md``): outcomes are the primary and secondary
outcomes; treated units and start years come from the registration's sites (the first
treated year is the start's year); sites with units give a unit-level panel, otherwise
the municipality panel (whole-year, gender ``T``); the comparison units are all other
units of the same level *except* those treated in any other registered pilot (and, for
municipality panels, municipalities with treated units in another pilot); a randomised
design with a recorded assignment uses exactly its treated and control lists.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, select

from tillit.core.errors import DataError, NotFound, PermissionDenied, TillitError
from tillit.domain import access
from tillit.domain.pilots import outcome_origins
from tillit.domain.records import Actor
from tillit.services import eval_analysis as analysis
from tillit.store.db import write_transaction
from tillit.store.pilots_tables import pilot_researchers, pilots, registry_entries
from tillit.store.results_tables import eval_jobs, eval_snapshots
from tillit.store.tables import indicators, observations, organisations, units

__all__ = [
    "build_panel",
    "enqueue",
    "job_status",
    "kick",
    "latest_snapshot",
    "on_new_data",
    "run_job",
    "run_pending",
    "snapshots",
    "wait_idle",
]

log = logging.getLogger(__name__)
_STALE = timedelta(minutes=15)


# --- reading the registration and the data -----------------------------------------------


def _registered(
    conn: Connection, pilot_id: int
) -> tuple[Any, dict[str, Any], int, list[Any]]:
    row = conn.execute(select(pilots).where(pilots.c.id == pilot_id)).first()
    if row is None:
        raise NotFound(f"no pilot with id {pilot_id}")
    docs = [
        json.loads(c)
        for c in conn.execute(
            select(registry_entries.c.content)
            .where(
                registry_entries.c.pilot_id == row.code,
                registry_entries.c.kind != "conclusion",
            )
            .order_by(registry_entries.c.seq)
        ).scalars()
    ]
    if not docs:
        raise DataError(f"pilot {row.code} is not registered: nothing to evaluate")
    return row, docs[-1], len(docs), docs


def _excluded(conn: Connection, code: str) -> tuple[set[str], set[str]]:
    """Organisations and unit codes treated by *other* registered pilots."""
    orgs: set[str] = set()
    unit_codes: set[str] = set()
    rows = conn.execute(
        select(pilots.c.code, pilots.c.document).where(
            pilots.c.status != "draft", pilots.c.code != code
        )
    ).all()
    for r in rows:
        doc = json.loads(r.document)
        for s in doc.get("sites", []):
            orgs.add(s["org"])
            if s.get("unit"):
                unit_codes.add(s["unit"])
        rnd = doc.get("randomisation") or {}
        for key in rnd.get("treated", []):
            unit_codes.add(str(key).split("/")[-1])
    return orgs, unit_codes


def _values(
    conn: Connection, ids: list[str], unit_level: bool, kind: str
) -> pd.DataFrame:
    o = observations.c
    if unit_level:
        stmt = (
            select(o.indicator_id, units.c.code.label("unit"), o.year, o.value,
                   o.batch_id, organisations.c.code.label("org"))
            .join(units, units.c.id == o.unit_id)
            .join(organisations, organisations.c.id == o.organisation_id)
            .where(o.unit_id != 0)
        )  # fmt: skip
    else:
        stmt = (
            select(o.indicator_id, organisations.c.code.label("unit"), o.year,
                   o.value, o.batch_id, organisations.c.code.label("org"))
            .join(organisations, organisations.c.id == o.organisation_id)
            .where(o.unit_id == 0, organisations.c.kind == kind)
        )  # fmt: skip
    stmt = stmt.where(
        o.indicator_id.in_(ids), o.month == 0, o.gender == "T", o.value.is_not(None)
    )
    cols = ["indicator", "unit", "year", "value", "batch_id", "org"]
    return pd.DataFrame.from_records(conn.execute(stmt).all(), columns=cols)


def build_panel(conn: Connection, code: str, doc: dict[str, Any]) -> dict[str, Any]:
    """The long panel of a registered document's outcomes, with treatment starts.

    Returns ``{"data": DataFrame[indicator, unit, year, value, batch_id, org],
    "starts": {unit: first treated year}, "controls": [units], "level": "unit" |
    "municipality"}``.
    """
    sites = doc.get("sites") or []
    if not sites:
        raise DataError("the registration names no sites", field="sites")
    rnd = doc.get("randomisation") or {}
    unit_level = any(s.get("unit") for s in sites)
    start_of = {
        (s["unit"] if unit_level else s["org"]): int(str(s["start"])[:4]) for s in sites
    }
    ids = list(doc["primary_outcomes"]) + list(doc["secondary_outcomes"])
    kind = conn.execute(
        select(organisations.c.kind).where(organisations.c.code == sites[0]["org"])
    ).scalar()
    data = _values(conn, ids, unit_level, str(kind or "municipality"))
    ex_orgs, ex_units = _excluded(conn, code)
    if unit_level and rnd.get("treated"):
        treated = {str(k).split("/")[-1] for k in rnd["treated"]}
        controls = {str(k).split("/")[-1] for k in rnd.get("control", [])}
        first = min(start_of.values())
        starts = {u: start_of.get(u, first) for u in treated}
    else:
        starts = start_of
        all_units = set(data["unit"].unique())
        if unit_level:
            bad = ex_units | set(data.loc[data["org"].isin(ex_orgs), "unit"])
        else:
            bad = ex_orgs
        controls = all_units - set(starts) - bad
    data = data[data["unit"].isin(set(starts) | controls)].reset_index(drop=True)
    if not set(starts) & set(data["unit"]):
        raise DataError(
            f"no data in the store for the treated sites of {code} on {', '.join(ids)}",
            field="outcomes",
        )
    return {
        "data": data,
        "starts": starts,
        "controls": sorted(controls),
        "level": "unit" if unit_level else "municipality",
    }


# --- one run ------------------------------------------------------------------------------


def _set_job(engine: Engine, job_id: int, **values: Any) -> None:
    with write_transaction(engine) as conn:
        conn.execute(
            eval_jobs.update().where(eval_jobs.c.id == job_id).values(**values)
        )


def _meta(conn: Connection, ids: list[str]) -> dict[str, dict[str, Any]]:
    rows = conn.execute(
        select(indicators.c.id, indicators.c.title, indicators.c.area,
               indicators.c.unit_of_measure, indicators.c.higher_is_better)
        .where(indicators.c.id.in_(ids))
    ).all()  # fmt: skip
    return {r.id: dict(r._mapping) for r in rows}


def evaluate_pilot(
    engine: Engine, pilot_id: int, progress: Any = None
) -> dict[str, Any]:
    """Run the pre-registered analysis of one pilot; returns the snapshot document."""
    with engine.connect() as conn:
        row, doc, version, docs = _registered(conn, pilot_id)
        panel = build_panel(conn, row.code, doc)
        ids = list(doc["primary_outcomes"]) + list(doc["secondary_outcomes"])
        meta = _meta(conn, ids)
    origins = {o.indicator: o for o in outcome_origins(docs)}
    seed = int(re.sub(r"\D", "", row.code) or 0) + 2016
    result = analysis.evaluate_panel(
        panel, doc, meta=meta, seed=seed, progress=progress
    )
    if all(o.get("estimate") is None for o in result["outcomes"]):
        errs = "; ".join(f"{o['indicator']}: {o['error']}" for o in result["outcomes"])
        raise DataError(f"no outcome could be estimated ({errs})")
    for out in result["outcomes"]:
        o = origins.get(out["indicator"])
        out["pre_registered"] = bool(o and o.pre_registered)
        out["added_in_version"] = o.added_in_version if o else version
    result.update(
        {
            "pilot": row.code,
            "registry_version": version,
            "batch_ids": sorted(int(b) for b in panel["data"]["batch_id"].unique()),
            "computed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    )
    return result


def run_job(engine: Engine, job_id: int) -> int | None:
    """Run one queued job; returns the snapshot id (None when it failed)."""
    with engine.connect() as conn:
        job = conn.execute(select(eval_jobs).where(eval_jobs.c.id == job_id)).first()
    if job is None:
        raise NotFound(f"no evaluation job {job_id}")
    _set_job(engine, job_id, status="running", progress=1,
             started_at=datetime.now(UTC), error="")  # fmt: skip

    def progress(done: int, total: int) -> None:
        pct = int(5 + 90 * done / max(total, 1))
        _set_job(engine, job_id, progress=pct)

    try:
        result = evaluate_pilot(engine, job.pilot_id, progress)
    except Exception as exc:
        msg = (
            str(exc) if isinstance(exc, TillitError) else f"{type(exc).__name__}: {exc}"
        )
        if not isinstance(exc, TillitError):
            log.exception("evaluation job %s failed", job_id)
        _set_job(engine, job_id, status="failed", error=msg[:2000],
                 finished_at=datetime.now(UTC))  # fmt: skip
        return None
    text = json.dumps(result, ensure_ascii=False, sort_keys=True, allow_nan=False)
    with write_transaction(engine) as conn:
        sid = conn.execute(  # type: ignore[index]
            eval_snapshots.insert().values(
                pilot_id=job.pilot_id, job_id=job_id,
                registry_version=result["registry_version"],
                estimator=result["estimator"],
                batch_ids=json.dumps(result["batch_ids"]), result=text,
            )
        ).inserted_primary_key[0]  # fmt: skip
        conn.execute(
            eval_jobs.update().where(eval_jobs.c.id == job_id).values(
                status="done", progress=100, snapshot_id=sid,
                finished_at=datetime.now(UTC))
        )  # fmt: skip
    return int(sid)


# --- the queue ----------------------------------------------------------------------------


def _pilot_id(conn: Connection, code: str) -> int:
    pid = conn.execute(select(pilots.c.id).where(pilots.c.code == code)).scalar()
    if pid is None:
        raise NotFound(f"no pilot {code!r}")
    return int(pid)


def enqueue(
    engine: Engine, code: str, trigger: str = "manual", actor: Actor | None = None
) -> int:
    """Queue a re-run of a registered pilot (returns the job id; reuses a queued one).

    With an ``actor``: only administrators, members of the pilot's organisation and
    researchers attached to it may ask for a re-run.
    """
    with write_transaction(engine) as conn:
        row = conn.execute(select(pilots).where(pilots.c.code == code)).first()
        if row is None:
            raise NotFound(f"no pilot {code!r}")
        if actor is not None and not _may_run(conn, actor, row):
            raise PermissionDenied(
                "only the pilot's organisation, its researchers and administrators "
                "may re-run its analysis"
            )
        if row.status == "draft":
            raise DataError(f"pilot {code} is a draft: register it before evaluating")
        queued = conn.execute(
            select(eval_jobs.c.id).where(
                eval_jobs.c.pilot_id == row.id, eval_jobs.c.status == "queued"
            )
        ).scalar()
        if queued is not None:
            return int(queued)
        return int(
            conn.execute(  # type: ignore[index]
                eval_jobs.insert().values(pilot_id=row.id, trigger=trigger[:80])
            ).inserted_primary_key[0]
        )


def _may_run(conn: Connection, actor: Actor, row: Any) -> bool:
    attached = set(
        conn.execute(
            select(pilot_researchers.c.user_id).where(
                pilot_researchers.c.pilot_id == row.id
            )
        ).scalars()
    )
    return access.may_run_evaluation(actor, row.organisation_id, attached)


def on_new_data(
    engine: Engine, batch_id: int | None, *, start: bool = True
) -> list[int]:
    """Queue re-runs of registered pilots whose outcomes the import batch touches.

    Called after an import commits. Only pilots in status ``registered`` are followed
    (concluded pilots keep their published result). Returns the job ids; with ``start``
    the background worker is kicked.
    """
    if batch_id is None:
        return []
    with engine.connect() as conn:
        rows = conn.execute(
            select(pilots.c.code, pilots.c.document).where(
                pilots.c.status == "registered"
            )
        ).all()
        if not rows:
            return []
        touched = set(
            conn.execute(
                select(observations.c.indicator_id)
                .where(observations.c.batch_id == batch_id)
                .distinct()
            ).scalars()
        )
    jobs = []
    for r in rows:
        doc = json.loads(r.document)
        outs = set(doc.get("primary_outcomes", [])) | set(
            doc.get("secondary_outcomes", [])
        )
        if outs & touched:
            jobs.append(enqueue(engine, r.code, f"import:{batch_id}"))
    if jobs and start:
        kick(engine)
    return jobs


def run_followed(ctx: Any) -> dict[str, Any]:
    """The job kind ``reevaluate`` (:mod:`tillit.services.jobs`): an import with new
    values for ``ctx.payload["batch_id"]`` queues re-runs of the pilots following its
    indicators, and this runs them."""
    queued = on_new_data(ctx.engine, ctx.payload.get("batch_id"), start=False)
    return {"queued": queued, "ran": run_pending(ctx.engine) if queued else []}


def run_pending(engine: Engine, limit: int = 100) -> list[int]:
    """Run queued jobs oldest first (stale ``running`` jobs are re-queued); job ids."""
    done: list[int] = []
    with write_transaction(engine) as conn:
        conn.execute(
            eval_jobs.update()
            .where(eval_jobs.c.status == "running",
                   eval_jobs.c.started_at < datetime.now(UTC) - _STALE)
            .values(status="queued")
        )  # fmt: skip
    for _ in range(limit):
        with write_transaction(engine) as conn:
            jid = conn.execute(
                select(eval_jobs.c.id)
                .where(eval_jobs.c.status == "queued")
                .order_by(eval_jobs.c.id)
                .limit(1)
            ).scalar()
            if jid is None:
                break
            claimed = conn.execute(
                eval_jobs.update()
                .where(eval_jobs.c.id == jid, eval_jobs.c.status == "queued")
                .values(status="running", started_at=datetime.now(UTC))
            ).rowcount
        if claimed != 1:  # another worker took it
            continue
        run_job(engine, int(jid))
        done.append(int(jid))
    return done


_workers: dict[int, threading.Thread] = {}
_lock = threading.Lock()


def guarded(fn: Any) -> Any:
    """``fn`` wrapped so that a background thread logs its failure instead of raising."""

    def run(*args: Any) -> None:
        try:
            fn(*args)
        except Exception:
            log.exception("evaluation worker stopped")

    return run


def _drain(engine: Engine) -> None:
    guarded(run_pending)(engine)


def kick(engine: Engine) -> threading.Thread:
    """Start the background worker for ``engine`` unless one is running; returns it."""
    with _lock:
        t = _workers.get(id(engine))
        if t is None or not t.is_alive():
            t = threading.Thread(
                target=_drain, args=(engine,), name="tillit-eval", daemon=True
            )
            _workers[id(engine)] = t
            t.start()
        return t


def wait_idle(engine: Engine, timeout: float = 120.0) -> bool:
    """Wait for the worker of ``engine`` (tests, CLI); True when it finished."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with _lock:
            t = _workers.get(id(engine))
        if t is None or not t.is_alive():
            return True
        t.join(0.1)
    return False


# --- reading results ----------------------------------------------------------------------


def job_status(engine: Engine, code: str) -> dict[str, Any] | None:
    """The pilot's latest job: status, progress, error, trigger, times (or None)."""
    with engine.connect() as conn:
        pid = _pilot_id(conn, code)
        row = conn.execute(
            select(eval_jobs).where(eval_jobs.c.pilot_id == pid)
            .order_by(eval_jobs.c.id.desc()).limit(1)
        ).first()  # fmt: skip
    return None if row is None else dict(row._mapping)


def snapshots(engine: Engine, code: str) -> list[dict[str, Any]]:
    """All snapshots of a pilot, oldest first (``result`` parsed)."""
    with engine.connect() as conn:
        pid = _pilot_id(conn, code)
        rows = conn.execute(
            select(eval_snapshots).where(eval_snapshots.c.pilot_id == pid)
            .order_by(eval_snapshots.c.id)
        ).all()  # fmt: skip
    out = []
    for r in rows:
        d = dict(r._mapping)
        d["result"] = json.loads(d["result"])
        d["batch_ids"] = json.loads(d["batch_ids"])
        out.append(d)
    return out


def latest_snapshot(engine: Engine, code: str) -> dict[str, Any] | None:
    """The newest snapshot of a pilot, or None."""
    with engine.connect() as conn:
        pid = _pilot_id(conn, code)
        row = conn.execute(
            select(eval_snapshots).where(eval_snapshots.c.pilot_id == pid)
            .order_by(eval_snapshots.c.id.desc()).limit(1)
        ).first()  # fmt: skip
    if row is None:
        return None
    d = dict(row._mapping)
    d["result"] = json.loads(d["result"])
    d["batch_ids"] = json.loads(d["batch_ids"])
    return d


def history(engine: Engine, code: str, indicator: str) -> list[dict[str, Any]]:
    """How one outcome's estimate moved over successive snapshots (data releases)."""
    out = []
    for k, s in enumerate(snapshots(engine, code), start=1):
        for o in s["result"]["outcomes"]:
            if o["indicator"] == indicator and o.get("estimate") is not None:
                out.append({"n": k, "snapshot": s["id"], "through": o.get("last_year"),
                            "batches": s["batch_ids"], "estimate": o["estimate"],
                            "ci_low": o["ci_low"], "ci_high": o["ci_high"]})  # fmt: skip
    return out


__all__ += ["evaluate_pilot", "guarded", "history", "run_followed"]
