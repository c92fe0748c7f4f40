"""network (applications, members), pilots, attached researchers, registry entries

Revision ID: 0100
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0100"
down_revision = "0002"
branch_labels = None
depends_on = None


def _now() -> sa.sql.elements.TextClause:
    return sa.text("CURRENT_TIMESTAMP")


def upgrade() -> None:
    op.create_table(
        "network_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("contact_name", sa.String(length=200), nullable=False),
        sa.Column("contact_email", sa.String(length=200), server_default="", nullable=False),
        sa.Column("motivation", sa.Text(), server_default="", nullable=False),
        sa.Column("status", sa.String(length=20), server_default="pending", nullable=False),
        sa.Column("decision_reason", sa.Text(), server_default="", nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now()),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status in ('pending','approved','declined')",
            name=op.f("ck_network_applications_status"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], ondelete="SET NULL",
            name=op.f("fk_network_applications_decided_by_users"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], ondelete="CASCADE",
            name=op.f("fk_network_applications_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_applications")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_network_applications_organisation_id"),
        "network_applications",
        ["organisation_id"],
    )
    op.create_table(
        "network_members",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("joined_at", sa.DateTime(timezone=True), server_default=_now()),
        sa.ForeignKeyConstraint(
            ["application_id"], ["network_applications.id"], ondelete="SET NULL",
            name=op.f("fk_network_members_application_id_network_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], ondelete="CASCADE",
            name=op.f("fk_network_members_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("organisation_id", name=op.f("pk_network_members")),
    )  # fmt: skip
    op.create_table(
        "pilots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="draft", nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.Column("verdict", sa.Text(), server_default="", nullable=False),
        sa.Column("is_demo", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=_now()),
        sa.CheckConstraint(
            "status in ('draft','registered','concluded')", name=op.f("ck_pilots_status")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], ondelete="SET NULL",
            name=op.f("fk_pilots_created_by_users"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], ondelete="CASCADE",
            name=op.f("fk_pilots_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pilots")),
        sa.UniqueConstraint("code", name=op.f("uq_pilots_code")),
    )  # fmt: skip
    op.create_index(op.f("ix_pilots_organisation_id"), "pilots", ["organisation_id"])
    op.create_table(
        "pilot_researchers",
        sa.Column("pilot_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("attached_by", sa.Integer(), nullable=True),
        sa.Column("attached_at", sa.DateTime(timezone=True), server_default=_now()),
        sa.ForeignKeyConstraint(
            ["attached_by"], ["users.id"], ondelete="SET NULL",
            name=op.f("fk_pilot_researchers_attached_by_users"),
        ),
        sa.ForeignKeyConstraint(
            ["pilot_id"], ["pilots.id"], ondelete="CASCADE",
            name=op.f("fk_pilot_researchers_pilot_id_pilots"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], ondelete="CASCADE",
            name=op.f("fk_pilot_researchers_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("pilot_id", "user_id", name=op.f("pk_pilot_researchers")),
    )  # fmt: skip
    op.create_table(
        "registry_entries",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("pilot_id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("registered_at", sa.String(length=40), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "kind in ('registration','amendment','conclusion')",
            name=op.f("ck_registry_entries_kind"),
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_registry_entries")),
        sa.UniqueConstraint("hash", name=op.f("uq_registry_entries_hash")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_registry_entries_pilot_id"), "registry_entries", ["pilot_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_registry_entries_pilot_id"), table_name="registry_entries")
    op.drop_table("registry_entries")
    op.drop_table("pilot_researchers")
    op.drop_index(op.f("ix_pilots_organisation_id"), table_name="pilots")
    op.drop_table("pilots")
    op.drop_table("network_members")
    op.drop_index(
        op.f("ix_network_applications_organisation_id"),
        table_name="network_applications",
    )
    op.drop_table("network_applications")
