"""The job queue's SQL: enqueue, claim atomically, heartbeat, finish, reclaim.

Claiming is one statement: PostgreSQL picks the oldest queued job with
``SELECT ... FOR UPDATE SKIP LOCKED`` inside the ``UPDATE``, so concurrent workers
never wait for each other nor take the same job; SQLite runs the same single
``UPDATE ... RETURNING`` inside a ``BEGIN IMMEDIATE`` transaction, which already holds
the database's one write lock.  Every change of a running job names the worker that
holds it, so a worker whose job was taken over (it was presumed dead) can no longer
finish it: :func:`complete` then raises :class:`~tillit.core.errors.Conflict` and the
caller's transaction, with the job's own writes in it, rolls back.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from tillit.core.errors import Conflict, NotFound
from tillit.domain.jobs import Job
from tillit.store.tables import job_files, jobs

__all__ = [
    "claim",
    "complete",
    "enqueue",
    "fail",
    "file_of",
    "get",
    "heartbeat",
    "list_jobs",
    "reclaim_stale",
]


def enqueue(
    conn: Connection,
    kind: str,
    payload: dict[str, Any],
    *,
    owner_user_id: int | None = None,
    max_attempts: int = 3,
    file: tuple[str, bytes] | None = None,
) -> int:
    """Queue a job (with the bytes it works on); returns its id."""
    job_id = conn.execute(
        insert(jobs)
        .values(
            kind=kind,
            payload=json.dumps(payload, sort_keys=True),
            owner_user_id=owner_user_id,
            max_attempts=max_attempts,
        )
        .returning(jobs.c.id)
    ).scalar_one()
    if file is not None:
        conn.execute(
            insert(job_files).values(
                job_id=job_id, filename=file[0][:400], data=file[1]
            )
        )
    return int(job_id)


def get(conn: Connection, job_id: int) -> Job:
    """One job; NotFound when there is none with this id."""
    row = conn.execute(select(jobs).where(jobs.c.id == job_id)).first()
    if row is None:
        raise NotFound(f"no job {job_id}")
    return Job.from_row(dict(row._mapping))


def list_jobs(
    conn: Connection, *, owner_user_id: int | None = None, limit: int = 50
) -> list[Job]:
    """The newest jobs (of one owner), newest first."""
    stmt = select(jobs).order_by(jobs.c.id.desc()).limit(limit)
    if owner_user_id is not None:
        stmt = stmt.where(jobs.c.owner_user_id == owner_user_id)
    return [Job.from_row(dict(r._mapping)) for r in conn.execute(stmt)]


def file_of(conn: Connection, job_id: int) -> tuple[str, bytes] | None:
    """The file a job works on, or None."""
    row = conn.execute(
        select(job_files.c.filename, job_files.c.data).where(
            job_files.c.job_id == job_id
        )
    ).first()
    return None if row is None else (str(row[0]), bytes(row[1]))


def claim(
    conn: Connection, worker: str, now: datetime, kinds: Sequence[str] | None = None
) -> Job | None:
    """Take the oldest queued job (of ``kinds``) for ``worker``; None when none waits."""
    oldest = (
        select(jobs.c.id).where(jobs.c.status == "queued").order_by(jobs.c.id).limit(1)
    )
    if kinds is not None:
        oldest = oldest.where(jobs.c.kind.in_(list(kinds)))
    if conn.dialect.name == "postgresql":
        oldest = oldest.with_for_update(skip_locked=True)
    row = conn.execute(
        update(jobs)
        .where(jobs.c.id == oldest.scalar_subquery(), jobs.c.status == "queued")
        .values(
            status="running",
            worker=worker[:80],
            attempts=jobs.c.attempts + 1,
            started_at=now,
            heartbeat_at=now,
            error="",
        )
        .returning(*jobs.c)
    ).first()
    return None if row is None else Job.from_row(dict(row._mapping))


def heartbeat(
    conn: Connection,
    job_id: int,
    worker: str,
    now: datetime,
    *,
    done: int | None = None,
    total: int | None = None,
    message: str | None = None,
) -> bool:
    """Say the worker still runs the job (with its progress); False if it lost it."""
    values: dict[str, Any] = {"heartbeat_at": now}
    if done is not None:
        values["done"] = max(int(done), 0)
    if total is not None:
        values["total"] = max(int(total), 0)
    if message is not None:
        values["message"] = message[:200]
    res = conn.execute(
        update(jobs)
        .where(jobs.c.id == job_id, jobs.c.worker == worker, jobs.c.status == "running")
        .values(**values)
    )
    return res.rowcount == 1


def complete(
    conn: Connection,
    job_id: int,
    worker: str,
    now: datetime,
    result: dict[str, Any],
    *,
    done: int | None = None,
    total: int | None = None,
) -> None:
    """Mark the job done with its result (and last progress), in the caller's transaction.

    Raises
    ------
    Conflict
        When ``worker`` no longer holds the job (it was given to another worker after
        its heartbeat stopped): the caller's transaction must roll back.
    """
    res = conn.execute(
        update(jobs)
        .where(jobs.c.id == job_id, jobs.c.worker == worker, jobs.c.status == "running")
        .values(
            status="done",
            result=json.dumps(result, sort_keys=True, default=str),
            finished_at=now,
            heartbeat_at=now,
            message="",
            **({} if done is None else {"done": max(int(done), 0)}),
            **({} if total is None else {"total": max(int(total), 0)}),
        )
    )
    if res.rowcount != 1:
        raise Conflict(f"job {job_id} was taken over by another worker")
    conn.execute(delete(job_files).where(job_files.c.job_id == job_id))


def fail(
    conn: Connection,
    job_id: int,
    worker: str,
    now: datetime,
    error: str,
    *,
    retry: bool,
    details: dict[str, Any] | None = None,
) -> str:
    """Record a failed run: queued again (``retry`` and attempts left) or failed.

    ``details`` (the error's JSON shape: file, row, field) is kept as the result of a
    failed job.  Returns the new status ('' when the worker no longer held the job).
    """
    row = conn.execute(
        select(jobs.c.attempts, jobs.c.max_attempts).where(
            jobs.c.id == job_id, jobs.c.worker == worker, jobs.c.status == "running"
        )
    ).first()
    if row is None:
        return ""
    again = retry and row[0] < row[1]
    values: dict[str, Any] = {"error": error[:4000], "worker": "", "heartbeat_at": now}
    if details is not None and not again:
        values["result"] = json.dumps(details, sort_keys=True, default=str)
    values.update(
        {"status": "queued"} if again else {"status": "failed", "finished_at": now}
    )
    conn.execute(update(jobs).where(jobs.c.id == job_id).values(**values))
    if not again:
        conn.execute(delete(job_files).where(job_files.c.job_id == job_id))
    return "queued" if again else "failed"


def reclaim_stale(
    conn: Connection, cutoff: datetime, now: datetime
) -> tuple[list[int], list[int]]:
    """Running jobs whose heartbeat is older than ``cutoff``: their worker stopped.

    Jobs with attempts left are queued again; the others fail with a message saying
    so.  Returns ``(requeued, failed)`` job ids.
    """
    stale = (jobs.c.status == "running") & (jobs.c.heartbeat_at < cutoff)
    requeued = conn.execute(
        update(jobs)
        .where(stale, jobs.c.attempts < jobs.c.max_attempts)
        .values(
            status="queued",
            worker="",
            message="the worker running it stopped; queued again",
        )
        .returning(jobs.c.id)
    ).scalars()
    again = [int(i) for i in requeued]
    failed_ids = conn.execute(
        update(jobs)
        .where(stale)
        .values(
            status="failed",
            worker="",
            finished_at=now,
            error="the worker running it stopped on every attempt",
        )
        .returning(jobs.c.id)
    ).scalars()
    failed = [int(i) for i in failed_ids]
    if failed:
        conn.execute(delete(job_files).where(job_files.c.job_id.in_(failed)))
    return again, failed
