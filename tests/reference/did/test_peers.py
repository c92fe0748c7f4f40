"""Cross-check against moderndid (a Python port of R did/DRDID) to 1e-8."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tillit.core.did import att_gt

HERE = Path(__file__).parent

CASES = [
    (None, "dr", "nevertreated", "varying"),
    ("~lpop", "dr", "nevertreated", "varying"),
    ("~lpop", "ipw", "notyettreated", "varying"),
    ("~lpop", "reg", "nevertreated", "varying"),
    (None, "dr", "notyettreated", "universal"),
    ("~lpop", "dr", "nevertreated", "universal"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("xf", "method", "ctrl", "base"), CASES)
def test_moderndid_agrees(xf: str | None, method: str, ctrl: str, base: str) -> None:
    md = pytest.importorskip("moderndid")
    d = pd.read_csv(HERE / "data" / "mpdta.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = md.att_gt(
            data=d,
            yname="lemp",
            tname="year",
            idname="countyreal",
            gname="first.treat",
            xformla=xf,
            est_method=method,
            control_group=ctrl,
            base_period=base,
            boot=False,
        )
        aggs = {
            t: md.aggte(m, type=t, boot=False)
            for t in ("simple", "group", "dynamic", "calendar")
        }
    o = att_gt(
        d,
        outcomes=["lemp"],
        unit="countyreal",
        time="year",
        cohort="first.treat",
        covariates=["lpop"] if xf else [],
        method=method,
        control="never" if ctrl == "nevertreated" else "notyet",
        base_period=base,
        compare_controls=False,
        honest=False,
    )["lemp"]
    np.testing.assert_allclose(o.att_gt.estimate, np.asarray(m.att_gt), atol=1e-8)
    se_peer = np.asarray(m.se_gt, dtype=float)
    ok = np.isfinite(se_peer) & np.isfinite(o.att_gt.se)
    np.testing.assert_allclose(o.att_gt.se[ok], se_peer[ok], rtol=1e-6)
    assert abs(aggs["simple"].overall_att - o.simple.estimate[0]) < 1e-8
    assert aggs["simple"].overall_se == pytest.approx(o.simple.se[0], rel=1e-6)
    for kind in ("group", "dynamic", "calendar"):
        a, tab = aggs[kind], getattr(o, kind)
        overall = getattr(o, f"{kind}_overall")
        assert abs(a.overall_att - overall.estimate[0]) < 1e-8, kind
        assert a.overall_se == pytest.approx(overall.se[0], rel=1e-6), kind
        np.testing.assert_allclose(tab.estimate, np.asarray(a.att_by_event), atol=1e-8)
        se = np.asarray(a.se_by_event, dtype=float)
        ok = np.isfinite(se) & np.isfinite(tab.se)
        np.testing.assert_allclose(tab.se[ok], se[ok], rtol=1e-6)
    if getattr(m, "wald_pvalue", None) is not None and base == "varying":
        assert o.diagnostics["pretrend"]["p_value"] == pytest.approx(
            m.wald_pvalue, abs=1e-5
        )
