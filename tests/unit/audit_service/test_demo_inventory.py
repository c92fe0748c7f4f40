"""The demo inventories: deterministic, valid templates, linked to demo indicators."""

from __future__ import annotations

import pandas as pd

from tillit.core.audit import Ledger, validate_inventory
from tillit.domain.demo import load_params
from tillit.domain.demo.inventory import DEMO_INVENTORY_ORGS, demo_inventories
from tillit.web.pages.audit import bar_chart


def test_deterministic_and_seed_dependent() -> None:
    a, b, c = demo_inventories(2016), demo_inventories(2016), demo_inventories(7)
    for x, y in zip(a, b, strict=True):
        pd.testing.assert_frame_equal(x.requirements, y.requirements)
        pd.testing.assert_frame_equal(x.staff, y.staff)
    assert not a[0].requirements.equals(c[0].requirements)


def test_valid_realistic_and_linked() -> None:
    invs = demo_inventories()
    assert {i.organisation_code for i in invs} == set(DEMO_INVENTORY_ORGS)
    known = {i["id"] for i in load_params()["indicators"]}
    for inv in invs:
        req = validate_inventory(inv.requirements)
        assert len(req) >= 30  # dozens of requirements
        units = set(req["unit"])
        assert {"home care", "nursing homes", "compulsory school"} <= units
        assert set(req["demanded_by"]) == {
            "state",
            "region",
            "municipal_board",
            "purchaser",
        }
        linked = {x for ids in req["indicator_ids"] for x in ids}
        assert linked <= known and {"DEMO_004", "U21401", "U21454", "U21466"} <= linked
        led = Ledger.from_frame(inv.requirements)
        per = led.per_employee(inv.staff)
        assert (per["employees"] > 0).all() and led.total_hours > 10_000


def test_stockholm_change_removes_time_registration() -> None:
    old, new = (i for i in demo_inventories() if i.organisation_code == "0180")
    change = Ledger.from_frame(old.requirements).compare(
        Ledger.from_frame(new.requirements)
    )
    t = change.tidy().set_index("requirement_id")
    assert t.loc["HT02", "status"] == "removed" and t.loc["HT13", "status"] == "added"
    assert t.loc["HT01", "status"] == "changed"


def test_bar_chart_escapes_and_scales() -> None:
    svg = bar_chart([("<b>&", 10.0), ("b", 5.0)], title="t<", unit="h")
    assert "<b>" not in svg and "&lt;b&gt;&amp;" in svg and "t&lt;" in svg
    assert 'width="400.0"' in svg and 'width="200.0"' in svg  # 720 - 230 - 90 = 400
    assert "style=" not in svg and "<script" not in svg
