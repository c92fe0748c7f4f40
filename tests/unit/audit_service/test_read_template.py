"""Uploaded templates: CSV and .xlsx bytes, errors naming file, row and field."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from tillit.core.errors import DataError
from tillit.services.audit import read_template

ROWS = pd.DataFrame(
    {"requirement_id": ["A", "B"], "title": ["x", "y"], "demanded_by": ["stat", "nämnd"],
     "staff_group": ["nurse", "nurse"], "unit": ["all", "all"],
     "frequency_per_year": ["12", "1 200,5"], "minutes_per_occurrence": ["10", "1"],
     "reporters": ["2", "3"], "hourly_cost_sek": ["500", "500"],
     "indicator_ids": ["N1;N2", ""]}
)  # fmt: skip


def test_csv_and_xlsx_give_the_same_inventory() -> None:
    pytest.importorskip("openpyxl")
    buf = io.BytesIO()
    ROWS.to_excel(buf, index=False)
    a = read_template(ROWS.to_csv(index=False).encode("utf-8-sig"), "inv.csv")
    b = read_template(buf.getvalue(), "inv.xlsx")
    pd.testing.assert_frame_equal(a, b)
    assert a["demanded_by"].tolist() == ["state", "municipal_board"]
    assert a["frequency_per_year"].tolist() == [12.0, 1200.5]
    assert a["indicator_ids"].tolist() == [("N1", "N2"), ()]


@pytest.mark.parametrize(
    ("data", "name", "needle"),
    [
        (b"", "e.csv", "empty"),
        (b"\xff\xfe\x00bad", "b.csv", "UTF-8"),
        (b"title\nx\n", "c.csv", "missing column"),
        (b"not an excel file", "d.xlsx", "d.xlsx"),
    ],
)
def test_unreadable_files_are_data_errors(data: bytes, name: str, needle: str) -> None:
    with pytest.raises(DataError) as err:
        read_template(data, name)
    assert needle in str(err.value) and name in str(err.value)


def test_bad_cell_names_row_and_field() -> None:
    bad = ROWS.assign(reporters=["2", "many"])
    with pytest.raises(DataError) as err:
        read_template(bad.to_csv(index=False).encode(), "r.csv")
    assert (err.value.file, err.value.row, err.value.field) == ("r.csv", 2, "reporters")
