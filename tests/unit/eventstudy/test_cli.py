"""The event-study and design commands end to end through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from tillit.cli.main import main

from .conftest import staggered
from .test_contdid import dose_panel
from .test_dcdh import switching
from .test_triplediff import ddd_panel

COMMON = ["--unit", "id", "--time", "year", "--cohort", "g"]


def _run(args: list[str]) -> tuple[int, str]:
    res = CliRunner().invoke(main, ["estimate", *args])
    return res.exit_code, res.output


@pytest.mark.parametrize("cmd", ["sunab", "imputation", "two-stage"])
def test_event_study_commands_json(cmd: str, tmp_path: Path) -> None:
    f = tmp_path / "p.csv"
    staggered(k=2).to_csv(f, index=False)
    code, out = _run([cmd, "--data", str(f), "--outcome", "y0", "--outcome", "y1", *COMMON,
                      "--cluster", "state", "--weight", "pop", "--format", "json",
                      "--honest", "smoothness"])  # fmt: skip
    assert code == 0, out
    d = json.loads(out)
    assert set(d["outcomes"]) == {"y0", "y1"}
    assert d["n_clusters"] == 9 and d["settings"]["weight"] == "pop"
    assert "sensitivity" in d["outcomes"]["y0"]["honest"]


def test_design_commands_and_plot(tmp_path: Path) -> None:
    f1, f2, f3 = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    switching().to_csv(f1, index=False)
    dose_panel(T=4, cohorts=(0, 2002)).to_csv(f2, index=False)
    ddd_panel().to_csv(f3, index=False)
    png = tmp_path / "es.png"
    code, out = _run(["dcdh", "--data", str(f1), "--outcome", "y", "--unit", "g", "--time", "t",
                      "--treatment", "d", "--effects", "2", "--placebo", "1", "--plot", str(png)])  # fmt: skip
    assert code == 0, out
    assert "de Chaisemartin" in out and png.stat().st_size > 1000
    code, out = _run(["cont-did", "--data", str(f2), "--outcome", "y", *COMMON, "--dose", "d",
                      "--format", "json"])  # fmt: skip
    assert code == 0, out
    assert json.loads(out)["outcomes"]["y"]["acrt_overall"]["estimate"] > 0
    code, out = _run(["triple-diff", "--data", str(f3), "--outcome", "y", "--unit", "id",
                      "--time", "year", "--cohort", "s", "--partition", "q", "--control", "notyet"])  # fmt: skip
    assert code == 0, out
    assert "triple differences" in out


def test_dose_given_as_cohort_points_to_dcdh(tmp_path: Path) -> None:
    f = tmp_path / "dose.csv"
    df = switching()
    df.to_csv(f, index=False)
    code, out = _run(["did", "--data", str(f), "--outcome", "y", "--unit", "g", "--time", "t",
                      "--cohort", "d"])  # fmt: skip
    assert code == 2
    assert "two cohorts" in out and "tillit estimate dcdh" in out
    code, out = _run(["dcdh", "--data", str(f), "--outcome", "nope", "--unit", "g", "--time", "t",
                      "--treatment", "d"])  # fmt: skip
    assert code == 2 and "nope" in out
    assert np.isfinite(df.y).all()
