"""Synthetic control: variants, several treated units, placebos, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from tillit.cli.main import main
from tillit.core.errors import DataError, EstimationError
from tillit.core.synth import parse_predictor, synth


def _long(seed: int = 0, n: int = 12, t: int = 14) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    L = rng.normal(size=(n, 2)) @ rng.normal(size=(2, t)) + 10
    Y = L + rng.normal(scale=0.2, size=(n, t))
    df = pd.DataFrame(
        {
            "unit": np.repeat([f"u{i:02d}" for i in range(n)], t),
            "period": np.tile(np.arange(2000, 2000 + t), n),
            "y": Y.ravel(),
            "x": rng.normal(size=n * t),
        }
    )
    return df


KW = {"outcome": "y", "unit": "unit", "time": "period"}


def test_parse_predictor_forms() -> None:
    assert [s.label for s in parse_predictor("y@2001,2003")] == ["y@2001", "y@2003"]
    assert parse_predictor("x@2000-2004")[0].label == "x@2000-2004"
    assert parse_predictor("x")[0].label == "x"
    with pytest.raises(DataError):
        parse_predictor("x@abc")


def test_effect_recovered_and_gap_definition() -> None:
    df = _long()
    df.loc[(df.unit == "u00") & (df.period >= 2010), "y"] -= 3.0
    res = synth(df, treated_units=["u00"], treatment_start=2010, placebo="none", **KW)
    f = res.fits[0]
    assert np.allclose(f.gap, f.actual - f.synthetic)
    assert res.att == pytest.approx(-3.0, abs=1.0)
    assert sum(res.weights.values()) == pytest.approx(1.0)


def test_demeaned_is_invariant_to_a_unit_level_shift() -> None:
    df = _long(1)
    res = synth(
        df,
        treated_units=["u03"],
        treatment_start=2010,
        placebo="none",
        variant="demeaned",
        **KW,
    )
    shifted = df.copy()
    shifted.loc[shifted.unit == "u03", "y"] += 50.0
    res2 = synth(
        shifted,
        treated_units=["u03"],
        treatment_start=2010,
        placebo="none",
        variant="demeaned",
        **KW,
    )
    assert np.allclose(res.gap, res2.gap, atol=1e-8)


def test_penalty_moves_weight_to_close_donors() -> None:
    df = _long(2)
    base = synth(df, treated_units=["u01"], treatment_start=2010, placebo="none", **KW)
    pen = synth(
        df,
        treated_units=["u01"],
        treatment_start=2010,
        placebo="none",
        variant="penalized",
        penalty=10.0,
        **KW,
    )
    n_base = sum(v > 1e-6 for v in base.weights.values())
    n_pen = sum(v > 1e-6 for v in pen.weights.values())
    assert n_pen <= n_base


def test_supplied_v_and_nested_v_with_covariates() -> None:
    """Nested V beats a random search over V (an independent, slow computation)."""
    df = _long(3)
    preds = ["y@2001", "y@2005", "y@2009", "x"]
    kw = dict(
        treated_units=["u02"],
        treatment_start=2010,
        predictors=preds,
        placebo="none",
        **KW,
    )
    fixed = synth(df, v=[1, 1, 1, 0], **kw)
    assert fixed.fits[0].v["x"] == 0.0
    nested = synth(df, **kw)
    rng = np.random.default_rng(0)
    search = min(synth(df, v=v, **kw).pre_rmspe for v in rng.dirichlet(np.ones(4), 60))
    assert nested.pre_rmspe <= search * 1.001
    with pytest.raises(DataError, match="predictor weights"):
        synth(df, v=[1, 1], **kw)


def test_several_treated_and_staggered_starts() -> None:
    df = _long(4)
    res = synth(
        df,
        treated_units=["u00", "u01"],
        treatment_start={"u00": 2008, "u01": 2010},
        placebo="space",
        seed=3,
        **KW,
    )
    assert res.staggered
    assert len(res.placebos) == 2 * 10  # every donor at each of the two starts
    g0, g1 = res.fits[0].gap, res.fits[1].gap
    e0 = res.event_time
    expect = (g0[e0 + 8] + g1[e0 + 10]) / 2
    assert np.allclose(res.gap, expect)
    assert 0 < res.p_value <= 1
    same = synth(
        df, treated_units=["u00", "u01"], treatment_start=2010, placebo="none", **KW
    )
    assert same.pooled is not None


def test_placebo_in_time() -> None:
    df = _long(5)
    res = synth(
        df,
        treated_units=["u00"],
        treatment_start=2010,
        placebo="time",
        placebo_start=2006,
        **KW,
    )
    tp = res.time_placebo[0]
    assert tp.start == 2006 and len(tp.gap) == 10
    with pytest.raises(DataError, match="placebo start"):
        synth(
            df,
            treated_units=["u00"],
            treatment_start=2010,
            placebo="time",
            placebo_start=2012,
            **KW,
        )


def test_bad_input() -> None:
    df = _long(6)
    with pytest.raises(DataError, match="unknown treated unit"):
        synth(df, treated_units=["zz"], treatment_start=2010, **KW)
    with pytest.raises(DataError, match="after the last period"):
        synth(df, treated_units=["u00"], treatment_start=2030, **KW)
    with pytest.raises(EstimationError, match="too few donor"):
        synth(
            df[df.unit.isin(["u00", "u01"])],
            treated_units=["u00"],
            treatment_start=2010,
            **KW,
        )
    with pytest.raises(DataError, match="treatment start"):
        synth(
            df, treated_units=["u00"], treatment_start=2010, predictors=["y@2012"], **KW
        )


def _csv(tmp_path: Path) -> Path:
    p = tmp_path / "panel.csv"
    _long(7).to_csv(p, index=False)
    return p


def test_cli_synth_and_sdid_json(tmp_path: Path) -> None:
    p = _csv(tmp_path)
    run = CliRunner().invoke(
        main,
        [
            "estimate",
            "synth",
            "--data",
            str(p),
            "--outcome",
            "y",
            "--treated-unit",
            "u00",
            "--treatment-start",
            "2010",
            "--format",
            "json",
        ],
    )
    assert run.exit_code == 0, run.output
    d = json.loads(run.output)
    assert {
        "weights",
        "gap",
        "pre_rmspe",
        "post_rmspe",
        "p_value",
        "placebo_gaps",
    } <= set(d)
    run = CliRunner().invoke(
        main,
        [
            "estimate",
            "sdid",
            "--data",
            str(p),
            "--outcome",
            "y",
            "--treated-unit",
            "u00",
            "--treatment-start",
            "2010",
            "--bootstrap",
            "5",
            "--seed",
            "1",
            "--format",
            "json",
        ],
    )
    assert run.exit_code == 0, run.output
    d = json.loads(run.output)
    assert {
        "estimate",
        "se",
        "ci_low",
        "ci_high",
        "unit_weights",
        "time_weights",
    } <= set(d)


def test_cli_errors_exit_2(tmp_path: Path) -> None:
    p = _csv(tmp_path)
    for args in (
        ["--treated-unit", "nope", "--treatment-start", "2010"],
        ["--treated-unit", "u00", "--treatment-start", "1990"],
    ):
        run = CliRunner().invoke(
            main, ["estimate", "sdid", "--data", str(p), "--outcome", "y", *args]
        )
        assert run.exit_code == 2
        assert run.output.startswith("Error: ")
