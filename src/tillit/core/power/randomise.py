"""Randomise a planned pilot: complete, stratified, cluster or stepped-wedge, from a seed.

The same seed on the same unit list gives the same assignment: units are put in a
canonical order (sorted by id) before :func:`tillit.core.trials.permute_within` draws.
Without a seed one is drawn from the operating system and recorded in the result, so
every assignment can be reproduced and audited (e.g. stored with a pre-registration).

Example
-------
>>> import pandas as pd
>>> units = pd.DataFrame({"unit": list("abcdefgh"), "region": list("xxxxyyyy")})
>>> a = randomise(units, "unit", design="stratified", stratum="region", treated=4, seed=7)
>>> int(a.table.treatment.sum())
4
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tillit.core.errors import DataError
from tillit.core.results import jsonable
from tillit.core.trials.assign import permute_within, rollout_values
from tillit.core.trials.balance import BalanceResult, balance_table

__all__ = ["Assignment", "randomise"]

DESIGNS = ("complete", "stratified", "cluster", "stepped-wedge")


@dataclass(frozen=True)
class Assignment:
    """A reproducible assignment: one row per unit, the seed and the balance table."""

    design: str
    seed: int
    table: pd.DataFrame  # unit, [cluster], [stratum], treatment | start
    balance: BalanceResult | None

    def to_dict(self) -> dict[str, Any]:
        """Stable JSON shape."""
        out: dict[str, Any] = jsonable(
            {
                "design": self.design,
                "seed": self.seed,
                "assignment": self.table.to_dict(orient="records"),
                "balance": self.balance.to_dict() if self.balance else None,
            }
        )
        return out

    def tidy(self) -> pd.DataFrame:
        """The assignment table."""
        return self.table.copy()

    def summary(self) -> str:
        """Text: counts per arm (or step) and the balance table."""
        col = "start" if self.design == "stepped-wedge" else "treatment"
        counts = self.table[col].value_counts().sort_index()
        lines = [
            f"{self.design} randomisation, seed {self.seed}",
            ", ".join(f"{col} {k}: {v}" for k, v in counts.items()),
        ]
        if self.balance is not None:
            lines += ["", self.balance.summary()]
        return "\n".join(lines)


def _treated_counts(
    sizes: np.ndarray, treated: int | None, share: float | None
) -> np.ndarray:
    """Treated per block: ``share`` of each block, or ``treated`` split proportionally."""
    if (treated is None) == (share is None):
        raise DataError("give exactly one of treated (a count) or share")
    total = int(sizes.sum())
    if share is not None:
        if not 0 < share < 1:
            raise DataError("share must be between 0 and 1")
        target = share * sizes
    else:
        treated = int(treated or 0)
        if not 0 < treated < total:
            raise DataError(f"treated must be between 1 and {total - 1}")
        target = treated * sizes / total
    base = np.floor(target).astype(int)
    want = int(np.round(target.sum()))
    order = np.argsort(-(target - base), kind="stable")  # largest remainders first
    base[order[: want - base.sum()]] += 1
    return base


def randomise(
    units: pd.DataFrame,
    unit: str,
    *,
    design: str = "complete",
    treated: int | None = None,
    share: float | None = None,
    stratum: str | None = None,
    cluster: str | None = None,
    periods: Sequence[float] | None = None,
    covariates: Sequence[str] = (),
    seed: int | None = None,
) -> Assignment:
    """Assign units (or clusters) to a pilot.

    Parameters
    ----------
    units
        One row per unit (extra columns may hold strata, clusters and covariates).
    design
        ``"complete"``, ``"stratified"`` (needs ``stratum``), ``"cluster"`` (needs
        ``cluster``; every unit of a cluster gets the same arm) or ``"stepped-wedge"``
        (needs ``cluster`` and ``periods``: the crossover periods, clusters spread evenly).
    treated, share
        How many randomisation units to treat, or what share (per stratum).
    covariates
        Columns for the balance table.
    seed
        Recorded; the same seed reproduces the assignment.
    """
    if design not in DESIGNS:
        raise DataError(f"design must be one of {', '.join(DESIGNS)}")
    for col in [unit, *(c for c in (stratum, cluster) if c), *covariates]:
        if col not in units.columns:
            raise DataError(f"no column {col!r}", field=col)
    if design == "stratified" and not stratum:
        raise DataError("a stratified design needs a stratum column", field="stratum")
    if design in ("cluster", "stepped-wedge") and not cluster:
        raise DataError(f"a {design} design needs a cluster column", field="cluster")
    if design == "stepped-wedge" and stratum:
        raise DataError(
            "stratified stepped-wedge rollouts are not supported", field="stratum"
        )
    if units[unit].duplicated().any():
        raise DataError("unit ids must be unique", field=unit)
    seed = (
        int(np.random.SeedSequence().generate_state(1)[0])
        if seed is None
        else int(seed)
    )
    rng = np.random.default_rng(seed)
    table = units.copy()
    table["_key"] = table[unit].astype(str)
    table = table.sort_values("_key", kind="stable").reset_index(drop=True)
    rand_unit = table[cluster].astype(str) if cluster else table["_key"]
    level = pd.DataFrame(
        {"r": rand_unit, "s": table[stratum].astype(str) if stratum else ""}
    )
    if stratum and cluster and (level.groupby("r")["s"].nunique() > 1).any():
        raise DataError("a cluster spans several strata", field=stratum)
    first = level.drop_duplicates("r").sort_values("r", kind="stable")
    blocks = first["s"].to_numpy()
    if design == "stepped-wedge":
        if not periods:
            raise DataError(
                "a stepped-wedge design needs crossover periods", field="periods"
            )
        values = rollout_values(len(first), sorted(periods))
        col = "start"
    else:
        _, codes, sizes = np.unique(blocks, return_inverse=True, return_counts=True)
        counts = _treated_counts(sizes, treated, share)
        values = np.concatenate(
            [
                np.r_[np.ones(c), np.zeros(n - c)]
                for c, n in zip(counts, sizes, strict=True)
            ]
        )
        values = values[np.argsort(np.argsort(codes, kind="stable"), kind="stable")]
        col = "treatment"
    drawn = permute_within(values, blocks if stratum else None, 1, rng)[0]
    lookup = dict(zip(first["r"], drawn, strict=True))
    table[col] = rand_unit.map(lookup).to_numpy()
    if col == "treatment":
        table[col] = table[col].astype(int)
    table = table.drop(columns="_key")
    bal = None
    if covariates and col == "treatment":
        bal = balance_table(
            table[list(covariates)].apply(pd.to_numeric, errors="coerce"),
            table[col].to_numpy(),
            rand_unit.to_numpy() if cluster else None,
            level["s"].to_numpy() if stratum else None,
        )
    return Assignment(design, seed, table, bal)
