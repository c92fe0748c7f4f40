"""Users, password hashing and role rules.

Roles (see :class:`tillit.domain.records.Actor`):

| role        | reads                    | imports / edits                 | user admin |
|-------------|--------------------------|---------------------------------|------------|
| public      | public indicators only   | nothing                         | no         |
| member      | all indicators           | for its own organisation only   | no         |
| researcher  | all indicators           | nothing                         | no         |
| admin       | all indicators           | for any organisation            | yes        |

Passwords are hashed with :func:`hashlib.scrypt` (random 16-byte salt, n=2**14, r=8,
p=1) and compared in constant time. The stored form is
``scrypt$<n>$<r>$<p>$<salt hex>$<hash hex>``.

Demo accounts (created by :func:`ensure_demo_users`, only in demo mode):

| user        | password         | role       | organisation        |
|-------------|------------------|------------|---------------------|
| admin       | demo-admin       | admin      |                     |
| stockholm   | demo-stockholm   | member     | 0180 Stockholm      |
| researcher  | demo-researcher  | researcher |                     |
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Select, select

from tillit.core.errors import Conflict, DataError, NotFound, PermissionDenied
from tillit.domain import access
from tillit.domain.records import Actor
from tillit.store.tables import organisations, users

__all__ = [
    "DEMO_USERS",
    "ROLES",
    "User",
    "authenticate",
    "create_user",
    "ensure_demo_users",
    "get_actor",
    "hash_password",
    "list_users",
    "require_admin",
    "verify_password",
]

ROLES = access.ROLES
_N, _R, _P = 2**14, 8, 1
_USERNAME = re.compile(r"^[A-Za-z0-9_.-]{2,80}$")

DEMO_USERS: tuple[tuple[str, str, str, str | None], ...] = (
    ("admin", "demo-admin", "admin", None),
    ("stockholm", "demo-stockholm", "member", "0180"),
    ("researcher", "demo-researcher", "researcher", None),
)
"""(username, password, role, organisation code) of the demo accounts."""


@dataclass(frozen=True)
class User:
    """A stored account (never carries the password hash)."""

    id: int
    username: str
    display_name: str
    role: str
    organisation_id: int | None
    organisation_code: str | None = None

    def actor(self) -> Actor:
        """The :class:`Actor` this user acts as."""
        return Actor(
            role=self.role,
            user_id=self.id,
            username=self.username,
            organisation_id=self.organisation_id,
        )


def hash_password(password: str) -> str:
    """Salted scrypt hash in the self-describing stored form."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=32
    )
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Check ``password`` against a stored hash in constant time."""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(
            password.encode("utf-8"),
            salt=bytes.fromhex(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(digest) // 2,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, bytes.fromhex(digest))


@functools.cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_hex(8))


def _user_query() -> Select[Any]:
    return select(
        users.c.id,
        users.c.username,
        users.c.display_name,
        users.c.role,
        users.c.organisation_id,
        organisations.c.code.label("organisation_code"),
    ).select_from(users.outerjoin(organisations))


def _org_id(conn, code: str | None) -> int | None:  # type: ignore[no-untyped-def]
    if not code:
        return None
    oid = conn.execute(
        select(organisations.c.id).where(organisations.c.code == code)
    ).scalar()
    if oid is None:
        raise NotFound(f"unknown organisation code {code!r}")
    return int(oid)


def create_user(
    engine: Engine,
    username: str,
    password: str,
    role: str,
    *,
    organisation_code: str | None = None,
    display_name: str = "",
) -> User:
    """Create an account; a ``member`` must name its organisation.

    Raises
    ------
    DataError
        Bad username, short password, unknown role, or a member without organisation.
    Conflict
        The username is taken.
    NotFound
        The organisation code does not exist.
    """
    if not _USERNAME.match(username or ""):
        raise DataError("use 2-80 letters, digits, '.', '_' or '-'", field="username")
    if len(password or "") < 8:
        raise DataError("at least 8 characters", field="password")
    if role not in ROLES:
        raise DataError(f"one of {', '.join(ROLES)}", field="role")
    if access.needs_organisation(role) and not organisation_code:
        raise DataError("a member belongs to one organisation", field="organisation")
    with engine.begin() as conn:
        if conn.execute(select(users.c.id).where(users.c.username == username)).first():
            raise Conflict(f"user {username!r} exists already")
        oid = _org_id(
            conn, organisation_code if access.needs_organisation(role) else None
        )
        uid = conn.execute(
            users.insert().values(
                username=username,
                display_name=display_name or username,
                password_hash=hash_password(password),
                role=role,
                organisation_id=oid,
            )
        ).inserted_primary_key
    return get_user(engine, int(uid[0]))  # type: ignore[index]


def get_user(engine: Engine, user_id: int) -> User:
    """The account with id ``user_id`` (NotFound if it was deleted)."""
    with engine.connect() as conn:
        row = conn.execute(_user_query().where(users.c.id == user_id)).first()
    if row is None:
        raise NotFound("no such user")
    return User(**row._mapping)


def list_users(engine: Engine, actor: Actor) -> list[User]:
    """All accounts, for administrators."""
    require_admin(actor)
    with engine.connect() as conn:
        rows = conn.execute(_user_query().order_by(users.c.username)).all()
    return [User(**r._mapping) for r in rows]


def authenticate(engine: Engine, username: str, password: str) -> User | None:
    """The user if the password matches, else ``None`` (same work either way)."""
    with engine.connect() as conn:
        row = conn.execute(
            select(users.c.id, users.c.password_hash).where(
                users.c.username == username
            )
        ).first()
    if row is None:
        verify_password(password, _dummy_hash())
        return None
    if not verify_password(password, row.password_hash):
        return None
    return get_user(engine, int(row.id))


def get_actor(engine: Engine, user_id: int | None) -> Actor:
    """The actor for a session's user id; the public reader when absent or deleted."""
    if user_id is None:
        return Actor()
    try:
        return get_user(engine, int(user_id)).actor()
    except NotFound:
        return Actor()


def require_admin(actor: Actor) -> None:
    """Raise PermissionDenied unless ``actor`` is an administrator."""
    if not actor.is_admin:
        raise PermissionDenied("only administrators may do this")


def ensure_demo_users(engine: Engine) -> list[tuple[str, str, str, str | None]]:
    """Create the documented demo accounts if missing (idempotent).

    A member account whose organisation is not in the database is skipped. Returns the
    accounts that exist afterwards as ``(username, password, role, organisation code)``.
    """
    present = []
    for username, password, role, org in DEMO_USERS:
        try:
            create_user(engine, username, password, role, organisation_code=org)
        except Conflict:
            pass
        except NotFound:
            continue
        present.append((username, password, role, org))
    return present
