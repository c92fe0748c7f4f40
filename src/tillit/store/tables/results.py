"""Tables of pilot evaluation: background jobs, result snapshots and published evaluations.

Entities
--------
eval_jobs        one re-run of a pilot's pre-registered analysis: ``status`` queued,
                 running, done or failed; ``progress`` 0-100; ``error`` the message of a
                 failed run; ``trigger`` why it ran (``import:<batch id>``, ``manual``,
                 ``demo``)
eval_snapshots   the stored result of one run: ``result`` is the JSON document of
                 :func:`tillit.services.evaluation.evaluate_document` (estimates with
                 intervals per outcome, series, diagnostics, verdicts, batch ids used);
                 ``registry_version`` is the registered version that was analysed
evaluations      a published evaluation (one per pilot): the snapshot it reports, who
                 published it and when, and the researcher's summary in Swedish and
                 English
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    func,
)

from tillit.store.tables.base import metadata

__all__ = ["eval_jobs", "eval_snapshots", "evaluations"]

eval_jobs = Table(
    "eval_jobs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "pilot_id",
        Integer,
        ForeignKey("pilots.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("status", String(20), nullable=False, server_default="queued"),
    Column("progress", Integer, nullable=False, server_default="0"),
    Column("trigger", String(80), nullable=False, server_default="manual"),
    Column("error", Text, nullable=False, server_default=""),
    Column("snapshot_id", Integer),
    Column("created_at", DateTime(timezone=True), server_default=func.now()),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    CheckConstraint("status in ('queued','running','done','failed')", name="status"),
)

eval_snapshots = Table(
    "eval_snapshots",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "pilot_id",
        Integer,
        ForeignKey("pilots.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("job_id", Integer),
    Column("registry_version", Integer, nullable=False),
    Column("estimator", String(40), nullable=False),
    Column("batch_ids", Text, nullable=False, server_default="[]"),  # JSON list
    Column("result", Text, nullable=False),  # JSON document
    Column("created_at", DateTime(timezone=True), server_default=func.now()),
)

evaluations = Table(
    "evaluations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "pilot_id",
        Integer,
        ForeignKey("pilots.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    Column(
        "snapshot_id",
        Integer,
        ForeignKey("eval_snapshots.id", ondelete="RESTRICT"),
        nullable=False,
    ),
    Column("summary_sv", Text, nullable=False, server_default=""),
    Column("summary_en", Text, nullable=False, server_default=""),
    Column("published_by", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("published_at", DateTime(timezone=True), server_default=func.now()),
)
