"""The demo spec and register are deterministic and labelled; the charts are valid SVG
with a text alternative and a legend that does not rely on colour."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tillit.domain.compensation import parse_register, parse_spec
from tillit.services.demo.compensation import DEMO_SOURCE, demo_register, demo_spec
from tillit.web.charts.compensation import (
    bars,
    distribution_chart,
    strip_chart,
    tornado_chart,
)

NS = "{http://www.w3.org/2000/svg}"


def test_demo_spec_and_register_are_valid_deterministic_and_labelled() -> None:
    spec = parse_spec(demo_spec())
    assert len(spec.models) == 8 and spec.title.startswith("DEMO")
    a, b = demo_register(), demo_register()
    assert a.equals(b) and len(a) == 290 * 7
    assert (a["source"] == DEMO_SOURCE).all()
    rows = parse_register(a.to_csv(index=False).encode(), "demo.csv")
    assert len(rows) == len(a)
    shares = a[a["year"] == 2016]["basis"].value_counts(normalize=True)
    assert 0.15 < shares["granted_time"] < 0.6 and "fixed_budget" in shares


def check(svg: str, title: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    assert root.find(f"{NS}title").text == title
    assert root.find(f"{NS}desc").text
    legend = root.find(f".//{NS}g[@class='legend']")
    return legend if legend is not None else root


def test_charts_have_text_alternatives_and_worded_legends() -> None:
    q = [(f"M{i}", [1.0 + i, 2.0 + i, 3.0 + i, 4.0 + i, 5.0 + i]) for i in range(3)]
    leg = check(
        distribution_chart(
            q, title="T", axis="kr", fmt=str, legend=("a", "b", "c"), reference=0.0
        ),
        "T",
    )
    assert [t.text for t in leg.iter(f"{NS}text")] == ["a", "b", "c"]
    check(bars([("A", 0.5), ("B", float("nan"))], title="B", axis="s", fmt=str), "B")
    leg = check(
        tornado_chart(
            [("p", -1.0, 2.0)],
            centre=0.5,
            title="Tor",
            axis="kr",
            fmt=str,
            legend=("low", "high"),
        ),
        "Tor",
    )
    assert [t.text for t in leg.iter(f"{NS}text")] == ["low", "high"]
    root = ET.fromstring(
        strip_chart(
            [("G", [1.0, 2.0, 3.0])],
            title="S",
            axis="kr",
            fmt=str,
            median_label="median",
        )
    )
    assert (
        root.find(f".//{NS}line[@class='median']").find(f"{NS}title").text
        == "median 2.0"
    )
    assert "<script" not in distribution_chart(
        q, title="<x>", axis="&", fmt=str, legend=("a", "b", "c")
    )


def test_the_documented_register_template_reads() -> None:
    from pathlib import Path

    path = (
        Path(__file__).resolve().parents[3]
        / "docs"
        / "templates"
        / "compensation_register.csv"
    )
    rows = parse_register(path.read_bytes(), str(path))
    assert [r.municipality for r in rows] == ["0180", "1480"] and rows[1].goal_related
