"""The nested V search reaches at least the outer objective of the previous search.

The pinned values are the treated unit's pre-period MSPE found by Tillit's previous
nested-V search (scipy L-BFGS-B from the two best of 20 starts, then Nelder-Mead; commit
b7e093b) on the ADH Prop 99 predictors and on the generated 290-unit panel of
benchmarks/bench_synth.py.  The batched search must not end in a worse local optimum.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tillit.core.synth import synth

PROP99 = (
    Path(__file__).parents[2] / "reference" / "synth" / "data" / "california_prop99.csv"
)
OLD_PROP99_MSPE = 1.7545609836630902**2
OLD_M290_MSPE = 1.029982520324258**2


def municipal_panel(n: int = 290, years: int = 20, seed: int = 1) -> pd.DataFrame:
    """Same generator as ``municipal_panel`` in benchmarks/bench_synth.py."""
    rng = np.random.default_rng(seed)
    t = np.arange(2003, 2003 + years)
    load = rng.normal(size=(n, 3))
    fac = rng.normal(size=(3, years)).cumsum(axis=1)
    y = 100 + 5 * load @ fac + rng.normal(scale=1.0, size=(n, years))
    x = load[:, :1] + rng.normal(scale=0.3, size=(n, years))
    units = [f"{i:04d}" for i in range(n)]
    df = pd.DataFrame(
        {
            "unit": np.repeat(units, years),
            "year": np.tile(t, n),
            "y": y.ravel(),
            "x": x.ravel(),
        }
    )
    df.loc[(df.unit == "0000") & (df.year >= 2015), "y"] -= 4.0
    return df


def test_prop99_objective_not_worse_than_before() -> None:
    df = pd.read_csv(PROP99)
    res = synth(
        df,
        outcome="cigsale",
        unit="state",
        time="year",
        treated_units=["California"],
        treatment_start=1989,
        predictors=[
            "lnincome@1980-1988",
            "retprice@1980-1988",
            "age15to24@1980-1988",
            "beer@1984-1988",
            "cigsale@1975",
            "cigsale@1980",
            "cigsale@1988",
        ],
        placebo="none",
    )
    assert res.fits[0].pre_rmspe ** 2 <= OLD_PROP99_MSPE * (1 + 1e-9)


def test_municipal290_objective_not_worse_than_before() -> None:
    res = synth(
        municipal_panel(),
        outcome="y",
        unit="unit",
        time="year",
        treated_units=["0000"],
        treatment_start=2015,
        predictors=["y@2005", "y@2010", "y@2014", "x@2003-2014"],
        placebo="none",
    )
    assert res.fits[0].pre_rmspe ** 2 <= OLD_M290_MSPE * (1 + 1e-9)
