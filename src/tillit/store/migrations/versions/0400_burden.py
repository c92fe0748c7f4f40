"""burden ledger (inventories, requirements, indicator links, staff) and audit reports

Revision ID: 0400
Revises: 0300
"""

import sqlalchemy as sa
from alembic import op

revision = "0400"
down_revision = "0300"
branch_labels = None
depends_on = None


def _now() -> sa.sql.elements.TextClause:
    return sa.text("CURRENT_TIMESTAMP")


def _inv_fk(src: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["inventory_id"], ["burden_inventories.id"], ondelete="CASCADE",
        name=op.f(f"fk_{src}_inventory_id_burden_inventories"),
    )  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "burden_inventories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("inventory_date", sa.String(length=10), nullable=False),
        sa.Column("source", sa.String(length=400), server_default="", nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("is_demo", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now()),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], ondelete="CASCADE",
            name=op.f("fk_burden_inventories_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], ondelete="SET NULL",
            name=op.f("fk_burden_inventories_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_burden_inventories")),
        sa.UniqueConstraint(
            "organisation_id", "label", name="uq_burden_inventories_org_label"
        ),
    )  # fmt: skip
    op.create_index(
        op.f("ix_burden_inventories_organisation_id"),
        "burden_inventories", ["organisation_id"],
    )  # fmt: skip
    op.create_table(
        "burden_requirements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inventory_id", sa.Integer(), nullable=False),
        sa.Column("requirement_id", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=400), nullable=False),
        sa.Column("demanded_by", sa.String(length=20), nullable=False),
        sa.Column("staff_group", sa.String(length=120), nullable=False),
        sa.Column("unit", sa.String(length=120), nullable=False),
        sa.Column("frequency_per_year", sa.Float(), nullable=False),
        sa.Column("minutes_per_occurrence", sa.Float(), nullable=False),
        sa.Column("reporters", sa.Float(), nullable=False),
        sa.Column("hourly_cost_sek", sa.Float(), nullable=False),
        sa.Column("dimension", sa.String(length=120), server_default="", nullable=False),
        _inv_fk("burden_requirements"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_burden_requirements")),
        sa.UniqueConstraint(
            "inventory_id", "requirement_id", name="uq_burden_requirements_inv_req"
        ),
    )  # fmt: skip
    op.create_index(
        op.f("ix_burden_requirements_inventory_id"),
        "burden_requirements", ["inventory_id"],
    )  # fmt: skip
    op.create_table(
        "burden_requirement_indicators",
        sa.Column("requirement_pk", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["requirement_pk"], ["burden_requirements.id"], ondelete="CASCADE",
            name=op.f("fk_burden_req_ind_requirement_pk"),
        ),
        sa.ForeignKeyConstraint(
            ["indicator_id"], ["indicators.id"], ondelete="CASCADE",
            name=op.f("fk_burden_req_ind_indicator_id"),
        ),
        sa.PrimaryKeyConstraint(
            "requirement_pk", "indicator_id",
            name=op.f("pk_burden_requirement_indicators"),
        ),
    )  # fmt: skip
    op.create_table(
        "burden_staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inventory_id", sa.Integer(), nullable=False),
        sa.Column("staff_group", sa.String(length=120), nullable=False),
        sa.Column("unit", sa.String(length=120), server_default="", nullable=False),
        sa.Column("employees", sa.Float(), nullable=False),
        _inv_fk("burden_staff"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_burden_staff")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_burden_staff_inventory_id"), "burden_staff", ["inventory_id"]
    )
    op.create_table(
        "audit_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), server_default="0", nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("csv", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("seconds", sa.Float(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now()),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_reports")),
        sa.UniqueConstraint("organisation_id", "key", name="uq_audit_reports_org_key"),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("audit_reports")
    op.drop_index(op.f("ix_burden_staff_inventory_id"), table_name="burden_staff")
    op.drop_table("burden_staff")
    op.drop_table("burden_requirement_indicators")
    op.drop_index(
        op.f("ix_burden_requirements_inventory_id"), table_name="burden_requirements"
    )
    op.drop_table("burden_requirements")
    op.drop_index(
        op.f("ix_burden_inventories_organisation_id"), table_name="burden_inventories"
    )
    op.drop_table("burden_inventories")
