"""trust barometer (rounds, links, responses, releases) and dialogue (posts, reports,
settings, rate events)

Revision ID: 0200
Revises: 0100
"""

import sqlalchemy as sa
from alembic import op

revision = "0200"
down_revision = "0100"
branch_labels = None
depends_on = None


def _now() -> sa.sql.elements.TextClause:
    return sa.text("CURRENT_TIMESTAMP")


def _fk(col: str, table: str, ondelete: str, src: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [col], [f"{table}.id"], ondelete=ondelete,
        name=op.f(f"fk_{src}_{col}_{table}"),
    )  # fmt: skip


def _survey() -> None:
    op.create_table(
        "survey_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("audience", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=300), server_default="", nullable=False),
        sa.Column("instrument", sa.Text(), nullable=False),
        sa.Column("threshold", sa.Integer(), server_default="5", nullable=False),
        sa.Column("status", sa.String(length=20), server_default="open", nullable=False),
        sa.Column("is_demo", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now()),
        sa.CheckConstraint("audience in ('staff','citizen')", name=op.f("ck_survey_rounds_audience")),
        sa.CheckConstraint("status in ('open','closed')", name=op.f("ck_survey_rounds_status")),
        sa.CheckConstraint("threshold >= 5", name=op.f("ck_survey_rounds_threshold")),
        _fk("organisation_id", "organisations", "CASCADE", "survey_rounds"),
        _fk("created_by", "users", "SET NULL", "survey_rounds"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_rounds")),
        sa.UniqueConstraint("code", name=op.f("uq_survey_rounds_code")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_survey_rounds_organisation_id"), "survey_rounds", ["organisation_id"]
    )
    op.create_table(
        "survey_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("staff_group", sa.String(length=60), server_default="", nullable=False),
        sa.Column("state", sa.String(length=20), server_default="new", nullable=False),
        sa.CheckConstraint("state in ('new','answered','erased')", name=op.f("ck_survey_links_state")),
        _fk("round_id", "survey_rounds", "CASCADE", "survey_links"),
        _fk("unit_id", "units", "SET NULL", "survey_links"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_links")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_survey_links_code_hash")),
    )  # fmt: skip
    op.create_index(op.f("ix_survey_links_round_id"), "survey_links", ["round_id"])
    op.create_table(
        "survey_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("link_hash", sa.String(length=64), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("staff_group", sa.String(length=60), server_default="", nullable=False),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=20), server_default="web", nullable=False),
        _fk("round_id", "survey_rounds", "CASCADE", "survey_responses"),
        _fk("unit_id", "units", "SET NULL", "survey_responses"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
        sa.UniqueConstraint("link_hash", name=op.f("uq_survey_responses_link_hash")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_survey_responses_round_id"), "survey_responses", ["round_id"]
    )
    op.create_table(
        "survey_releases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("variable", sa.String(length=60), nullable=False),
        sa.Column("members", sa.Text(), nullable=False),
        _fk("round_id", "survey_rounds", "CASCADE", "survey_releases"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_releases")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_survey_releases_round_id"), "survey_releases", ["round_id"]
    )


def _dialogue() -> None:
    op.create_table(
        "dialogue_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("topic", sa.String(length=200), server_default="", nullable=False),
        sa.Column("pilot_code", sa.String(length=40), nullable=True),
        sa.Column("title", sa.String(length=200), server_default="", nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author_user_id", sa.Integer(), nullable=True),
        sa.Column("author_name", sa.String(length=120), server_default="", nullable=False),
        sa.Column("status", sa.String(length=20), server_default="pending", nullable=False),
        sa.Column("moderation_reason", sa.Text(), server_default="", nullable=False),
        sa.Column("is_demo", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now()),
        sa.CheckConstraint("status in ('pending','published','hidden')", name=op.f("ck_dialogue_posts_status")),
        _fk("parent_id", "dialogue_posts", "CASCADE", "dialogue_posts"),
        _fk("author_user_id", "users", "SET NULL", "dialogue_posts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dialogue_posts")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_dialogue_posts_parent_id"), "dialogue_posts", ["parent_id"]
    )
    op.create_table(
        "dialogue_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("resolved", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now()),
        _fk("post_id", "dialogue_posts", "CASCADE", "dialogue_reports"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dialogue_reports")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_dialogue_reports_post_id"), "dialogue_reports", ["post_id"]
    )
    op.create_table(
        "dialogue_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("allow_anonymous", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("blocked_words", sa.Text(), server_default="", nullable=False),
        sa.Column("links_need_approval", sa.Boolean(), server_default="1", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dialogue_settings")),
    )  # fmt: skip
    op.create_table(
        "rate_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_events")),
    )  # fmt: skip
    op.create_index(op.f("ix_rate_events_key"), "rate_events", ["key"])


def upgrade() -> None:
    _survey()
    _dialogue()


def downgrade() -> None:
    for table in (
        "rate_events",
        "dialogue_settings",
        "dialogue_reports",
        "dialogue_posts",
        "survey_releases",
        "survey_responses",
        "survey_links",
        "survey_rounds",
    ):
        op.drop_table(table)
