"""The register of municipalities' compensation models: import, read, compare.

Imports are validated completely (every row, every field, every municipality code)
before one transaction writes them; a row with the same municipality, year and name
replaces the stored one (counted in the report).  Members write rows of their own
municipality, administrators of any; everyone reads the register.

:func:`compare` is descriptive: it sets each model type beside the home-care indicators
of the municipalities that used it in the same year.  Municipalities choose their model
for reasons (size, geography, market, politics) that also shape cost and quality, so
the differences are not effects of the models.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tillit.core.errors import DataError, PermissionDenied
from tillit.domain import access
from tillit.domain.compensation import RegisterEntry, parse_register
from tillit.domain.records import Actor
from tillit.store import compensation as repo
from tillit.store.db import Engine, write_transaction

__all__ = [
    "COMPARE_KPIS",
    "ImportReport",
    "compare",
    "import_register",
    "municipality_register",
    "register_rows",
]

COMPARE_KPIS = ("N21006", "N21826", "U21401", "U21461", "U21477")
"""Indicators in the descriptive comparison: cost per recipient, granted hours per
recipient and month, staff continuity, 'enough time' and 'trust in staff' (user survey)."""


@dataclass(frozen=True)
class ImportReport:
    """What an import wrote."""

    written: int
    replaced: int
    municipalities: int
    years: tuple[int, int]
    filename: str

    def to_dict(self) -> dict[str, Any]:
        """Stable JSON keys."""
        return {"written": self.written, "replaced": self.replaced,
                "municipalities": self.municipalities, "years": list(self.years),
                "filename": self.filename}  # fmt: skip


def import_register(
    engine: Engine, actor: Actor, data: bytes, filename: str, *, is_demo: bool = False
) -> ImportReport:
    """Import a register CSV: all rows or none.

    Raises
    ------
    DataError
        A bad cell or an unknown municipality (file, row and field named).
    PermissionDenied
        A row of a municipality the actor may not write for.
    """
    entries = parse_register(data, filename)
    with write_transaction(engine) as conn:
        ids = repo.organisation_ids(conn, {e.municipality for e in entries})
        rows = []
        for i, e in enumerate(entries, start=1):
            oid = ids.get(e.municipality)
            if oid is None:
                raise DataError(
                    f"unknown municipality code {e.municipality!r}",
                    file=filename,
                    row=i,
                    field="municipality",
                )
            if not access.can_import_compensation_register(actor, oid):
                raise PermissionDenied(
                    f"you may not write the register of {e.municipality} (row {i})"
                )
            rows.append(
                {
                    "organisation_id": oid,
                    **{k: v for k, v in e.to_dict().items() if k != "municipality"},
                }
            )
        written, replaced = repo.replace_register(
            conn, rows, user_id=actor.user_id, is_demo=is_demo
        )
    years = (min(e.year for e in entries), max(e.year for e in entries))
    return ImportReport(
        written, replaced, len({e.municipality for e in entries}), years, filename
    )


def register_rows(
    engine: Engine,
    *,
    codes: list[str] | None = None,
    years: tuple[int, int] | None = None,
) -> pd.DataFrame:
    """The register (everyone may read it): see :data:`tillit.store.compensation.REGISTER_FRAME`."""
    with engine.connect() as conn:
        return repo.register_frame(conn, codes=codes, years=years)


def municipality_register(engine: Engine, code: str) -> list[RegisterEntry]:
    """One municipality's register rows, newest year first."""
    df = register_rows(engine, codes=[code])
    out = []
    for r in df.to_dict(orient="records"):
        rate = r["rate_day_kr"]
        out.append(
            RegisterEntry(
                str(r["municipality"]),
                int(str(r["year"])),
                str(r["basis"]),
                str(r["name"]),
                None if rate is None or pd.isna(rate) else float(str(rate)),
                bool(r["goal_related"]),
                str(r["covers"]),
                str(r["source"]),
                str(r["note"]),
            )
        )
    return sorted(out, key=lambda e: (-e.year, e.name))


def compare(engine: Engine, *, year: int | None = None) -> dict[str, Any]:
    """Model types beside their municipalities' indicators in the same year (descriptive).

    Returns
    -------
    dict
        ``year`` (None: all years), ``rows`` (one per basis: ``basis, municipalities,
        municipality_years`` and for each KPI ``<kpi>_median``, ``<kpi>_n``), ``kpis``,
        ``points`` (basis, municipality, year, N21006 for charts), ``n_register_rows``,
        ``is_demo`` and ``causal: False``.
    """
    with engine.connect() as conn:
        reg = repo.register_frame(conn, years=None if year is None else (year, year))
        vals = (
            repo.municipal_values(
                conn, list(COMPARE_KPIS), codes=sorted(set(reg["municipality"])) or None
            )
            if len(reg)
            else pd.DataFrame(columns=["municipality", "year", "kpi", "value"])
        )
    out: dict[str, Any] = {"year": year, "kpis": list(COMPARE_KPIS), "causal": False,
                           "n_register_rows": len(reg), "is_demo": bool(len(reg) and reg["is_demo"].all()),
                           "rows": [], "points": []}  # fmt: skip
    if reg.empty:
        return out
    wide = (
        vals.pivot_table(
            index=["municipality", "year"], columns="kpi", values="value"
        ).reset_index()
        if len(vals)
        else pd.DataFrame(columns=["municipality", "year"])
    )
    per = (
        reg[["municipality", "year", "basis"]]
        .drop_duplicates()
        .merge(wide, on=["municipality", "year"], how="left")
    )
    for basis, g in per.groupby("basis", sort=True):
        row: dict[str, Any] = {
            "basis": basis,
            "municipalities": int(g["municipality"].nunique()),
            "municipality_years": len(g),
        }
        for k in COMPARE_KPIS:
            v = g[k].dropna() if k in g.columns else pd.Series(dtype=float)
            row[f"{k}_median"] = float(v.median()) if len(v) else None
            row[f"{k}_n"] = len(v)
        out["rows"].append(row)
    if "N21006" in per.columns:
        pts = per.dropna(subset=["N21006"])
        out["points"] = [
            {
                "basis": str(r["basis"]),
                "municipality": str(r["municipality"]),
                "year": int(str(r["year"])),
                "N21006": float(str(r["N21006"])),
            }
            for r in pts.to_dict(orient="records")
        ]
    out["n_without_indicators"] = (
        int(
            np.sum(
                per[[k for k in COMPARE_KPIS if k in per.columns]].isna().all(axis=1)
            )
        )
        if len(per.columns) > 3
        else len(per)
    )
    return out
