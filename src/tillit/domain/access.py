"""Roles and permissions: the one home for who may do what.

Services check these predicates before they act, routes use them to decide what to
offer, and templates receive them (``access`` in the page context) instead of spelling
out role names.  A new area adds its predicates here, in a section of its own.

Roles (``Actor.role``): ``admin`` may do anything; ``member`` belongs to one
organisation and writes for it only; ``researcher`` reads non-public data and evaluates
the pilots they are attached to; ``public`` is the anonymous reader.
"""

from __future__ import annotations

from tillit.domain.records import Actor

__all__ = [
    "ROLES",
    "WRITER_ROLES",
    "can_import_compensation_register",
    "can_read_compensation_run",
    "can_save_compensation_run",
    "can_write_for",
    "is_admin",
    "is_signed_in",
    "is_writer",
]

ROLES = ("admin", "member", "researcher")
"""The roles an account can have (the anonymous reader is ``public``)."""

WRITER_ROLES = frozenset({"admin", "member"})
"""Roles that write an organisation's own data (imports, inventories, surveys)."""


def is_admin(actor: Actor) -> bool:
    """An administrator."""
    return actor.role == "admin"


def is_signed_in(actor: Actor) -> bool:
    """Any signed-in account."""
    return actor.user_id is not None and actor.role in ROLES


def is_writer(actor: Actor) -> bool:
    """May write data for some organisation (an admin, or a member of one)."""
    return actor.role in WRITER_ROLES


def can_write_for(actor: Actor, organisation_id: int | None) -> bool:
    """May ``actor`` write data of ``organisation_id`` (admins: any organisation)."""
    if actor.role == "admin":
        return True
    return (
        actor.role == "member"
        and organisation_id is not None
        and actor.organisation_id == organisation_id
    )


# --- compensation models (#15) -----------------------------------------------------------
# The register of municipalities' compensation models and the simulator are public; writing
# the register, saving runs and turning a run into a pilot or a reporting requirement are not.


def can_import_compensation_register(actor: Actor, organisation_id: int | None) -> bool:
    """May ``actor`` write register rows of ``organisation_id`` (admins: any)."""
    return can_write_for(actor, organisation_id)


def can_save_compensation_run(actor: Actor) -> bool:
    """May ``actor`` save a simulation run (any signed-in account)."""
    return is_signed_in(actor)


def can_read_compensation_run(
    actor: Actor, owner_id: int | None, organisation_id: int | None
) -> bool:
    """May ``actor`` read a saved run: its owner, its organisation's members,
    researchers and administrators."""
    if actor.role in {"admin", "researcher"}:
        return True
    if actor.user_id is not None and actor.user_id == owner_id:
        return True
    return (
        actor.role == "member"
        and organisation_id is not None
        and actor.organisation_id == organisation_id
    )
