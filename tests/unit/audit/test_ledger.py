"""Burden ledger arithmetic against hand-computed numbers, and template validation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tillit.core.audit import Ledger, read_inventory
from tillit.core.errors import DataError

REPO = Path(__file__).resolve().parents[3]
TEMPLATE = REPO / "docs" / "templates" / "burden_template.csv"

ROWS = [
    # id, demander, staff, unit, freq, minutes, reporters, tariff, indicators, dimension
    ("R1", "state", "nurse", "all", "12", "30", "10", "500", "A;B", "safety"),
    (
        "R2",
        "region",
        "assistant nurse",
        "North",
        "52",
        "15",
        "4",
        "400",
        "B",
        "continuity",
    ),
    ("R3", "municipal board", "nurse", "South", "1", "90", "2", "650", "", "safety"),
]
COLS = [
    "requirement_id",
    "demanded_by",
    "staff_group",
    "unit",
    "frequency_per_year",
    "minutes_per_occurrence",
    "reporters",
    "hourly_cost_sek",
    "indicator_ids",
    "dimension",
]


def raw(rows: list[tuple[str, ...]] = ROWS) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=COLS)
    df.insert(1, "title", [f"Requirement {r[0]}" for r in rows])
    return df


def test_hours_and_cost_by_hand() -> None:
    led = Ledger.from_frame(raw())
    req = led.requirements.set_index("requirement_id")
    # 12 x 30 min x 10 = 60 h; 52 x 15 min x 4 = 52 h; 1 x 90 min x 2 = 3 h
    assert req["hours_per_year"].to_dict() == {"R1": 60.0, "R2": 52.0, "R3": 3.0}
    assert req["cost_per_year_sek"].to_dict() == {
        "R1": 30_000.0,
        "R2": 20_800.0,
        "R3": 1_950.0,
    }
    assert led.total_hours == 115.0
    assert led.total_cost == 52_750.0
    assert req.loc["R3", "demanded_by"] == "municipal_board"  # alias normalised


def test_breakdowns() -> None:
    led = Ledger.from_frame(raw())
    by_staff = led.by("staff_group").set_index("staff_group")
    assert by_staff.loc["nurse", "hours_per_year"] == 63.0
    assert by_staff.loc["nurse", "cost_per_year_sek"] == 31_950.0
    assert by_staff.loc["nurse", "requirements"] == 2
    assert by_staff["share_of_hours"].sum() == pytest.approx(1.0)
    by_dem = led.by("demanded_by").set_index("demanded_by")["hours_per_year"]
    assert by_dem.to_dict() == {"state": 60.0, "region": 52.0, "municipal_board": 3.0}
    assert list(led.by("unit")["unit"]) == ["all", "North", "South"]  # largest first
    assert (
        led.by("dimension").set_index("dimension").loc["safety", "hours_per_year"]
        == 63.0
    )
    assert list(led.largest(2)["requirement_id"]) == ["R1", "R2"]
    with pytest.raises(DataError, match="cannot group"):
        led.by("title")


def test_hours_by_indicator_shares_requirements() -> None:
    led = Ledger.from_frame(raw())
    # R1 (60 h) feeds A and B: 30 h each; R2 (52 h) feeds B; R3 feeds nothing
    assert led.hours_by_indicator().to_dict() == {"A": 30.0, "B": 82.0}


def test_per_employee() -> None:
    led = Ledger.from_frame(raw())
    staff = pd.DataFrame(
        {"staff_group": ["nurse", "assistant nurse"], "employees": [20, 8]}
    )
    per = led.per_employee(staff).set_index("staff_group")
    assert per.loc["nurse", "hours_per_employee"] == pytest.approx(63 / 20)
    assert per.loc["assistant nurse", "cost_per_employee_sek"] == pytest.approx(
        20_800 / 8
    )
    # with units: R1 (unit "all", 60 h nurse) is shared by the nurses of North and South
    staff_u = pd.DataFrame(
        {
            "staff_group": ["nurse", "nurse", "assistant nurse"],
            "unit": ["North", "South", "North"],
            "employees": [15, 5, 8],
        }
    )
    per_u = led.per_employee(staff_u).set_index(["staff_group", "unit"])
    assert per_u.loc[("nurse", "North"), "hours_per_year"] == pytest.approx(
        60 * 15 / 20
    )
    assert per_u.loc[("nurse", "South"), "hours_per_year"] == pytest.approx(
        60 * 5 / 20 + 3
    )
    assert per_u.loc[
        ("assistant nurse", "North"), "hours_per_employee"
    ] == pytest.approx(52 / 8)
    assert per_u["hours_per_year"].sum() == pytest.approx(led.total_hours)
    # staff rows missing for a unit or a group: kept with employees NaN, hours add up
    part = led.per_employee(staff_u.iloc[:1]).set_index(["staff_group", "unit"])
    assert part["hours_per_year"].sum() == pytest.approx(led.total_hours)
    assert np.isnan(part.loc[("nurse", "South"), "employees"])
    assert part.loc[("nurse", "North"), "hours_per_year"] == pytest.approx(60.0)
    with pytest.raises(DataError) as exc:
        led.per_employee(staff.assign(employees=[20, 0]))
    assert exc.value.row == 2 and exc.value.field == "employees"


def test_compare_two_inventories() -> None:
    old = Ledger.from_frame(raw(), source="2025")
    rows = [list(r) for r in ROWS]
    rows[0][5] = "20"  # R1: 30 -> 20 minutes: 60 -> 40 h
    del rows[2]  # R3 removed
    rows.append(
        ["R4", "purchaser", "nurse", "all", "4", "60", "3", "500", "", ""]
    )  # 12 h
    new = Ledger.from_frame(raw([tuple(r) for r in rows]), source="2026")
    ch = old.compare(new)
    assert ch.counts() == {"added": 1, "removed": 1, "changed": 1, "unchanged": 1}
    t = ch.tidy().set_index("requirement_id")
    assert t.loc["R1", "status"] == "changed"
    assert t.loc["R1", "changed_fields"] == "minutes_per_occurrence"
    assert t.loc["R1", "hours_per_year_delta"] == -20.0
    assert (
        t.loc["R3", "status"] == "removed"
        and t.loc["R3", "hours_per_year_delta"] == -3.0
    )
    assert (
        t.loc["R4", "status"] == "added"
        and t.loc["R4", "cost_per_year_sek_delta"] == 6_000.0
    )
    assert ch.hours_delta == pytest.approx(new.total_hours - old.total_hours) == -11.0
    assert ch.cost_delta == pytest.approx(new.total_cost - old.total_cost)
    d = json.loads(json.dumps(ch.to_dict(), allow_nan=False))
    assert d["counts"]["added"] == 1 and d["hours_per_year_delta"] == -11.0
    assert "1 added, 1 removed, 1 changed" in ch.summary()


def test_result_shapes_are_strict_json() -> None:
    led = Ledger.from_frame(raw())
    d = json.loads(json.dumps(led.to_dict(), allow_nan=False))
    assert d["total_hours_per_year"] == 115.0
    assert {r["demanded_by"] for r in d["by_demanded_by"]} == {
        "state",
        "region",
        "municipal_board",
    }
    assert d["requirements"][0]["indicator_ids"] == "A;B"
    assert "115 hours" in led.summary()
    assert list(led.tidy().columns[-2:]) == ["hours_per_year", "cost_per_year_sek"]


@pytest.mark.parametrize(
    ("row", "col", "value", "message"),
    [
        (2, "minutes_per_occurrence", "a quarter", "must be a number"),
        (3, "frequency_per_year", "-4", "must not be negative"),
        (1, "demanded_by", "the king", "unknown demander"),
        (2, "requirement_id", "R1", "duplicate requirement id"),
        (3, "reporters", "", "must be a number"),
        (1, "hourly_cost_sek", "inf", "must be a number"),
        (2, "staff_group", " ", "must not be empty"),
    ],
)
def test_malformed_rows_name_row_and_field(
    tmp_path: Path, row: int, col: str, value: str, message: str
) -> None:
    df = raw()
    df.loc[row - 1, col] = value
    path = tmp_path / "inv.csv"
    df.to_csv(path, index=False)
    with pytest.raises(DataError, match=message) as exc:
        read_inventory(path)
    err = exc.value
    assert (err.file, err.row, err.field) == (str(path), row, col)
    assert f"row {row}" in err.message and col in err.message


def test_missing_column_and_bad_files(tmp_path: Path) -> None:
    path = tmp_path / "inv.csv"
    raw().drop(columns="reporters").to_csv(path, index=False)
    with pytest.raises(DataError, match="missing column") as exc:
        read_inventory(path)
    assert exc.value.field == "reporters"
    with pytest.raises(DataError, match="file not found"):
        read_inventory(tmp_path / "nope.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text(",".join(raw().columns) + "\n")
    with pytest.raises(DataError, match="no rows"):
        read_inventory(empty)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("requirement_id,title\nR1,Bemötande \xe5\n".encode("latin-1"))
    with pytest.raises(DataError, match="UTF-8"):
        read_inventory(latin)


def test_nothing_partial_on_error() -> None:
    df = raw()
    df.loc[2, "reporters"] = "x"
    with pytest.raises(DataError):
        Ledger.from_frame(
            df
        )  # raises before any Ledger exists; valid rows not returned


def test_decimal_comma_and_spaces_are_numbers() -> None:
    df = raw()
    df.loc[0, "hourly_cost_sek"] = "1 250,50"
    led = Ledger.from_frame(df)
    assert led.requirements.loc[0, "hourly_cost_sek"] == 1250.5


def test_documented_template_reads() -> None:
    led = Ledger.from_file(TEMPLATE)
    assert len(led.requirements) >= 5
    assert set(led.requirements["demanded_by"]) <= {
        "state",
        "region",
        "municipal_board",
        "purchaser",
        "other",
    }


def test_excel_template(tmp_path: Path) -> None:
    pytest.importorskip("openpyxl")
    path = tmp_path / "inv.xlsx"
    raw().to_excel(path, index=False)
    assert Ledger.from_file(path).total_hours == 115.0


def test_excel_without_openpyxl_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda n, *a: None if n == "openpyxl" else real(n, *a),
    )
    path = tmp_path / "inv.xlsx"
    path.write_bytes(b"PK")
    with pytest.raises(DataError, match="openpyxl"):
        read_inventory(path)
