"""Roles and permissions: the one home for who may do what.

Services check these predicates before they act, routes use them to decide what to
offer, and templates receive them (``access`` in the page context, an :class:`Access`)
instead of spelling out role names.  A new area adds its predicates here, in a section
of its own.

Roles (``Actor.role``): ``admin`` may do anything; ``member`` belongs to one
organisation and writes for it only; ``researcher`` reads non-public data and evaluates
the pilots they are attached to; ``public`` is the anonymous reader.  The methods of
:class:`~tillit.domain.records.Actor` (``is_admin``, ``can_write_for``,
``can_read_private``) call the predicates here.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # records imports this module for its Actor methods
    from tillit.domain.records import Actor

__all__ = [
    "ACTOR_ROLES",
    "ADMIN",
    "MEMBER",
    "PUBLIC",
    "RESEARCHER",
    "ROLES",
    "WRITER_ROLES",
    "Access",
    "can_import_compensation_register",
    "can_read_compensation_run",
    "can_read_inventory",
    "can_read_private",
    "can_save_compensation_run",
    "can_write_for",
    "is_admin",
    "is_attached_researcher",
    "is_member",
    "is_public",
    "is_researcher",
    "is_signed_in",
    "is_writer",
    "may_conclude",
    "may_import",
    "may_publish",
    "may_run_evaluation",
    "may_set_direction",
    "may_watch_job",
    "needs_organisation",
]

ADMIN = "admin"
MEMBER = "member"
RESEARCHER = "researcher"
PUBLIC = "public"

ROLES = (ADMIN, MEMBER, RESEARCHER)
"""The roles an account can have (the anonymous reader is ``public``)."""

ACTOR_ROLES = (*ROLES, PUBLIC)
"""Every role an :class:`Actor` can carry."""

WRITER_ROLES = frozenset({ADMIN, MEMBER})
"""Roles that write an organisation's own data (imports, inventories, surveys)."""


# --- general ------------------------------------------------------------------------


def is_admin(actor: Actor) -> bool:
    """An administrator."""
    return actor.role == ADMIN


def is_member(actor: Actor) -> bool:
    """A member of one organisation (not an administrator)."""
    return actor.role == MEMBER


def is_researcher(actor: Actor) -> bool:
    """A researcher account."""
    return actor.role == RESEARCHER


def is_public(actor: Actor) -> bool:
    """The anonymous reader."""
    return actor.role == PUBLIC


def is_signed_in(actor: Actor) -> bool:
    """Any signed-in account."""
    return actor.user_id is not None and actor.role in ROLES


def is_writer(actor: Actor) -> bool:
    """May write data for some organisation (an admin, or a member of one)."""
    return actor.role in WRITER_ROLES


def can_write_for(actor: Actor, organisation_id: int | None) -> bool:
    """May ``actor`` write data of ``organisation_id`` (admins: any organisation)."""
    if actor.role == ADMIN:
        return True
    return (
        actor.role == MEMBER
        and organisation_id is not None
        and actor.organisation_id == organisation_id
    )


def can_read_private(actor: Actor) -> bool:
    """May ``actor`` see indicators and data marked non-public (any account)."""
    return actor.role in ROLES


def needs_organisation(role: str) -> bool:
    """Does an account of ``role`` belong to one organisation?"""
    return role == MEMBER


# --- follow-up and imports ----------------------------------------------------------


def may_import(actor: Actor | None) -> bool:
    """May ``actor`` import observations (``None``: a trusted system call)?

    Members import rows of their own organisation only; the import checks the rows.
    """
    return actor is None or is_writer(actor)


def may_set_direction(actor: Actor) -> bool:
    """May ``actor`` record which way an indicator is better (administrators)."""
    return is_admin(actor)


# --- background jobs ----------------------------------------------------------------


def may_watch_job(actor: Actor, owner_user_id: int | None) -> bool:
    """May ``actor`` see a background job's status (its owner and administrators).

    Jobs started by the system (no owner) are visible to administrators only.
    """
    if is_admin(actor):
        return True
    return actor.user_id is not None and actor.user_id == owner_user_id


# --- burden ledger and audit --------------------------------------------------------


def can_read_inventory(actor: Actor, organisation_id: int) -> bool:
    """May ``actor`` read the burden inventories of ``organisation_id``?

    Administrators and researchers read all; members their own organisation's.
    """
    return actor.role in {ADMIN, RESEARCHER} or (
        actor.role == MEMBER and actor.organisation_id == organisation_id
    )


# --- pilots and evaluation ----------------------------------------------------------


def is_attached_researcher(actor: Actor, researcher_ids: Collection[int]) -> bool:
    """A researcher account among the pilot's attached researchers (user ids)."""
    return actor.role == RESEARCHER and actor.user_id in researcher_ids


def may_conclude(actor: Actor, researcher_ids: Collection[int]) -> bool:
    """May ``actor`` conclude a pilot: an administrator or an attached researcher."""
    return is_admin(actor) or is_attached_researcher(actor, researcher_ids)


def may_publish(actor: Actor, researcher_ids: Collection[int]) -> bool:
    """May ``actor`` publish a pilot's evaluation: an admin or an attached researcher."""
    return is_admin(actor) or is_attached_researcher(actor, researcher_ids)


def may_run_evaluation(
    actor: Actor, organisation_id: int | None, researcher_ids: Collection[int]
) -> bool:
    """May ``actor`` ask for a re-run of a pilot's analysis?

    Administrators, members of the pilot's organisation and attached researchers.
    """
    return can_write_for(actor, organisation_id) or is_attached_researcher(
        actor, researcher_ids
    )


# --- templates ----------------------------------------------------------------------


@dataclass(frozen=True)
class Access:
    """The predicates a page template needs, bound to the actor (``access`` there).

    Templates write ``{% if access.is_writer %}`` instead of naming roles.
    """

    actor: Actor

    @property
    def is_admin(self) -> bool:
        """An administrator."""
        return is_admin(self.actor)

    @property
    def is_writer(self) -> bool:
        """An administrator or an organisation member."""
        return is_writer(self.actor)

    @property
    def may_import(self) -> bool:
        """May upload observations."""
        return is_writer(self.actor)

    @property
    def is_signed_in(self) -> bool:
        """Any signed-in account."""
        return is_signed_in(self.actor)


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
    if actor.role in {ADMIN, RESEARCHER}:
        return True
    if actor.user_id is not None and actor.user_id == owner_id:
        return True
    return (
        actor.role == MEMBER
        and organisation_id is not None
        and actor.organisation_id == organisation_id
    )
