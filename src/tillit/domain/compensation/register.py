"""The register of each municipality's compensation model per year: records and CSV rules.

CSV columns (UTF-8, comma or semicolon separated; the documented template is
``docs/templates/compensation_register.csv``):

================  ========  ==========================================================
column            required  meaning
================  ========  ==========================================================
municipality      yes       4-digit municipality code (``0180``)
year              yes       the year the model applied (1990-2100)
basis             yes       a payment basis (``granted_time``, ``per_visit``, ...)
name              no        the model's name (default: the basis); unique per year
rate_day_kr       no        daytime personal-care rate, kronor per hour (time bases)
goal_related      no        ``yes``/``no`` (``ja``/``nej``, 1/0): a goal-related part
covers            no        what it pays for, e.g. ``personal care; service``
source            no        where the information comes from (a decision, a URL)
note              no        free text
================  ========  ==========================================================

:func:`parse_register` validates every row before anything is returned: the first bad
cell raises :class:`~tillit.core.errors.DataError` naming file, 1-based data row and
column, so an import writes all rows or none.
"""

from __future__ import annotations

import io
import re
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from tillit.core.compensation import BASES
from tillit.core.errors import DataError

__all__ = ["REGISTER_COLUMNS", "RegisterEntry", "parse_register"]

REGISTER_COLUMNS = (
    "municipality",
    "year",
    "basis",
    "name",
    "rate_day_kr",
    "goal_related",
    "covers",
    "source",
    "note",
)
REQUIRED = ("municipality", "year", "basis")
MAX_ROWS = 20_000
MAX_BYTES = 5_000_000
_CODE = re.compile(r"^\d{4}$")
_YES = {
    "yes": True,
    "ja": True,
    "1": True,
    "true": True,
    "no": False,
    "nej": False,
    "0": False,
    "false": False,
    "": False,
}
_LIMITS = {"name": 80, "covers": 80, "source": 400, "note": 1000}


@dataclass(frozen=True)
class RegisterEntry:
    """One municipality's compensation model in one year."""

    municipality: str
    year: int
    basis: str
    name: str
    rate_day_kr: float | None = None
    goal_related: bool = False
    covers: str = ""
    source: str = ""
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Stable JSON keys (version 1)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RegisterEntry:
        """The inverse of :meth:`to_dict`."""
        return cls(**{k: d[k] for k in REGISTER_COLUMNS if k in d})


def _row(raw: dict[str, str], i: int, file: str) -> RegisterEntry:
    def bad(field: str, msg: str) -> DataError:
        return DataError(msg, file=file, row=i, field=field)

    code = (
        raw.get("municipality", "").strip().zfill(4)
        if raw.get("municipality", "").strip().isdigit()
        else raw.get("municipality", "").strip()
    )
    if not _CODE.match(code):
        raise bad(
            "municipality",
            f"{raw.get('municipality', '')!r} is not a 4-digit municipality code",
        )
    try:
        year = int(raw.get("year", "").strip())
    except ValueError:
        raise bad("year", f"{raw.get('year', '')!r} is not a year") from None
    if not 1990 <= year <= 2100:
        raise bad("year", "the year must be between 1990 and 2100")
    basis = raw.get("basis", "").strip()
    if basis not in BASES:
        raise bad("basis", f"unknown basis {basis!r} (use {', '.join(BASES)})")
    rate: float | None = None
    text = raw.get("rate_day_kr", "").strip().replace(",", ".").replace(" ", "")
    if text:
        try:
            rate = float(text)
        except ValueError:
            raise bad("rate_day_kr", f"{text!r} is not a number") from None
        if not 0 <= rate <= 100_000:
            raise bad(
                "rate_day_kr", "the rate must be between 0 and 100 000 kronor per hour"
            )
    goal = raw.get("goal_related", "").strip().lower()
    if goal not in _YES:
        raise bad("goal_related", f"{goal!r} is not yes or no")
    vals = {}
    for key, limit in _LIMITS.items():
        v = raw.get(key, "").strip()
        if len(v) > limit:
            raise bad(key, f"at most {limit} characters")
        vals[key] = v
    return RegisterEntry(
        code,
        year,
        basis,
        vals["name"] or basis,
        rate,
        _YES[goal],
        vals["covers"],
        vals["source"],
        vals["note"],
    )


def parse_register(data: bytes, filename: str) -> list[RegisterEntry]:
    """Validate a register CSV completely; all rows or an error naming row and field.

    Examples
    --------
    >>> rows = parse_register(b"municipality,year,basis,rate_day_kr\\n180,2024,granted_time,450\\n", "r.csv")
    >>> rows[0].municipality, rows[0].name, rows[0].rate_day_kr
    ('0180', 'granted_time', 450.0)
    """
    if not data:
        raise DataError("the file is empty", file=filename)
    if len(data) > MAX_BYTES:
        raise DataError("the file is larger than 5 MB", file=filename)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text ({exc.reason})", file=filename) from exc
    head = text.split("\n", 1)[0]
    sep = ";" if head.count(";") > head.count(",") else ","
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=sep)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"not a readable CSV: {exc}", file=filename) from exc
    df.columns = [str(c).strip().lower() for c in df.columns]
    for col in REQUIRED:
        if col not in df.columns:
            raise DataError(f"the column {col!r} is required", file=filename, field=col)
    unknown = [c for c in df.columns if c not in REGISTER_COLUMNS]
    if unknown:
        raise DataError(
            f"unknown column {unknown[0]!r} (use {', '.join(REGISTER_COLUMNS)})",
            file=filename,
            field=unknown[0],
        )
    if len(df) > MAX_ROWS:
        raise DataError(f"more than {MAX_ROWS} rows", file=filename)
    records = [
        {str(k): str(v) for k, v in r.items()} for r in df.to_dict(orient="records")
    ]
    out = [_row(r, i + 1, filename) for i, r in enumerate(records)]
    seen: dict[tuple[str, int, str], int] = {}
    for i, e in enumerate(out, start=1):
        key = (e.municipality, e.year, e.name)
        if key in seen:
            raise DataError(
                f"duplicate of row {seen[key]} (same municipality, year and name)",
                file=filename,
                row=i,
                field="name",
            )
        seen[key] = i
    return out
