"""The job queue on SQLite and PostgreSQL: runs, failures, retries, atomic claims,
a worker killed mid-job (retried, never lost, its half-done work rolled back) and a
slow worker whose job was taken over (its effect not committed twice)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select

from tillit.core.errors import DataError, NotFound, PermissionDenied
from tillit.domain.records import Actor
from tillit.services import jobs
from tillit.store.db import write_transaction
from tillit.store.tables import indicators, job_files
from tillit.store.tables import jobs as jobs_table

pytestmark = pytest.mark.integration

ADMIN = Actor(role="admin", user_id=None)


@pytest.fixture
def kinds() -> Iterator[dict[str, list[int]]]:
    """Test kinds registered for one test; the runs of each recorded."""
    runs: dict[str, list[int]] = {"ok": [], "bad": [], "boom": []}
    lock = threading.Lock()

    def ok(ctx: jobs.JobContext) -> dict[str, Any]:
        ctx.progress(1, 2, "half")
        with lock:
            runs["ok"].append(ctx.job.id)
        return {"echo": ctx.payload.get("x"), "file": ctx.file[0] if ctx.file else None}

    def bad(ctx: jobs.JobContext) -> None:
        runs["bad"].append(ctx.job.id)
        raise DataError("no such column", file="f.csv", row=3, field="value")

    def boom(ctx: jobs.JobContext) -> None:
        runs["boom"].append(ctx.job.id)
        raise RuntimeError("transient")

    saved = dict(jobs.KINDS)
    for name, fn in (("t-ok", ok), ("t-bad", bad), ("t-boom", boom)):
        jobs.register(name, fn)
    yield runs
    jobs.KINDS.clear()
    jobs.KINDS.update(saved)


def _row(engine: Engine, job_id: int) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(select(jobs_table).where(jobs_table.c.id == job_id)).first()
    assert row is not None
    return dict(row._mapping)


def test_a_job_runs_once_and_reports(engine: Engine, kinds) -> None:
    jid = jobs.submit(engine, "t-ok", {"x": 7}, file=("a.csv", b"abc"))
    job = jobs.get_job(engine, ADMIN, jid)
    assert job.status == "queued" and job.percent is None
    ran = jobs.work(engine)
    assert [j.id for j in ran] == [jid] and kinds["ok"] == [jid]
    done = jobs.get_job(engine, ADMIN, jid)
    assert done.status == "done" and done.result == {"echo": 7, "file": "a.csv"}
    assert done.attempts == 1 and done.percent == 100.0 and done.finished
    assert (done.done, done.total) == (1, 2)  # the last progress reported is kept
    with engine.connect() as conn:  # the upload is gone with the job's end
        assert conn.execute(select(func.count()).select_from(job_files)).scalar() == 0
    assert jobs.work(engine) == []  # nothing left, nothing run twice
    assert json.loads(json.dumps(done.to_dict()))["version"] == 1


def test_bad_input_fails_at_once_with_its_location(engine: Engine, kinds) -> None:
    jid = jobs.submit(engine, "t-bad", {})
    jobs.work(engine)
    job = jobs.get_job(engine, ADMIN, jid)
    assert job.status == "failed" and job.attempts == 1 and len(kinds["bad"]) == 1
    assert "no such column" in job.error
    assert job.result is not None
    assert (job.result["file"], job.result["row"], job.result["field"]) == (
        "f.csv",
        3,
        "value",
    )


def test_unexpected_errors_are_retried_then_failed(engine: Engine, kinds) -> None:
    jid = jobs.submit(engine, "t-boom", {}, max_attempts=3)
    jobs.work(engine)
    job = jobs.get_job(engine, ADMIN, jid)
    assert job.status == "failed" and job.attempts == 3 and len(kinds["boom"]) == 3
    assert "RuntimeError: transient" in job.error


def test_unknown_kind_and_bounds(engine: Engine) -> None:
    with pytest.raises(DataError):
        jobs.submit(engine, "no-such-kind", {})
    with pytest.raises(DataError):
        jobs.submit(engine, "import", {}, max_attempts=0)
    with pytest.raises(NotFound):
        jobs.get_job(engine, ADMIN, 12345)
    with pytest.raises(DataError):
        jobs.get_job(engine, ADMIN, 2**40)


def test_only_the_owner_and_admins_see_a_job(engine: Engine, kinds) -> None:
    with write_transaction(engine) as conn:
        from tillit.store.tables import users

        conn.execute(
            insert(users),
            [
                {"id": 1, "username": "a", "password_hash": "x", "role": "researcher"},
                {"id": 2, "username": "b", "password_hash": "x", "role": "researcher"},
            ],
        )
    owner = Actor(role="researcher", user_id=1)
    jid = jobs.submit(engine, "t-ok", {}, actor=owner)
    assert jobs.get_job(engine, owner, jid).id == jid
    assert [j.id for j in jobs.list_jobs(engine, owner)] == [jid]
    with pytest.raises(PermissionDenied):
        jobs.get_job(engine, Actor(role="researcher", user_id=2), jid)
    with pytest.raises(PermissionDenied):
        jobs.get_job(engine, Actor(), jid)
    assert jobs.list_jobs(engine, Actor(role="researcher", user_id=2)) == []


def test_concurrent_workers_claim_each_job_exactly_once(engine: Engine, kinds) -> None:
    ids = [jobs.submit(engine, "t-ok", {"x": k}) for k in range(30)]
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            jobs.work(engine, worker=f"w{k}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    assert sorted(kinds["ok"]) == ids  # every job once, none twice
    workers = {_row(engine, i)["worker"] for i in ids}
    assert len(workers) >= 1 and all(_row(engine, i)["status"] == "done" for i in ids)


CHILD = textwrap.dedent(
    """
    import sys, time
    from tillit.services import jobs
    from tillit.store.db import make_engine, write_transaction
    from tillit.store.tables import indicators

    def slow(ctx):
        with write_transaction(ctx.engine) as conn:
            conn.execute(indicators.insert().values(id="JOBTEST", title="half-done"))
            print("inside", flush=True)
            time.sleep(120)  # killed here
            ctx.complete(conn, {"by": "child"})

    jobs.register("t-slow", slow)
    engine = make_engine(sys.argv[1])
    jobs.run_one(engine, worker="doomed")
    """
)


def test_a_worker_killed_mid_job_is_retried_and_its_work_rolled_back(
    engine: Engine, tmp_path: Path
) -> None:
    def quick(ctx: jobs.JobContext) -> None:
        with write_transaction(ctx.engine) as conn:
            conn.execute(indicators.insert().values(id="JOBTEST", title="whole"))
            ctx.complete(conn, {"by": "parent"})

    saved = dict(jobs.KINDS)
    jobs.register("t-slow", quick)
    try:
        jid = jobs.submit(engine, "t-slow", {})
        script = tmp_path / "child.py"
        script.write_text(CHILD)
        url = engine.url.render_as_string(hide_password=False)
        child = subprocess.Popen(
            [sys.executable, str(script), url],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "inside"
        assert _row(engine, jid)["status"] == "running"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
        child.stdout.close()
        # not lost: still marked running until its lease runs out
        assert _row(engine, jid)["worker"] == "doomed"
        assert jobs.run_one(engine) is None  # default lease: not yet stale
        with engine.connect() as conn:  # the killed transaction left nothing
            assert (
                conn.execute(
                    select(func.count()).where(indicators.c.id == "JOBTEST")
                ).scalar()
                == 0
            )
        job = jobs.run_one(engine, lease=timedelta(0))
        assert job is not None and job.id == jid
        assert job.status == "done" and job.attempts == 2
        assert job.result == {"by": "parent"}
        with engine.connect() as conn:
            title = conn.execute(
                select(indicators.c.title).where(indicators.c.id == "JOBTEST")
            ).scalar_one()
        assert title == "whole"
    finally:
        jobs.KINDS.clear()
        jobs.KINDS.update(saved)


def test_a_worker_killed_on_its_last_attempt_fails_the_job(engine: Engine) -> None:
    jid = jobs.submit(engine, "import", {}, max_attempts=1)
    from tillit.store import jobs as repo
    from tillit.store.db import write_transaction as wt

    with wt(engine) as conn:  # a worker claims it and dies (no heartbeat ever again)
        from datetime import UTC, datetime

        repo.claim(conn, "dead", datetime.now(UTC) - timedelta(hours=1))
    assert jobs.run_one(engine) is None
    job = jobs.get_job(engine, ADMIN, jid)
    assert job.status == "failed" and "stopped" in job.error and job.attempts == 1


def test_a_slow_worker_cannot_complete_a_job_taken_over(engine: Engine) -> None:
    """Its transaction, with the job's own writes, rolls back: the effect happens once.

    The slow worker tries to complete while the one that took over still runs it.
    """
    gate = {w: threading.Event() for w in ("slow", "fast")}
    started = {w: threading.Event() for w in ("slow", "fast")}
    outcome: list[str] = []

    def handler(ctx: jobs.JobContext) -> None:
        started[ctx.worker].set()
        gate[ctx.worker].wait(60)
        with write_transaction(ctx.engine) as conn:
            conn.execute(
                indicators.insert().values(id=f"T-{ctx.worker}", title=ctx.worker)
            )
            ctx.complete(conn, {"by": ctx.worker})
        outcome.append(ctx.worker)

    saved = dict(jobs.KINDS)
    jobs.register("t-race", handler)
    try:
        jid = jobs.submit(engine, "t-race", {})
        ended: dict[str, Any] = {}

        def run(name: str, lease: timedelta) -> None:
            ended[name] = jobs.run_one(engine, worker=name, lease=lease)

        slow = threading.Thread(target=run, args=("slow", jobs.LEASE), daemon=True)
        slow.start()
        assert started["slow"].wait(30)
        time.sleep(0.05)
        fast = threading.Thread(target=run, args=("fast", timedelta(0)), daemon=True)
        fast.start()
        assert started["fast"].wait(30)
        gate["slow"].set()  # the slow one wakes up while "fast" holds the job
        slow.join(60)
        assert outcome == []
        assert jobs.get_job(engine, ADMIN, jid).status == "running"
        gate["fast"].set()
        fast.join(60)
        job = jobs.get_job(engine, ADMIN, jid)
        assert job.result == {"by": "fast"} and job.status == "done"
        assert job.attempts == 2 and outcome == ["fast"]
        with engine.connect() as conn:
            ids = set(conn.execute(select(indicators.c.id)).scalars())
        assert "T-fast" in ids and "T-slow" not in ids
    finally:
        jobs.KINDS.clear()
        jobs.KINDS.update(saved)
