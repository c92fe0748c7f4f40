"""The demo loop on first start: demo pilots are evaluated, P2's evaluation is published,
the evidence pages are populated, and the estimates recover the planted effects of
docs/demo.md (the full demo workspace, seed 2016; about two minutes)."""

from __future__ import annotations

import pytest

from tillit.domain.records import Actor
from tillit.services import evaluation as ev
from tillit.services import evidence as evd
from tillit.services import pilots as ps
from tillit.services import reports as rp
from tillit.services.auth import ensure_demo_users
from tillit.services.demo import demo_pilots, load_demo
from tillit.store.db import make_engine, upgrade

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TITLES = {p["title_sv"]: p for p in demo_pilots()}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    eng = make_engine(f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}")
    upgrade(eng)
    load_demo(eng)
    ensure_demo_users(eng)
    ps.load_demo_pilots(eng)
    rp.load_demo_evaluations(eng, wait=True)
    yield eng
    eng.dispose()


def _check(o: dict, truth: dict) -> None:
    """The 95% interval covers the planted effect (relative effects on the relative scale)."""
    lo, hi, true = o["ci_low"], o["ci_high"], truth["true_effect"]
    if truth["effect_kind"] == "relative":
        cf = o["estimate"] / o["relative"]  # counterfactual mean of the treated
        lo, hi = lo / cf, hi / cf
        assert abs(o["relative"] - true) < 0.06, (o["indicator"], o["relative"], true)
    assert lo <= true <= hi, (o["indicator"], lo, hi, true)


def test_demo_estimates_recover_planted_effects(demo) -> None:
    public = Actor()
    seen = 0
    for pilot in ps.list_pilots(demo, public):
        if pilot.status == "draft":
            continue
        truth = {o["indicator"]: o for o in TITLES[pilot.title]["outcomes"]}
        snap = ev.latest_snapshot(demo, pilot.code)
        assert snap is not None, ev.job_status(demo, pilot.code)
        for o in snap["result"]["outcomes"]:
            assert o.get("estimate") is not None, o
            _check(o, truth[o["indicator"]])
            seen += 1
        if truth["DEMO_001"]["true_effect"] < 0:  # reporting time falls clearly
            d1 = next(
                o for o in snap["result"]["outcomes"] if o["indicator"] == "DEMO_001"
            )
            assert d1["ci_high"] < 0
    assert seen == 4 + 3 + 2


def test_demo_loop_is_visible(demo) -> None:
    concluded = [p for p in ps.list_pilots(demo, Actor()) if p.status == "concluded"]
    assert len(concluded) == 1
    r = rp.report(demo, Actor(), concluded[0].code)
    assert r["evaluation"]["summary_en"].startswith("DEMO")
    p1 = next(p for p in ps.list_pilots(demo, Actor()) if p.version == 2)
    outs = ev.latest_snapshot(demo, p1.code)["result"]["outcomes"]
    assert {o["indicator"]: o["pre_registered"] for o in outs}["N00090"] is False
    m = evd.meta_for(demo, None, "DEMO_001")
    assert m["k"] == 3 and m["pooled"]["ci_high"] < 0
    cells = [c for c in evd.gap_map(demo)["cells"] if c["n_pilots"]]
    assert len(cells) >= 3
    # idempotent: a second start queues nothing
    assert rp.load_demo_evaluations(demo, wait=True) == {"jobs": []}
