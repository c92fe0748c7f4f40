"""Vectorised checks that turn a raw observation table into a clean, typed one.

Every reader (long CSV, Kolada JSON, the Kolada API) produces a DataFrame with the columns
``indicator, org_code, unit_code, period, gender, value`` and optionally ``count``,
``status`` and location columns (``_row``, or ``_e``/``_v`` for ``values[3].values[0]``).
:func:`normalise_observations` checks every row at once with pandas/numpy and raises a
:class:`~tillit.core.errors.DataError` naming the *first* bad row, its field and the file.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tillit.core.errors import DataError
from tillit.domain.records import GENDERS

__all__ = [
    "KEY",
    "OBS_COLUMNS",
    "content_sha256",
    "first_bad",
    "normalise_observations",
    "row_label",
    "source_field",
]

OBS_COLUMNS = ("indicator", "org_code", "unit_code", "period", "gender", "value")
KEY = ["indicator", "org_code", "unit_code", "period", "gender"]

_CODE_RE = re.compile(r"[A-Za-z0-9_.\-]{1,32}", re.ASCII)
_PERIOD_RE = re.compile(r"(\d{4})(?:-(\d{2}))?", re.ASCII)
_STATUS_MAX = 20
_STATUS_RE = re.compile(r"[\x00-\x1f\x7f\\\"]")


def row_label(df: pd.DataFrame, i: int) -> int | str:
    """Where positional row ``i`` came from, for error messages.

    ``_e``/``_v`` columns (Kolada JSON) give ``values[e].values[v]``; an ``_row`` column
    (CSV) gives the 1-based data row; otherwise ``i + 1``.
    """
    if "_e" in df.columns:
        e, v = df["_e"].to_numpy()[i], df["_v"].to_numpy()[i]
        return f"values[{int(e)}].values[{int(v)}]"
    if "_row" in df.columns:
        return int(df["_row"].to_numpy()[i])
    return i + 1


def source_field(df: pd.DataFrame, field: str) -> str:
    """The name the input used for a standard column (e.g. ``municipality`` for
    ``org_code``), from ``df.attrs["source_columns"]`` set by the readers."""
    names: dict[str, str] = df.attrs.get("source_columns", {})
    return names.get(field, field)


def first_bad(mask: np.ndarray | pd.Series) -> int | None:
    """Position of the first True in ``mask``, or None."""
    arr = np.asarray(mask, dtype=bool)
    if not arr.any():
        return None
    return int(arr.argmax())


def _text(
    df: pd.DataFrame, col: str, default: str = ""
) -> tuple[np.ndarray, np.ndarray]:
    """Column ``col`` as (codes, unique stripped strings); ``default`` when absent.

    Factorising first means every later check runs on the few distinct values only.
    Missing cells become ''.
    """
    if col not in df.columns:
        return np.zeros(len(df), dtype=np.intp), np.array([default], dtype=object)
    codes, uniq = _factorize(df[col])
    texts = [_as_text(u) for u in uniq]
    return codes, np.array(texts, dtype=object)


def _factorize(s: pd.Series) -> tuple[np.ndarray, Any]:
    """pandas.factorize, with nested JSON (lists, objects) turned into an invalid marker."""
    try:
        return pd.factorize(s, use_na_sentinel=False)
    except TypeError:  # unhashable cells
        flat = s.map(lambda x: '"nested JSON"' if isinstance(x, list | dict) else x)
        return pd.factorize(flat.astype(object), use_na_sentinel=False)


def _as_text(u: object) -> str:
    if u is None or (isinstance(u, float) and np.isnan(u)):
        return ""
    if isinstance(u, float) and u.is_integer():  # e.g. periods read as 2020.0
        return str(int(u))
    if isinstance(u, bool | np.bool_):
        return f"\x00{u}"  # never a valid code, value or status
    return str(u).strip()


def _where(codes: np.ndarray, uniq_bad: np.ndarray) -> np.ndarray:
    """Per-row bad mask from a per-unique bad mask."""
    mask: np.ndarray = np.asarray(uniq_bad, dtype=bool)[codes]
    return mask


def _arrow_numbers(raw: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """Fast path for text columns: Arrow's C++ parser; None when it cannot decide."""
    if not isinstance(raw.dtype, pd.StringDtype) or raw.dtype.storage != "pyarrow":
        return None
    arr = pa.chunked_array(pa.array(raw.array)) if len(raw) else None
    if arr is None:
        return None
    text = pc.utf8_trim_whitespace(arr)
    empty = pc.fill_null(pc.equal(text, ""), True)
    try:
        parsed = pc.cast(
            pc.if_else(empty, pa.scalar(None, pa.string()), text), pa.float64()
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None  # some cell is not a number: the general path names it
    vals = parsed.to_numpy(zero_copy_only=False).astype(float, copy=False)
    nonempty = ~empty.to_numpy(zero_copy_only=False)
    bad = (np.isnan(vals) & nonempty) | np.isinf(vals)
    return vals, bad


def _numbers(raw: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Parse a column into float64; returns (values, bad mask). Empty text means missing."""
    if raw.dtype.kind in "fiu":
        vals = raw.to_numpy(dtype=float)
        return vals, np.isinf(vals)
    fast = _arrow_numbers(raw)
    if fast is not None:
        return fast
    codes, uniq = _factorize(raw)
    text = pd.Series([_as_text(u) for u in uniq], dtype=object)
    parsed = pd.to_numeric(text.where(text != "", None), errors="coerce")
    u_vals = parsed.to_numpy(dtype=float)
    u_bad = (np.isnan(u_vals) & (text != "").to_numpy()) | np.isinf(u_vals)
    return u_vals[codes], u_bad[codes]


def _periods(uniq: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month, bad) for unique period strings."""
    year = np.zeros(len(uniq), dtype=np.int64)
    month = np.zeros(len(uniq), dtype=np.int64)
    bad = np.zeros(len(uniq), dtype=bool)
    for k, text in enumerate(uniq):
        m = _PERIOD_RE.fullmatch(text)
        y = int(m.group(1)) if m else 0
        mo = int(m.group(2)) if m and m.group(2) else 0
        if not m or not 1900 <= y <= 2100 or (m.group(2) and not 1 <= mo <= 12):
            bad[k] = True
        year[k], month[k] = y, mo
    return year, month, bad


def _matches(uniq: np.ndarray, pattern: re.Pattern[str]) -> np.ndarray:
    return np.array([bool(pattern.fullmatch(u)) for u in uniq], dtype=bool)


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
        raise DataError(
            msg(i), file=file, row=row_label(df, i), field=source_field(df, field)
        )


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
    c_ind, u_ind = _text(df, "indicator")
    c_org, u_org = _text(df, "org_code")
    c_unit, u_unit = _text(df, "unit_code")
    c_per, u_per = _text(df, "period")
    c_gen, u_gen = _text(df, "gender", "T")
    u_gen = np.array([g.upper() or "T" for g in u_gen], dtype=object)
    c_sta, u_sta = _text(df, "status")
    value, bad_value = _numbers(df["value"])
    if "count" in df.columns:
        count, bad_count = _numbers(df["count"])
        bad_count |= ~np.isnan(count) & ((count != np.floor(count)) | (count < 0))
    else:
        count = np.full(len(df), np.nan)
        bad_count = np.zeros(len(df), dtype=bool)
    u_year, u_month, u_bad_period = _periods(u_per)
    org_empty = _where(c_org, u_org == "")
    unit_empty = _where(c_unit, u_unit == "")
    bad_org = _where(c_org, (u_org != "") & ~_matches(u_org, _CODE_RE))

    def show(codes: np.ndarray, uniq: np.ndarray) -> Callable[[int], str]:
        return lambda i: repr(uniq[codes[i]])

    ind_s, org_s, unit_s = show(c_ind, u_ind), show(c_org, u_org), show(c_unit, u_unit)
    per_s, gen_s, sta_s = show(c_per, u_per), show(c_gen, u_gen), show(c_sta, u_sta)
    checks: list[tuple[str, np.ndarray, Callable[[int], str]]] = [
        (
            "indicator",
            _where(c_ind, ~_matches(u_ind, _CODE_RE)),
            lambda i: (
                f"indicator id {ind_s(i)} is empty or has characters other "
                "than letters, digits, '_', '.', '-'"
            ),
        ),
        (
            "org_code",
            (org_empty & unit_empty) | bad_org,
            lambda i: (
                f"organisation code {org_s(i)} is missing or malformed "
                "(give a municipality code such as 0180, or a unit code)"
            ),
        ),
        (
            "unit_code",
            _where(c_unit, (u_unit != "") & ~_matches(u_unit, _CODE_RE)),
            lambda i: f"unit code {unit_s(i)} is malformed",
        ),
        (
            "period",
            _where(c_per, u_bad_period),
            lambda i: f"period {per_s(i)} is not YYYY or YYYY-MM (1900-2100)",
        ),
        (
            "gender",
            _where(c_gen, ~np.isin(u_gen, GENDERS)),
            lambda i: f"gender {gen_s(i)} is not one of T (total), K (women), M (men)",
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
            _where(
                c_sta,
                np.array(
                    [len(u) > _STATUS_MAX or bool(_STATUS_RE.search(u)) for u in u_sta],
                    dtype=bool,
                ),
            ),
            lambda i: (
                f"status {sta_s(i)} is longer than {_STATUS_MAX} "
                "characters or has control characters, quotes or backslashes"
            ),
        ),
    ]
    _check(checks, df, file)

    def text(codes: np.ndarray, uniq: np.ndarray) -> pd.Series:
        # object dtype on purpose: no per-row conversion to Arrow strings
        return pd.Series(uniq[codes], dtype=object, copy=False)

    out = pd.DataFrame(
        {
            "indicator": text(c_ind, u_ind),
            "org_code": text(c_org, u_org),
            "unit_code": text(c_unit, u_unit),
            "period": text(c_per, u_per),
            "year": u_year[c_per],
            "month": u_month[c_per],
            "gender": text(c_gen, u_gen),
            "value": value,
            "count": count,
            "status": text(c_sta, u_sta),
        }
    )
    for col in df.columns:
        if str(col).startswith("_"):
            out[col] = df[col].to_numpy()
    out.attrs["source_columns"] = dict(df.attrs.get("source_columns", {}))
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
