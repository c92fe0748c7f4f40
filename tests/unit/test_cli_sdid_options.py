"""``tillit estimate sdid --weight --cluster`` and several outcomes in one call."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from tillit.cli.main import main
from tillit.core.synth import sdid


def _csv(tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    rng = np.random.default_rng(11)
    n, t = 20, 9
    rows = []
    for i in range(n):
        for j in range(t):
            y = i * 0.1 + j * 0.3 + rng.normal(scale=0.4)
            if i >= 18 and j >= 6:
                y += 1.0 + i - 18
            rows.append(
                (f"k{i:02d}", 2010 + j, y, 2 * y + rng.normal(), 1 + i % 3, i // 4)
            )
    df = pd.DataFrame(rows, columns=["unit", "period", "y", "z", "pop", "county"])
    path = tmp_path / "panel.csv"
    df.to_csv(path, index=False)
    return path, pd.read_csv(path)


def test_weight_cluster_and_many_outcomes_match_the_core(tmp_path: Path) -> None:
    path, df = _csv(tmp_path)
    args = ["estimate", "sdid", "--data", str(path), "--outcome", "y", "--outcome", "z"]
    args += ["--treated-unit", "k18", "--treated-unit", "k19"]
    args += ["--treatment-start", "2016", "--weight", "pop", "--cluster", "county"]
    args += ["--variance", "bootstrap", "--bootstrap", "25", "--seed", "3"]
    run = CliRunner().invoke(main, [*args, "--format", "json"])
    assert run.exit_code == 0, run.output
    out = json.loads(run.output)["outcomes"]
    assert set(out) == {"y", "z"}
    for name in ("y", "z"):
        ref = sdid(
            df,
            outcome=name,
            unit="unit",
            time="period",
            treated_units=["k18", "k19"],
            treatment_start=2016,
            variance="bootstrap",
            replications=25,
            seed=3,
            weights="pop",
            cluster="county",
        )
        assert out[name]["estimate"] == pytest.approx(ref.estimate.estimate, abs=1e-10)
        assert out[name]["se"] == pytest.approx(ref.estimate.se, abs=1e-10)
        assert out[name]["weights"] == "pop" and out[name]["cluster"] == "county"
        assert out[name]["n_clusters"] == 5
    text = CliRunner().invoke(main, args)
    assert "== y ==" in text.output and "5 clusters of 'county'" in text.output


def test_covariate_flags_reach_the_core(tmp_path: Path) -> None:
    path, df = _csv(tmp_path)
    args = ["estimate", "sdid", "--data", str(path), "--outcome", "y"]
    args += ["--treated-unit", "k18", "--treated-unit", "k19", "--treatment-start"]
    args += ["2016", "--covariate", "z", "--covariate-method", "projected"]
    run = CliRunner().invoke(main, [*args, "--format", "json"])
    assert run.exit_code == 0, run.output
    out = json.loads(run.output)
    ref = sdid(
        df,
        outcome="y",
        unit="unit",
        time="period",
        treated_units=["k18", "k19"],
        treatment_start=2016,
        seed=None,
        covariates=["z"],
        covariate_method="projected",
        variance="none",
    )
    assert out["estimate"] == pytest.approx(ref.estimate.estimate, abs=1e-10)
    assert out["covariates"] == ["z"] and out["covariate_method"] == "projected"
