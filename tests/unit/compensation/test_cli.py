"""The CLI contract of ``tillit compensation simulate`` (scripts rely on it) and friends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from tillit.cli.main import main
from tillit.services.demo.compensation import demo_spec

KEYS = ("name", "basis", "cost_total", "cost_per_recipient", "provider_margin",
        "delivered_share", "registration_hours", "registration_cost")  # fmt: skip


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    p = tmp_path / "spec.yaml"
    p.write_text(yaml.safe_dump(demo_spec(), allow_unicode=True), encoding="utf-8")
    return p


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, ["compensation", *args])
    return r.exit_code, r.stdout, r.stderr


def test_simulate_json_has_the_contracted_keys_and_intervals(spec_file: Path) -> None:
    code, out, _ = run(
        "simulate", "--spec", str(spec_file), "--draws", "20", "--format", "json"
    )
    assert code == 0
    doc = json.loads(out)
    assert len(doc["models"]) == 8
    for m in doc["models"]:
        for k in KEYS:
            assert k in m, k
        for k in KEYS[2:]:
            assert m["ci_low"][k] <= m[k] <= m["ci_high"][k], (m["name"], k)
    assert doc["population"]["is_demo"] is True


def test_one_draw_has_no_intervals_and_the_table_is_worded(spec_file: Path) -> None:
    code, out, _ = run(
        "simulate",
        "--spec",
        str(spec_file),
        "--draws",
        "1",
        "--format",
        "json",
        "--no-tornado",
    )
    doc = json.loads(out)
    assert code == 0 and all("ci_low" not in m for m in doc["models"])
    code, out, _ = run(
        "simulate", "--spec", str(spec_file), "--draws", "1", "--lang", "sv"
    )
    assert (
        code == 0
        and "Kostnad per brukare" in out
        and "\u202fkr" in out
        and "DEMO" in out
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {"rates": {"day_personal": -1, "day_service": 1, "evening": 1, "night": 1}},
            "models[0].rates.day_personal",
        ),
        ({"cancellation": {"paid_share": 1.2}}, "models[0].cancellation.paid_share"),
        ({"basis": "hourly"}, "models[0].basis"),
        (
            {"rates": {"day_personal": 400, "day_service": 400, "evening": 400}},
            "models[0].rates.night",
        ),
    ],
)
def test_a_bad_spec_is_refused_with_the_path_and_exit_code_2(
    tmp_path: Path, change: dict, field: str
) -> None:
    m = {
        "name": "A",
        "basis": "granted_time",
        "rates": {"day_personal": 1, "day_service": 1, "evening": 1, "night": 1},
        **change,
    }
    p = tmp_path / "bad.json"
    p.write_text(json.dumps({"models": [m]}), encoding="utf-8")
    code, _, err = run("simulate", "--spec", str(p))
    assert code == 2
    assert field in err and "Traceback" not in err


def test_recipients_csv_with_a_bad_row(tmp_path: Path, spec_file: Path) -> None:
    good = tmp_path / "r.csv"
    good.write_text(
        "granted_hours,provider\n10,in_house\n40,for_profit\n", encoding="utf-8"
    )
    code, out, _ = run(
        "simulate",
        "--spec",
        str(spec_file),
        "--recipients",
        str(good),
        "--draws",
        "5",
        "--format",
        "json",
    )
    assert code == 0 and json.loads(out)["n_recipients"] == 2
    bad = tmp_path / "b.csv"
    bad.write_text("granted_hours\n10\nmany\n", encoding="utf-8")
    code, _, err = run("simulate", "--spec", str(spec_file), "--recipients", str(bad))
    assert code == 2 and "row 2" in err and "granted_hours" in err


def test_compare_reports_paired_differences(spec_file: Path) -> None:
    code, out, _ = run(
        "compare", "--spec", str(spec_file), "--draws", "30", "--format", "json"
    )
    doc = json.loads(out)
    assert code == 0 and doc["baseline"] == "Beviljad tid"
    assert doc["models"][0]["difference_cost_per_recipient"] == 0
    row = doc["models"][1]
    assert row["ci_low"] <= row["difference_cost_per_recipient"] <= row["ci_high"]
    assert 0 <= row["probability_lower"] <= 1


def test_example_prints_a_valid_spec() -> None:
    from tillit.domain.compensation import parse_spec

    code, out, _ = run("example")
    assert code == 0 and len(parse_spec(yaml.safe_load(out)).models) == 8


@pytest.mark.shared_data
def test_simulate_for_a_municipality_from_a_kolada_file(
    shared_data: Path, spec_file: Path
) -> None:
    kolada = shared_data / "kolada_panel_2024" / "kolada_selected_long.csv"
    code, out, _ = run("simulate", "--spec", str(spec_file), "--municipality", "1440", "--kolada", str(kolada),
                       "--year", "2022", "--draws", "5", "--format", "json")  # fmt: skip
    doc = json.loads(out)
    assert code == 0
    ind = doc["population"]["indicators"]
    assert (
        doc["population"]["municipality"] == "1440"
        and ind["granted_hours_year"] == 2022
    )
    assert doc["n_recipients"] == round(ind["recipients_time_registered"])
    assert (
        abs(doc["population"]["granted_hours_per_month_mean"] - ind["granted_hours"])
        < 1e-9
    )


def test_simulate_does_not_import_the_database_layer(spec_file: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys\nfrom tillit.cli.main import main\n"
        f"try:\n    main(['compensation', 'simulate', '--spec', {str(spec_file)!r}, '--draws', '2', '--format', 'json'])\n"
        "except SystemExit:\n    pass\nprint(' '.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    mods = set(out.stderr.split())
    assert "tillit.core.compensation" in mods
    assert (
        "sqlalchemy" not in mods
        and "tillit.services.pilots" not in mods
        and "scipy.stats" not in mods
    )
