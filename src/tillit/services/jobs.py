"""The background job queue: explicit, visible, table-backed (#14 goal 4, #17 goal 5).

Work that should not hold up a request (an uploaded import, re-running the analyses of
pilots that follow new data) is a *job*: a row in ``jobs`` with its kind, payload,
status (queued, running, done, failed), progress and result or error.  Only an
explicit action queues one (an upload, an import that brings new data for followed
pilots, a user's request); only a worker runs one, and a worker runs only where it is
started on purpose: :class:`WorkerPool` by the web app factory
(``TILLIT_JOB_WORKERS`` threads, default 1 for ``tillit serve``) or
``tillit jobs work`` from the command line.  ``GET /api/v1/jobs/{id}`` and the page
``/jobs/{id}`` show where a job stands.

Kinds
-----
:data:`KINDS` names each kind's handler as ``"module:function"`` (imported when a job
of that kind first runs); an area adds its kind there.  A handler takes a
:class:`JobContext` and returns the JSON result.  A handler whose work is one
transaction calls :meth:`JobContext.complete` inside it, so that the job is marked
done in the same commit as its effect: either both happen or neither.

Failures and dead workers
-------------------------
A :class:`~tillit.core.errors.TillitError` other than ``Conflict`` (bad input, no
permission) fails the job at once with its message.  Any other error, and a
``Conflict`` such as a busy database, queues it again until ``max_attempts`` runs have
started.  A worker beats every few seconds while it runs a job; a running job whose
heartbeat is older than the lease (default 120 s) belonged to a worker that died: the
next worker queues it again (or fails it when no attempts are left).  A worker that was
only slow finds its job taken over and cannot complete it (its transaction rolls back),
so a job's effect is committed at most once and a job is never lost.
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from tillit.core.errors import Conflict, DataError, PermissionDenied, TillitError
from tillit.domain import access
from tillit.domain.jobs import Job
from tillit.domain.records import Actor
from tillit.store import jobs as repo
from tillit.store.db import Connection, Engine, read_transaction, write_transaction

__all__ = [
    "KINDS",
    "LEASE",
    "JobContext",
    "WorkerPool",
    "default_worker_name",
    "get_job",
    "list_jobs",
    "register",
    "run_one",
    "submit",
    "submit_conn",
    "work",
]

log = logging.getLogger(__name__)

Handler = Callable[["JobContext"], dict[str, Any] | None]

KINDS: dict[str, str | Handler] = {
    "import": "tillit.services.imports:run_import_job",
    "reevaluate": "tillit.services.evaluation:run_followed",
}
"""Job kind -> its handler: ``"module:function"`` (or the function) taking a
:class:`JobContext`."""

LEASE = timedelta(seconds=120)
BEAT = 5.0


def _now() -> datetime:
    return datetime.now(UTC)


def register(kind: str, target: str | Handler) -> None:
    """Add a kind: ``target`` is ``"module:function"`` or the function itself."""
    if not kind or len(kind) > 40 or (isinstance(target, str) and ":" not in target):
        raise DataError("a kind of 1-40 characters and a 'module:function'")
    KINDS[kind] = target


def _handler(kind: str) -> Handler:
    target = KINDS.get(kind)
    if target is None:
        raise DataError(f"unknown job kind {kind!r}", field="kind")
    if not isinstance(target, str):
        return target
    module, _, name = target.partition(":")
    fn: Handler = getattr(importlib.import_module(module), name)
    return fn


class _Live:
    """Progress of the jobs running in this process, newer than their last beat."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[int, tuple[int, int, str]] = {}

    def set(self, job_id: int, done: int, total: int, message: str) -> None:
        with self._lock:
            self._state[job_id] = (done, total, message)

    def get(self, job_id: int) -> tuple[int, int, str] | None:
        with self._lock:
            return self._state.get(job_id)

    def drop(self, job_id: int) -> None:
        with self._lock:
            self._state.pop(job_id, None)


_live = _Live()
_wake = threading.Condition()


# --- asking for work and watching it ----------------------------------------------


def submit_conn(
    conn: Connection,
    kind: str,
    payload: dict[str, Any],
    *,
    actor: Actor | None = None,
    file: tuple[str, bytes] | None = None,
    max_attempts: int = 3,
) -> int:
    """Queue a job inside the caller's transaction; returns its id."""
    if kind not in KINDS:
        raise DataError(f"unknown job kind {kind!r}", field="kind")
    if not 1 <= max_attempts <= 10:
        raise DataError("max_attempts must lie in [1, 10]", field="max_attempts")
    owner = actor.user_id if actor is not None else None
    return repo.enqueue(
        conn, kind, payload, owner_user_id=owner, max_attempts=max_attempts, file=file
    )


def submit(
    engine: Engine,
    kind: str,
    payload: dict[str, Any],
    *,
    actor: Actor | None = None,
    file: tuple[str, bytes] | None = None,
    max_attempts: int = 3,
) -> int:
    """Queue a job (an explicit action of ``actor``; None: the system); its id."""
    with write_transaction(engine) as conn:
        job_id = submit_conn(
            conn, kind, payload, actor=actor, file=file, max_attempts=max_attempts
        )
    with _wake:
        _wake.notify_all()
    return job_id


def _with_live(job: Job) -> Job:
    live = _live.get(job.id) if job.status == "running" else None
    if live is None:
        return job
    return replace(job, done=live[0], total=live[1], message=live[2])


def get_job(engine: Engine, actor: Actor, job_id: int) -> Job:
    """A job's status for its owner or an administrator (NotFound for others)."""
    if not 0 < job_id < 2**31:
        raise DataError("a job id is a positive integer", field="id")
    with read_transaction(engine) as conn:
        job = repo.get(conn, job_id)
    if not access.may_watch_job(actor, job.owner_user_id):
        if access.is_public(actor):
            raise PermissionDenied("sign in to see your jobs")
        raise PermissionDenied("this job belongs to someone else")
    return _with_live(job)


def list_jobs(engine: Engine, actor: Actor, limit: int = 50) -> list[Job]:
    """The actor's newest jobs (administrators: everyone's)."""
    if access.is_public(actor):
        raise PermissionDenied("sign in to see your jobs")
    owner = None if access.is_admin(actor) else actor.user_id
    with read_transaction(engine) as conn:
        return [
            _with_live(j)
            for j in repo.list_jobs(conn, owner_user_id=owner, limit=max(1, limit))
        ]


# --- running ----------------------------------------------------------------------


@dataclass
class JobContext:
    """What a handler gets: the job, its file, progress and completion."""

    engine: Engine
    job: Job
    worker: str
    file: tuple[str, bytes] | None = None
    completed: bool = field(default=False, init=False)

    @property
    def payload(self) -> dict[str, Any]:
        """The job's JSON payload."""
        return self.job.payload

    def progress(self, done: int, total: int, message: str = "") -> None:
        """Report progress (shown at once in this process, stored at the next beat)."""
        _live.set(self.job.id, int(done), int(total), message)

    def complete(self, conn: Connection, result: dict[str, Any]) -> None:
        """Mark the job done inside the handler's own transaction (``conn``)."""
        live = _live.get(self.job.id)
        done, total = (live[0], live[1]) if live else (None, None)
        repo.complete(
            conn, self.job.id, self.worker, _now(), result, done=done, total=total
        )
        self.completed = True


def _beat(engine: Engine, job: Job, worker: str, stop: threading.Event) -> None:
    """Heartbeat with the latest progress until ``stop`` (errors only logged)."""
    while not stop.wait(BEAT):
        live = _live.get(job.id)
        done, total, msg = live if live else (None, None, None)
        try:
            with write_transaction(engine) as conn:
                mine = repo.heartbeat(
                    conn, job.id, worker, _now(), done=done, total=total, message=msg
                )
        except Exception:  # a busy database: try again at the next beat
            log.debug("heartbeat of job %s failed", job.id, exc_info=True)
            continue
        if not mine:
            return


def _finish_failed(engine: Engine, job: Job, worker: str, exc: Exception) -> None:
    retry = isinstance(exc, Conflict) or not isinstance(exc, TillitError)
    msg = str(exc) if isinstance(exc, TillitError) else f"{type(exc).__name__}: {exc}"
    if not isinstance(exc, TillitError):
        log.exception("job %s (%s) failed", job.id, job.kind)
    details = exc.to_dict() if isinstance(exc, TillitError) else None
    with write_transaction(engine) as conn:
        repo.fail(conn, job.id, worker, _now(), msg, retry=retry, details=details)


def _run(engine: Engine, job: Job, worker: str) -> None:
    with read_transaction(engine) as conn:
        file = repo.file_of(conn, job.id)
    ctx = JobContext(engine, job, worker, file)
    stop = threading.Event()
    beat = threading.Thread(
        target=_beat, args=(engine, job, worker, stop), daemon=True, name="tillit-beat"
    )
    beat.start()
    try:
        result = _handler(job.kind)(ctx)
        if not ctx.completed:
            with write_transaction(engine) as conn:
                ctx.complete(conn, result or {})
    except Exception as exc:
        _finish_failed(engine, job, worker, exc)
    finally:
        stop.set()
        beat.join()
        _live.drop(job.id)


def run_one(
    engine: Engine,
    *,
    worker: str | None = None,
    kinds: Sequence[str] | None = None,
    lease: timedelta = LEASE,
) -> Job | None:
    """Run the oldest queued job (first queueing again those of dead workers).

    Returns the job as it ended, or None when nothing was queued.
    """
    name = worker or default_worker_name()
    now = _now()
    with write_transaction(engine) as conn:
        again, failed = repo.reclaim_stale(conn, now - lease, now)
        job = repo.claim(conn, name, now, kinds)
    if again or failed:
        log.warning("jobs of stopped workers: requeued %s, failed %s", again, failed)
    if job is None:
        return None
    _run(engine, job, name)
    with read_transaction(engine) as conn:
        return repo.get(conn, job.id)


def work(
    engine: Engine,
    *,
    worker: str | None = None,
    kinds: Sequence[str] | None = None,
    max_jobs: int | None = None,
    lease: timedelta = LEASE,
) -> list[Job]:
    """Run queued jobs until none is left (or ``max_jobs``); the jobs run, in order."""
    out: list[Job] = []
    while max_jobs is None or len(out) < max_jobs:
        job = run_one(engine, worker=worker, kinds=kinds, lease=lease)
        if job is None:
            break
        out.append(job)
    return out


def default_worker_name() -> str:
    """``host:pid:thread``, unique per worker thread."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{threading.get_ident() % 10**6}"


class WorkerPool:
    """``n`` worker threads that run queued jobs until :meth:`stop` (the web app's).

    Each thread waits up to ``poll`` seconds between looks at the queue, and wakes at
    once when :func:`submit` in this process queues a job.
    """

    def __init__(self, engine: Engine, n: int, *, poll: float = 2.0) -> None:
        if not 0 <= n <= 16:
            raise DataError("between 0 and 16 job workers", field="job_workers")
        self.engine, self.n, self.poll = engine, n, poll
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> WorkerPool:
        """Start the threads (idempotent)."""
        if self._threads:
            return self
        for k in range(self.n):
            t = threading.Thread(
                target=self._loop, name=f"tillit-jobs-{k}", daemon=True
            )
            t.start()
            self._threads.append(t)
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                ran = run_one(self.engine)
            except Exception:  # the database went away: wait and look again
                log.exception("job worker could not reach the queue")
                ran = None
            if ran is None:
                with _wake:
                    _wake.wait(self.poll)

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the threads to stop after their current job and wait for them."""
        self._stop.set()
        with _wake:
            _wake.notify_all()
        for t in self._threads:
            t.join(timeout)
        self._threads = []
