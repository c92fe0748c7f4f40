"""Pilot life and network rules through the services, on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import threading

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from tillit.cli.main import main
from tillit.core.errors import Conflict, DataError, NotFound, PermissionDenied
from tillit.domain.registry import read_jsonl, verify_chain
from tillit.services import network as net
from tillit.services import pilots as ps
from tillit.store.pilots_tables import network_members, registry_entries

from .conftest import DRAFT

pytestmark = pytest.mark.integration


def _draft(engine, actors, **changes) -> str:
    return ps.create_draft(
        engine, actors["stockholm"], {**copy.deepcopy(DRAFT), **changes}
    )


def test_draft_visibility_and_ownership(engine, actors) -> None:
    code = _draft(engine, actors)
    assert code.startswith("P-")
    assert ps.get_pilot(engine, actors["stockholm"], code).can_edit
    assert ps.get_pilot(engine, actors["admin"], code).can_edit
    for who in ("public", "goteborg", "researcher"):
        with pytest.raises(PermissionDenied, match="draft"):
            ps.get_pilot(engine, actors[who], code)
        assert code not in {p.code for p in ps.list_pilots(engine, actors[who])}
    with pytest.raises(PermissionDenied):
        ps.save_draft(engine, actors["goteborg"], code, DRAFT)
    with pytest.raises(PermissionDenied):
        ps.register(engine, actors["goteborg"], code)
    with pytest.raises(PermissionDenied):
        net.attach_researcher(engine, actors["goteborg"], code, "researcher")
    # an attached researcher sees the draft but may not edit it
    net.attach_researcher(engine, actors["stockholm"], code, "researcher")
    seen = ps.get_pilot(engine, actors["researcher"], code)
    assert not seen.can_edit and not seen.can_conclude
    with pytest.raises(PermissionDenied):
        ps.save_draft(engine, actors["researcher"], code, DRAFT)


def test_create_rules(engine, actors) -> None:
    with pytest.raises(PermissionDenied):
        ps.create_draft(engine, actors["researcher"], DRAFT)
    with pytest.raises(PermissionDenied):
        ps.create_draft(engine, actors["public"], DRAFT)
    with pytest.raises(PermissionDenied):  # a member names another organisation
        ps.create_draft(engine, actors["stockholm"], DRAFT, "1480")
    with pytest.raises(DataError, match="unknown indicator"):
        _draft(engine, actors, primary_outcomes=["NOPE1"])
    with pytest.raises(DataError, match="unknown organisation"):
        _draft(engine, actors, sites=[{"org": "9999", "unit": "", "start": "2025"}])
    with pytest.raises(DataError, match="not a unit of"):
        _draft(
            engine,
            actors,
            sites=[{"org": "1480", "unit": "V15E018000301", "start": "2025"}],
        )
    code = ps.create_draft(engine, actors["admin"], DRAFT, "1480")
    assert ps.get_pilot(engine, actors["goteborg"], code).organisation_code == "1480"


def test_register_amend_conclude(engine, actors) -> None:
    code = _draft(engine, actors, hypotheses=[])
    with pytest.raises(DataError, match="hypothesis"):
        ps.register(engine, actors["stockholm"], code)
    ps.save_draft(engine, actors["stockholm"], code, DRAFT)
    e1 = ps.register(engine, actors["stockholm"], code)
    assert e1["kind"] == "registration" and e1["version"] == 1
    public = ps.get_pilot(engine, actors["public"], code)
    assert public.status == "registered" and not public.can_edit
    with pytest.raises(Conflict, match="amendment"):
        ps.save_draft(engine, actors["stockholm"], code, DRAFT)
    with pytest.raises(Conflict):
        ps.register(engine, actors["stockholm"], code)
    changed = {**copy.deepcopy(DRAFT), "secondary_outcomes": ["N00002", "N00003"]}
    with pytest.raises(DataError, match="reason"):
        ps.amend(engine, actors["stockholm"], code, changed, "  ")
    with pytest.raises(DataError, match="changes nothing"):
        ps.amend(engine, actors["stockholm"], code, DRAFT, "no change")
    with pytest.raises(PermissionDenied):
        ps.amend(engine, actors["goteborg"], code, changed, "hijack")
    e2 = ps.amend(engine, actors["stockholm"], code, changed, "add reporting time")
    assert e2["version"] == 2 and e2["prev_hash"] != "0" * 64
    info = ps.version_diff(engine, actors["public"], code, 2)
    assert [c.path for c in info["changes"]] == ["secondary_outcomes"]
    origins = {o["indicator"]: o for o in info["origins"]}
    assert origins["N00001"]["pre_registered"] and origins["N00002"]["pre_registered"]
    assert not origins["N00003"]["pre_registered"]
    assert origins["N00003"]["added_in_version"] == 2
    v1 = ps.version_diff(engine, actors["public"], code, 1)["entry"]["content"]
    assert v1["secondary_outcomes"] == ["N00002"]  # the old version is kept
    # concluding: only an attached researcher or an administrator
    with pytest.raises(PermissionDenied):
        ps.conclude(engine, actors["researcher2"], code, "works")
    with pytest.raises(PermissionDenied):
        ps.conclude(engine, actors["stockholm"], code, "works")
    net.attach_researcher(engine, actors["stockholm"], code, "researcher2")
    e3 = ps.conclude(engine, actors["researcher2"], code, "Reporting time fell.")
    assert e3["kind"] == "conclusion" and e3["version"] == 2
    assert ps.get_pilot(engine, actors["public"], code).status == "concluded"
    with pytest.raises(Conflict):
        ps.amend(engine, actors["stockholm"], code, DRAFT, "after the end")
    report = verify_chain(read_jsonl(ps.registry_jsonl(engine)))
    assert report.ok, report.problem


def test_conclusion_of_a_never_amended_pilot_verifies(engine, actors) -> None:
    code = _draft(engine, actors)
    ps.register(engine, actors["stockholm"], code)
    ps.conclude(engine, actors["admin"], code, "No effect.")
    assert verify_chain(read_jsonl(ps.registry_jsonl(engine))).ok


def test_attach_only_researchers(engine, actors) -> None:
    code = _draft(engine, actors)
    with pytest.raises(DataError, match="not a researcher"):
        net.attach_researcher(engine, actors["stockholm"], code, "goteborg")
    with pytest.raises(NotFound):
        net.attach_researcher(engine, actors["stockholm"], code, "nobody")
    net.attach_researcher(engine, actors["admin"], code, "researcher")
    net.attach_researcher(engine, actors["admin"], code, "researcher")  # idempotent
    assert [
        r["username"] for r in ps.get_pilot(engine, actors["admin"], code).researchers
    ] == ["researcher"]
    net.detach_researcher(engine, actors["stockholm"], code, "researcher")
    assert ps.get_pilot(engine, actors["admin"], code).researchers == []


def test_concurrent_registrations_do_not_fork_the_chain(engine, actors) -> None:
    codes = [_draft(engine, actors) for _ in range(6)]
    errors: list[BaseException] = []

    def run(c: str) -> None:
        try:
            ps.register(engine, actors["stockholm"], c)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(c,)) for c in codes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    entries = read_jsonl(ps.registry_jsonl(engine))
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    assert len({e["prev_hash"] for e in entries}) == len(entries)  # no fork
    assert verify_chain(entries).ok


def test_tampering_in_the_database_is_detected(engine, actors, tmp_path) -> None:
    code = _draft(engine, actors)
    ps.register(engine, actors["stockholm"], code)
    good = tmp_path / "good.jsonl"
    good.write_text(ps.registry_jsonl(engine), encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(main, ["registry", "verify", str(good)]).exit_code == 0
    with engine.begin() as conn:
        seq, content = conn.execute(
            select(registry_entries.c.seq, registry_entries.c.content).where(
                registry_entries.c.pilot_id == code
            )
        ).one()
        conn.execute(
            text("UPDATE registry_entries SET content = :c WHERE seq = :s"),
            {"c": content.replace('"N00001"', '"N00003"'), "s": seq},
        )
    bad = tmp_path / "bad.jsonl"
    bad.write_text(ps.registry_jsonl(engine), encoding="utf-8")
    res = runner.invoke(main, ["registry", "verify", str(bad)])
    assert res.exit_code == 1
    assert f"entry {seq} was changed" in res.output + (res.stderr or "")
    with engine.begin() as conn:  # put it back for the other tests of the module
        conn.execute(
            text("UPDATE registry_entries SET content = :c WHERE seq = :s"),
            {"c": content, "s": seq},
        )
        # a silent edit of the working copy in ``pilots`` is not what readers see
        conn.execute(
            text("UPDATE pilots SET document = :d WHERE code = :c"),
            {"d": content.replace('"N00001"', '"N00003"'), "c": code},
        )
    shown = ps.get_pilot(engine, actors["public"], code).document
    assert shown["primary_outcomes"] == ["N00001"]


def test_network_applications(engine, actors) -> None:
    with pytest.raises(DataError):
        net.apply(engine, "0580", "", "we want to learn")
    with pytest.raises(NotFound):
        net.apply(engine, "9999", "Ann", "we want to learn")
    aid = net.apply(
        engine, "0580", "Ann Andersson", "we want to learn", contact_email="a@b.se"
    )
    with pytest.raises(Conflict, match="pending"):
        net.apply(engine, "0580", "Ann", "again")
    with pytest.raises(PermissionDenied):
        net.decide(engine, actors["stockholm"], aid, True)
    with pytest.raises(PermissionDenied):
        net.list_applications(engine, actors["public"])
    assert [a["id"] for a in net.list_applications(engine, actors["admin"])] == [aid]
    net.decide(engine, actors["admin"], aid, True)
    with pytest.raises(Conflict):
        net.decide(engine, actors["admin"], aid, False, "too late")
    assert "0580" in {m["code"] for m in net.list_members(engine)}
    with pytest.raises(Conflict, match="already a member"):
        net.apply(engine, "0580", "Ann", "again")
    aid2 = net.apply(engine, "0680", "Bo", "curious")
    with pytest.raises(DataError, match="reason"):
        net.decide(engine, actors["admin"], aid2, False)
    net.decide(
        engine, actors["admin"], aid2, False, "not a municipality we can support yet"
    )
    with engine.connect() as conn:
        members = conn.execute(select(network_members.c.organisation_id)).all()
    assert "0680" not in {m["code"] for m in net.list_members(engine)}
    assert len(members) == len(net.list_members(engine))


def test_design_help_and_randomisation(engine, actors) -> None:
    sites = [
        {"org": c, "unit": "", "start": "2025"}
        for c in ("0180", "1480", "1280", "0380")
    ]
    code = _draft(engine, actors, sites=sites, design="randomised")
    res = ps.design_help(engine, actors["stockholm"], code)
    assert res["outcome"] == "N00001" and res["treated"] == 4
    assert res["mde"] > 0 and res["pre_periods"] == 5 and res["post_periods"] == 3
    with pytest.raises(DataError, match="assignment"):
        ps.register(engine, actors["stockholm"], code)
    a = ps.randomise_draft(engine, actors["stockholm"], code, seed=7)
    assert a["seed"] == 7 and len(a["treated"]) == 2 and len(a["control"]) == 2
    doc = ps.get_pilot(engine, actors["stockholm"], code).document
    assert doc["randomisation"] == a
    again = ps.randomise_draft(engine, actors["stockholm"], code, seed=7)
    assert again == a  # the recorded seed reproduces the assignment
    with pytest.raises(PermissionDenied):
        ps.randomise_draft(engine, actors["goteborg"], code, seed=1)
    ps.register(engine, actors["stockholm"], code)
    units = [
        {"org": "0180", "unit": u, "start": "2025"}
        for u in ("V15E018000301", "V15E018000302")
    ]
    code2 = _draft(engine, actors, sites=units, design="randomised")
    b = ps.randomise_draft(engine, actors["stockholm"], code2, seed=3)
    assert len(b["treated"]) == 1 and b["design"] == "stratified"
