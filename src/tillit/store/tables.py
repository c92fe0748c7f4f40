"""The database schema (SQLAlchemy Core). Change it only through a migration.

Entities
--------
organisations   municipality (official 4-digit code, e.g. ``0180``), region (``00`` + county,
                e.g. ``0001``), the country (``0000``) or another body
units           organisational units below an organisation (home-care units, schools, care
                homes); Kolada OU ids such as ``V15E018000301``
indicators      KPI metadata (Kolada-compatible id such as ``N00945``)
peer_groups     named sets of organisations: SKR municipality groups, Kolada "similar
                municipalities", counties, or a user's own set
import_batches  one row per import; every observation points to the batch it came from
observations    indicator x (organisation | unit) x period x gender -> value
users           accounts with one role: admin, member (of one organisation), researcher
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
)

from tillit.domain import access

__all__ = [
    "ROLES",
    "import_batches",
    "indicators",
    "metadata",
    "observations",
    "organisations",
    "peer_group_members",
    "peer_groups",
    "units",
    "users",
]

ROLES = access.ROLES

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

organisations = Table(
    "organisations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(16), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column(
        "kind", String(20), nullable=False
    ),  # municipality | region | country | other
    Column("county_code", String(2)),
    Column("skr_group", String(100)),
    Column("is_demo", Boolean, nullable=False, server_default="0"),
    CheckConstraint("kind in ('municipality','region','country','other')", name="kind"),
)

units = Table(
    "units",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column(
        "organisation_id",
        Integer,
        ForeignKey("organisations.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("kind", String(40), nullable=False, server_default="other"),
)

indicators = Table(
    "indicators",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("title", String(400), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("area", String(200), nullable=False, server_default=""),
    Column("unit_of_measure", String(60), nullable=False, server_default=""),
    Column("divided_by_gender", Boolean, nullable=False, server_default="0"),
    # NULL when direction is not meaningful (e.g. population)
    Column("higher_is_better", Boolean),
    Column("source", String(200), nullable=False, server_default=""),
    Column("is_public", Boolean, nullable=False, server_default="1"),
    Column("is_demo", Boolean, nullable=False, server_default="0"),
)

peer_groups = Table(
    "peer_groups",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("title", String(400), nullable=False),
    Column("kind", String(20), nullable=False),  # skr | similar | county | custom
    Column("owner_user_id", Integer, ForeignKey("users.id", ondelete="CASCADE")),
)

peer_group_members = Table(
    "peer_group_members",
    metadata,
    Column(
        "group_id",
        String(40),
        ForeignKey("peer_groups.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "organisation_id",
        Integer,
        ForeignKey("organisations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)

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
from tillit.store.burden_tables import *  # noqa: E402, F403  (burden ledger and audit, #6)
from tillit.store.pilots_tables import *  # noqa: E402, F403  (network and pilot registry, #5)
from tillit.store.results_tables import *  # noqa: E402, F403  (pilot evaluation results, #5)
from tillit.store.survey_tables import *  # noqa: E402, F403  (trust barometer and dialogue, #7)
