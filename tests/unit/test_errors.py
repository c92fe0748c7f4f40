from tillit.core.errors import DataError, NotFound, TillitError


def test_data_error_names_file_row_and_field() -> None:
    err = DataError("not a number: 'abc'", file="x.csv", row=7, field="value")
    assert str(err) == "x.csv, row 7, field 'value': not a number: 'abc'"
    d = err.to_dict()
    assert d["ok"] is False and d["status"] == 422
    assert (d["file"], d["row"], d["field"]) == ("x.csv", 7, "value")


def test_json_path_rows_are_kept_verbatim() -> None:
    err = DataError(
        "bad gender", file="k.json", row="values[2].values[0]", field="gender"
    )
    assert "values[2].values[0]" in str(err)


def test_statuses() -> None:
    assert NotFound("x").status == 404
    assert isinstance(NotFound("x"), TillitError)
