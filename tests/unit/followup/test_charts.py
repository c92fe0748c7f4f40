"""The SVG charts are valid XML with the expected series, axes and text alternative."""

from __future__ import annotations

import itertools
import math
import xml.etree.ElementTree as ET

import pytest

from tillit.web.charts import (
    Band,
    Line,
    dot_plot,
    fmt_number,
    line_chart,
    nice_ticks,
    sparkline,
)

NS = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    assert root.get("role") == "img"
    return root


def test_line_chart_has_series_band_axes_legend_and_tooltips() -> None:
    years = [2018.0, 2019.0, 2020.0, 2021.0]
    svg = line_chart(
        [
            Line("Median", years, [1.0, 2.0, 3.0, 4.0], dashed=True),
            Line("Stockholm <&>", years, [2.0, None, 3.5, 5.0], highlight=True),
        ],
        band=Band("IQR", years, [0.5, 1.5, 2.5, 3.5], [1.5, 2.5, 3.5, 4.5]),
        title="Test & title",
        xlabel="År",
        ylabel="%",
        desc="text alternative",
    )
    root = _parse(svg)
    assert root.find(f"{NS}title").text == "Test & title"
    assert root.find(f"{NS}desc").text == "text alternative"
    groups = root.findall(f"{NS}g[@data-series]")
    assert [g.get("data-series") for g in groups] == ["Median", "Stockholm <&>"]
    hl = groups[1]
    assert "highlight" in hl.get("class")
    # the missing 2019 value breaks the line: two move-to commands, three points
    assert hl.find(f"{NS}path").get("d").count("M") == 2
    tips = [c.find(f"{NS}title").text for c in hl.findall(f"{NS}circle")]
    assert tips == [
        "Stockholm <&> 2018: 2",
        "Stockholm <&> 2020: 3.5",
        "Stockholm <&> 2021: 5",
    ]
    assert root.find(f"{NS}polygon[@class='band']") is not None
    texts = [t.text for t in root.iter(f"{NS}text")]
    assert {"År", "%", "2018", "2021", "IQR", "Median"} <= set(texts)
    assert len(root.findall(f"{NS}line[@class='grid']")) >= 3


def test_line_chart_without_values_is_still_valid() -> None:
    root = _parse(
        line_chart([Line("x", [2020.0], [None])], title="t", xlabel="x", ylabel="y")
    )
    assert root.find(f"{NS}title").text == "t"


def test_dot_plot_ranks_and_highlights() -> None:
    pts = [(f"m{i}", float(i % 7)) for i in range(50)] + [("Solna", math.nan)]
    root = _parse(
        dot_plot(
            pts, highlight=["m3"], title="dist", ylabel="v", xlabel="rank", median=3.0
        )
    )
    dots = root.findall(f"{NS}circle[@class='dot']")
    assert len(dots) == 49  # NaN dropped, highlight drawn separately
    hl = root.find(f"{NS}g[@class='highlight']")
    assert hl.find(f"{NS}text").text == "m3"
    assert root.find(f"{NS}line[@class='median']") is not None
    ys = [float(d.get("cy")) for d in dots]
    assert ys == sorted(ys, reverse=True)  # sorted from lowest (bottom) to highest


def test_sparkline() -> None:
    root = _parse(sparkline([1.0, 3.0, None, 2.0], label="spark"))
    assert len(root.find(f"{NS}polyline").get("points").split()) == 3
    assert _parse(sparkline([1.0])).find(f"{NS}polyline") is None


@pytest.mark.parametrize(
    ("lo", "hi"), [(0, 1), (-3.2, 7.9), (1e5, 1.3e5), (5, 5), (0.001, 0.0042)]
)
def test_nice_ticks_cover_the_range(lo: float, hi: float) -> None:
    t = nice_ticks(lo, hi)
    assert t[0] <= lo and t[-1] >= hi and 2 <= len(t) <= 12
    steps = {round(b - a, 9) for a, b in itertools.pairwise(t)}
    assert len(steps) == 1


def test_fmt_number() -> None:
    assert fmt_number(145524.4) == "145\u202f524"
    assert fmt_number(3.14159) == "3.14"
    assert fmt_number(None) == "–" and fmt_number(math.inf) == "–"
