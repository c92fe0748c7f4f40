"""Tables of the compensation-model area (#15).

Entities
--------
compensation_register   each municipality's compensation model per year (the CSV
                        register, ``domain.compensation.register``): basis, day rate,
                        goal-related part, what it covers, its source; ``is_demo``
                        marks the demo workspace's rows
compensation_runs       saved simulation runs: the spec, the population summary and the
                        result JSON (``SimulationResult.to_dict()``), so that a pilot
                        draft or a burden requirement can name the run it came from
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
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

__all__ = ["compensation_register", "compensation_runs"]

_BASES = (
    "granted_time", "performed_time_electronic", "performed_time_self_reported",
    "per_visit", "per_service_level", "capitation", "fixed_budget",
)  # fmt: skip

compensation_register = Table(
    "compensation_register",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "organisation_id",
        Integer,
        ForeignKey("organisations.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("year", Integer, nullable=False),
    Column("name", String(80), nullable=False),
    Column("basis", String(40), nullable=False),
    Column("rate_day_kr", Float),
    Column("goal_related", Boolean, nullable=False, server_default="0"),
    Column("covers", String(80), nullable=False, server_default=""),
    Column("source", String(400), nullable=False, server_default=""),
    Column("note", String(1000), nullable=False, server_default=""),
    Column("is_demo", Boolean, nullable=False, server_default="0"),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("created_at", DateTime(timezone=True), server_default=func.now()),
    UniqueConstraint(
        "organisation_id", "year", "name", name="uq_compensation_register_org_year_name"
    ),
    CheckConstraint(
        "basis in (" + ",".join(f"'{b}'" for b in _BASES) + ")", name="basis"
    ),
)

compensation_runs = Table(
    "compensation_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "organisation_id", Integer, ForeignKey("organisations.id", ondelete="SET NULL")
    ),
    Column("title", String(200), nullable=False, server_default=""),
    Column("spec", Text, nullable=False),
    Column("population", Text, nullable=False),
    Column("result", Text, nullable=False),
    Column("draws", Integer, nullable=False),
    Column("seed", Integer, nullable=False),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("created_at", DateTime(timezone=True), server_default=func.now()),
)
