"""Pure table steps of an import: in-batch duplicates and the diff against stored rows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tillit.core.errors import DataError
from tillit.sources.frame import KEY, row_label

__all__ = ["STORE_KEY", "dedupe_batch", "diff_existing"]

STORE_KEY = ["indicator_id", "organisation_id", "unit_id", "period", "gender"]


def dedupe_batch(obs: pd.DataFrame, file: str | None) -> pd.DataFrame:
    """Drop exact repeats; DataError naming both rows for a conflicting repeat."""
    dup = obs.duplicated(KEY, keep=False).to_numpy()
    if not dup.any():
        return obs
    d = obs[dup]
    content = ["value", "count", "status"]
    same = d.fillna({"value": np.inf, "count": -1.0}).duplicated([*KEY, *content])
    clash = d[~same].duplicated(KEY, keep=False)
    if clash.any():
        grp = d[~same][clash].groupby(KEY, sort=False)
        first = next(iter(grp))[1]
        pos = [int(p) for p in obs.index.get_indexer(first.index[:2])]
        a, b = (row_label(obs, p) for p in pos)
        key = ", ".join(f"{k}={first[k].iat[0]}" for k in KEY if first[k].iat[0])
        raise DataError(
            f"conflicting duplicate of row {a} ({key}): the same key with another value",
            file=file,
            row=b,
            field="value",
        )
    return obs[~obs.duplicated(KEY, keep="first")].reset_index(drop=True)


def diff_existing(
    obs: pd.DataFrame, old: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Split into (new rows, updated rows with old ids, number unchanged)."""
    if len(old) == 0:
        return obs, obs.iloc[:0].assign(id=np.zeros(0, dtype=np.int64)), 0
    m = obs.merge(
        old.rename(
            columns={"value": "old_value", "count": "old_count", "status": "old_status"}
        ),
        on=STORE_KEY,
        how="left",
        validate="one_to_one",
    )
    is_new = m["id"].isna().to_numpy()
    same_value = (m["value"] == m["old_value"]) | (
        m["value"].isna() & m["old_value"].isna()
    )
    same_count = (m["count"] == m["old_count"]) | (
        m["count"].isna() & m["old_count"].isna()
    )
    same = (same_value & same_count & (m["status"] == m["old_status"])).to_numpy()
    changed = ~is_new & ~same
    upd = m[changed].copy()
    upd["id"] = upd["id"].astype(np.int64)
    return obs[is_new], upd, int((~is_new & same).sum())
