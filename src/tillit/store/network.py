"""The network's SQL: applications, members, and researchers attached to pilots."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from tillit.store.tables import (
    network_applications,
    network_members,
    organisations,
    pilot_researchers,
    pilots,
    users,
)

__all__ = [
    "add_member",
    "application",
    "attach",
    "decide",
    "detach",
    "insert_application",
    "is_member",
    "list_applications",
    "list_members",
    "organisation_id",
    "pending_application",
    "pilot",
    "public_pilots",
    "researchers_of",
    "user",
]


def organisation_id(conn: Connection, code: str) -> int | None:
    """The id of the organisation with ``code``, or None."""
    oid = conn.execute(
        select(organisations.c.id).where(organisations.c.code == code)
    ).scalar()
    return None if oid is None else int(oid)


def is_member(conn: Connection, organisation_id: int) -> bool:
    """Is the organisation a member of the network?"""
    found = conn.execute(
        select(network_members.c.organisation_id).where(
            network_members.c.organisation_id == organisation_id
        )
    ).first()
    return found is not None


def add_member(
    conn: Connection, organisation_id: int, application_id: int | None = None
) -> None:
    """Make the organisation a member (it must not be one yet)."""
    conn.execute(
        insert(network_members).values(
            organisation_id=organisation_id, application_id=application_id
        )
    )


def pending_application(conn: Connection, organisation_id: int) -> int | None:
    """The organisation's pending application, or None."""
    found = conn.execute(
        select(network_applications.c.id).where(
            network_applications.c.organisation_id == organisation_id,
            network_applications.c.status == "pending",
        )
    ).scalar()
    return None if found is None else int(found)


def insert_application(conn: Connection, **values: Any) -> int:
    """Record an application (columns of ``network_applications``); its id."""
    return int(
        conn.execute(
            insert(network_applications)
            .values(**values)
            .returning(network_applications.c.id)
        ).scalar_one()
    )


def application(conn: Connection, application_id: int) -> dict[str, Any] | None:
    """One application, or None."""
    row = conn.execute(
        select(network_applications).where(network_applications.c.id == application_id)
    ).first()
    return None if row is None else dict(row._mapping)


def decide(
    conn: Connection,
    application_id: int,
    *,
    status: str,
    reason: str,
    decided_by: int | None,
    decided_at: datetime,
) -> None:
    """Record the decision on an application."""
    conn.execute(
        update(network_applications)
        .where(network_applications.c.id == application_id)
        .values(
            status=status,
            decision_reason=reason,
            decided_by=decided_by,
            decided_at=decided_at,
        )
    )


def list_applications(conn: Connection, status: str = "") -> list[dict[str, Any]]:
    """Applications with the organisation's code and name, newest first."""
    stmt = (
        select(
            network_applications,
            organisations.c.code.label("organisation_code"),
            organisations.c.name.label("organisation_name"),
        )
        .join(organisations)
        .order_by(network_applications.c.id.desc())
    )
    if status:
        stmt = stmt.where(network_applications.c.status == status)
    return [dict(r._mapping) for r in conn.execute(stmt)]


def list_members(conn: Connection) -> list[dict[str, Any]]:
    """Member organisations: ``id, code, name, kind, joined_at``, by code."""
    stmt = (
        select(
            organisations.c.id,
            organisations.c.code,
            organisations.c.name,
            organisations.c.kind,
            network_members.c.joined_at,
        )
        .join(organisations)
        .order_by(organisations.c.code)
    )
    return [dict(r._mapping) for r in conn.execute(stmt)]


def public_pilots(conn: Connection) -> list[dict[str, Any]]:
    """Pilots past their draft: ``organisation_id, code, title, status``, by code."""
    stmt = (
        select(pilots.c.organisation_id, pilots.c.code, pilots.c.title, pilots.c.status)
        .where(pilots.c.status != "draft")
        .order_by(pilots.c.code)
    )
    return [dict(r._mapping) for r in conn.execute(stmt)]


def pilot(conn: Connection, code: str) -> dict[str, Any] | None:
    """A pilot's row (``id, organisation_id, ...``), or None."""
    row = conn.execute(select(pilots).where(pilots.c.code == code)).first()
    return None if row is None else dict(row._mapping)


def user(conn: Connection, username: str) -> dict[str, Any] | None:
    """``id, role`` of a user by name, or None."""
    row = conn.execute(
        select(users.c.id, users.c.role).where(users.c.username == username)
    ).first()
    return None if row is None else dict(row._mapping)


def attach(conn: Connection, pilot_id: int, user_id: int, by: int | None) -> None:
    """Attach a researcher to a pilot unless already attached."""
    have = conn.execute(
        select(pilot_researchers.c.user_id).where(
            pilot_researchers.c.pilot_id == pilot_id,
            pilot_researchers.c.user_id == user_id,
        )
    ).first()
    if have is None:
        conn.execute(
            insert(pilot_researchers).values(
                pilot_id=pilot_id, user_id=user_id, attached_by=by
            )
        )


def detach(conn: Connection, pilot_id: int, user_id: int) -> None:
    """Remove a researcher from a pilot."""
    conn.execute(
        delete(pilot_researchers).where(
            pilot_researchers.c.pilot_id == pilot_id,
            pilot_researchers.c.user_id == user_id,
        )
    )


def researchers_of(conn: Connection, pilot_id: int) -> list[dict[str, Any]]:
    """Researchers attached to a pilot: ``id, username, display_name``, by name."""
    rows = conn.execute(
        select(users.c.id, users.c.username, users.c.display_name)
        .join(pilot_researchers, pilot_researchers.c.user_id == users.c.id)
        .where(pilot_researchers.c.pilot_id == pilot_id)
        .order_by(users.c.username)
    )
    return [dict(r._mapping) for r in rows]
