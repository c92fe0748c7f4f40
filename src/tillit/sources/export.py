"""Export tables as CSV (UTF-8, comma, '.' decimals) or Parquet bytes."""

from __future__ import annotations

import io

import pandas as pd

__all__ = ["to_csv_bytes", "to_parquet_bytes"]


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """The table as UTF-8 CSV without index; floats at full precision, empty for NaN."""
    return df.to_csv(index=False, lineterminator="\n").encode("utf-8")


def to_parquet_bytes(df: pd.DataFrame) -> bytes:
    """The table as a Parquet file (pyarrow, snappy), without the index."""
    buf = io.BytesIO()
    df.to_parquet(buf, index=False, engine="pyarrow")
    return buf.getvalue()
