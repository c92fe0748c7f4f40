"""ICC against Shrout & Fleiss (1979), the textbook worked example, to the printed digits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tillit.core.audit import reliability

REF = json.loads(
    (Path(__file__).parent / "data" / "shrout_fleiss_1979.json").read_text()
)
X = np.asarray(REF["ratings"], float)[None]  # 1 indicator x 6 targets x 4 judges


def test_one_way_icc_matches_printed_values() -> None:
    t = reliability(X, center_years=False).iloc[0]
    assert round(t["msb"], 2) == REF["mean_squares"]["BMS"]
    assert round(t["msw"], 2) == REF["mean_squares"]["WMS"]
    assert round(t["icc"], 2) == REF["icc"]["ICC(1,1)"]
    assert round(t["icc_k"], 2) == REF["icc"]["ICC(1,4)"]


def test_year_centred_icc_is_consistency_icc3() -> None:
    t = reliability(X, center_years=True).iloc[0]
    assert round(t["msw"], 2) == REF["mean_squares"]["EMS"]
    assert round(t["icc"], 2) == REF["icc"]["ICC(3,1)"]
    assert round(t["icc_k"], 2) == REF["icc"]["ICC(3,4)"]


def test_f_interval_of_one_way_icc() -> None:
    # Shrout & Fleiss eq. for case 1: F_L = F / F_{.975}(5, 18), F_U = F * F_{.975}(18, 5)
    from scipy import stats

    f = 11.241666666666667 / 6.263888888888889
    fl, fu = f / stats.f.ppf(0.975, 5, 18), f * stats.f.ppf(0.975, 18, 5)
    t = reliability(X, center_years=False).iloc[0]
    assert t["icc_low"] == pytest.approx((fl - 1) / (fl + 3))
    assert t["icc_high"] == pytest.approx((fu - 1) / (fu + 3))
    assert t["icc_p"] == pytest.approx(stats.f.sf(f, 5, 18))
