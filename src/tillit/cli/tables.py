"""Read the data file of a ``tillit estimate`` command: CSV with any delimiter, TSV,
Parquet or xlsx, into a pandas DataFrame.

The format is taken from the file's first bytes (Parquet's ``PAR1``, a zip archive for
xlsx) and, for text, the delimiter from its first lines: the candidate among comma,
semicolon, tab and pipe that splits the header into the most columns and every sampled
line into the same number.  Text that is not UTF-8 is read as Windows-1252 (what Excel
writes on Swedish Windows); a semicolon- or tab-separated file whose numbers use a
decimal comma (``1,5``) has those columns read as numbers.  What was detected is
*named* (:attr:`Table.described`, e.g. ``"tab-separated, decimal comma"``) so that an
error about a missing column says how the file was read.

Errors are :class:`tillit.core.errors.DataError` naming the file and, where there is
one, the row (1-based, header excluded) and the column.

pandas, pyarrow and openpyxl are imported inside the functions: the CLI imports this
module before it knows whether a command will read a file at all.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tillit.core.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DELIMITERS", "Table", "describe_columns", "read_table", "sniff_delimiter"]

DELIMITERS = {
    ",": "comma-separated",
    ";": "semicolon-separated",
    "\t": "tab-separated",
    "|": "pipe-separated",
}
_SAMPLE = 64 * 1024
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d+(?:,\d+)?\s*$")
_LEADING_ZERO = re.compile(r"^\s*[-+]?0\d+\s*$")


@dataclass(frozen=True)
class Table:
    """A data file read into a DataFrame, with how it was read.

    Attributes
    ----------
    frame
        The data, one row per data row of the file.
    kind
        ``"csv"``, ``"parquet"`` or ``"xlsx"``.
    described
        How the file was read, for messages: ``"tab-separated"``, ``"Parquet"``,
        ``"xlsx (sheet 'Blad1')"``, ``"semicolon-separated, decimal comma,
        Windows-1252"``.
    """

    frame: pd.DataFrame
    kind: str
    described: str


def sniff_delimiter(sample: str) -> str:
    """The delimiter among ``, ; TAB |`` that splits ``sample``'s lines most consistently.

    Each candidate parses the sample (quotes respected); it scores by the share of
    lines with as many fields as the header, then by the header's number of fields.
    A sample that no candidate splits is one column, read as comma-separated.

    >>> sniff_delimiter("a;b;c\\n1,5;2;3\\n")
    ';'
    >>> sniff_delimiter("unit\\tperiod\\ty\\nA\\t1\\t2,5\\n")
    '\\t'
    """
    lines = sample.splitlines()
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines = lines[:-1]  # the sample cut the last line short
    lines = [ln for ln in lines[:50] if ln.strip()]
    best, score = ",", (0.0, 1)
    for delim in DELIMITERS:
        try:
            rows = list(csv.reader(lines, delimiter=delim))
        except csv.Error:
            continue
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        share = sum(len(r) == width for r in rows) / len(rows)
        if (share, width) > score:
            best, score = delim, (share, width)
    return best


def read_table(path: Path) -> Table:
    """Read ``path`` (CSV/TSV with any delimiter, Parquet or xlsx) into a :class:`Table`.

    Raises
    ------
    DataError
        The file is missing, empty, not in a readable format, or a row has more
        fields than the header (the message names the row and the delimiter).
    """
    if not path.is_file():
        raise DataError("file not found", file=str(path))
    with path.open("rb") as fh:
        head = fh.read(_SAMPLE)
    if not head:
        raise DataError("the file is empty", file=str(path))
    suffix = path.suffix.lower()
    if head[:4] == b"PAR1" or suffix in (".parquet", ".pq"):
        return _read_parquet(path)
    if head[:4] == b"PK\x03\x04" or suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    if suffix == ".xls" or head[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise DataError(
            "old Excel (.xls) files are not read; save the sheet as .xlsx or CSV",
            file=str(path),
        )
    return _read_text(path, head)


def _read_parquet(path: Path) -> Table:
    import pyarrow.parquet as pq

    try:
        frame = pq.read_table(path).to_pandas()
    except Exception as exc:  # pyarrow raises several unrelated types
        raise DataError(f"not a readable Parquet file ({exc})", file=str(path)) from exc
    return Table(frame, "parquet", "Parquet")


def _read_xlsx(path: Path) -> Table:
    import pandas as pd

    try:
        import openpyxl
    except ImportError as exc:  # pragma: no cover - a runtime dependency
        raise DataError(
            "reading xlsx needs the openpyxl package", file=str(path)
        ) from exc
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile, KeyError and openpyxl's own errors
        raise DataError(
            f"not a readable xlsx workbook ({exc})", file=str(path)
        ) from exc
    try:
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None or all(h is None for h in header):
            raise DataError(
                f"the first sheet '{sheet.title}' has no header row", file=str(path)
            )
        names = [
            str(h).strip() if h is not None else f"column {i + 1}"
            for i, h in enumerate(header)
        ]
        data = []
        for i, row in enumerate(rows, start=1):
            if len(row) > len(names) and any(v is not None for v in row[len(names) :]):
                raise DataError(
                    f"row has values beyond the {len(names)} headed columns "
                    f"(xlsx, sheet '{sheet.title}')",
                    file=str(path),
                    row=i,
                )
            data.append(row[: len(names)])
        title, sheets = sheet.title, len(book.worksheets)
    finally:
        book.close()
    frame = pd.DataFrame(data, columns=names)
    frame = frame.dropna(how="all").reset_index(drop=True)  # Excel's trailing blanks
    more = f", first of {sheets} sheets" if sheets > 1 else ""
    return Table(frame, "xlsx", f"xlsx (sheet '{title}'{more})")


def _decode_sample(head: bytes) -> tuple[str, str]:
    """The sample as text and the encoding to read the file with."""
    if head.startswith(b"\xef\xbb\xbf"):
        return head[3:].decode("utf-8", errors="ignore"), "utf-8-sig"
    try:
        return head.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # the sample cut a character in two
            return head[: exc.start].decode("utf-8"), "utf-8"
    return head.decode("cp1252", errors="replace"), "cp1252"


def _read_text(path: Path, head: bytes) -> Table:
    import pandas as pd

    sample, encoding = _decode_sample(head)
    delim = sniff_delimiter(sample)
    parts = [DELIMITERS[delim]]
    if encoding == "cp1252":
        parts.append("Windows-1252")
    text_cols = _leading_zero_columns(sample, delim)
    dtype = dict.fromkeys(text_cols, str) or None
    try:
        frame = pd.read_csv(path, sep=delim, encoding=encoding, dtype=dtype)
    except UnicodeDecodeError as exc:  # non-UTF-8 bytes after the sample
        frame = pd.read_csv(path, sep=delim, encoding="cp1252", dtype=dtype)
        parts.append(f"Windows-1252 (not UTF-8 from byte {exc.start})")
    except pd.errors.EmptyDataError as exc:
        raise DataError("the file has no header row", file=str(path)) from exc
    except pd.errors.ParserError as exc:
        raise _parser_error(path, str(exc), DELIMITERS[delim]) from exc
    if delim != "," and _decimal_comma(frame, skip=set(text_cols)):
        parts.insert(1, "decimal comma")
    return Table(frame, "csv", ", ".join(parts))


def _parser_error(path: Path, text: str, described: str) -> DataError:
    """pandas' tokenizer message as a DataError naming the row."""
    m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if m:
        want, line, saw = (int(g) for g in m.groups())
        return DataError(
            f"row has {saw} fields, the header has {want} (read as {described})",
            file=str(path),
            row=line - 1,
        )
    return DataError(f"not a readable {described} file: {text}", file=str(path))


def _leading_zero_columns(sample: str, delim: str) -> list[str]:
    """Columns whose values in the sample include codes with leading zeros (``0114``).

    They are read as text: a municipality code is a label, not the number 114.  Only
    the first 64 KB are looked at (pandas' own type inference then reads the rest).
    """
    lines = sample.splitlines()
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines = lines[:-1]
    rows = csv.reader(lines, delimiter=delim)
    header = next(rows, [])
    hit: set[int] = set()
    for row in rows:
        for k, v in enumerate(row):
            if k not in hit and _LEADING_ZERO.match(v):
                hit.add(k)
    return [header[k].strip() for k in sorted(hit) if k < len(header)]


def _decimal_comma(frame: pd.DataFrame, skip: set[str]) -> bool:
    """Convert text columns whose every value is a decimal-comma number; return if any."""
    import pandas as pd

    used = False
    for col in frame.columns:
        s = frame[col]
        if str(col) in skip or pd.api.types.is_numeric_dtype(s):
            continue
        vals = s.dropna()
        if vals.empty or not all(isinstance(v, str) for v in vals.head(1000)):
            continue
        text = vals.astype(str).str.strip()
        if (
            text.str.contains(",", regex=False).any()
            and text.str.match(_DECIMAL_COMMA).all()
        ):
            frame[col] = pd.to_numeric(
                s.astype(object).where(s.isna(), s.str.replace(",", ".", regex=False))
            )
            used = True
    return used


def describe_columns(frame: pd.DataFrame, limit: int = 30) -> str:
    """The column names for a message, shortened after ``limit``."""
    names = [str(c) for c in frame.columns]
    shown = ", ".join(names[:limit])
    return shown + (f" ... ({len(names)} in all)" if len(names) > limit else "")
