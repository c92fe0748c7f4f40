"""Tables of the network and the pilot registry (on the shared ``metadata``).

Entities
--------
network_applications  an organisation asks to join the network (contact, motivation);
                      an administrator approves or declines it with a reason
network_members       organisations that are members of the network (one row each)
pilots                a governance pilot owned by one organisation; ``status`` is draft,
                      registered or concluded; ``document`` holds the current pilot
                      document as JSON text (the working draft before registration, the
                      latest registered version after it)
pilot_researchers     researchers (users) attached to the pilots they evaluate
registry_entries      the append-only, hash-chained registry (see
                      :mod:`tillit.domain.registry`); ``registered_at`` and ``content`` are
                      stored exactly as they were hashed

Later parts (evaluation runs, results, reports) hang their own tables off ``pilots.id``.
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
    "network_applications",
    "network_members",
    "pilot_researchers",
    "pilots",
    "registry_entries",
]

network_applications = Table(
    "network_applications",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "organisation_id",
        Integer,
        ForeignKey("organisations.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("contact_name", String(200), nullable=False),
    Column("contact_email", String(200), nullable=False, server_default=""),
    Column("motivation", Text, nullable=False, server_default=""),
    Column("status", String(20), nullable=False, server_default="pending"),
    Column("decision_reason", Text, nullable=False, server_default=""),
    Column("decided_by", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("created_at", DateTime(timezone=True), server_default=func.now()),
    Column("decided_at", DateTime(timezone=True)),
    CheckConstraint("status in ('pending','approved','declined')", name="status"),
)

network_members = Table(
    "network_members",
    metadata,
    Column(
        "organisation_id",
        Integer,
        ForeignKey("organisations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "application_id",
        Integer,
        ForeignKey("network_applications.id", ondelete="SET NULL"),
    ),
    Column("joined_at", DateTime(timezone=True), server_default=func.now()),
)

pilots = Table(
    "pilots",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(40), nullable=False, unique=True),  # public id, e.g. P-0007
    Column(
        "organisation_id",
        Integer,
        ForeignKey("organisations.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("status", String(20), nullable=False, server_default="draft"),
    Column("title", String(300), nullable=False),
    Column("document", Text, nullable=False),
    Column(
        "version", Integer, nullable=False, server_default="0"
    ),  # 0 = never registered
    Column("verdict", Text, nullable=False, server_default=""),
    Column("is_demo", Boolean, nullable=False, server_default="0"),
    Column("created_by", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("created_at", DateTime(timezone=True), server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), server_default=func.now()),
    CheckConstraint("status in ('draft','registered','concluded')", name="status"),
)

pilot_researchers = Table(
    "pilot_researchers",
    metadata,
    Column(
        "pilot_id",
        Integer,
        ForeignKey("pilots.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "user_id",
        Integer,
        ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("attached_by", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("attached_at", DateTime(timezone=True), server_default=func.now()),
)

registry_entries = Table(
    "registry_entries",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("pilot_id", String(40), nullable=False, index=True),  # pilots.code
    Column("version", Integer, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("registered_at", String(40), nullable=False),  # ISO text, as hashed
    Column("content", Text, nullable=False),  # canonical JSON, as hashed
    Column("reason", Text, nullable=False, server_default=""),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
    CheckConstraint("kind in ('registration','amendment','conclusion')", name="kind"),
)
