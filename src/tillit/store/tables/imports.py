"""Tables of the observations and the import batches they came from.

Entities
--------
import_batches  one row per import; every observation points to the batch it came from
observations    indicator x (organisation | unit) x period x gender -> value
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    func,
)

from tillit.store.tables.base import metadata

__all__ = ["import_batches", "observations"]

import_batches = Table(
    "import_batches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "source", String(40), nullable=False
    ),  # csv | kolada-json | kolada-api | demo
    Column("filename", String(400), nullable=False, server_default=""),
    Column("sha256", String(64), nullable=False, index=True),
    Column("n_rows", Integer, nullable=False, server_default="0"),
    Column("n_new", Integer, nullable=False, server_default="0"),
    Column("n_updated", Integer, nullable=False, server_default="0"),  # migration 0002
    Column(
        "n_unchanged", Integer, nullable=False, server_default="0"
    ),  # migration 0002
    Column("user_id", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("organisation_id", Integer, ForeignKey("organisations.id")),
    Column("created_at", DateTime(timezone=True), server_default=func.now()),
)


observations = Table(
    "observations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "indicator_id",
        String(32),
        ForeignKey("indicators.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column(
        "organisation_id",
        Integer,
        ForeignKey("organisations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    # 0 means "the organisation itself"; otherwise units.id (kept NOT NULL so that the
    # natural key below is a plain unique index on SQLite and PostgreSQL alike)
    Column("unit_id", Integer, nullable=False, server_default="0"),
    Column("period", String(7), nullable=False),  # YYYY or YYYY-MM
    Column("year", Integer, nullable=False),
    Column("month", Integer, nullable=False, server_default="0"),  # 0 = whole year
    Column("gender", String(1), nullable=False),  # T | K | M
    Column("value", Float),
    Column("count", Integer),
    Column("status", String(20), nullable=False, server_default=""),
    Column(
        "batch_id",
        Integer,
        ForeignKey("import_batches.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    CheckConstraint("gender in ('T','K','M')", name="gender"),
    Index(
        "uq_observations_key",
        "indicator_id",
        "organisation_id",
        "unit_id",
        "period",
        "gender",
        unique=True,
    ),
    Index("ix_observations_org", "organisation_id", "indicator_id"),
)
