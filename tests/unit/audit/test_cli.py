"""``tillit audit burden`` and ``tillit audit signals`` end to end through click."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from tillit.cli.main import main
from tillit.core.audit import planted_inventory, planted_panel


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("audit")
    panel, _ = planted_panel(seed=5, n_units=120, n_years=10, target_year=2005)
    long = panel.to_long().rename(columns={"year": "period"})
    long["gender"] = "T"
    extra = long.assign(gender="K", value=long["value"] + 1000)  # filtered out below
    pd.concat([long, extra]).to_csv(d / "panel.csv", index=False)
    inv = planted_inventory()
    inv.to_csv(d / "inv.csv", index=False)
    inv2 = inv.drop(index=0)
    inv2.to_csv(d / "inv2.csv", index=False)
    pd.DataFrame(
        {
            "staff_group": ["nurse", "assistant nurse", "unit manager"],
            "employees": [10, 40, 5],
        }
    ).to_csv(d / "staff.csv", index=False)
    bad = inv.copy()
    bad.loc[2, "minutes_per_occurrence"] = "ten"
    bad.to_csv(d / "bad.csv", index=False)
    return {p.stem: p for p in d.iterdir()}


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout, r.stderr


def test_burden_table_json_csv(files: dict[str, Path]) -> None:
    code, out, _ = run("audit", "burden", "--inventory", str(files["inv"]))
    assert code == 0 and "Largest burdens" in out and "R01" in out
    code, out, _ = run(
        "audit",
        "burden",
        "--inventory",
        str(files["inv"]),
        "--staff",
        str(files["staff"]),
        "--format",
        "json",
    )
    d = json.loads(out)
    assert code == 0 and d["total_hours_per_year"] == pytest.approx(1053.33, abs=0.01)
    per = {r["staff_group"]: r for r in d["per_employee"]}
    assert per["assistant nurse"]["hours_per_employee"] == pytest.approx(520 / 40)
    code, out, _ = run(
        "audit", "burden", "--inventory", str(files["inv"]), "--format", "csv"
    )
    assert code == 0 and out.splitlines()[0].startswith("requirement_id,title")


def test_burden_compare(files: dict[str, Path]) -> None:
    code, out, _ = run(
        "audit",
        "burden",
        "--inventory",
        str(files["inv"]),
        "--compare",
        str(files["inv2"]),
        "--format",
        "json",
    )
    d = json.loads(out)
    assert (
        code == 0
        and d["counts"]["removed"] == 1
        and d["hours_per_year_delta"] == -520.0
    )


def test_bad_template_is_a_clean_error(files: dict[str, Path]) -> None:
    code, out, err = run("audit", "burden", "--inventory", str(files["bad"]))
    assert code == 2 and out == ""
    assert (
        err.startswith("Error: ") and "row 3" in err and "minutes_per_occurrence" in err
    )
    assert "Traceback" not in err
    code, _, err = run("audit", "burden", "--inventory", "/nonexistent.csv")
    assert code == 2 and "file not found" in err


def test_signals_end_to_end(files: dict[str, Path], tmp_path: Path) -> None:
    html, csv = tmp_path / "r.html", tmp_path / "r.csv"
    code, out, err = run(
        "audit",
        "signals",
        "--data",
        str(files["panel"]),
        "--filter",
        "gender=T",
        "--criterion",
        "satisfaction",
        "--target",
        "gamed=90:2005",
        "--ledger",
        str(files["inv"]),
        "--html",
        str(html),
        "--csv",
        str(csv),
        "--format",
        "json",
    )
    assert code == 0, err
    d = json.loads(out)
    acts = {r["indicator"]: r["action"] for r in d["recommendations"]}
    assert acts["noise"] == "drop" and acts["valid"] == "keep"
    assert d["gaming"][0]["bunching_p"] < 0.001
    assert html.read_text().startswith("<!DOCTYPE html>")
    assert len(pd.read_csv(csv)) == 11
    code, out, _ = run(
        "audit",
        "signals",
        "--data",
        str(files["panel"]),
        "--filter",
        "gender=T",
        "--indicator",
        "noise",
        "--indicator",
        "clean_1",
    )
    assert code == 0 and "Signal audit of 2 indicators" in out


def test_signals_errors(files: dict[str, Path]) -> None:
    code, _, err = run("audit", "signals", "--data", str(files["panel"]))
    assert code == 2 and "duplicate row" in err  # two genders without a filter
    code, _, err = run(
        "audit", "signals", "--data", str(files["panel"]), "--filter", "sex=T"
    )
    assert code == 2 and "--filter" in err
    code, _, err = run(
        "audit",
        "signals",
        "--data",
        str(files["panel"]),
        "--filter",
        "gender=T",
        "--target",
        "gamed=high",
    )
    assert code == 2 and "target" in err and "Traceback" not in err
    code, _, err = run(
        "audit",
        "signals",
        "--data",
        str(files["panel"]),
        "--filter",
        "gender=T",
        "--indicator-column",
        "kpi",
    )
    assert code == 2 and "missing column" in err


def test_signals_municipalities_only(tmp_path: Path) -> None:
    from tillit.domain.geography import municipalities

    codes = [*municipalities()["code"][:30], "0000", "0001"]  # + Sweden, a region
    rng = np.random.default_rng(0)
    rows = [
        (ind, code, year, float(rng.normal()))
        for ind in ("A", "B")
        for code in codes
        for year in range(2015, 2021)
    ]
    path = tmp_path / "k.csv"
    pd.DataFrame(rows, columns=["kpi", "municipality", "period", "value"]).to_csv(
        path, index=False
    )
    args = [
        "audit",
        "signals",
        "--data",
        str(path),
        "--indicator-column",
        "kpi",
        "--unit",
        "municipality",
        "--format",
        "json",
    ]
    code, out, err = run(*args, "--municipalities-only")
    assert code == 0, err
    assert json.loads(out)["settings"]["n_units"] == 30
    code, out, _ = run(*args)
    assert (
        json.loads(out)["settings"]["n_units"] == 32
    )  # codes kept as text: 0000, 0001
