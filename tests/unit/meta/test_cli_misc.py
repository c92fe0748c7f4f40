"""CLI: tillit estimate meta|trial|power and tillit design randomise."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from tillit.cli.main import main
from tillit.core.meta import log_risk_ratio

BCG = Path(__file__).parents[2] / "reference" / "meta" / "data" / "dat_bcg.csv"


@pytest.fixture()
def bcg_csv(tmp_path: Path) -> Path:
    d = pd.read_csv(BCG)
    d["yi"], d["vi"] = log_risk_ratio(d.tpos, d.tneg, d.cpos, d.cneg)
    d["sei"] = np.sqrt(d.vi)
    p = tmp_path / "bcg.csv"
    d.to_csv(p, index=False)
    return p


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout, r.stderr


def test_meta_json(bcg_csv: Path) -> None:
    code, out, _ = run(
        "estimate",
        "meta",
        "--data",
        str(bcg_csv),
        "--effect",
        "yi",
        "--se",
        "sei",
        "--format",
        "json",
    )
    assert code == 0
    d = json.loads(out)
    assert round(d["estimate"], 4) == -0.7145 and round(d["tau2"], 4) == 0.3132
    for key in ("se", "ci_low", "ci_high", "i2", "q", "q_p", "pi_low", "pi_high"):
        assert d[key] is not None


def test_meta_moderator_dl_hk_and_plot(bcg_csv: Path, tmp_path: Path) -> None:
    png = tmp_path / "forest.png"
    code, out, _ = run(
        "estimate",
        "meta",
        "--data",
        str(bcg_csv),
        "--effect",
        "yi",
        "--variance",
        "vi",
        "--moderator",
        "ablat",
        "--method",
        "dl",
        "--hartung-knapp",
        "--label",
        "author",
        "--plot",
        str(png),
    )
    assert code == 0 and "ablat" in out and "knha" in out
    assert png.stat().st_size > 1000


def test_meta_by(bcg_csv: Path) -> None:
    code, out, _ = run(
        "estimate",
        "meta",
        "--data",
        str(bcg_csv),
        "--effect",
        "yi",
        "--variance",
        "vi",
        "--by",
        "alloc",
        "--format",
        "json",
    )
    assert code == 0
    assert [r["outcome"] for r in json.loads(out)["results"]] == [
        "alternate",
        "random",
        "systematic",
    ]


def test_meta_bad_input(bcg_csv: Path) -> None:
    code, _, err = run(
        "estimate",
        "meta",
        "--data",
        str(bcg_csv),
        "--effect",
        "author",
        "--variance",
        "vi",
    )
    assert code == 2 and err.startswith("Error:") and "Traceback" not in err
    code, _, err = run("estimate", "meta", "--data", str(bcg_csv), "--effect", "yi")
    assert code == 2 and "exactly one" in err


def _trial_csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    g, m = 12, 5
    cl = np.repeat(np.arange(g), m)
    d = np.repeat(rng.permutation(np.r_[np.ones(6), np.zeros(6)]), m)
    pre = rng.normal(size=g * m)
    df = pd.DataFrame(
        {
            "school": cl,
            "treated": d,
            "pre": pre,
            "y": 0.5 * d + pre + rng.normal(size=g * m),
            "region": cl % 2,
        }
    )
    p = tmp_path / "trial.csv"
    df.to_csv(p, index=False)
    return p


def test_trial(tmp_path: Path) -> None:
    p = _trial_csv(tmp_path)
    args = [
        "estimate",
        "trial",
        "--data",
        str(p),
        "--outcome",
        "y",
        "--treatment",
        "treated",
        "--cluster",
        "school",
        "--stratum",
        "region",
        "--covariate",
        "pre",
        "--permutations",
        "300",
        "--seed",
        "5",
        "--format",
        "json",
    ]
    code, out, _ = run(*args)
    assert code == 0
    d = json.loads(out)
    assert d["design"] == "stratified-cluster" and d["seed"] == 5
    assert (
        0 < d["ri_p_value"] <= 1 and d["balance"]["covariates"][0]["covariate"] == "pre"
    )
    assert json.loads(run(*args)[1])["ri_p_value"] == d["ri_p_value"]
    code, _, err = run(
        "estimate", "trial", "--data", str(p), "--outcome", "y", "--treatment", "pre"
    )
    assert code == 2 and "0 or 1" in err


def test_power_and_randomise(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    n, t = 40, 8
    df = pd.DataFrame(
        {
            "unit": np.repeat(np.arange(n), t),
            "period": np.tile(np.arange(t), n),
            "y": rng.normal(size=n * t),
        }
    )
    p = tmp_path / "panel.csv"
    df.to_csv(p, index=False)
    code, out, _ = run(
        "estimate",
        "power",
        "--data",
        str(p),
        "--outcome",
        "y",
        "--treated",
        "8",
        "--pre-periods",
        "3",
        "--post-periods",
        "2",
        "--simulations",
        "200",
        "--seed",
        "3",
        "--format",
        "json",
    )
    assert code == 0
    d = json.loads(out)
    assert d["seed"] == 3 and d["mde"] > 0 and d["sim_mde"] > 0
    code, _, err = run(
        "estimate",
        "power",
        "--data",
        str(p),
        "--outcome",
        "y",
        "--treated",
        "8",
        "--pre-periods",
        "6",
        "--post-periods",
        "6",
    )
    assert code == 2 and "do not fit" in err
    units = tmp_path / "units.csv"
    pd.DataFrame({"id": [f"k{i}" for i in range(20)], "grp": ["a", "b"] * 10}).to_csv(
        units, index=False
    )
    out_csv = tmp_path / "assignment.csv"
    args = [
        "design",
        "randomise",
        "--data",
        str(units),
        "--unit",
        "id",
        "--design",
        "stratified",
        "--stratum",
        "grp",
        "--treated",
        "6",
        "--seed",
        "9",
        "--out",
        str(out_csv),
        "--format",
        "json",
    ]
    code, out, _ = run(*args)
    assert code == 0
    a = json.loads(out)
    assert a["seed"] == 9 and sum(r["treatment"] for r in a["assignment"]) == 6
    assert pd.read_csv(out_csv).treatment.sum() == 6
    assert json.loads(run(*args)[1]) == a


def test_meta_test_adhoc_from_the_cli(bcg_csv: Path) -> None:
    base = ["estimate", "meta", "--data", str(bcg_csv), "--effect", "yi"]
    base += ["--variance", "vi", "--method", "dl", "--format", "json"]
    ad = json.loads(run(*base, "--test", "adhoc")[1])
    kh = json.loads(run(*base, "--hartung-knapp")[1])
    z = json.loads(run(*base)[1])
    assert ad["test"] == "adhoc" and kh["test"] == "knha" and z["test"] == "z"
    assert ad["se"] == pytest.approx(max(kh["se"], z["se"]), rel=1e-12)
