"""pilot evaluation: background jobs, result snapshots, published evaluations

Revision ID: 0300
Revises: 0200
"""

import sqlalchemy as sa
from alembic import op

revision = "0300"
down_revision = "0200"
branch_labels = None
depends_on = None


def _now() -> sa.sql.elements.TextClause:
    return sa.text("CURRENT_TIMESTAMP")


def _pilot_fk(src: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["pilot_id"], ["pilots.id"], ondelete="CASCADE",
        name=op.f(f"fk_{src}_pilot_id_pilots"),
    )  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "eval_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pilot_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="queued", nullable=False),
        sa.Column("progress", sa.Integer(), server_default="0", nullable=False),
        sa.Column("trigger", sa.String(length=80), server_default="manual", nullable=False),
        sa.Column("error", sa.Text(), server_default="", nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now()),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status in ('queued','running','done','failed')",
            name=op.f("ck_eval_jobs_status"),
        ),
        _pilot_fk("eval_jobs"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eval_jobs")),
    )  # fmt: skip
    op.create_index(op.f("ix_eval_jobs_pilot_id"), "eval_jobs", ["pilot_id"])
    op.create_table(
        "eval_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pilot_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("registry_version", sa.Integer(), nullable=False),
        sa.Column("estimator", sa.String(length=40), nullable=False),
        sa.Column("batch_ids", sa.Text(), server_default="[]", nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now()),
        _pilot_fk("eval_snapshots"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eval_snapshots")),
    )  # fmt: skip
    op.create_index(op.f("ix_eval_snapshots_pilot_id"), "eval_snapshots", ["pilot_id"])
    op.create_table(
        "evaluations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pilot_id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("summary_sv", sa.Text(), server_default="", nullable=False),
        sa.Column("summary_en", sa.Text(), server_default="", nullable=False),
        sa.Column("published_by", sa.Integer(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), server_default=_now()),
        _pilot_fk("evaluations"),
        sa.ForeignKeyConstraint(
            ["snapshot_id"], ["eval_snapshots.id"], ondelete="RESTRICT",
            name=op.f("fk_evaluations_snapshot_id_eval_snapshots"),
        ),
        sa.ForeignKeyConstraint(
            ["published_by"], ["users.id"], ondelete="SET NULL",
            name=op.f("fk_evaluations_published_by_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluations")),
        sa.UniqueConstraint("pilot_id", name=op.f("uq_evaluations_pilot_id")),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("evaluations")
    op.drop_index(op.f("ix_eval_snapshots_pilot_id"), table_name="eval_snapshots")
    op.drop_table("eval_snapshots")
    op.drop_index(op.f("ix_eval_jobs_pilot_id"), table_name="eval_jobs")
    op.drop_table("eval_jobs")
