"""Randomisation for planned pilots: reproducible from the seed, respects the design."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tillit.core.errors import DataError
from tillit.core.power import randomise
from tillit.core.trials import permute_within


def _units() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 60
    return pd.DataFrame(
        {
            "unit": [f"u{i:02d}" for i in range(n)],
            "stratum": np.repeat(["a", "b", "c"], [15, 25, 20]),
            "cluster": [f"c{i // 4}" for i in range(n)],
            "x": rng.normal(size=n),
        }
    )


def test_same_seed_same_assignment_regardless_of_row_order() -> None:
    u = _units()
    a = randomise(
        u, "unit", design="stratified", stratum="stratum", treated=20, seed=11
    )
    b = randomise(
        u.sample(frac=1, random_state=1),
        "unit",
        design="stratified",
        stratum="stratum",
        treated=20,
        seed=11,
    )
    c = randomise(
        u, "unit", design="stratified", stratum="stratum", treated=20, seed=12
    )
    key = a.table.set_index("unit").treatment
    assert key.equals(b.table.set_index("unit").treatment)
    assert not key.equals(c.table.set_index("unit").treatment)


def test_stratified_counts_are_proportional() -> None:
    a = randomise(
        _units(),
        "unit",
        design="stratified",
        stratum="stratum",
        treated=20,
        seed=1,
        covariates=["x"],
    )
    per = a.table.groupby("stratum").treatment.sum().to_dict()
    assert per == {"a": 5, "b": 8, "c": 7}  # largest remainders: 5, 8.33, 6.67
    assert a.balance is not None and a.balance.rows[0]["covariate"] == "x"


def test_cluster_and_seed_recorded() -> None:
    a = randomise(_units(), "unit", design="cluster", cluster="cluster", share=0.4)
    assert a.table.groupby("cluster").treatment.nunique().max() == 1
    assert a.table.drop_duplicates("cluster").treatment.sum() == 6
    again = randomise(
        _units(), "unit", design="cluster", cluster="cluster", share=0.4, seed=a.seed
    )
    assert a.table.treatment.equals(again.table.treatment)


def test_stepped_wedge_spreads_clusters() -> None:
    a = randomise(
        _units(),
        "unit",
        design="stepped-wedge",
        cluster="cluster",
        periods=[3, 1, 2],
        seed=2,
    )
    steps = a.table.drop_duplicates("cluster").start.value_counts().sort_index()
    assert steps.to_dict() == {1.0: 5, 2.0: 5, 3.0: 5}
    assert a.table.groupby("cluster").start.nunique().max() == 1
    assert a.to_dict()["design"] == "stepped-wedge"


def test_complete_is_uniform_over_allocations() -> None:
    """The draw engine behind randomise: 3000 draws of 2 of 6 hit all 15 equally."""
    draws = permute_within(
        np.r_[1, 1, 0, 0, 0, 0], None, 3000, np.random.default_rng(4)
    )
    _, counts = np.unique(draws, axis=0, return_counts=True)
    assert len(counts) == 15
    assert counts.min() > 130 and counts.max() < 270  # 200 expected each
    u = _units().head(6)
    seen = {
        tuple(randomise(u, "unit", treated=2, seed=s).table.treatment)
        for s in range(40)
    }
    assert len(seen) > 10


def test_randomise_errors() -> None:
    u = _units()
    with pytest.raises(DataError):
        randomise(u, "unit", design="stratified", treated=5)
    with pytest.raises(DataError):
        randomise(u, "unit", treated=5, share=0.5)
    with pytest.raises(DataError):
        randomise(pd.concat([u, u.head(1)]), "unit", treated=5)
    with pytest.raises(DataError):
        randomise(u, "unit", design="stepped-wedge", cluster="cluster")
    with pytest.raises(DataError):
        randomise(u, "unit", design="nope", treated=3)
