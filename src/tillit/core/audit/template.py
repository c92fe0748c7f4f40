"""The burden inventory template: its columns, reading and row-by-row validation.

One row per reporting or documentation requirement. The documented template is
``docs/templates/burden_template.csv``; the columns are:

=========================  ========  =====================================================
column                     required  meaning
=========================  ========  =====================================================
requirement_id             yes       unique id of the requirement within the inventory
title                      yes       what is reported or documented
demanded_by                yes       who demands it: ``state``, ``region``,
                                     ``municipal_board``, ``purchaser`` or ``other``
staff_group                yes       who does it (e.g. ``assistant nurse``)
unit                       yes       organisational unit, or ``all``
frequency_per_year         yes       occurrences per reporter and year (>= 0)
minutes_per_occurrence     yes       minutes one reporter spends each time (>= 0)
reporters                  yes       number of people doing it (>= 0)
hourly_cost_sek            yes       cost of one hour incl. overheads, SEK (>= 0)
indicator_ids              no        indicators the requirement feeds, ``;``-separated
inventory                  no        label or date of the inventory
dimension                  no        quality dimension the requirement serves
=========================  ========  =====================================================

Validation is complete before anything is returned: the first bad cell raises a
:class:`~tillit.core.errors.DataError` naming file, 1-based data row (header excluded) and
column, so nothing partial is ever used.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

from tillit.core.errors import DataError

__all__ = [
    "COMPARED_COLUMNS",
    "DEMANDERS",
    "EXAMPLE_ROWS",
    "NUMERIC_COLUMNS",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "STORED_COLUMNS",
    "TEMPLATE_COLUMNS",
    "read_inventory",
    "template_csv",
    "validate_inventory",
]

REQUIRED_COLUMNS = (
    "requirement_id",
    "title",
    "demanded_by",
    "staff_group",
    "unit",
    "frequency_per_year",
    "minutes_per_occurrence",
    "reporters",
    "hourly_cost_sek",
)
OPTIONAL_COLUMNS = ("indicator_ids", "inventory", "dimension")
TEMPLATE_COLUMNS = (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
"""Every column of the template, in its order: the one schema of a burden inventory."""
STORED_COLUMNS = (*REQUIRED_COLUMNS, "dimension")
"""The columns a stored requirement keeps (its ``indicator_ids`` are links)."""
COMPARED_COLUMNS = tuple(
    c for c in REQUIRED_COLUMNS if c not in ("requirement_id", "title")
)
"""The columns whose change makes a requirement "changed" between inventories."""
EXAMPLE_ROWS = (
    ("HT01", "Daily visit documentation in the care record", "state",
     "assistant nurse", "home care", "220", "12", "85", "410", "", "2026-03",
     "continuity"),
    ("HT02", "Time registration per visit for the purchaser", "purchaser",
     "assistant nurse", "home care", "240", "6", "85", "410", "", "2026-03", "cost"),
)  # fmt: skip
"""Two example rows (in :data:`TEMPLATE_COLUMNS` order) for the downloadable template."""
NUMERIC_COLUMNS = (
    "frequency_per_year",
    "minutes_per_occurrence",
    "reporters",
    "hourly_cost_sek",
)
DEMANDERS = ("state", "region", "municipal_board", "purchaser", "other")
_DEMANDER_ALIASES = {
    "municipal board": "municipal_board",
    "municipal-board": "municipal_board",
    "stat": "state",
    "staten": "state",
    "nämnd": "municipal_board",
    "kommunstyrelse": "municipal_board",
    "beställare": "purchaser",
    "annan": "other",
}


def template_csv() -> str:
    """The template as CSV text: the header and :data:`EXAMPLE_ROWS`.

    Examples
    --------
    >>> template_csv().splitlines()[0].split(",")[:3]
    ['requirement_id', 'title', 'demanded_by']
    """
    lines = [",".join(TEMPLATE_COLUMNS), *(",".join(r) for r in EXAMPLE_ROWS)]
    return "\n".join(lines) + "\n"


def read_inventory(path: str | Path) -> pd.DataFrame:
    """Read and validate an inventory from a CSV (or ``.xlsx``, with openpyxl) file.

    Parameters
    ----------
    path
        The template file. ``.xlsx``/``.xls`` files need the optional ``openpyxl``
        package; the first sheet is read.

    Returns
    -------
    pandas.DataFrame
        The validated inventory (see :func:`validate_inventory`).

    Raises
    ------
    DataError
        File missing or unreadable, or any invalid cell (naming row and column).
    """
    p = Path(path)
    if not p.is_file():
        raise DataError("file not found", file=str(p))
    if p.suffix.lower() in {".xlsx", ".xls"}:
        if importlib.util.find_spec("openpyxl") is None:
            raise DataError(
                "reading Excel needs the optional package openpyxl; "
                "install it or save the sheet as CSV",
                file=str(p),
            )
        try:
            raw = pd.read_excel(p, dtype=str, keep_default_na=False)
        except (ValueError, OSError) as exc:
            raise DataError(f"not a readable Excel file: {exc}", file=str(p)) from exc
    else:
        try:
            raw = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DataError(f"not UTF-8 text ({exc.reason})", file=str(p)) from exc
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise DataError(f"not a readable CSV: {exc}", file=str(p)) from exc
    return validate_inventory(raw, source=str(p))


def _bad(
    mask: np.ndarray, col: str, msg: str, source: str | None, values: pd.Series
) -> None:
    """Raise for the first row where ``mask`` is true."""
    idx = np.flatnonzero(mask)
    if idx.size:
        i = int(idx[0])
        raise DataError(
            f"{msg} (got {values.iloc[i]!r})", file=source, row=i + 1, field=col
        )


def _text(df: pd.DataFrame, col: str) -> pd.Series:
    """A column as stripped strings ('' for missing)."""
    return df[col].fillna("").astype(str).str.strip()


def validate_inventory(df: pd.DataFrame, *, source: str | None = None) -> pd.DataFrame:
    """Check every row of an inventory and return it with clean types.

    Parameters
    ----------
    df
        Raw table with the template's columns (any dtype; strings are parsed).
    source
        File name used in error messages.

    Returns
    -------
    pandas.DataFrame
        Columns of the template in order; numeric columns as float, ``demanded_by`` as a
        canonical code, ``indicator_ids`` as a tuple of ids, optional columns filled with
        ``''``.
    """
    df = df.rename(columns=lambda c: str(c).strip().lower())
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise DataError(
            f"missing column(s) {', '.join(missing)}; the template needs "
            f"{', '.join(REQUIRED_COLUMNS)}",
            file=source,
            field=missing[0],
        )
    if df.empty:
        raise DataError("the inventory has no rows", file=source)
    out = pd.DataFrame(index=pd.RangeIndex(len(df)))
    for col in ("requirement_id", "title", "staff_group", "unit"):
        s = _text(df.reset_index(drop=True), col)
        _bad((s == "").to_numpy(), col, "must not be empty", source, s)
        out[col] = s
    ids = out["requirement_id"]
    _bad(
        ids.duplicated().to_numpy(),
        "requirement_id",
        "duplicate requirement id",
        source,
        ids,
    )
    dem = _text(df.reset_index(drop=True), "demanded_by").str.lower()
    dem = dem.replace(_DEMANDER_ALIASES)
    _bad(
        (~dem.isin(DEMANDERS)).to_numpy(),
        "demanded_by",
        f"unknown demander; use one of {', '.join(DEMANDERS)}",
        source,
        dem,
    )
    out["demanded_by"] = dem
    for col in NUMERIC_COLUMNS:
        s = _text(df.reset_index(drop=True), col).str.replace(",", ".", regex=False)
        num = pd.to_numeric(s.str.replace(" ", "", regex=False), errors="coerce")
        vals = num.to_numpy(dtype=float)
        _bad(~np.isfinite(vals), col, "must be a number", source, s)
        _bad(vals < 0, col, "must not be negative", source, s)
        out[col] = vals
    low = df.reset_index(drop=True)
    ind = (
        _text(low, "indicator_ids")
        if "indicator_ids" in low
        else pd.Series([""] * len(low))
    )
    out["indicator_ids"] = [
        tuple(dict.fromkeys(t.strip() for t in v.split(";") if t.strip())) for v in ind
    ]
    for col in ("inventory", "dimension"):
        out[col] = _text(low, col) if col in low else ""
    out = out[list(TEMPLATE_COLUMNS)]
    return out
