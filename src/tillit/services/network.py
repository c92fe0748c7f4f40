"""The network: organisations apply to join, administrators decide, members are listed.

Rules
-----
* anyone (also anonymous) may apply for an organisation in the store; one pending
  application per organisation, none for an organisation that is already a member;
* only administrators approve or decline (a decline needs a reason); approval makes the
  organisation a member;
* the member list and each member's public pilots are public; pending applications
  (with contact details) are visible to administrators only;
* researchers are attached to a pilot by an administrator or a member of the pilot's
  organisation; only users with the ``researcher`` role can be attached.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, select

from tillit.core.errors import Conflict, DataError, NotFound, PermissionDenied
from tillit.domain import access
from tillit.domain.records import Actor
from tillit.services.auth import require_admin
from tillit.store.db import write_transaction
from tillit.store.pilots_tables import (
    network_applications,
    network_members,
    pilot_researchers,
    pilots,
)
from tillit.store.tables import organisations, users

__all__ = [
    "apply",
    "attach_researcher",
    "decide",
    "detach_researcher",
    "ensure_member",
    "is_member",
    "list_applications",
    "list_members",
    "researchers_of",
]


def _org_id(conn: Connection, code: str) -> int:
    oid = conn.execute(
        select(organisations.c.id).where(organisations.c.code == code.strip())
    ).scalar()
    if oid is None:
        raise NotFound(f"no organisation with code {code!r}")
    return int(oid)


def is_member(conn: Connection, organisation_id: int) -> bool:
    """Is the organisation a member of the network?"""
    return (
        conn.execute(
            select(network_members.c.organisation_id).where(
                network_members.c.organisation_id == organisation_id
            )
        ).first()
        is not None
    )


def apply(
    engine: Engine,
    organisation_code: str,
    contact_name: str,
    motivation: str,
    *,
    contact_email: str = "",
) -> int:
    """Record an application to join; returns its id.

    Raises
    ------
    DataError
        Missing contact name or motivation, or too long texts.
    NotFound
        Unknown organisation code.
    Conflict
        Already a member, or an application is pending.
    """
    contact_name, motivation = contact_name.strip(), motivation.strip()
    if not contact_name or len(contact_name) > 200:
        raise DataError("a contact name (at most 200 characters)", field="contact_name")
    if not motivation or len(motivation) > 5000:
        raise DataError(
            "say why you want to join (at most 5000 characters)", field="motivation"
        )
    if len(contact_email) > 200 or (contact_email and "@" not in contact_email):
        raise DataError("an e-mail address", field="contact_email")
    with write_transaction(engine) as conn:
        oid = _org_id(conn, organisation_code)
        if is_member(conn, oid):
            raise Conflict("this organisation is already a member of the network")
        pending = conn.execute(
            select(network_applications.c.id).where(
                network_applications.c.organisation_id == oid,
                network_applications.c.status == "pending",
            )
        ).first()
        if pending is not None:
            raise Conflict("an application from this organisation is already pending")
        return int(
            conn.execute(  # type: ignore[index]
                network_applications.insert().values(
                    organisation_id=oid,
                    contact_name=contact_name,
                    contact_email=contact_email.strip(),
                    motivation=motivation,
                )
            ).inserted_primary_key[0]
        )


def decide(
    engine: Engine, actor: Actor, application_id: int, approve: bool, reason: str = ""
) -> None:
    """Approve (the organisation becomes a member) or decline (with a reason)."""
    require_admin(actor)
    reason = reason.strip()
    if not approve and not reason:
        raise DataError("a decline needs a reason", field="reason")
    with write_transaction(engine) as conn:
        row = conn.execute(
            select(network_applications).where(
                network_applications.c.id == application_id
            )
        ).first()
        if row is None:
            raise NotFound("no such application")
        if row.status != "pending":
            raise Conflict(f"this application was already {row.status}")
        conn.execute(
            network_applications.update()
            .where(network_applications.c.id == application_id)
            .values(
                status="approved" if approve else "declined",
                decision_reason=reason[:5000],
                decided_by=actor.user_id,
                decided_at=datetime.now(UTC),
            )
        )
        if approve and not is_member(conn, row.organisation_id):
            conn.execute(
                network_members.insert().values(
                    organisation_id=row.organisation_id, application_id=row.id
                )
            )


def ensure_member(conn: Connection, organisation_id: int) -> None:
    """Make an organisation a member without an application (demo, administrators)."""
    if not is_member(conn, organisation_id):
        conn.execute(network_members.insert().values(organisation_id=organisation_id))


def list_applications(
    engine: Engine, actor: Actor, status: str = "pending"
) -> list[dict[str, Any]]:
    """Applications (with contact details) for administrators, newest first."""
    require_admin(actor)
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
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]


def list_members(engine: Engine) -> list[dict[str, Any]]:
    """Member organisations (public) with their public pilots (registered or concluded)."""
    with engine.connect() as conn:
        members = [
            dict(r._mapping)
            for r in conn.execute(
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
        ]
        rows = conn.execute(
            select(
                pilots.c.organisation_id,
                pilots.c.code,
                pilots.c.title,
                pilots.c.status,
            )
            .where(pilots.c.status != "draft")
            .order_by(pilots.c.code)
        ).all()
    by_org: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        by_org.setdefault(r.organisation_id, []).append(dict(r._mapping))
    for m in members:
        m["pilots"] = by_org.get(m["id"], [])
    return members


def _pilot_row(conn: Connection, code: str) -> Any:
    row = conn.execute(select(pilots).where(pilots.c.code == code)).first()
    if row is None:
        raise NotFound(f"no pilot {code!r}")
    return row


def attach_researcher(engine: Engine, actor: Actor, code: str, username: str) -> None:
    """Attach a researcher to a pilot (administrators and the pilot's organisation)."""
    with write_transaction(engine) as conn:
        pilot = _pilot_row(conn, code)
        if not actor.can_write_for(pilot.organisation_id):
            raise PermissionDenied(
                "only administrators and members of the pilot's organisation may "
                "attach researchers"
            )
        user = conn.execute(
            select(users.c.id, users.c.role).where(users.c.username == username.strip())
        ).first()
        if user is None:
            raise NotFound(f"no user {username!r}")
        if user.role != access.RESEARCHER:
            raise DataError(
                f"{username!r} is not a researcher account", field="username"
            )
        have = conn.execute(
            select(pilot_researchers.c.user_id).where(
                pilot_researchers.c.pilot_id == pilot.id,
                pilot_researchers.c.user_id == user.id,
            )
        ).first()
        if have is None:
            conn.execute(
                pilot_researchers.insert().values(
                    pilot_id=pilot.id, user_id=user.id, attached_by=actor.user_id
                )
            )


def detach_researcher(engine: Engine, actor: Actor, code: str, username: str) -> None:
    """Remove a researcher from a pilot (same rule as attaching)."""
    with write_transaction(engine) as conn:
        pilot = _pilot_row(conn, code)
        if not actor.can_write_for(pilot.organisation_id):
            raise PermissionDenied(
                "only administrators and members of the pilot's organisation may "
                "detach researchers"
            )
        uid = conn.execute(
            select(users.c.id).where(users.c.username == username)
        ).scalar()
        if uid is not None:
            conn.execute(
                pilot_researchers.delete().where(
                    pilot_researchers.c.pilot_id == pilot.id,
                    pilot_researchers.c.user_id == uid,
                )
            )


def researchers_of(conn: Connection, pilot_id: int) -> list[dict[str, Any]]:
    """Researchers attached to a pilot (id, username, display name)."""
    rows = conn.execute(
        select(users.c.id, users.c.username, users.c.display_name)
        .join(pilot_researchers, pilot_researchers.c.user_id == users.c.id)
        .where(pilot_researchers.c.pilot_id == pilot_id)
        .order_by(users.c.username)
    )
    return [dict(r._mapping) for r in rows]
