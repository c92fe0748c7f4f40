"""Tables of the catalog: organisations, their units, indicators and peer groups.

Entities
--------
organisations   municipality (official 4-digit code, e.g. ``0180``), region (``00`` + county,
                e.g. ``0001``), the country (``0000``) or another body
units           organisational units below an organisation (home-care units, schools, care
                homes); Kolada OU ids such as ``V15E018000301``
indicators      KPI metadata (Kolada-compatible id such as ``N00945``); ``higher_is_better``
                is the indicator's direction and ``direction_source`` who said so
peer_groups     named sets of organisations: SKR municipality groups, Kolada "similar
                municipalities", counties, or a user's own set
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
)

from tillit.store.tables.base import metadata

__all__ = ["indicators", "organisations", "peer_group_members", "peer_groups", "units"]

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
    # the direction counts only with its source (tillit.domain.direction): True/False
    # higher/lower is better, NULL with a source: neither; any value without: unknown
    Column("higher_is_better", Boolean),
    Column("source", String(200), nullable=False, server_default=""),
    Column("is_public", Boolean, nullable=False, server_default="1"),
    Column("is_demo", Boolean, nullable=False, server_default="0"),
    Column("direction_source", String(400), nullable=False, server_default=""),  # 0500
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
