"""store-owned SQL: indicator direction with its source, the job queue (#14, #12)

* ``indicators.direction_source``: who says which way is better.  A direction without a
  source counts as unknown (``tillit.domain.direction``).  The demo workspace's
  indicators get the demo specification as their source; any other stored direction
  stays as it was but, having no source, is no longer used to judge until an
  administrator confirms it.
* ``jobs`` and ``job_files``: the background job queue (``tillit.services.jobs``).
* ``audit_reports.html`` goes: the signal audit's HTML report is drawn from the stored
  document when it is downloaded (its figures are the web chart module's); cached
  reports are dropped, they are recomputed on the next request.

Revision ID: 0500
Revises: 0400
"""

import sqlalchemy as sa
from alembic import op

revision = "0500"
down_revision = "0400"
branch_labels = None
depends_on = None

DEMO_SOURCE = "DEMO: the demo specification (docs/demo.md)"


def upgrade() -> None:
    with op.batch_alter_table("indicators") as batch:
        batch.add_column(
            sa.Column(
                "direction_source",
                sa.String(length=400),
                server_default="",
                nullable=False,
            )
        )
    ind = sa.table(
        "indicators",
        sa.column("is_demo", sa.Boolean()),
        sa.column("direction_source", sa.String()),
    )
    op.execute(
        ind.update().where(ind.c.is_demo.is_(True)).values(direction_source=DEMO_SOURCE)
    )

    _jobs()
    op.execute("DELETE FROM audit_reports")
    with op.batch_alter_table("audit_reports") as batch:
        batch.drop_column("html")


def _jobs() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column(
            "status", sa.String(length=12), server_default="queued", nullable=False
        ),
        sa.Column("payload", sa.Text(), server_default="{}", nullable=False),
        sa.Column("result", sa.Text(), server_default="", nullable=False),
        sa.Column("error", sa.Text(), server_default="", nullable=False),
        sa.Column("done", sa.Integer(), server_default="0", nullable=False),
        sa.Column("total", sa.Integer(), server_default="0", nullable=False),
        sa.Column("message", sa.String(length=200), server_default="", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("max_attempts", sa.Integer(), server_default="3", nullable=False),
        sa.Column("worker", sa.String(length=80), server_default="", nullable=False),
        sa.Column("owner_user_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status in ('queued','running','done','failed')",
            name=op.f("ck_jobs_status"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_user_id"],
            ["users.id"],
            ondelete="SET NULL",
            name=op.f("fk_jobs_owner_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    op.create_index("ix_jobs_status_id", "jobs", ["status", "id"])
    op.create_table(
        "job_files",
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=400), server_default="", nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["jobs.id"],
            ondelete="CASCADE",
            name=op.f("fk_job_files_job_id_jobs"),
        ),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_job_files")),
    )


def downgrade() -> None:
    with op.batch_alter_table("audit_reports") as batch:
        batch.add_column(
            sa.Column("html", sa.Text(), server_default="", nullable=False)
        )
    op.drop_table("job_files")
    op.drop_index("ix_jobs_status_id", table_name="jobs")
    op.drop_table("jobs")
    with op.batch_alter_table("indicators") as batch:
        batch.drop_column("direction_source")
