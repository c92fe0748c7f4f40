"""Our estimators against the peers' numbers pinned in ``peers.json`` (rebuilt by
``validation/eventstudy_pins.py``). Tolerances and why they are what they are are in
``README.md`` beside this file."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tillit.core.did import (
    cont_did,
    dcdh,
    imputation,
    sun_abraham,
    triple_diff,
    two_stage,
)

HERE = Path(__file__).parent
PINS = json.loads((HERE / "peers.json").read_text())


def _pkg_file(pkg: str, *parts: str) -> Path:
    spec = importlib.util.find_spec(pkg)
    if spec is None or spec.origin is None:
        pytest.skip(f"{pkg} (the data's source) is not installed")
    return Path(spec.origin).parent.joinpath(*parts)


@pytest.fixture(scope="module")
def df_het() -> pd.DataFrame:
    return pd.read_csv(_pkg_file("pyfixest", "did", "data", "df_het.csv"))


@pytest.fixture(scope="module")
def favara() -> pd.DataFrame:
    return pd.read_csv(_pkg_file("moderndid", "core", "datasets", "favara_imbs.csv.gz"))


KW = {"outcomes": ["dep_var"], "unit": "unit", "time": "year", "cohort": "g"}


def test_two_stage_equals_pyfixest_did2s(df_het: pd.DataFrame) -> None:
    pin = PINS["df_het"]
    res = two_stage(df_het, **KW)["dep_var"]
    assert res.overall.estimate[0] == pytest.approx(
        pin["did2s_static"]["estimate"], abs=1e-6
    )
    assert res.overall.se[0] == pytest.approx(pin["did2s_static"]["se"], rel=1e-5)
    ev = pin["did2s_event"]
    np.testing.assert_allclose(res.event.labels["event_time"], ev["event_time"])
    np.testing.assert_allclose(res.event.estimate, ev["estimate"], atol=1e-6)
    np.testing.assert_allclose(res.event.se, ev["se"], rtol=1e-5)


def test_imputation_equals_diff_diff(df_het: pd.DataFrame) -> None:
    pin = PINS["df_het"]["imputation_overall"]
    res = imputation(df_het, **KW)["dep_var"]
    assert res.overall.estimate[0] == pytest.approx(pin["estimate"], abs=1e-9)
    assert res.overall.se[0] == pytest.approx(pin["se"], rel=1e-9)


def test_sunab_equals_diff_diff(df_het: pd.DataFrame) -> None:
    pin = PINS["df_het"]
    res = sun_abraham(df_het, **KW)["dep_var"]
    ev = pin["sunab_event"]
    np.testing.assert_allclose(res.event.labels["event_time"], ev["event_time"])
    np.testing.assert_allclose(res.event.estimate, ev["estimate"], atol=1e-9)
    np.testing.assert_allclose(res.event.se, ev["se"], rtol=1e-9)
    assert res.overall.estimate[0] == pytest.approx(
        pin["sunab_overall"]["estimate"], abs=1e-9
    )
    assert res.overall.se[0] == pytest.approx(pin["sunab_overall"]["se"], rel=1e-9)


@pytest.mark.parametrize(("label", "cluster", "se_rel"),
                         [("unclustered", None, 1e-5), ("cluster_state_n", "state_n", 0.1)])  # fmt: skip
def test_dcdh_favara_imbs_equals_moderndid(
    favara: pd.DataFrame, label: str, cluster: str | None, se_rel: float
) -> None:
    pin = PINS["favara_imbs"][label]
    res = dcdh(favara, outcomes=["Dl_vloans_b"], unit="county", time="year", treatment="inter_bra",
               effects=8, placebo=3, cluster=cluster)["Dl_vloans_b"]  # fmt: skip
    e = res.event.labels["event_time"]
    pl_est, eff_est = res.event.estimate[e < 0][::-1], res.event.estimate[e > 0]
    pl_se, eff_se = res.event.se[e < 0][::-1], res.event.se[e > 0]
    np.testing.assert_allclose(eff_est, pin["effects"]["estimate"], atol=1e-10)
    np.testing.assert_allclose(pl_est, pin["placebos"]["estimate"], atol=1e-10)
    n_sw = np.asarray(res.extra["n_switchers"])
    np.testing.assert_array_equal(n_sw[e > 0], pin["effects"]["n_switchers"])
    np.testing.assert_array_equal(n_sw[e < 0][::-1], pin["placebos"]["n_switchers"])
    np.testing.assert_allclose(eff_se, pin["effects"]["se"], rtol=se_rel)
    np.testing.assert_allclose(pl_se, pin["placebos"]["se"], rtol=se_rel)
    if cluster:  # moderndid counts a missing cluster id as one more cluster (README)
        assert np.all(eff_se >= np.asarray(pin["effects"]["se"]))
        assert np.all(pl_se >= np.asarray(pin["placebos"]["se"]))
    # Av_tot_eff: R's denominator (current treatment change) vs moderndid's differenced
    # cumulative change; they differ by 1.5% here (README).
    assert res.overall.estimate[0] == pytest.approx(
        pin["av_tot_eff"]["estimate"], rel=0.03
    )


@pytest.mark.parametrize("control", ["never", "notyet"])
def test_triple_diff_equals_moderndid(control: str) -> None:
    pin = PINS["ddd_panel"][control]
    df = pd.read_csv(HERE / "data" / "ddd_panel.csv")
    res = triple_diff(df, outcomes=["y"], unit="id", time="year", cohort="s", partition="q",
                      control=control)["y"]  # fmt: skip
    cells = {
        (c["group"], c["time"]): c
        for c in res.extra["att_gt"]
        if c["estimate"] is not None
    }
    c = pin["cells"]
    for g, t, est, se in zip(
        c["group"], c["time"], c["estimate"], c["se"], strict=True
    ):
        if (g, t) not in cells:
            assert est == 0.0  # moderndid's reference cell (t = g - 1)
            continue
        assert cells[(g, t)]["estimate"] == pytest.approx(est, abs=1e-10)
        if control == "never":  # not-yet: moderndid's GMM cell SE uses np.cov (README)
            assert cells[(g, t)]["se"] == pytest.approx(se, rel=1e-9)
    ev = pin["event_no_wif"]
    np.testing.assert_allclose(res.event.estimate, ev["estimate"], atol=1e-10)
    np.testing.assert_allclose(res.event.se, ev["se"], rtol=1e-2)


@pytest.mark.parametrize("control", ["never", "notyet"])
def test_cont_did_equals_diff_diff(control: str) -> None:
    pin = PINS["cont_panel"][control]
    df = pd.read_csv(HERE / "data" / "cont_panel.csv")
    res = cont_did(df, outcomes=["y"], unit="id", time="year", cohort="g", dose="d",
                   control=control)["y"]  # fmt: skip
    assert res.overall.estimate[0] == pytest.approx(
        pin["att_overall"]["estimate"], abs=1e-10
    )
    assert res.overall.se[0] == pytest.approx(pin["att_overall"]["se"], rel=1e-9)
    curve = pd.DataFrame(res.extra["dose_response"])
    np.testing.assert_allclose(curve.estimate, pin["att_d"]["estimate"], atol=1e-9)
    np.testing.assert_allclose(curve.se, pin["att_d"]["se"], rtol=1e-8)
    acrt = res.extra["acrt_overall"]
    assert acrt["estimate"] == pytest.approx(pin["acrt_overall"]["estimate"], abs=1e-10)
    # diff-diff leaves out the variation of the treated doses in ACRT^o's influence
    assert acrt["se"] == pytest.approx(pin["acrt_overall"]["se"], rel=0.05)
    assert acrt["se"] >= pin["acrt_overall"]["se"]
