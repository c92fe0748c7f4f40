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

from tillit.core.errors import Conflict, DataError, NotFound, PermissionDenied
from tillit.domain import access
from tillit.domain.records import Actor
from tillit.services.auth import require_admin
from tillit.store import network as repo
from tillit.store.db import Connection, Engine, read_transaction, write_transaction

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
    oid = repo.organisation_id(conn, code.strip())
    if oid is None:
        raise NotFound(f"no organisation with code {code!r}")
    return oid


def is_member(conn: Connection, organisation_id: int) -> bool:
    """Is the organisation a member of the network?"""
    return repo.is_member(conn, organisation_id)


def _checked_application(
    contact_name: str, motivation: str, contact_email: str
) -> tuple[str, str, str]:
    contact_name, motivation = contact_name.strip(), motivation.strip()
    if not contact_name or len(contact_name) > 200:
        raise DataError("a contact name (at most 200 characters)", field="contact_name")
    if not motivation or len(motivation) > 5000:
        raise DataError(
            "say why you want to join (at most 5000 characters)", field="motivation"
        )
    if len(contact_email) > 200 or (contact_email and "@" not in contact_email):
        raise DataError("an e-mail address", field="contact_email")
    return contact_name, motivation, contact_email.strip()


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
    name, why, email = _checked_application(contact_name, motivation, contact_email)
    with write_transaction(engine) as conn:
        oid = _org_id(conn, organisation_code)
        if repo.is_member(conn, oid):
            raise Conflict("this organisation is already a member of the network")
        if repo.pending_application(conn, oid) is not None:
            raise Conflict("an application from this organisation is already pending")
        return repo.insert_application(
            conn,
            organisation_id=oid,
            contact_name=name,
            contact_email=email,
            motivation=why,
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
        app = repo.application(conn, application_id)
        if app is None:
            raise NotFound("no such application")
        if app["status"] != "pending":
            raise Conflict(f"this application was already {app['status']}")
        repo.decide(
            conn,
            application_id,
            status="approved" if approve else "declined",
            reason=reason[:5000],
            decided_by=actor.user_id,
            decided_at=datetime.now(UTC),
        )
        if approve and not repo.is_member(conn, app["organisation_id"]):
            repo.add_member(conn, app["organisation_id"], app["id"])


def ensure_member(conn: Connection, organisation_id: int) -> None:
    """Make an organisation a member without an application (demo, administrators)."""
    if not repo.is_member(conn, organisation_id):
        repo.add_member(conn, organisation_id)


def list_applications(
    engine: Engine, actor: Actor, status: str = "pending"
) -> list[dict[str, Any]]:
    """Applications (with contact details) for administrators, newest first."""
    require_admin(actor)
    with read_transaction(engine) as conn:
        return repo.list_applications(conn, status)


def list_members(engine: Engine) -> list[dict[str, Any]]:
    """Member organisations (public) with their public pilots (registered or concluded)."""
    with read_transaction(engine) as conn:
        members = repo.list_members(conn)
        rows = repo.public_pilots(conn)
    by_org: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        by_org.setdefault(r["organisation_id"], []).append(r)
    for m in members:
        m["pilots"] = by_org.get(m["id"], [])
    return members


def _pilot_for_writer(conn: Connection, actor: Actor, code: str, verb: str) -> int:
    pilot = repo.pilot(conn, code)
    if pilot is None:
        raise NotFound(f"no pilot {code!r}")
    if not access.can_write_for(actor, pilot["organisation_id"]):
        raise PermissionDenied(
            f"only administrators and members of the pilot's organisation may "
            f"{verb} researchers"
        )
    return int(pilot["id"])


def attach_researcher(engine: Engine, actor: Actor, code: str, username: str) -> None:
    """Attach a researcher to a pilot (administrators and the pilot's organisation)."""
    with write_transaction(engine) as conn:
        pilot_id = _pilot_for_writer(conn, actor, code, "attach")
        user = repo.user(conn, username.strip())
        if user is None:
            raise NotFound(f"no user {username!r}")
        if user["role"] != access.RESEARCHER:
            raise DataError(
                f"{username!r} is not a researcher account", field="username"
            )
        repo.attach(conn, pilot_id, int(user["id"]), actor.user_id)


def detach_researcher(engine: Engine, actor: Actor, code: str, username: str) -> None:
    """Remove a researcher from a pilot (same rule as attaching)."""
    with write_transaction(engine) as conn:
        pilot_id = _pilot_for_writer(conn, actor, code, "detach")
        user = repo.user(conn, username)
        if user is not None:
            repo.detach(conn, pilot_id, int(user["id"]))


def researchers_of(conn: Connection, pilot_id: int) -> list[dict[str, Any]]:
    """Researchers attached to a pilot (id, username, display name)."""
    return repo.researchers_of(conn, pilot_id)
