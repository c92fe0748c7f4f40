"""Burden ledger by the Standard Cost Model: what each reporting requirement costs.

For requirement *r* the yearly time and cost are (SCM: time x frequency x population x
tariff)::

    hours_r = minutes_per_occurrence_r / 60 * frequency_per_year_r * reporters_r
    cost_r  = hours_r * hourly_cost_sek_r

Totals are sums of these over requirements, per unit, staff group, demander or dimension.

Example
-------
>>> import pandas as pd
>>> from tillit.core.audit import Ledger
>>> inv = pd.DataFrame({"requirement_id": ["R1"], "title": ["Fall risk"],
...     "demanded_by": ["state"], "staff_group": ["nurse"], "unit": ["all"],
...     "frequency_per_year": [12], "minutes_per_occurrence": [30], "reporters": [10],
...     "hourly_cost_sek": [500]})
>>> Ledger.from_frame(inv).total_hours
60.0
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tillit.core.audit.template import (
    COMPARED_COLUMNS,
    read_inventory,
    validate_inventory,
)
from tillit.core.errors import DataError
from tillit.core.results import jsonable

__all__ = ["BY_KEYS", "Ledger", "LedgerChange"]

BY_KEYS = ("requirement_id", "unit", "staff_group", "demanded_by", "dimension")
_COMPARED = COMPARED_COLUMNS


def _with_burden(inv: pd.DataFrame) -> pd.DataFrame:
    """Add ``hours_per_year`` and ``cost_per_year_sek`` columns (vectorised)."""
    out = inv.copy()
    hours = (
        out["minutes_per_occurrence"].to_numpy(float)
        / 60.0
        * out["frequency_per_year"].to_numpy(float)
        * out["reporters"].to_numpy(float)
    )
    out["hours_per_year"] = hours
    out["cost_per_year_sek"] = hours * out["hourly_cost_sek"].to_numpy(float)
    return out


@dataclass(frozen=True)
class Ledger:
    """A validated inventory with its yearly hours and cost per requirement.

    Build with :meth:`from_frame` or :meth:`from_file`. ``requirements`` holds the
    template's columns plus ``hours_per_year`` and ``cost_per_year_sek``.
    """

    requirements: pd.DataFrame = field(repr=False)
    source: str | None = None

    @classmethod
    def from_frame(cls, df: pd.DataFrame, *, source: str | None = None) -> Ledger:
        """Validate a raw inventory table and compute its burden."""
        return cls(_with_burden(validate_inventory(df, source=source)), source)

    @classmethod
    def from_file(cls, path: str | Path) -> Ledger:
        """Read, validate and compute an inventory from a CSV/XLSX template."""
        return cls(_with_burden(read_inventory(path)), str(path))

    @property
    def total_hours(self) -> float:
        """Hours per year over all requirements."""
        return float(self.requirements["hours_per_year"].sum())

    @property
    def total_cost(self) -> float:
        """Cost per year (SEK) over all requirements."""
        return float(self.requirements["cost_per_year_sek"].sum())

    def by(self, key: str) -> pd.DataFrame:
        """Hours, cost, share of hours and number of requirements per ``key``.

        ``key`` is one of ``requirement_id, unit, staff_group, demanded_by, dimension``;
        rows are sorted by hours, largest first.
        """
        if key not in BY_KEYS:
            raise DataError(f"cannot group by {key!r}; use one of {', '.join(BY_KEYS)}")
        g = self.requirements.groupby(key, sort=False).agg(
            requirements=("requirement_id", "size"),
            hours_per_year=("hours_per_year", "sum"),
            cost_per_year_sek=("cost_per_year_sek", "sum"),
        )
        tot = self.total_hours
        g["share_of_hours"] = g["hours_per_year"] / tot if tot > 0 else np.nan
        return g.sort_values("hours_per_year", ascending=False).reset_index()

    def largest(self, n: int = 10) -> pd.DataFrame:
        """The ``n`` requirements with the most hours per year."""
        cols = [
            "requirement_id",
            "title",
            "demanded_by",
            "staff_group",
            "unit",
            "hours_per_year",
            "cost_per_year_sek",
        ]
        return (
            self.requirements.sort_values(
                "hours_per_year", ascending=False, kind="stable"
            )
            .head(n)[cols]
            .reset_index(drop=True)
        )

    def per_employee(self, staff: pd.DataFrame) -> pd.DataFrame:
        """Hours and cost per employee and year, per staff group (and unit).

        Requirements whose staff group (or unit) has no row in ``staff`` are kept with
        ``employees`` NaN, so the hours always add up to the ledger's total.

        Parameters
        ----------
        staff
            Columns ``staff_group``, ``employees`` and optionally ``unit``. Without a
            ``unit`` column the burden is per staff group over all units.
        """
        need = {"staff_group", "employees"}
        if not need <= set(staff.columns):
            miss = sorted(need - set(staff.columns))
            raise DataError(
                "staff table lacks column(s) " + ", ".join(miss), field=miss[0]
            )
        emp = pd.to_numeric(staff["employees"], errors="coerce").to_numpy(float)
        bad = np.flatnonzero(~np.isfinite(emp) | (emp <= 0))
        if bad.size:
            raise DataError(
                "must be a positive number", row=int(bad[0]) + 1, field="employees"
            )
        keys = ["staff_group", "unit"] if "unit" in staff.columns else ["staff_group"]
        st = staff[keys].astype(str).assign(employees=emp).groupby(keys).sum()
        req, cols = self.requirements, ["hours_per_year", "cost_per_year_sek"]
        if "unit" not in keys:
            out = st.join(req.groupby("staff_group")[cols].sum(), how="outer")
            out[cols] = out[cols].fillna(0.0)
        else:
            specific = req[req["unit"] != "all"].groupby(keys)[cols].sum()
            out = st.join(specific, how="outer")
            out[cols] = out[cols].fillna(0.0)
            # requirements for unit "all" fall on the group's units by their employees
            grp = req[req["unit"] == "all"].groupby("staff_group")[cols].sum()
            tot = out.groupby(level="staff_group")["employees"].transform("sum")
            share = (out["employees"] / tot.where(tot > 0)).fillna(0.0).to_numpy()
            sg = out.index.get_level_values("staff_group")
            out[cols] += grp.reindex(sg).fillna(0.0).to_numpy() * share[:, None]
            covered = set(sg[share > 0])
            orphan = grp[~grp.index.isin(list(covered))]
            if not orphan.empty:  # no employees given for that staff group
                idx = pd.MultiIndex.from_arrays(
                    [orphan.index, ["all"] * len(orphan)], names=keys
                )
                out = pd.concat([out, orphan.set_index(idx).assign(employees=np.nan)])
        out["hours_per_employee"] = out["hours_per_year"] / out["employees"]
        out["cost_per_employee_sek"] = out["cost_per_year_sek"] / out["employees"]
        return out.reset_index()

    def hours_by_indicator(self) -> pd.Series:
        """Hours per year attributed to each linked indicator.

        A requirement feeding *k* indicators gives each ``hours / k`` (dropping one
        indicator saves its share). Requirements without indicators are not counted.
        """
        req = self.requirements
        k = req["indicator_ids"].map(len)
        ex = req.assign(share=req["hours_per_year"] / k.where(k > 0))
        ex = ex[k > 0].explode("indicator_ids")
        if ex.empty:
            return pd.Series(dtype=float, name="hours_per_year")
        s = ex.groupby("indicator_ids")["share"].sum()
        s.index.name = "indicator"
        return s.rename("hours_per_year")

    def compare(self, new: Ledger) -> LedgerChange:
        """What changed from this inventory (old) to ``new``."""
        return LedgerChange.between(self, new)

    def tidy(self) -> pd.DataFrame:
        """One row per requirement with its hours and cost (``indicator_ids`` joined)."""
        out = self.requirements.copy()
        out["indicator_ids"] = out["indicator_ids"].map(";".join)
        return out

    def to_dict(self) -> dict[str, Any]:
        """Stable JSON: totals, breakdowns by each key and the requirement rows."""
        out: dict[str, Any] = jsonable(
            {
                "source": self.source,
                "n_requirements": len(self.requirements),
                "total_hours_per_year": self.total_hours,
                "total_cost_per_year_sek": self.total_cost,
                "by_unit": self.by("unit").to_dict(orient="records"),
                "by_staff_group": self.by("staff_group").to_dict(orient="records"),
                "by_demanded_by": self.by("demanded_by").to_dict(orient="records"),
                "by_dimension": self.by("dimension").to_dict(orient="records"),
                "requirements": self.tidy().to_dict(orient="records"),
            }
        )
        return out

    def summary(self, n: int = 10) -> str:
        """Totals, the largest burdens and the split by demander, for people."""
        lines = [
            f"Burden ledger ({len(self.requirements)} requirements"
            + (f", {self.source}" if self.source else "")
            + f"): {self.total_hours:,.0f} hours and {self.total_cost:,.0f} SEK per year",
            "",
            "Largest burdens:",
        ]
        for r in self.largest(n).itertuples():
            lines.append(
                f"  {r.requirement_id:<12} {r.hours_per_year:>10,.1f} h "
                f"{r.cost_per_year_sek:>12,.0f} SEK  {r.title}"
            )
        for key, label in (("demanded_by", "demander"), ("staff_group", "staff group")):
            lines += ["", f"By {label}:"]
            for r in self.by(key).itertuples():
                lines.append(
                    f"  {getattr(r, key):<20} {r.hours_per_year:>10,.1f} h "
                    f"{r.share_of_hours:>6.1%}"
                )
        return "\n".join(lines)


@dataclass(frozen=True)
class LedgerChange:
    """Change between two inventories, matched on ``requirement_id``.

    ``table`` has one row per requirement in either inventory with ``status``
    (``added``, ``removed``, ``changed``, ``unchanged``), old and new hours and cost, and
    their deltas; ``changed_fields`` lists what differs for changed requirements.
    """

    table: pd.DataFrame = field(repr=False)
    old_source: str | None = None
    new_source: str | None = None

    @classmethod
    def between(cls, old: Ledger, new: Ledger) -> LedgerChange:
        """Match the two inventories and compute per-requirement deltas."""
        cols = [
            "requirement_id",
            "title",
            *_COMPARED,
            "hours_per_year",
            "cost_per_year_sek",
        ]
        m = old.requirements[cols].merge(
            new.requirements[cols],
            on="requirement_id",
            how="outer",
            suffixes=("_old", "_new"),
            indicator=True,
        )
        status = (
            m["_merge"]
            .map({"left_only": "removed", "right_only": "added", "both": "same"})
            .astype(str)
        )
        diff = np.zeros((len(m), len(_COMPARED)), dtype=bool)
        for j, c in enumerate(_COMPARED):
            ne = (m[f"{c}_old"] != m[f"{c}_new"]).to_numpy(dtype=bool)
            diff[:, j] = ne & (status == "same").to_numpy(dtype=bool)
        names = np.array(_COMPARED, dtype=object)
        changed = [";".join(names[row]) for row in diff]
        was_same = (status == "same").to_numpy(dtype=bool)
        status = status.where(~(was_same & diff.any(axis=1)), "changed")
        status = status.replace("same", "unchanged")
        out = pd.DataFrame(
            {
                "requirement_id": m["requirement_id"],
                "title": m["title_new"].fillna(m["title_old"]),
                "status": status,
                "changed_fields": changed,
            }
        )
        for q in ("hours_per_year", "cost_per_year_sek"):
            o = m[f"{q}_old"].fillna(0.0).to_numpy(float)
            n = m[f"{q}_new"].fillna(0.0).to_numpy(float)
            out[f"{q}_old"], out[f"{q}_new"], out[f"{q}_delta"] = o, n, n - o
        out = out.sort_values(
            "hours_per_year_delta", key=np.abs, ascending=False, kind="stable"
        ).reset_index(drop=True)
        return cls(out, old.source, new.source)

    def counts(self) -> dict[str, int]:
        """Number of requirements per status."""
        vc = self.table["status"].value_counts()
        return {
            s: int(vc.get(s, 0)) for s in ("added", "removed", "changed", "unchanged")
        }

    @property
    def hours_delta(self) -> float:
        """Change in total hours per year (new minus old)."""
        return float(self.table["hours_per_year_delta"].sum())

    @property
    def cost_delta(self) -> float:
        """Change in total cost per year, SEK (new minus old)."""
        return float(self.table["cost_per_year_sek_delta"].sum())

    def tidy(self) -> pd.DataFrame:
        """The per-requirement change table (a copy)."""
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        """Stable JSON: sources, counts, total deltas and the per-requirement rows."""
        out: dict[str, Any] = jsonable(
            {
                "old_source": self.old_source,
                "new_source": self.new_source,
                "counts": self.counts(),
                "hours_per_year_delta": self.hours_delta,
                "cost_per_year_sek_delta": self.cost_delta,
                "requirements": self.table.to_dict(orient="records"),
            }
        )
        return out

    def summary(self) -> str:
        """Counts, total deltas and the non-unchanged requirements, for people."""
        c = self.counts()
        lines = [
            f"Change {self.old_source or 'old'} -> {self.new_source or 'new'}: "
            f"{c['added']} added, {c['removed']} removed, {c['changed']} changed, "
            f"{c['unchanged']} unchanged; {self.hours_delta:+,.1f} hours and "
            f"{self.cost_delta:+,.0f} SEK per year"
        ]
        for r in self.table[self.table["status"] != "unchanged"].itertuples():
            extra = f" ({r.changed_fields})" if r.status == "changed" else ""
            lines.append(
                f"  {r.status:<8} {r.requirement_id:<12} "
                f"{r.hours_per_year_delta:>+10,.1f} h{extra}  {r.title}"
            )
        return "\n".join(lines)
