"""Staggered triple differences against the four-means formula written out, and its
aggregation against R did's aggte formulas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tillit.core.did.triplediff import triple_diff
from tillit.core.errors import DataError


def ddd_panel(n: int = 300, T: int = 6, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    s = rng.choice([0, 2003, 2004, 2005], n)
    q = rng.integers(0, 2, n)
    df = pd.DataFrame(
        {
            "id": np.repeat(np.arange(n), T),
            "year": np.tile(np.arange(2000, 2000 + T), n),
        }
    )
    df["s"], df["q"], df["c"] = s[df.id], q[df.id], df.id % 25
    df["w"] = (1 + df.id % 3).astype(float)
    treated = (df.s > 0) & (df.year >= df.s) & (df.q == 1)
    df["y"] = (rng.normal(size=n)[df.id] + 0.3 * df.q * (df.year - 2000)
               + 0.2 * (df.s > 0) * (df.year - 2000) + rng.normal(size=len(df)) + treated)  # fmt: skip
    df["y2"] = df["y"] * 2 + rng.normal(size=len(df))
    return df


def four_means(
    df: pd.DataFrame, g: int, t: int, b: int, y: str, w: str | None
) -> float:
    wide = df.pivot(index="id", columns="year", values=y)
    unit = df.groupby("id")[["s", "q", *([w] if w else [])]].first()
    dy = wide[t] - wide[b]
    ww = unit[w] if w else pd.Series(1.0, index=unit.index)

    def m(sel: pd.Series) -> float:
        return float(np.average(dy[sel], weights=ww[sel]))

    sg, sc = unit.s == g, unit.s == 0
    return (m(sg & (unit.q == 1)) - m(sg & (unit.q == 0))) - (
        m(sc & (unit.q == 1)) - m(sc & (unit.q == 0))
    )


@pytest.mark.parametrize("weight", [None, "w"])
def test_cells_equal_four_means(weight: str | None) -> None:
    df = ddd_panel()
    res = triple_diff(
        df,
        outcomes=["y"],
        unit="id",
        time="year",
        cohort="s",
        partition="q",
        weight=weight,
    )
    for cell in res["y"].extra["att_gt"]:
        g, t, b = int(cell["group"]), int(cell["time"]), int(cell["base"])
        assert cell["estimate"] == pytest.approx(
            four_means(df, g, t, b, "y", weight), abs=1e-12
        )


def test_event_study_is_pg_weighted_mean_of_cells() -> None:
    df = ddd_panel(seed=2)
    o = triple_diff(
        df, outcomes=["y"], unit="id", time="year", cohort="s", partition="q"
    )["y"]
    cells = pd.DataFrame(o.extra["att_gt"])
    cells["e"] = cells.time - cells.group
    pg = df.groupby("id").s.first().value_counts(normalize=True)
    for e, est in zip(o.event.labels["event_time"], o.event.estimate, strict=True):
        sub = cells[cells.e == e]
        assert est == pytest.approx(
            np.average(sub.estimate, weights=pg[sub.group].to_numpy()), abs=1e-12
        )
    post = cells[cells.e >= 0]
    assert o.overall.estimate[0] == pytest.approx(
        np.average(post.estimate, weights=pg[post.group].to_numpy())
    )
    assert o.overall.estimate[0] == pytest.approx(1.0, abs=0.3)


def test_notyet_gmm_many_outcomes_cluster_and_errors() -> None:
    df = ddd_panel(seed=9)
    kw = {
        "unit": "id",
        "time": "year",
        "cohort": "s",
        "partition": "q",
        "control": "notyet",
        "cluster": "c",
    }
    both = triple_diff(df, outcomes=["y", "y2"], **kw)
    one = triple_diff(df, outcomes=["y2"], **kw)
    np.testing.assert_allclose(
        both["y2"].event.estimate, one["y2"].event.estimate, atol=1e-12
    )
    np.testing.assert_allclose(both["y2"].vcov, one["y2"].vcov, atol=1e-12)
    assert both.n_clusters == 25
    assert both.honest("y", m_grid=[0.0]).num_pre_periods == int(
        (both["y"].event.labels["event_time"] < 0).sum()
    )
    df.loc[df.index[1], "q"] = 1 - df.loc[df.index[1], "q"]
    with pytest.raises(DataError, match="changes over time"):
        triple_diff(df, outcomes=["y"], **kw)
