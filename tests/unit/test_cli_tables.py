"""``tillit estimate`` reads CSV with any delimiter, TSV, Parquet and xlsx (#18 item 9).

Each format is written by an independent writer (pandas, pyarrow, openpyxl, plain
text) from one frame and read back equal; errors name the file, the row, the column
and how the file was read.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from tillit.cli.main import main
from tillit.cli.tables import read_table, sniff_delimiter
from tillit.core.errors import DataError

FRAME = pd.DataFrame(
    {
        "kommun": ["Ale", "Åre", "Öckerö", "Västerås"],
        "år": [2015, 2015, 2016, 2016],
        "kostnad": [1.5, 2.25, -3.0, 4.125],
    }
)


def _text(frame: pd.DataFrame, sep: str, decimal: str = ".") -> str:
    lines = [sep.join(frame.columns)]
    for row in frame.itertuples(index=False):
        cells = [
            str(v).replace(".", decimal) if isinstance(v, float) else str(v)
            for v in row
        ]
        lines.append(sep.join(cells))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("sep", "name"),
    [(",", "comma"), (";", "semicolon"), ("\t", "tab"), ("|", "pipe")],
)
def test_any_delimiter_is_detected_and_named(
    tmp_path: Path, sep: str, name: str
) -> None:
    path = tmp_path / "data.csv"
    path.write_text(_text(FRAME, sep), encoding="utf-8")
    table = read_table(path)
    pd.testing.assert_frame_equal(table.frame, FRAME)
    assert table.described == f"{name}-separated"


def test_tsv_and_decimal_comma_and_windows_1252(tmp_path: Path) -> None:
    path = tmp_path / "data.tsv"
    path.write_bytes(_text(FRAME, "\t", decimal=",").encode("cp1252"))
    table = read_table(path)
    pd.testing.assert_frame_equal(table.frame, FRAME)
    assert table.described == "tab-separated, decimal comma, Windows-1252"


def test_semicolon_with_quoted_fields_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes('\ufeffkommun;note;y\n"Ale";"a; b";1,5\n"Åre";"c";2\n'.encode())
    table = read_table(path)
    assert list(table.frame.columns) == ["kommun", "note", "y"]
    assert table.frame["note"].tolist() == ["a; b", "c"]
    assert table.frame["y"].tolist() == [1.5, 2.0]
    assert table.described == "semicolon-separated, decimal comma"


def test_parquet_written_by_pyarrow(tmp_path: Path) -> None:
    path = tmp_path / "data.parquet"
    FRAME.to_parquet(path, index=False)
    table = read_table(path)
    pd.testing.assert_frame_equal(table.frame, FRAME)
    assert table.described == "Parquet"


def test_xlsx_written_by_openpyxl(tmp_path: Path) -> None:
    path = tmp_path / "data.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Blad1"
    sheet.append(list(FRAME.columns))
    for row in FRAME.itertuples(index=False):
        sheet.append(list(row))
    sheet.append([None, None, None])  # trailing blank row, as Excel leaves them
    book.create_sheet("Notes").append(["ignored"])
    book.save(path)
    table = read_table(path)
    pd.testing.assert_frame_equal(table.frame, FRAME, check_dtype=False)
    assert table.described == "xlsx (sheet 'Blad1', first of 2 sheets)"


def test_sniffer_prefers_consistent_splits() -> None:
    # commas inside the numbers, semicolons between the fields
    assert sniff_delimiter("a;b;c\n1,5;2,5;3\n4;5;6\n") == ";"
    # a single column is read as comma-separated
    assert sniff_delimiter("only\n1\n2\n") == ","
    # a truncated last line does not count
    assert sniff_delimiter("a\tb\n1\t2\n3\t4\n5") == "\t"


def test_ragged_row_names_the_row_and_the_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("unit\tperiod\ty\nA\t1\t2\nB\t1\t2\t9\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        read_table(path)
    err = info.value
    assert err.file == str(path)
    assert err.row == 2
    assert "4 fields" in err.message and "tab-separated" in err.message


def test_missing_and_empty_and_xls(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="file not found"):
        read_table(tmp_path / "nope.csv")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(DataError, match="empty"):
        read_table(empty)
    xls = tmp_path / "old.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    with pytest.raises(DataError, match=r"\.xlsx or CSV"):
        read_table(xls)
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 not really")
    with pytest.raises(DataError, match="Parquet"):
        read_table(broken)


def _panel() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    rows = []
    for u in range(12):
        for t in range(2010, 2020):
            y = 10 + u + 0.3 * t - 2010 * 0.3 + rng.normal(0, 0.2)
            if u == 0 and t >= 2016:
                y += 2.0
            rows.append((f"k{u:02d}", t, round(y, 4)))
    return pd.DataFrame(rows, columns=["kommun", "år", "y"])


def _sdid_json(path: Path) -> dict[str, object]:
    args = ["estimate", "sdid", "--data", str(path), "--outcome", "y"]
    args += ["--unit", "kommun", "--time", "år", "--treated-unit", "k00"]
    args += ["--treatment-start", "2016", "--seed", "1", "--format", "json"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    out: dict[str, object] = json.loads(res.output)
    return out


def test_every_format_gives_the_same_estimate_through_the_cli(tmp_path: Path) -> None:
    df = _panel()
    csv = tmp_path / "p.csv"
    df.to_csv(csv, index=False)
    tsv = tmp_path / "p.tsv"
    tsv.write_text(_text(df, "\t", decimal=","), encoding="utf-8")
    pq = tmp_path / "p.parquet"
    df.to_parquet(pq, index=False)
    xlsx = tmp_path / "p.xlsx"
    df.to_excel(xlsx, index=False)
    ref = _sdid_json(csv)
    for path in (tsv, pq, xlsx):
        got = _sdid_json(path)
        assert got["estimate"] == pytest.approx(ref["estimate"], abs=1e-12), path
        assert got["se"] == pytest.approx(ref["se"], abs=1e-12), path


def test_cli_error_names_file_delimiter_row_and_column(tmp_path: Path) -> None:
    df = _panel()
    path = tmp_path / "p.txt"
    path.write_text(_text(df, ";"), encoding="utf-8")
    runner = CliRunner()
    res = runner.invoke(
        main,
        [
            "estimate",
            "sdid",
            "--data",
            str(path),
            "--outcome",
            "cost",
            "--unit",
            "kommun",
            "--time",
            "år",
            "--treated-unit",
            "k00",
            "--treatment-start",
            "2016",
        ],
    )
    assert res.exit_code == 2
    assert str(path) in res.output and "semicolon-separated" in res.output
    assert "field 'cost'" in res.output and "kommun, år, y" in res.output
    # a value error found by the core gets the file's name added
    df["y"] = df["y"].astype(object)
    df.loc[5, "y"] = "n/a"
    df.to_csv(path, index=False)
    res = runner.invoke(
        main,
        [
            "estimate",
            "sdid",
            "--data",
            str(path),
            "--outcome",
            "y",
            "--unit",
            "kommun",
            "--time",
            "år",
            "--treated-unit",
            "k00",
            "--treatment-start",
            "2016",
        ],
    )
    assert res.exit_code == 2
    assert f"{path}, row 6, field 'y'" in res.output


def test_codes_with_leading_zeros_stay_text(tmp_path: Path) -> None:
    """Municipality codes such as 0114 are labels, not the number 114."""
    path = tmp_path / "codes.csv"
    path.write_text("kommun,år,y,cohort\n0114,2015,1.5,0\n0180,2015,2,2016\n")
    frame = read_table(path).frame
    assert frame["kommun"].tolist() == ["0114", "0180"]
    assert frame["år"].tolist() == [2015, 2015] and frame["y"].tolist() == [1.5, 2.0]
    assert frame["cohort"].tolist() == [0, 2016]
