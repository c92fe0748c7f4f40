"""Tables of the trust barometer and the open dialogue (on the shared ``metadata``).

Entities
--------
survey_rounds      one survey round per organisation and period: the audience (staff or
                   citizen), the instrument as JSON (standard or the organisation's own
                   extended version), the disclosure threshold ``k`` (never below 5) and the
                   status (open: collecting; closed: results published)
survey_links       single-use answer links: only the SHA-256 of the random code is stored,
                   with the unit and staff group the link was issued for
survey_responses   one row per respondent: unit, staff group and answers as JSON. No IP
                   address, user agent, e-mail, account or time is stored; ``link_hash``
                   lets the holder of the link code erase the answers
survey_releases    the persisted release audit: which respondent sets have been released
                   per round and variable (see :class:`tillit.core.survey.ReleaseAuditor`)
dialogue_posts     contributions ("debattinlägg") and comments; status pending, published
                   or hidden (with the moderator's reason)
dialogue_reports   readers' reports of a post
dialogue_settings  the moderation rules (one row): anonymous writing allowed, blocked
                   words, links need approval
rate_events        sliding-window rate limiting: a keyed hash of the person or address and
                   the time; never joined to any text
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
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

__all__ = [
    "dialogue_posts",
    "dialogue_reports",
    "dialogue_settings",
    "rate_events",
    "survey_links",
    "survey_releases",
    "survey_responses",
    "survey_rounds",
]

survey_rounds = Table(
    "survey_rounds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(40), nullable=False, unique=True),  # public id, e.g. S-0003
    Column(
        "organisation_id",
        Integer,
        ForeignKey("organisations.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("period", String(7), nullable=False),  # YYYY or YYYY-MM
    Column("audience", String(20), nullable=False),
    Column("title", String(300), nullable=False, server_default=""),
    Column("instrument", Text, nullable=False),  # JSON
    Column("threshold", Integer, nullable=False, server_default="5"),
    Column("status", String(20), nullable=False, server_default="open"),
    Column("is_demo", Boolean, nullable=False, server_default="0"),
    Column("created_by", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("created_at", DateTime(timezone=True), server_default=func.now()),
    CheckConstraint("audience in ('staff','citizen')", name="audience"),
    CheckConstraint("status in ('open','closed')", name="status"),
    CheckConstraint("threshold >= 5", name="threshold"),
)

survey_links = Table(
    "survey_links",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "round_id",
        Integer,
        ForeignKey("survey_rounds.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("code_hash", String(64), nullable=False, unique=True),
    Column("unit_id", Integer, ForeignKey("units.id", ondelete="SET NULL")),
    Column("staff_group", String(60), nullable=False, server_default=""),
    Column("state", String(20), nullable=False, server_default="new"),
    CheckConstraint("state in ('new','answered','erased')", name="state"),
)

survey_responses = Table(
    "survey_responses",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "round_id",
        Integer,
        ForeignKey("survey_rounds.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("link_hash", String(64), unique=True),  # NULL for imported answers
    Column("unit_id", Integer, ForeignKey("units.id", ondelete="SET NULL")),
    Column("staff_group", String(60), nullable=False, server_default=""),
    Column("answers", Text, nullable=False),  # JSON {question id: value}
    Column("source", String(20), nullable=False, server_default="web"),
)

survey_releases = Table(
    "survey_releases",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "round_id",
        Integer,
        ForeignKey("survey_rounds.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("variable", String(60), nullable=False),
    Column("members", Text, nullable=False),  # JSON sorted response ids
)

dialogue_posts = Table(
    "dialogue_posts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "parent_id",
        Integer,
        ForeignKey("dialogue_posts.id", ondelete="CASCADE"),
        index=True,
    ),  # NULL: a contribution; else a comment on it
    Column("topic", String(200), nullable=False, server_default=""),
    Column("pilot_code", String(40)),
    Column("title", String(200), nullable=False, server_default=""),
    Column("body", Text, nullable=False),
    Column("author_user_id", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("author_name", String(120), nullable=False, server_default=""),
    Column("status", String(20), nullable=False, server_default="pending"),
    Column("moderation_reason", Text, nullable=False, server_default=""),
    Column("is_demo", Boolean, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), server_default=func.now()),
    CheckConstraint("status in ('pending','published','hidden')", name="status"),
)

dialogue_reports = Table(
    "dialogue_reports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "post_id",
        Integer,
        ForeignKey("dialogue_posts.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("reason", Text, nullable=False, server_default=""),
    Column("resolved", Boolean, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), server_default=func.now()),
)

dialogue_settings = Table(
    "dialogue_settings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("allow_anonymous", Boolean, nullable=False, server_default="0"),
    Column("blocked_words", Text, nullable=False, server_default=""),
    Column("links_need_approval", Boolean, nullable=False, server_default="1"),
)

rate_events = Table(
    "rate_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(64), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
)
