"""The nested V search reaches at least the outer objective of the previous search.

The pinned values are the treated unit's pre-period MSPE found by Tillit's previous
nested-V search (scipy L-BFGS-B from the two best of 20 starts, then Nelder-Mead; commit
b7e093b) on the ADH Prop 99 predictors and on the generated 290-unit panel of
benchmarks/bench_synth.py.  The batched search must not end in a worse local optimum.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pandas as pd

from tillit.core.synth import SynthResult, synth

from ...reference.synth.test_prop99 import ADH_PREDICTORS

PROP99 = (
    Path(__file__).parents[2] / "reference" / "synth" / "data" / "california_prop99.csv"
)
OLD_PROP99_MSPE = 1.7545609836630902**2
OLD_M290_MSPE = 1.029982520324258**2


def _bench_module() -> ModuleType:
    """benchmarks/bench_synth.py, whose ``municipal_panel`` generates the 290-unit panel."""
    path = Path(__file__).parents[3] / "benchmarks" / "bench_synth.py"
    spec = importlib.util.spec_from_file_location("_bench_synth", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def municipal_panel() -> pd.DataFrame:
    """The benchmark's generated 290 x 20 panel (one generator, not a copy)."""
    panel: pd.DataFrame = _bench_module().municipal_panel()
    return panel


def test_prop99_objective_not_worse_than_before() -> None:
    df = pd.read_csv(PROP99)
    res = synth(
        df,
        outcome="cigsale",
        unit="state",
        time="year",
        treated_units=["California"],
        treatment_start=1989,
        predictors=ADH_PREDICTORS,
        placebo="none",
    )
    assert res.fits[0].pre_rmspe ** 2 <= OLD_PROP99_MSPE * (1 + 1e-9)


def fit_municipal290() -> SynthResult:
    """The benchmark's synthetic control of unit 0000 (no placebos)."""
    return synth(
        municipal_panel(),
        outcome="y",
        unit="unit",
        time="year",
        treated_units=["0000"],
        treatment_start=2015,
        predictors=["y@2005", "y@2010", "y@2014", "x@2003-2014"],
        placebo="none",
    )


def test_municipal290_objective_not_worse_than_before() -> None:
    res = fit_municipal290()
    assert res.fits[0].pre_rmspe ** 2 <= OLD_M290_MSPE * (1 + 1e-9)
