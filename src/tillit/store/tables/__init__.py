"""The database schema (SQLAlchemy Core), one module per area. Change it only through a
migration (``store/migrations``); ``tests/integration/store/
test_schema_matches_metadata.py`` holds the two equal.

Every table module registers its tables with the one :data:`metadata` of
:mod:`tillit.store.tables.base` and imports nothing else from the store, so the modules
form no circle. This package imports all of them (Alembic and the schema test see the
whole schema through :data:`metadata`) and re-exports every table by name, so
``from tillit.store.tables import observations`` works from anywhere.

=================  ===============================================================
module             tables
=================  ===============================================================
``base``           ``metadata`` (naming convention)
``catalog``        organisations, units, indicators, peer groups
``imports``        import batches, observations
``accounts``       users and their role
``queue``          the background job queue
``burden``         burden inventories, requirements, staff; cached audit reports
``registry``       network applications and members, pilots, researchers, registry
``results``        evaluation jobs, snapshots, published evaluations
``survey``         trust-barometer rounds, links, responses, releases; dialogue
``compensation``   the register of municipalities' compensation models, saved runs
=================  ===============================================================

A new area adds ``tables/<area>.py`` (importing ``metadata`` from ``base``; a module is
never named like one of its tables, which this package re-exports), a line below and
its migration.
"""

from __future__ import annotations

from tillit.store.tables.accounts import ROLES, users
from tillit.store.tables.base import metadata
from tillit.store.tables.burden import (
    audit_reports,
    burden_inventories,
    burden_requirement_indicators,
    burden_requirements,
    burden_staff,
)
from tillit.store.tables.catalog import (
    indicators,
    organisations,
    peer_group_members,
    peer_groups,
    units,
)
from tillit.store.tables.compensation import compensation_register, compensation_runs
from tillit.store.tables.imports import import_batches, observations
from tillit.store.tables.queue import job_files, jobs
from tillit.store.tables.registry import (
    network_applications,
    network_members,
    pilot_researchers,
    pilots,
    registry_entries,
)
from tillit.store.tables.results import eval_jobs, eval_snapshots, evaluations
from tillit.store.tables.survey import (
    dialogue_posts,
    dialogue_reports,
    dialogue_settings,
    rate_events,
    survey_links,
    survey_releases,
    survey_responses,
    survey_rounds,
)

__all__ = [
    "ROLES",
    "audit_reports",
    "burden_inventories",
    "burden_requirement_indicators",
    "burden_requirements",
    "burden_staff",
    "compensation_register",
    "compensation_runs",
    "dialogue_posts",
    "dialogue_reports",
    "dialogue_settings",
    "eval_jobs",
    "eval_snapshots",
    "evaluations",
    "import_batches",
    "indicators",
    "job_files",
    "jobs",
    "metadata",
    "network_applications",
    "network_members",
    "observations",
    "organisations",
    "peer_group_members",
    "peer_groups",
    "pilot_researchers",
    "pilots",
    "rate_events",
    "registry_entries",
    "survey_links",
    "survey_releases",
    "survey_responses",
    "survey_rounds",
    "units",
    "users",
]
