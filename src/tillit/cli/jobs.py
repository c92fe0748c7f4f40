"""``tillit jobs``: run a worker of the background job queue, list jobs, show one.

``tillit jobs work`` runs queued jobs in the foreground (for a server started with
``TILLIT_JOB_WORKERS=0``, or to drain the queue once with ``--until-idle``).
"""

from __future__ import annotations

import json
import time

import click

__all__ = ["register"]


@click.group("jobs")
def jobs_group() -> None:
    """The background job queue: run a worker, list jobs, show one."""


@jobs_group.command("work")
@click.option(
    "--until-idle",
    is_flag=True,
    help="Stop when no job is queued (default: keep waiting for new jobs).",
)
@click.option(
    "--poll",
    type=click.FloatRange(0.1, 3600),
    default=2.0,
    show_default=True,
    help="Seconds between looks at an empty queue.",
)
@click.option(
    "--max-jobs",
    type=click.IntRange(1, 1_000_000),
    default=None,
    help="Stop after this many jobs.",
)
def work_cmd(until_idle: bool, poll: float, max_jobs: int | None) -> None:
    """Run queued jobs, one at a time, printing one line per job."""
    from tillit.cli.data import open_engine
    from tillit.services import jobs

    engine = open_engine()
    n = 0
    try:
        while max_jobs is None or n < max_jobs:
            job = jobs.run_one(engine)
            if job is None:
                if until_idle:
                    break
                time.sleep(poll)
                continue
            n += 1
            tail = job.error if job.status == "failed" else ""
            click.echo(f"job {job.id} {job.kind}: {job.status} {tail}".rstrip())
    except KeyboardInterrupt:  # the job in hand has finished or rolled back
        click.echo("stopped", err=True)
    click.echo(f"{n} job(s) run", err=True)


@jobs_group.command("list")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
def list_cmd(limit: int) -> None:
    """The newest jobs: id, kind, status, progress, error."""
    from tillit.cli.data import open_engine
    from tillit.domain.records import Actor
    from tillit.services import jobs

    engine = open_engine()
    for j in jobs.list_jobs(engine, Actor(role="admin"), limit=limit):
        pct = "" if j.percent is None else f" {j.percent:.0f}%"
        click.echo(f"{j.id:>6} {j.kind:<12} {j.status:<8}{pct} {j.error[:80]}".rstrip())


@jobs_group.command("show")
@click.argument("job_id", type=click.IntRange(1, 2**31 - 1))
def show_cmd(job_id: int) -> None:
    """One job as JSON (the shape of GET /api/v1/jobs/{id})."""
    from tillit.cli.data import open_engine
    from tillit.domain.records import Actor
    from tillit.services import jobs

    engine = open_engine()
    doc = jobs.get_job(engine, Actor(role="admin"), job_id).to_dict()
    click.echo(json.dumps(doc, ensure_ascii=False, indent=1))


def register(main: click.Group) -> None:
    """Add ``jobs`` to the ``tillit`` command."""
    main.add_command(jobs_group)
