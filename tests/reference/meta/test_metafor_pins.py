"""Against PyMARE's pinned metafor 4.6.0 output (180 fits), read from the installed package."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tillit.core.meta import meta_analysis
from tillit.core.meta._engine import loglik

pymare = pytest.importorskip("pymare")
DATA = Path(pymare.__file__).parent / "tests" / "data"
if not (
    DATA / "metafor_reference.json"
).exists():  # pragma: no cover - packaging variant
    pytest.skip("pymare without its test data", allow_module_level=True)
REF = json.loads((DATA / "metafor_reference.json").read_text())
DESIGNS = pd.read_csv(DATA / "metafor_small_sample.csv")
MODS = {"intercept": [], "one": ["mod1"], "two": ["mod1", "mod2"]}
CASES = [c for c in REF["cases"] if c["test"] in ("z", "knha", "adhoc")]
# metafor stops REML/ML at |delta tau^2| < 1e-5, so its tau^2 is that far from the optimum
TOL = {"FE": 1e-10, "DL": 1e-10, "HE": 1e-10, "REML": 5e-5, "ML": 5e-5}


def _fit(c: dict) -> tuple[object, pd.DataFrame]:
    d = DESIGNS[DESIGNS.case == c["design"]]
    mods = d[MODS[c["model"]]] if MODS[c["model"]] else None
    res = meta_analysis(
        d.y,
        d.v,
        moderators=mods,
        method=c["method"].lower(),
        test=c["test"],
    )
    return res, d


def _id(c: dict) -> str:
    return f"{c['design']}-{c['model']}-{c['method']}-{c['test']}"


@pytest.mark.parametrize("c", CASES, ids=_id)
def test_matches_metafor(c: dict) -> None:
    r, d = _fit(c)
    if c["method"] == "ML" and c["design"] == "extreme_k10" and c["model"] == "one":
        # metafor stops at tau^2 = 0; the ML likelihood is higher at our optimum
        x = np.column_stack([np.ones(len(d)), d.mod1])[None]
        y, v, m = d.y.to_numpy()[None], d.v.to_numpy()[None], np.ones((1, len(d)), bool)
        ours = loglik(y, v, x, m, np.array([r.tau2]), reml=False)[0]
        theirs = loglik(y, v, x, m, np.array([c["tau2"]]), reml=False)[0]
        assert r.tau2 > 0.01 and ours > theirs + 0.1
        return
    tol = TOL[c["method"]]
    t = r.tidy()
    assert r.tau2 == pytest.approx(c["tau2"], abs=tol)
    for ours, key in (
        (t.estimate, "beta"),
        (t.se, "se"),
        (t.ci_low, "ci_lb"),
        (t.ci_high, "ci_ub"),
        (t.p_value, "pval"),
    ):
        np.testing.assert_allclose(ours, c[key], atol=max(tol, 1e-12) * 10, rtol=1e-6)
    assert r.q == pytest.approx(c["QE"], rel=1e-10)
    assert r.i2 == pytest.approx(c["I2"], abs=tol * 100 + 1e-9)
    assert r.h2 == pytest.approx(c["H2"], abs=tol * 100 + 1e-9)
    if c["tau2_ci_lb"] is not None:
        assert r.tau2_ci[0] == pytest.approx(c["tau2_ci_lb"], abs=1e-9)
        assert r.tau2_ci[1] == pytest.approx(c["tau2_ci_ub"], abs=1e-9, rel=1e-9)
    if c["test"] in ("knha", "adhoc"):
        assert r.df == np.ravel(c["dof"])[0]
        assert r.test == c["test"]
