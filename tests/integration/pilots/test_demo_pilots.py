"""The demo pilots land in the network and registry at every stage, once."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from tillit.domain.records import Actor
from tillit.domain.registry import read_jsonl, verify_chain
from tillit.services import network as net
from tillit.services import pilots as ps
from tillit.services.auth import ensure_demo_users
from tillit.services.demo import load_demo
from tillit.store.db import make_engine, upgrade
from tillit.store.pilots_tables import registry_entries

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_demo_pilots_at_each_stage_idempotent(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    upgrade(engine)
    load_demo(engine, scale=0.1, n_years=6)
    ensure_demo_users(engine)
    first = ps.load_demo_pilots(engine, scale=0.1)
    assert not first["skipped"] and len(first["pilots"]) == 5
    assert ps.load_demo_pilots(engine, scale=0.1) == {"skipped": True}
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(registry_entries)).scalar()
    assert n == 5  # 3 registrations, 1 amendment, 1 conclusion; no duplicates
    public = {p.code: p for p in ps.list_pilots(engine, Actor())}
    assert sorted(p.status for p in public.values()) == [
        "concluded",
        "registered",
        "registered",
    ]
    assert max(p.version for p in public.values()) == 2  # one amended
    admin = Actor(role="admin", user_id=None)
    assert sorted(p.status for p in ps.list_pilots(engine, admin)).count("draft") == 2
    assert all(p.is_demo and p.researchers for p in public.values())
    amended = next(p for p in public.values() if p.version == 2)
    origins = ps.pilot_versions(engine, Actor(), amended.code)["origins"]
    assert [o["indicator"] for o in origins if not o["pre_registered"]] == ["N00090"]
    randomised = next(
        p for p in public.values() if p.document["design"] == "randomised"
    )
    rec = randomised.document["randomisation"]
    assert (
        rec["treated"]
        and rec["control"]
        and not set(rec["treated"]) & set(rec["control"])
    )
    assert verify_chain(read_jsonl(ps.registry_jsonl(engine))).ok
    members = {m["code"] for m in net.list_members(engine)}
    assert {"0180", "0380"} <= members and len(members) >= 5
    engine.dispose()
