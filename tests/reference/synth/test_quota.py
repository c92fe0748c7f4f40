"""Staggered SDID and SDID with covariates on the gender-quota example (Clarke et al.
2023), pinned in ``sdid_quota.json``.

The data file is not in this repository (fetched reference data is kept out of it):
point ``TILLIT_QUOTA_DTA`` at ``quota_example.dta`` to run these checks; without it
they are skipped.  ``validation/sdid_quota.py`` prints the same comparison.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from tillit.core.synth import sdid

PIN = json.loads((Path(__file__).parent / "sdid_quota.json").read_text())
DTA = os.environ.get("TILLIT_QUOTA_DTA")
pytestmark = pytest.mark.skipif(
    not DTA or not Path(DTA).is_file(), reason="TILLIT_QUOTA_DTA not set"
)


def _data(covariate: bool) -> tuple[pd.DataFrame, dict[str, object]]:
    d = pd.read_stata(str(DTA))
    for c in ("womparl", "lngdp", "quota"):
        d[c] = d[c].astype(float)
    if covariate:
        d = d[d.lngdp.notna()]
    first = d[d.quota == 1].groupby("country").year.min()
    kw = {
        "outcome": "womparl",
        "unit": "country",
        "time": "year",
        "treated_units": list(first.index),
        "treatment_start": first.to_dict(),
        "variance": "none",
    }
    return d, kw


def test_staggered_cohorts_and_att() -> None:
    d, kw = _data(False)
    res = sdid(d, **kw)
    pin = PIN["staggered"]
    assert res.estimate.estimate == pytest.approx(pin["att"], abs=pin["tolerance"])
    for c, w in zip(res.cohorts, res.cohort_weights, strict=True):
        assert c.estimate == pytest.approx(pin["cohorts"][str(c.start)], abs=5e-6)
        assert w == pytest.approx(pin["cohort_weights"][str(c.start)], abs=5e-6)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["projected", "optimized"])
def test_covariates(method: str) -> None:
    d, kw = _data(True)
    res = sdid(d, covariates=["lngdp"], covariate_method=method, **kw)
    pin = PIN[f"covariates_{method}"]
    assert res.estimate.estimate == pytest.approx(pin["att"], abs=pin["tolerance"])
    assert res.estimate.estimate == pytest.approx(pin["ours"], abs=1e-8)
