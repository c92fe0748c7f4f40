"""Synthetic-control plots render what they claim (matplotlib, Agg backend)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from tillit.core.errors import EstimationError
from tillit.core.synth import SynthResult, synth

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
plt = pytest.importorskip("matplotlib.pyplot")


@pytest.fixture(scope="module")
def res() -> SynthResult:
    rng = np.random.default_rng(0)
    n, t = 8, 12
    Y = rng.normal(size=(n, 2)) @ rng.normal(size=(2, t)).cumsum(1) + 20
    Y[0, 8:] -= 3.0
    df = pd.DataFrame(
        {
            "unit": np.repeat([f"u{i}" for i in range(n)], t),
            "year": np.tile(np.arange(2000, 2000 + t), n),
            "y": (Y + 0.1 * rng.normal(size=Y.shape)).ravel(),
        }
    )
    return synth(
        df,
        outcome="y",
        unit="unit",
        time="year",
        treated_units=["u0"],
        treatment_start=2008,
        predictors=["y@2001", "y@2004", "y@2007"],
    )


@pytest.fixture(autouse=True)
def _close() -> Iterator[None]:
    yield
    plt.close("all")


def test_paths_plot_shows_actual_and_synthetic(res: SynthResult) -> None:
    ax = res.plot("paths")
    f = res.fits[0]
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    assert {"u0", "synthetic u0"} <= set(lines)
    assert np.allclose(lines["u0"].get_ydata(), f.actual)
    assert np.allclose(lines["synthetic u0"].get_ydata(), f.synthetic)
    assert np.allclose(lines["u0"].get_xdata(), np.arange(2000, 2012))
    start = [ln for ln in ax.get_lines() if ln.get_linestyle() == ":"]
    assert start and start[0].get_xdata()[0] == 2008  # treatment start marked
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["u0", "synthetic u0"]


def test_gaps_plot_has_one_line_per_placebo(res: SynthResult) -> None:
    ax = res.plot("gaps")
    grey = [ln for ln in ax.get_lines() if ln.get_color() == "lightgrey"]
    assert len(grey) == len(res.placebos) == 7
    ys = sorted(tuple(np.round(ln.get_ydata(), 12)) for ln in grey)
    want = sorted(tuple(np.round(p.gap, 12)) for p in res.placebos)
    assert ys == want
    treated = [ln for ln in ax.get_lines() if ln.get_label() == "u0"]
    assert len(treated) == 1 and np.allclose(treated[0].get_ydata(), res.fits[0].gap)
    assert ax.get_ylabel() == "gap (treated - synthetic)"


def test_weights_plot_lists_positive_donors(res: SynthResult) -> None:
    ax = res.plot("weights")
    bars = ax.patches
    labels = [t.get_text() for t in ax.get_yticklabels()]
    pos = {k: v for k, v in res.weights.items() if v > 1e-4}
    assert len(bars) == len(pos)
    assert set(labels) == set(pos)
    assert sorted(b.get_width() for b in bars) == pytest.approx(sorted(pos.values()))
    assert ax.get_xlabel() == "donor weight"


def test_unknown_plot_kind_and_given_axes(res: SynthResult) -> None:
    _, ax = plt.subplots()
    assert res.plot("paths", ax=ax) is ax
    with pytest.raises(EstimationError, match="unknown plot"):
        res.plot("pie")
