"""Following pilots: runs, snapshots, an import that triggers a re-run, roles, reports."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tillit.core.errors import Conflict, DataError, PermissionDenied
from tillit.services import evaluation as ev
from tillit.services import imports, jobs
from tillit.services import pilots as ps
from tillit.services import reports as rp
from tillit.store.results_tables import eval_jobs

from .conftest import EFFECTS, PASSWORDS, municipalities, values

pytestmark = pytest.mark.integration


def _run(engine, code: str) -> dict:
    ev.enqueue(engine, code, "manual")
    ev.run_pending(engine)
    snap = ev.latest_snapshot(engine, code)
    assert snap is not None, ev.job_status(engine, code)
    return snap


def test_run_recovers_planted_effects(engine, codes) -> None:
    for p, code in codes.items():
        snap = _run(engine, code)
        res = snap["result"]
        y1 = next(o for o in res["outcomes"] if o["indicator"] == "Y0001")
        assert y1["ci_low"] <= EFFECTS[p] <= y1["ci_high"], (p, y1)
        assert abs(y1["estimate"] - EFFECTS[p]) < 0.6
        assert y1["pre_registered"] and y1["role"] == "primary"
        assert y1["series"]["kind"] == "event_study"
        assert {"sv", "en"} <= set(y1["verdict"])
        # the other pilots' municipalities are not comparison units
        assert y1["n_controls"] == 290 - 30
        assert y1["n_treated"] == {"A": 12, "B": 10, "C": 8}[p]
        assert res["registry_version"] == 1 and res["batch_ids"] == [1]
        job = ev.job_status(engine, code)
        assert job["status"] == "done" and job["progress"] == 100
    a = ev.latest_snapshot(engine, codes["A"])["result"]["outcomes"][0]
    assert a["ci_low"] > 0 and "förbättring" in a["verdict"]["sv"]


def test_import_triggers_rerun_and_new_snapshot(engine, codes) -> None:
    before = {c: len(ev.snapshots(engine, c)) for c in codes.values()}
    if not all(before.values()):
        for c in codes.values():
            _run(engine, c)
        before = {c: len(ev.snapshots(engine, c)) for c in codes.values()}
    new = values(municipalities(engine), range(2021, 2023), seed=11)
    report = imports.import_frame(
        engine, new, source="csv", filename="release-2022.csv"
    )
    assert report.n_new > 0
    # the import queued one visible job; a worker runs it (no hidden thread)
    ran = jobs.work(engine)
    assert "reevaluate" in {j.kind for j in ran}
    assert all(j.status == "done" for j in ran), [j.error for j in ran]
    for code in codes.values():
        snaps = ev.snapshots(engine, code)
        assert len(snaps) == before[code] + 1
        last = snaps[-1]
        assert report.batch_id in last["batch_ids"]
        y1 = next(o for o in last["result"]["outcomes"] if o["indicator"] == "Y0001")
        assert y1["last_year"] == 2022
        job = ev.job_status(engine, code)
        assert job["trigger"] == f"import:{report.batch_id}" and job["status"] == "done"
        hist = ev.history(engine, code, "Y0001")
        assert [h["through"] for h in hist][-2:] == [2020, 2022]
    # the same file again changes nothing and queues nothing
    again = imports.import_frame(engine, new, source="csv", filename="release-2022.csv")
    assert again.n_new == 0 and again.n_updated == 0
    with engine.connect() as conn:
        queued = conn.execute(
            select(eval_jobs.c.id).where(eval_jobs.c.status == "queued")
        ).all()
    assert queued == []


def test_failed_run_keeps_the_message(engine, codes, actors) -> None:
    admin = actors["admin"]
    code = ps.create_draft(engine, admin, {
        "title": "Ingen data", "change": "x", "hypotheses": ["h"],
        "sites": [{"org": "0180", "unit": "", "start": "2030"}],
        "primary_outcomes": ["Y0001"], "design": "staggered_adoption",
        "analysis": {"estimator": "did", "control_group": "never"}}, "0180")  # fmt: skip
    with pytest.raises(DataError, match="draft"):
        ev.enqueue(engine, code)
    ps.register(engine, admin, code)
    _ = ev.enqueue(engine, code)
    ev.run_pending(engine)
    job = ev.job_status(engine, code)
    assert job["status"] == "failed" and job["error"]
    assert ev.latest_snapshot(engine, code) is None


def test_only_allowed_actors_queue_runs(engine, codes, actors) -> None:
    for who in ("public", "researcher2"):
        with pytest.raises(PermissionDenied):
            ev.enqueue(engine, codes["B"], actor=actors[who])
    assert ev.enqueue(engine, codes["A"], actor=actors["researcher"]) > 0
    ev.run_pending(engine)


def test_publish_roles_and_report(engine, codes, actors) -> None:
    code = codes["A"]
    if ev.latest_snapshot(engine, code) is None:
        _run(engine, code)
    for who in ("public", "stockholm", "researcher2"):
        with pytest.raises(PermissionDenied):
            rp.publish(engine, actors[who], code, "sv", "en")
    with pytest.raises(DataError):
        rp.publish(engine, actors["researcher"], code, "", "en")
    rp.publish(
        engine, actors["researcher"], code, "Nöjdheten ökade.", "Satisfaction rose."
    )
    assert ps.get_pilot(engine, actors["public"], code).status == "concluded"
    with pytest.raises(Conflict):
        rp.publish(engine, actors["admin"], code, "igen", "again")
    r = rp.report(engine, actors["public"], code)
    assert r["evaluation"]["summary_en"] == "Satisfaction rose."
    assert r["data"]["indicators"] == ["Y0001", "Y0002"]
    assert [b["id"] for b in r["data"]["batches"]] == r["evaluation"]["batch_ids"]
    assert r["deviations"] == []
    pdf = rp.report_pdf(engine, actors["public"], code, "en")
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000


def _sign_in(client, user: str) -> str:
    html = client.get("/signin").text
    tok = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    r = client.post("/signin", data={"username": user, "password": PASSWORDS[user],
                                     "csrf_token": tok}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    return re.search(
        r'name="csrf_token" value="([^"]+)"', client.get("/pilots").text
    ).group(1)


def test_web_results_publish_and_self_contained_export(engine, codes, client) -> None:
    code = codes["B"]
    if ev.latest_snapshot(engine, code) is None:
        _run(engine, code)
    page = client.get(f"/pilots/{code}/results")
    assert page.status_code == 200
    assert (
        "Y0001" in page.text and "förregistrerat" in page.text and "<svg" in page.text
    )
    assert f'action="/pilots/{code}/results/run"' not in page.text  # anonymous
    assert client.get(f"/pilots/{code}/report").status_code == 404  # not published
    r = client.post(f"/pilots/{code}/results/run", data={"csrf_token": "x"})
    assert r.status_code == 403
    tok = _sign_in(client, "admin")
    r = client.post(f"/pilots/{code}/evaluation", data={
        "csrf_token": tok, "summary_sv": "Effekt +2.", "summary_en": "Effect +2."},
        follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    rep = client.get(f"/pilots/{code}/report?lang=en")
    assert "Effect +2." in rep.text and "Deviations from the registration" in rep.text
    html = client.get(f"/pilots/{code}/report.html?lang=sv")
    assert (
        html.status_code == 200 and "attachment" in html.headers["content-disposition"]
    )
    body = html.text
    assert "Effekt +2." in body and "<svg" in body and "<style>" in body
    assert not re.search(r"https?://", body), re.findall(r".{40}https?://.{40}", body)[
        :3
    ]
    assert not re.search(r"<(link|script|img)\b", body) and "url(" not in body
    api = client.get(f"/api/v1/pilots/{code}/results").json()
    assert api["result"]["outcomes"][0]["indicator"] == "Y0001"
