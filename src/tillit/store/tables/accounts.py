"""The accounts table: one role per user (see :mod:`tillit.domain.access`)."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    func,
)

from tillit.domain.access import ROLES
from tillit.store.tables.base import metadata

__all__ = ["ROLES", "users"]

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(80), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False, server_default=""),
    Column("password_hash", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("organisation_id", Integer, ForeignKey("organisations.id")),
    Column("created_at", DateTime(timezone=True), server_default=func.now()),
    CheckConstraint(f"role in ({','.join(repr(r) for r in ROLES)})", name="role"),
)
