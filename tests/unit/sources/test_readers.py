"""Readers and the vectorised checks: every bad input is a DataError naming row and field."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from tillit.core.errors import DataError
from tillit.sources.frame import content_sha256, normalise_observations
from tillit.sources.readers import (
    guess_format,
    read_csv_observations,
    read_observations,
)

CSV = (
    "indicator,municipality,period,gender,value\n"
    "N00945,0180,2020,T,1.5\n"
    "N00945,0180,2020-03,K,\n"
    "N00945,1480,2021,M,-3e2\n"
)


def norm(data: bytes, name: str = "f.csv") -> pd.DataFrame:
    fmt = guess_format(name, data)
    return normalise_observations(
        read_observations(data, fmt, filename=name), file=name
    )


def err(data: bytes, name: str = "f.csv") -> DataError:
    with pytest.raises(DataError) as info:
        norm(data, name)
    return info.value


def test_csv_reads_codes_as_text_and_values_as_floats() -> None:
    df = norm(CSV.encode())
    assert df["org_code"].tolist() == ["0180", "0180", "1480"]
    assert df["period"].tolist() == ["2020", "2020-03", "2021"]
    assert df["year"].tolist() == [2020, 2020, 2021]
    assert df["month"].tolist() == [0, 3, 0]
    assert df["gender"].tolist() == ["T", "K", "M"]
    assert df["value"].iat[0] == 1.5 and math.isnan(df["value"].iat[1])
    assert df["value"].iat[2] == -300.0


def test_bom_semicolon_and_decimal_comma() -> None:
    text = "\ufeffkpi;municipality;year;value\nN00945;0180;2020;12,25\n"
    df = norm(text.encode("utf-8"))
    assert df["value"].tolist() == [12.25]
    assert df["gender"].tolist() == ["T"]  # default


def test_decimal_comma_with_comma_separator_is_refused() -> None:
    e = err(b'indicator,municipality,period,value\nN1,0180,2020,"12,5"\n')
    assert e.row == 1 and e.field == "value"


def test_latin1_bytes_name_the_line() -> None:
    data = b"indicator,municipality,period,value,status\nN1,0180,2020,1,ok\n"
    data += "N1,0180,2021,2,bättre\n".encode("latin-1")
    e = err(data, "latin.csv")
    assert e.file == "latin.csv" and e.row == "line 3"
    assert "UTF-8" in e.message


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("N1,0180,2020,T,abc", "value"),
        ("N1,0180,2020,X,1", "gender"),
        ("N1,0180,20201,T,1", "period"),
        ("N1,0180,2020-13,T,1", "period"),
        ("N1,0180,1850,T,1", "period"),
        ("N 1,0180,2020,T,1", "indicator"),
        (",0180,2020,T,1", "indicator"),
        ("N1,,2020,T,1", "municipality"),
        ("N1,0180,2020,T,inf", "value"),
    ],
)
def test_first_bad_row_and_field(line: str, field: str) -> None:
    data = f"indicator,municipality,period,gender,value\nN1,0180,2019,T,1\n{line}\n"
    e = err(data.encode(), "bad.csv")
    assert (e.file, e.row, e.field) == ("bad.csv", 2, field)
    assert "bad.csv, row 2" in e.message


def test_earliest_row_wins_across_fields() -> None:
    data = (
        "indicator,municipality,period,gender,value\n"
        "N1,0180,2019,T,1\nN1,0180,2019,T,x\nN1,0180,20x9,T,1\n"
    )
    e = err(data.encode())
    assert (e.row, e.field) == (2, "value")


def test_blank_lines_keep_row_numbers() -> None:
    data = "indicator,municipality,period,value\nN1,0180,2019,1\n\nN1,0180,2020,x\n"
    e = err(data.encode())
    assert e.row == 3


def test_errors_use_the_file_s_column_names() -> None:
    e = err(b"kpi,org_code,year,value\nN 1,0180,2020,1\n")
    assert e.field == "kpi"
    e = err(b"indicator,org_code,year,value\nN1,,2020,1\n")
    assert e.field == "org_code"


def test_missing_columns_are_named() -> None:
    e = err(b"indicator,period,value\nN1,2020,1\n")
    assert e.field == "org_code"


def test_count_and_status() -> None:
    df = norm(b"indicator,municipality,period,value,count,status\nN1,0180,2020,1,3,\n")
    assert df["count"].tolist() == [3.0]
    e = err(b"indicator,municipality,period,value,count\nN1,0180,2020,1,2.5\n")
    assert e.field == "count"
    e = err(b'indicator,municipality,period,value,status\nN1,0180,2020,1,"a\\b"\n')
    assert e.field == "status"


def test_empty_and_ragged_csv() -> None:
    assert "empty" in err(b"").message
    e = err(b"indicator,municipality,period,value\nN1,0180,2020,1,9,9\n")
    assert "CSV" in e.message


KOLADA = {
    "count": 2,
    "values": [
        {
            "kpi": "N00945",
            "municipality": "0180",
            "period": 2020,
            "values": [
                {"gender": "T", "status": "", "value": 12.3, "count": 1},
                {"gender": "K", "status": "Missing", "value": None, "count": 0},
            ],
        },
        {
            "kpi": "U21401",
            "ou": "V15E018000301",
            "period": 2019,
            "values": [{"gender": "T", "status": "", "value": 7, "count": 1}],
        },
    ],
    "next_page": None,
}


def test_kolada_json_v3_shape_and_ou_variant() -> None:
    df = norm(json.dumps(KOLADA).encode(), "k.json")
    assert df["indicator"].tolist() == ["N00945", "N00945", "U21401"]
    assert df["org_code"].tolist() == ["0180", "0180", ""]
    assert df["unit_code"].tolist() == ["", "", "V15E018000301"]
    assert df["period"].tolist() == ["2020", "2020", "2019"]
    assert df["value"].iat[0] == 12.3 and math.isnan(df["value"].iat[1])
    assert df["status"].tolist() == ["", "Missing", ""]


def test_kolada_json_errors_name_the_path() -> None:
    doc = json.loads(json.dumps(KOLADA))
    doc["values"][1]["values"][0]["value"] = "12,3"
    e = err(json.dumps(doc).encode(), "k.json")
    assert (e.row, e.field) == ("values[1].values[0]", "value")
    doc = json.loads(json.dumps(KOLADA))
    doc["values"][0]["values"][1]["gender"] = "X"
    assert err(json.dumps(doc).encode(), "k.json").row == "values[0].values[1]"
    doc = json.loads(json.dumps(KOLADA))
    del doc["values"][1]["values"][0]["value"]
    e = err(json.dumps(doc).encode(), "k.json")
    assert (e.row, e.field) == ("values[1].values[0]", "value")
    doc = json.loads(json.dumps(KOLADA))
    del doc["values"][0]["kpi"]
    assert err(json.dumps(doc).encode(), "k.json").row == "values[0]"


def test_truncated_json() -> None:
    data = json.dumps(KOLADA).encode()[:-20]
    e = err(data, "k.json")
    assert "truncated" in e.message and e.file == "k.json"


def test_json_not_a_data_response() -> None:
    assert err(b'{"a": 1}', "k.json").field == "values"
    assert err(b"[1, 2]", "k.json").row == "values[0]"


def test_guess_format() -> None:
    assert guess_format("x.json", b"") == "kolada-json"
    assert guess_format("upload", b'\xef\xbb\xbf {"values": []}') == "kolada-json"
    assert guess_format("upload", b"indicator,") == "csv"
    with pytest.raises(DataError):
        read_observations(b"", "xml")


def test_content_hash_ignores_order_and_sees_values() -> None:
    a = norm(CSV.encode())
    b = a.iloc[::-1].reset_index(drop=True)
    assert content_sha256(a) == content_sha256(b)
    c = a.copy()
    c.loc[0, "value"] = np.nextafter(1.5, 2)
    assert content_sha256(a) != content_sha256(c)


def test_csv_aliases_read_rkolada_rows() -> None:
    data = (
        "example,gender,count,status,value,kpi,year,municipality_id,municipality\n"
        "n00945,T,1,,31.32959689,N00945,2000,0180,Stockholm\n"
    )
    df = read_csv_observations(data.encode())
    assert df["org_code"].tolist() == ["0180"]
    assert norm(data.encode())["value"].tolist() == [31.32959689]
