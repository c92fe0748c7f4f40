"""compensation models (#15): the model register and saved simulation runs

Revision ID: 0600
Revises: 0520
"""

import sqlalchemy as sa
from alembic import op

revision = "0600"
down_revision = "0520"
branch_labels = None
depends_on = None

_BASES = (
    "granted_time", "performed_time_electronic", "performed_time_self_reported",
    "per_visit", "per_service_level", "capitation", "fixed_budget",
)  # fmt: skip


def _now() -> sa.sql.elements.TextClause:
    return sa.text("CURRENT_TIMESTAMP")


def upgrade() -> None:
    op.create_table(
        "compensation_register",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("basis", sa.String(length=40), nullable=False),
        sa.Column("rate_day_kr", sa.Float(), nullable=True),
        sa.Column("goal_related", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("covers", sa.String(length=80), server_default="", nullable=False),
        sa.Column("source", sa.String(length=400), server_default="", nullable=False),
        sa.Column("note", sa.String(length=1000), server_default="", nullable=False),
        sa.Column("is_demo", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now()),
        sa.CheckConstraint(
            "basis in (" + ",".join(f"'{b}'" for b in _BASES) + ")",
            name=op.f("ck_compensation_register_basis"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], ondelete="CASCADE",
            name=op.f("fk_compensation_register_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], ondelete="SET NULL",
            name=op.f("fk_compensation_register_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compensation_register")),
        sa.UniqueConstraint(
            "organisation_id", "year", "name",
            name="uq_compensation_register_org_year_name",
        ),
    )  # fmt: skip
    op.create_index(
        op.f("ix_compensation_register_organisation_id"),
        "compensation_register", ["organisation_id"],
    )  # fmt: skip
    op.create_table(
        "compensation_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), server_default="", nullable=False),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("population", sa.Text(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("draws", sa.Integer(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now()),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], ondelete="SET NULL",
            name=op.f("fk_compensation_runs_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], ondelete="SET NULL",
            name=op.f("fk_compensation_runs_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compensation_runs")),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("compensation_runs")
    op.drop_index(
        op.f("ix_compensation_register_organisation_id"),
        table_name="compensation_register",
    )
    op.drop_table("compensation_register")
