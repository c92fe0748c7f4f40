"""Readers for the two import formats: long CSV and Kolada JSON.

Both return the raw observation table of :mod:`tillit.sources.frame` (codes as text,
values not yet checked) and raise :class:`~tillit.core.errors.DataError` for anything
that cannot be read, naming the file and the row (CSV: 1-based data row; JSON: a path
such as ``values[3].values[0]``) and field. See docs/import.md for the formats.
"""

from __future__ import annotations

import csv
import io
import json
import re
import warnings
from typing import Any

import numpy as np
import pandas as pd

from tillit.core.errors import DataError

__all__ = [
    "CSV_ALIASES",
    "decode_text",
    "guess_format",
    "kolada_entries_frame",
    "read_csv_observations",
    "read_kolada_json",
    "read_observations",
]

FORMATS = ("csv", "kolada-json")

# accepted header names (lower-cased) -> the standard column
CSV_ALIASES = {
    "indicator": "indicator",
    "kpi": "indicator",
    "indicator_id": "indicator",
    "municipality": "org_code",
    "municipality_id": "org_code",
    "org_code": "org_code",
    "organisation": "org_code",
    "unit": "unit_code",
    "unit_code": "unit_code",
    "ou": "unit_code",
    "period": "period",
    "year": "period",
    "gender": "gender",
    "value": "value",
    "count": "count",
    "status": "status",
}


def guess_format(filename: str, data: bytes) -> str:
    """``kolada-json`` for ``.json`` files or text starting with ``{``/``[``, else ``csv``."""
    name = filename.lower()
    if name.endswith(".json"):
        return "kolada-json"
    if name.endswith((".csv", ".txt", ".tsv")):
        return "csv"
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    return "kolada-json" if head[:1] in (b"{", b"[") else "csv"


def decode_text(data: bytes, file: str | None) -> str:
    """UTF-8 (a BOM is allowed); DataError naming the line of the first bad byte."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DataError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); the file is "
            "probably Latin-1/Windows-1252: save it as UTF-8",
            file=file,
            row=f"line {line}",
        ) from exc
    return text[1:] if text.startswith("\ufeff") else text


def read_observations(data: bytes, fmt: str, *, filename: str = "") -> pd.DataFrame:
    """Read an upload in format ``fmt`` (``csv`` or ``kolada-json``)."""
    if fmt == "csv":
        return read_csv_observations(data, file=filename or None)
    if fmt == "kolada-json":
        return read_kolada_json(data, file=filename or None)
    raise DataError(
        f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}", field="format"
    )


def _csv_error(exc: Exception, file: str | None) -> DataError:
    msg = str(exc).strip()
    m = re.search(r"line (\d+)", msg)
    row: int | None = int(m.group(1)) - 1 if m else None
    return DataError(f"not a readable CSV: {msg}", file=file, row=row)


def _ragged(text: str, sep: str, file: str | None) -> DataError:
    """The first data row with more fields than the header."""
    rows = csv.reader(io.StringIO(text), delimiter=sep)
    width = len(next(rows))
    for n, row in enumerate(rows, start=1):
        if len(row) > width:
            return DataError(
                f"not a readable CSV: {len(row)} fields where the header has {width}",
                file=file,
                row=n,
            )
    return DataError("not a readable CSV: rows longer than the header", file=file)


def read_csv_observations(data: bytes, *, file: str | None = None) -> pd.DataFrame:
    """Read the long CSV format.

    Columns (case-insensitive): ``indicator`` (or ``kpi``), ``municipality`` (or
    ``org_code``) and/or ``unit``, ``period`` (or ``year``), optional ``gender`` (default
    T), ``value``, optional ``count`` and ``status``; other columns are ignored. UTF-8
    with or without BOM; separator ``,`` or ``;`` (from the header line); a decimal
    comma is accepted only with ``;``. Every field is read as text, so ``0180`` keeps
    its leading zero. Blank lines are skipped but still counted in row numbers.
    """
    text = decode_text(data, file)
    if not text.strip():
        raise DataError("the file is empty", file=file)
    header = text.split("\n", 1)[0]
    sep = ";" if header.count(";") > header.count(",") else ","
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            df = pd.read_csv(
                io.StringIO(text),
                sep=sep,
                dtype=str,
                index_col=False,
                keep_default_na=False,
                na_filter=False,
                skip_blank_lines=False,
                engine="c",
            )
    except pd.errors.ParserWarning as exc:
        raise _ragged(text, sep, file) from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise _csv_error(exc, file) from exc
    rename: dict[str, str] = {}
    for col in df.columns:
        std = CSV_ALIASES.get(str(col).strip().lower())
        if std is not None and std not in rename.values():
            rename[col] = std
    df = df[list(rename)].rename(columns=rename)
    df["_row"] = np.arange(1, len(df) + 1)
    data_cols = [c for c in df.columns if c != "_row"]
    blank = np.ones(len(df), dtype=bool)
    for col in data_cols:  # a blank line gives a row of empty fields
        blank &= (df[col] == "").to_numpy(dtype=bool)
    if blank.any():
        df = df[~blank]
    if sep == ";" and "value" in df.columns:
        df["value"] = df["value"].str.replace(",", ".", regex=False)
    df = df.reset_index(drop=True)
    df.attrs["source_columns"] = {std: str(col).strip() for col, std in rename.items()}
    return df


def _fail(msg: str, file: str | None, path: str, field: str | None = None) -> DataError:
    return DataError(msg, file=file, row=path, field=field)


def _entries(doc: Any, file: str | None) -> list[Any]:
    if isinstance(doc, list):
        return doc
    if not isinstance(doc, dict) or not isinstance(doc.get("values"), list):
        raise _fail(
            "expected a Kolada data response: an object with a 'values' list",
            file,
            "$",
            "values",
        )
    values: list[Any] = doc["values"]
    return values


def _flatten_checked(entries: list[Any], file: str | None) -> None:
    """Slow path: find and report the first structurally bad entry."""
    for e, entry in enumerate(entries):
        path = f"values[{e}]"
        if not isinstance(entry, dict):
            raise _fail("expected an object", file, path)
        for key in ("kpi", "period"):
            if key not in entry or isinstance(entry[key], (dict, list)):
                raise _fail(f"missing or malformed '{key}'", file, path, key)
        owner = entry.get("municipality", entry.get("ou"))
        if owner is None or isinstance(owner, (dict, list)):
            raise _fail("missing 'municipality' (or 'ou')", file, path, "municipality")
        vals = entry.get("values")
        if not isinstance(vals, list):
            raise _fail("missing 'values' list", file, path, "values")
        for v, item in enumerate(vals):
            if not isinstance(item, dict):
                raise _fail("expected an object", file, f"{path}.values[{v}]")
            for key in ("gender", "value", "count", "status"):
                if isinstance(item.get(key), (dict, list)):
                    raise _fail("not a scalar", file, f"{path}.values[{v}]", key)
            if "value" not in item:
                raise _fail("missing 'value'", file, f"{path}.values[{v}]", "value")


def _scalar(x: Any) -> Any:
    return "" if x is None else x


def read_kolada_json(data: bytes, *, file: str | None = None) -> pd.DataFrame:
    """Read a Kolada API ``data`` response (v2 or v3 shape), or a list of its entries.

    ``{"count": n, "values": [{"kpi": "N00945", "municipality": "0180", "period": 2020,
    "values": [{"gender": "T", "status": "", "value": 12.3, "count": 1}]}]}``; the OU
    variant has ``"ou"`` instead of ``"municipality"``. ``null`` values are missing values.
    """
    text = decode_text(data, file)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        hint = " (the file looks truncated)" if exc.pos >= len(text.rstrip()) else ""
        raise DataError(
            f"not valid JSON: {exc.msg}{hint}",
            file=file,
            row=f"line {exc.lineno}, column {exc.colno}",
        ) from exc
    return kolada_entries_frame(_entries(doc, file), file=file)


def kolada_entries_frame(
    entries: list[Any], *, file: str | None = None
) -> pd.DataFrame:
    """Flatten Kolada data entries (``{"kpi", "municipality"|"ou", "period", "values"}``)
    into the raw observation table, with ``_e``/``_v`` locating each row."""
    try:
        rows = [
            (
                e,
                v,
                entry["kpi"],
                entry.get("municipality", ""),
                entry["ou"] if "municipality" not in entry else "",
                entry["period"],
                _scalar(item.get("gender")),
                item["value"],
                item.get("count"),
                _scalar(item.get("status")),
            )
            for e, entry in enumerate(entries)
            for v, item in enumerate(entry["values"])
        ]
    except (KeyError, TypeError, AttributeError) as exc:
        _flatten_checked(entries, file)  # names the first bad path
        raise DataError("malformed Kolada data entry", file=file) from exc
    cols = ["_e", "_v", "indicator", "org_code", "unit_code", "period", "gender"]
    # nested objects where scalars belong are caught by normalise_observations
    df = pd.DataFrame.from_records(rows, columns=[*cols, "value", "count", "status"])
    df.attrs["source_columns"] = {
        "indicator": "kpi",
        "org_code": "municipality",
        "unit_code": "ou",
    }
    return df
