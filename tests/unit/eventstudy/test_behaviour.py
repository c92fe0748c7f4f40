"""Many outcomes, missing values, errors, JSON, HonestDiD and plots of the event studies."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tillit.core.did.imputation import imputation
from tillit.core.did.sunab import sun_abraham
from tillit.core.did.twostage import two_stage
from tillit.core.errors import DataError, EstimationError

from .conftest import staggered

EST = [imputation, two_stage, sun_abraham]
KW = {"unit": "id", "time": "year", "cohort": "g"}


@pytest.mark.parametrize("fn", EST)
def test_many_outcomes_equal_one_at_a_time(fn) -> None:
    df = staggered(k=3, seed=2)
    df.loc[5, "y2"] = np.nan  # its own missing pattern: solved apart
    res = fn(df, outcomes=["y0", "y1", "y2"], cluster="state", **KW)
    for y in ("y0", "y1", "y2"):
        one = fn(df, outcomes=[y], cluster="state", **KW)[y]
        np.testing.assert_allclose(
            res[y].event.estimate, one.event.estimate, atol=1e-12
        )
        np.testing.assert_allclose(res[y].vcov, one.vcov, atol=1e-12)
    assert res["y2"].n_obs == res["y0"].n_obs - 1


@pytest.mark.parametrize("fn", EST)
def test_json_tidy_summary_plot_and_honest(fn) -> None:
    import matplotlib

    matplotlib.use("Agg")
    df = staggered(seed=4)
    res = fn(df, outcomes=["y0"], **KW)
    d = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    o = d["outcomes"]["y0"]
    assert {"event_study", "vcov", "overall", "pretrend"} <= set(o)
    assert len(o["vcov"]) == len(o["event_study"])
    assert set(res.tidy().term) == {"event", "overall"}
    assert "overall" in res.summary()
    assert res.plot().get_xlabel() == "event time"
    h = res.honest("y0", m_grid=[0.0, 0.1])
    e = res["y0"].event.labels["event_time"]
    assert h.num_pre_periods == int((e < 0).sum())
    width = np.asarray(h.ci_high) - np.asarray(h.ci_low)
    assert 0 < width[0] <= width[1] + 1e-9


def test_recovers_known_dynamic_effects() -> None:
    df = staggered(n=400, seed=1, k=1)
    for fn in EST:
        ev = fn(df, outcomes=["y0"], **KW)["y0"].event
        e = ev.labels["event_time"]
        assert np.all(np.abs(ev.estimate[e < 0]) < 4 * ev.se[e < 0] + 1e-9), fn
        # cohort 2005 has twice the effect; all three average the cohorts alike at e=0
        assert ev.estimate[e == 0][0] == pytest.approx(0.5 * (1 + 1 / 3), abs=0.35)


def test_no_never_treated_uses_last_cohort() -> None:
    df = staggered(never=False, seed=6)
    res = sun_abraham(df, outcomes=["y0"], **KW)
    assert "control cohort" in " ".join(res.notes)
    assert np.all(res["y0"].event.labels["event_time"] < 3)


def test_two_cohorts_routes_to_dcdh() -> None:
    df = staggered()
    df.loc[0, "g"] = 2004
    with pytest.raises(DataError, match="tillit estimate dcdh"):
        imputation(df, outcomes=["y0"], **KW)


def test_bad_weights_and_clusters_are_named() -> None:
    df = staggered()
    df.loc[3, "pop"] = -1
    with pytest.raises(DataError, match=r"row 4.*'pop'"):
        two_stage(df, outcomes=["y0"], weight="pop", **KW)
    df = staggered()
    df.loc[3, "state"] = 99
    with pytest.raises(DataError, match="unit 0 has a cluster"):
        two_stage(df, outcomes=["y0"], cluster="state", **KW)
    with pytest.raises(EstimationError, match="within"):
        imputation(staggered(), outcomes=["y0"], max_e=10**6, **KW)


def test_cluster_above_unit_counts_clusters() -> None:
    res = imputation(staggered(), outcomes=["y0"], cluster="state", **KW)
    assert res.n_clusters == 9
    assert res.settings["cluster"] == "state"


def test_untreatable_rows_are_counted() -> None:
    df = staggered(seed=8)
    # a period in which every unit is treated cannot be imputed
    df = df[~((df.year == 2007) & (df.g == 0))]
    df = df[~((df.year == 2007) & (df.g > 2007))]
    res = imputation(df, outcomes=["y0"], **KW)
    assert any("could not be imputed" in n for n in res.notes)
