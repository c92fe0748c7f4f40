"""Swedish municipalities, regions and SKR municipality groups (public facts).

The packaged ``data/geography.csv`` is built by ``validation/make_geography.py`` from
../shared/data (municipality codes and names: CC0; SKR groups 2023 via Kolada).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import pandas as pd

__all__ = ["geography", "municipalities"]


@lru_cache(maxsize=1)
def geography() -> pd.DataFrame:
    """All 290 municipalities, 21 regions and the country, one row each.

    Columns: code, name, kind, county_code, county_name, skr_group_code, skr_group,
    skr_main_group, skr_kolada_group_id. All values are strings.
    """
    with (
        resources.files("tillit.domain")
        .joinpath("data/geography.csv")
        .open(encoding="utf-8") as fh
    ):
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


def municipalities() -> pd.DataFrame:
    """The 290 municipalities (a copy)."""
    g = geography()
    return g[g["kind"] == "municipality"].reset_index(drop=True).copy()
