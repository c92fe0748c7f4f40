"""Tables of the burden ledger and the cached signal-audit reports (issue 6).

Entities
--------
burden_inventories      one inventory of reporting and documentation requirements of an
                        organisation (``label``, ``inventory_date`` YYYY-MM-DD); ``is_demo``
                        marks the demo workspace's inventories
burden_requirements     one requirement of an inventory, the columns of the documented
                        template ``docs/templates/burden_template.csv`` (Standard Cost
                        Model inputs: frequency x minutes x reporters x hourly cost)
burden_requirement_indicators
                        links from a requirement to the indicators (``indicators.id``) it
                        feeds
burden_staff            employees per staff group (and optionally unit) of an inventory,
                        for burden per employee
audit_reports           the last signal-audit report per organisation (0 = none) and
                        request key (a hash of indicators, criteria, targets, settings,
                        the inventory's version and the newest import batch): the page's
                        JSON document and the CSV (the HTML report is drawn from the
                        document when asked for; its column went in migration 0500)
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)

from tillit.store.tables.base import metadata

__all__ = [
    "audit_reports",
    "burden_inventories",
    "burden_requirement_indicators",
    "burden_requirements",
    "burden_staff",
]

burden_inventories = Table(
    "burden_inventories",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "organisation_id",
        Integer,
        ForeignKey("organisations.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("label", String(200), nullable=False),
    Column("inventory_date", String(10), nullable=False),
    Column("source", String(400), nullable=False, server_default=""),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("is_demo", Boolean, nullable=False, server_default="0"),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("created_at", DateTime(timezone=True), server_default=func.now()),
    UniqueConstraint(
        "organisation_id", "label", name="uq_burden_inventories_org_label"
    ),
)

burden_requirements = Table(
    "burden_requirements",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "inventory_id",
        Integer,
        ForeignKey("burden_inventories.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("requirement_id", String(80), nullable=False),
    Column("title", String(400), nullable=False),
    Column("demanded_by", String(20), nullable=False),
    Column("staff_group", String(120), nullable=False),
    Column("unit", String(120), nullable=False),
    Column("frequency_per_year", Float, nullable=False),
    Column("minutes_per_occurrence", Float, nullable=False),
    Column("reporters", Float, nullable=False),
    Column("hourly_cost_sek", Float, nullable=False),
    Column("dimension", String(120), nullable=False, server_default=""),
    UniqueConstraint(
        "inventory_id", "requirement_id", name="uq_burden_requirements_inv_req"
    ),
)

burden_requirement_indicators = Table(
    "burden_requirement_indicators",
    metadata,
    Column(
        "requirement_pk",
        Integer,
        ForeignKey(
            "burden_requirements.id",
            ondelete="CASCADE",
            name="fk_burden_req_ind_requirement_pk",
        ),
        primary_key=True,
    ),
    Column(
        "indicator_id",
        String(32),
        ForeignKey(
            "indicators.id", ondelete="CASCADE", name="fk_burden_req_ind_indicator_id"
        ),
        primary_key=True,
    ),
    Column("position", Integer, nullable=False, server_default="0"),
)

burden_staff = Table(
    "burden_staff",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "inventory_id",
        Integer,
        ForeignKey("burden_inventories.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("staff_group", String(120), nullable=False),
    Column("unit", String(120), nullable=False, server_default=""),
    Column("employees", Float, nullable=False),
)

audit_reports = Table(
    "audit_reports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("organisation_id", Integer, nullable=False, server_default="0"),
    Column("key", String(64), nullable=False),
    Column("document", Text, nullable=False),
    Column("csv", Text, nullable=False),
    Column("seconds", Float, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), server_default=func.now()),
    UniqueConstraint("organisation_id", "key", name="uq_audit_reports_org_key"),
)
