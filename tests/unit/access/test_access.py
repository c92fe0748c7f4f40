"""The permission predicates in tillit.domain.access, and that nothing else spells roles."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tillit.domain import access
from tillit.domain.records import Actor

ADMIN = Actor(role="admin", user_id=1)
MEMBER = Actor(role="member", user_id=2, organisation_id=7)
RESEARCHER = Actor(role="researcher", user_id=3)
PUBLIC = Actor()

SRC = Path(access.__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("actor", "writer", "private", "for7", "for8"),
    [
        (ADMIN, True, True, True, True),
        (MEMBER, True, True, True, False),
        (RESEARCHER, False, True, False, False),
        (PUBLIC, False, False, False, False),
    ],
)
def test_general_predicates(
    actor: Actor, writer: bool, private: bool, for7: bool, for8: bool
) -> None:
    assert access.is_writer(actor) is writer
    assert access.may_import(actor) is writer
    assert access.can_read_private(actor) is private
    assert actor.can_read_private() is private
    assert access.can_write_for(actor, 7) is for7
    assert actor.can_write_for(7) is for7
    assert access.can_write_for(actor, 8) is for8
    assert access.Access(actor).is_writer is writer


def test_trusted_system_call_may_import() -> None:
    assert access.may_import(None)


def test_pilot_predicates() -> None:
    ids = {3}
    assert access.may_publish(ADMIN, set())
    assert access.may_publish(RESEARCHER, ids)
    assert not access.may_publish(RESEARCHER, {9})
    assert not access.may_publish(MEMBER, {2})  # a member is never "attached"
    assert access.may_conclude(RESEARCHER, ids)
    assert access.may_run_evaluation(MEMBER, 7, set())
    assert not access.may_run_evaluation(MEMBER, 8, set())
    assert access.may_run_evaluation(RESEARCHER, 8, ids)
    assert not access.may_run_evaluation(PUBLIC, 8, ids)


def test_inventory_reading() -> None:
    assert access.can_read_inventory(RESEARCHER, 8)
    assert access.can_read_inventory(MEMBER, 7)
    assert not access.can_read_inventory(MEMBER, 8)
    assert not access.can_read_inventory(PUBLIC, 7)


_NAMES = r"""["'](admin|member|researcher|public)["']"""
_ROLE_TEST = re.compile(
    rf"""role\s*(==|!=)\s*{_NAMES}|role\s*(not\s+)?in\s*[({{][^)}}]*{_NAMES}"""
)


def test_no_role_spelled_in_routes_templates_or_services() -> None:
    """Role checks go through access.py (demo seeding may build actors by role)."""
    hits = []
    for path in [*SRC.rglob("*.py"), *SRC.rglob("*.html")]:
        if path.name == "access.py" or "migrations" in path.parts:
            continue  # a migration keeps the schema it made
        for k, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if _ROLE_TEST.search(line):
                hits.append(f"{path.relative_to(SRC)}:{k}: {line.strip()}")
    assert hits == []
