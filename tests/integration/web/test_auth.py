"""Password hashing and accounts."""

from __future__ import annotations

import pytest

from tillit.core.errors import Conflict, DataError, NotFound, PermissionDenied
from tillit.domain.records import Actor
from tillit.services import auth

pytestmark = pytest.mark.integration


def test_scrypt_hashes_are_salted_and_verified() -> None:
    h1, h2 = auth.hash_password("correct horse"), auth.hash_password("correct horse")
    assert h1 != h2 and h1.startswith("scrypt$16384$8$1$")
    assert auth.verify_password("correct horse", h1)
    assert not auth.verify_password("correct horsE", h1)
    for broken in ("", "md5$x", "scrypt$1$2$3$zz$zz", h1.replace("scrypt", "bcrypt")):
        assert not auth.verify_password("correct horse", broken)


def test_accounts_and_demo_users(app_engine) -> None:
    engine = app_engine[1]
    with pytest.raises(Conflict):
        auth.create_user(engine, "admin", "whatever-long", "admin")
    with pytest.raises(DataError, match="organisation"):
        auth.create_user(engine, "lonely", "whatever-long", "member")
    with pytest.raises(NotFound):
        auth.create_user(
            engine, "ghost", "whatever-long", "member", organisation_code="9999"
        )
    with pytest.raises(DataError, match="role"):
        auth.create_user(engine, "boss", "whatever-long", "owner")
    first = auth.ensure_demo_users(engine)
    assert [u[0] for u in first] == ["admin", "stockholm", "researcher"]
    assert auth.ensure_demo_users(engine) == first  # idempotent
    user = auth.authenticate(engine, "stockholm", "demo-stockholm")
    # the workspace already had a 'stockholm' with another password: not replaced
    assert user is None
    assert auth.authenticate(engine, "researcher", "researcher-pass-1") is not None
    assert auth.authenticate(engine, "nobody", "x") is None
    with pytest.raises(PermissionDenied):
        auth.list_users(engine, Actor(role="member", organisation_id=1))
    assert auth.get_actor(engine, 999999).role == "public"
