"""Tables of the background job queue (``tillit.services.jobs``, migration 0500).

Entities
--------
jobs        one piece of background work: its ``kind`` (``import``, ``reevaluate``,
            ...), JSON ``payload``, ``status`` (queued, running, done, failed),
            progress (``done`` of ``total`` and a ``message``), the ``result`` (JSON) or
            the ``error``, how often it was tried (``attempts`` of ``max_attempts``), the
            worker holding it and when it last said it is alive (``heartbeat_at``);
            ``owner_user_id`` is who asked for it (NULL: the system)
job_files   the uploaded bytes a job works on (an import's file), deleted when the
            job ends
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    func,
)

from tillit.store.tables.base import metadata

__all__ = ["JOB_STATUSES", "job_files", "jobs"]

JOB_STATUSES = ("queued", "running", "done", "failed")

jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("status", String(12), nullable=False, server_default="queued"),
    Column("payload", Text, nullable=False, server_default="{}"),
    Column("result", Text, nullable=False, server_default=""),
    Column("error", Text, nullable=False, server_default=""),
    Column("done", Integer, nullable=False, server_default="0"),
    Column("total", Integer, nullable=False, server_default="0"),
    Column("message", String(200), nullable=False, server_default=""),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("max_attempts", Integer, nullable=False, server_default="3"),
    Column("worker", String(80), nullable=False, server_default=""),
    Column("owner_user_id", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("created_at", DateTime(timezone=True), server_default=func.now()),
    Column("started_at", DateTime(timezone=True)),
    Column("heartbeat_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    CheckConstraint("status in ('queued','running','done','failed')", name="status"),
    Index("ix_jobs_status_id", "status", "id"),
)

job_files = Table(
    "job_files",
    metadata,
    Column(
        "job_id",
        Integer,
        ForeignKey("jobs.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("filename", String(400), nullable=False, server_default=""),
    Column("data", LargeBinary, nullable=False),
)
