"""Turn a DataFrame into a CSV or Parquet download."""

from __future__ import annotations

import io
import re

import pandas as pd
from fastapi import Response

from tillit.core.errors import DataError

__all__ = ["FORMATS", "frame_response"]

FORMATS = ("csv", "parquet")
_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def _to_bytes(df: pd.DataFrame, fmt: str) -> bytes:
    try:
        from tillit.sources import export
    except ImportError:  # the exporter is optional: fall back to pandas
        export = None  # type: ignore[assignment]
    if fmt == "csv":
        if export is not None and hasattr(export, "to_csv_bytes"):
            return bytes(export.to_csv_bytes(df))
        return df.to_csv(index=False).encode("utf-8")
    if export is not None and hasattr(export, "to_parquet_bytes"):
        return bytes(export.to_parquet_bytes(df))
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


def frame_response(df: pd.DataFrame, name: str, fmt: str) -> Response:
    """A download of ``df`` as ``name.csv`` or ``name.parquet``."""
    if fmt not in FORMATS:
        raise DataError("format must be csv or parquet", field="format")
    media = (
        "text/csv; charset=utf-8" if fmt == "csv" else "application/vnd.apache.parquet"
    )
    filename = _SAFE.sub("_", name)[:120] or "tillit"
    return Response(
        content=_to_bytes(df, fmt),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{filename}.{fmt}"'},
    )
