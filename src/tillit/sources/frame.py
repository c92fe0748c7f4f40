"""Vectorised checks that turn a raw observation table into a clean, typed one.

Every reader (long CSV, Kolada JSON, the Kolada API) produces a DataFrame with the columns
``indicator, org_code, unit_code, period, gender, value`` and optionally ``count``,
``status`` and location columns (``_row``, or ``_e``/``_v`` for ``values[3].values[0]``).
:func:`normalise_observations` checks every row at once with pandas/numpy and raises a
:class:`~tillit.core.errors.DataError` naming the *first* bad row, its field and the file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import numpy as np
import pandas as pd

from tillit.core.errors import DataError
from tillit.domain.records import GENDERS

__all__ = [
    "KEY",
    "OBS_COLUMNS",
    "content_sha256",
    "first_bad",
    "normalise_observations",
    "row_label",
]

OBS_COLUMNS = ("indicator", "org_code", "unit_code", "period", "gender", "value")
KEY = ["indicator", "org_code", "unit_code", "period", "gender"]

_CODE = r"^[A-Za-z0-9_.\-]{1,32}$"
_PERIOD = r"^(\d{4})(?:-(\d{2}))?$"
_STATUS_MAX = 20
_STATUS_BAD = r"[\x00-\x1f\x7f\\\"\t]"


def row_label(df: pd.DataFrame, i: int) -> int | str:
    """Where positional row ``i`` came from, for error messages.

    ``_e``/``_v`` columns (Kolada JSON) give ``values[e].values[v]``; an ``_row`` column
    (CSV) gives the 1-based data row; otherwise ``i + 1``.
    """
    if "_e" in df.columns:
        return f"values[{int(df['_e'].iat[i])}].values[{int(df['_v'].iat[i])}]"
    if "_row" in df.columns:
        return int(df["_row"].iat[i])
    return i + 1


def first_bad(mask: np.ndarray | pd.Series) -> int | None:
    """Position of the first True in ``mask``, or None."""
    arr = np.asarray(mask, dtype=bool)
    if not arr.any():
        return None
    return int(arr.argmax())


def _text(df: pd.DataFrame, col: str, default: str = "") -> pd.Series:
    """Column ``col`` as stripped strings ('' for missing); ``default`` when absent."""
    if col not in df.columns:
        return pd.Series(default, index=df.index, dtype=object)
    s = df[col]
    if s.dtype.kind == "f":  # e.g. periods read as 2020.0
        whole = s.notna() & (s == s.round())
        s = s.astype(object).where(~whole, s[whole].astype("int64").astype(str))
    out = s.where(s.notna(), "").astype(str)
    return out.str.strip()


def _numbers(raw: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Parse a column into float64; returns (values, bad mask). Empty text means missing."""
    if raw.dtype.kind in "fiu":
        vals = raw.to_numpy(dtype=float)
        return vals, ~np.isfinite(vals) & ~np.isnan(vals)
    text = raw.astype(object).where(raw.notna(), "").map(str).str.strip()
    vals = pd.to_numeric(text.where(text != "", None), errors="coerce")
    vals_arr = vals.to_numpy(dtype=float)
    bad = (np.isnan(vals_arr) & (text != "").to_numpy()) | np.isinf(vals_arr)
    return vals_arr, bad


def _check(
    checks: list[tuple[str, np.ndarray, Callable[[int], str]]],
    df: pd.DataFrame,
    file: str | None,
) -> None:
    """Raise for the earliest row failing any check (ties: the first check listed)."""
    best: tuple[int, int] | None = None
    for k, (_field, mask, _msg) in enumerate(checks):
        i = first_bad(mask)
        if i is not None and (best is None or i < best[0]):
            best = (i, k)
    if best is not None:
        i, k = best
        field, _mask, msg = checks[k]
        raise DataError(msg(i), file=file, row=row_label(df, i), field=field)


def normalise_observations(
    df: pd.DataFrame, *, file: str | None = None
) -> pd.DataFrame:
    """Check and type a raw observation table.

    Parameters
    ----------
    df
        Columns ``indicator``, ``org_code`` and/or ``unit_code``, ``period``, ``value``;
        optional ``gender`` (default ``T``), ``count``, ``status``; columns whose name
        starts with ``_`` (row locations, see :func:`row_label`) are carried through.
    file
        Named in error messages.

    Returns
    -------
    pandas.DataFrame
        Columns ``indicator, org_code, unit_code, period, year, month, gender, value,
        count, status`` (and any ``_`` columns); ``value`` float64 (NaN = missing),
        ``count`` float64 (NaN = none), codes as str.

    Raises
    ------
    DataError
        For the first row (in file order) with a bad field.
    """
    missing = [c for c in ("indicator", "period", "value") if c not in df.columns]
    if "org_code" not in df.columns and "unit_code" not in df.columns:
        missing.insert(1, "org_code")
    if missing:
        raise DataError(
            f"missing column(s) {', '.join(missing)}; found {', '.join(map(str, df.columns))}",
            file=file,
            field=missing[0],
        )
    df = df.reset_index(drop=True)
    ind = _text(df, "indicator")
    org = _text(df, "org_code")
    unit = _text(df, "unit_code")
    period = _text(df, "period")
    gender = _text(df, "gender", "T").str.upper()
    gender = gender.where(gender != "", "T")
    status = _text(df, "status")
    value, bad_value = _numbers(df["value"])
    if "count" in df.columns:
        count, bad_count = _numbers(df["count"])
        bad_count |= ~np.isnan(count) & ((count != np.floor(count)) | (count < 0))
    else:
        count = np.full(len(df), np.nan)
        bad_count = np.zeros(len(df), dtype=bool)
    parts = period.str.extract(_PERIOD)
    year = pd.to_numeric(parts[0], errors="coerce").to_numpy(dtype=float)
    month = pd.to_numeric(parts[1], errors="coerce").fillna(0).to_numpy(dtype=float)
    bad_period = (
        np.isnan(year)
        | (year < 1900)
        | (year > 2100)
        | (parts[1].notna().to_numpy() & ((month < 1) | (month > 12)))
    )
    no_owner = ((org == "") & (unit == "")).to_numpy()
    checks: list[tuple[str, np.ndarray, Callable[[int], str]]] = [
        (
            "indicator",
            ~ind.str.match(_CODE).to_numpy(dtype=bool),
            lambda i: (
                f"indicator id {ind.iat[i]!r} is empty or has characters other "
                "than letters, digits, '_', '.', '-'"
            ),
        ),
        (
            "org_code",
            no_owner | ((org != "") & ~org.str.match(_CODE)).to_numpy(dtype=bool),
            lambda i: (
                f"organisation code {org.iat[i]!r} is missing or malformed "
                "(give a municipality code such as 0180, or a unit code)"
            ),
        ),
        (
            "unit_code",
            ((unit != "") & ~unit.str.match(_CODE)).to_numpy(dtype=bool),
            lambda i: f"unit code {unit.iat[i]!r} is malformed",
        ),
        (
            "period",
            bad_period,
            lambda i: f"period {period.iat[i]!r} is not YYYY or YYYY-MM (1900-2100)",
        ),
        (
            "gender",
            ~gender.isin(GENDERS).to_numpy(),
            lambda i: (
                f"gender {gender.iat[i]!r} is not one of T (total), K (women), M (men)"
            ),
        ),
        (
            "value",
            bad_value,
            lambda i: (
                f"value {df['value'].iat[i]!r} is not a number "
                "(use '.' as decimal mark, or ',' only in ';'-separated files)"
            ),
        ),
        (
            "count",
            bad_count,
            lambda i: f"count {df['count'].iat[i]!r} is not a whole number >= 0",
        ),
        (
            "status",
            (
                (status.str.len() > _STATUS_MAX) | status.str.contains(_STATUS_BAD)
            ).to_numpy(dtype=bool),
            lambda i: (
                f"status {status.iat[i]!r} is longer than {_STATUS_MAX} "
                "characters or has control characters, quotes or backslashes"
            ),
        ),
    ]
    _check(checks, df, file)
    out = pd.DataFrame(
        {
            "indicator": ind,
            "org_code": org,
            "unit_code": unit,
            "period": period,
            "year": year.astype(np.int64),
            "month": month.astype(np.int64),
            "gender": gender,
            "value": value,
            "count": count,
            "status": status,
        }
    )
    for col in df.columns:
        if str(col).startswith("_"):
            out[col] = df[col].to_numpy()
    return out


def content_sha256(df: pd.DataFrame) -> str:
    """SHA-256 of the normalised content: order-independent, exact to the last bit.

    ``df`` must have the :data:`KEY` columns plus ``value``, ``count``, ``status``.
    """
    d = df.sort_values(KEY, kind="stable")
    h = hashlib.sha256()
    for col in [*KEY, "status"]:
        h.update("\x1f".join(d[col].tolist()).encode("utf-8"))
        h.update(b"\x1e")
    for col in ("value", "count"):
        arr = d[col].to_numpy(dtype=np.float64).copy()
        arr[np.isnan(arr)] = np.nan  # one NaN bit pattern
        arr[arr == 0] = 0.0  # -0.0 == 0.0
        h.update(arr.tobytes())
    return h.hexdigest()
