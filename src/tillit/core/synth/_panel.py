"""Long panel to the wide outcome matrix that synthetic control and SDID need.

Both estimators need a balanced panel: every unit observed in every period, no missing
outcome.  The checks here name the unit, period and column at fault.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tillit.core.errors import DataError, EstimationError

__all__ = ["WidePanel", "py", "resolve_starts", "to_wide", "unit_values"]


def py(x: object) -> object:
    """A numpy scalar as the plain Python value (for JSON and labels)."""
    item = getattr(x, "item", None)
    return item() if callable(item) else x


@dataclass(frozen=True, eq=False)
class WidePanel:
    """A balanced panel as a matrix.

    Attributes
    ----------
    Y
        Outcomes ``(N, T)``, rows in ``units`` order, columns in ``times`` order.
    units
        Unit labels (as in the data).
    times
        Sorted periods.
    """

    Y: np.ndarray
    units: tuple[Hashable, ...]
    times: np.ndarray

    def index_of(self, label: Hashable) -> int:
        """Row of a unit label; strings match numeric labels by their text."""
        for i, u in enumerate(self.units):
            if u == label or str(u) == str(label):
                return i
        shown = ", ".join(map(str, self.units[:12]))
        more = " ..." if len(self.units) > 12 else ""
        raise DataError(f"unknown treated unit '{label}'; units are {shown}{more}")


def to_wide(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    extra: Sequence[str] = (),
) -> WidePanel:
    """Pivot a long panel into a balanced outcome matrix.

    Raises
    ------
    DataError
        A column is missing, the outcome is not numeric or missing, a unit-period
        appears twice, or the panel is unbalanced.
    """
    for col in (outcome, unit, time, *extra):
        if col not in data.columns:
            raise DataError(
                f"missing column '{col}'; the data has {', '.join(map(str, data.columns))}",
                field=col,
            )
    df = data[[unit, time, outcome]]
    y = pd.to_numeric(df[outcome], errors="coerce")
    bad = y.isna() | ~np.isfinite(y.to_numpy(dtype=float, na_value=np.nan))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"outcome is missing or not a number for unit '{df[unit].iloc[i]}' in period "
            f"{df[time].iloc[i]} (synthetic control needs a complete panel)",
            row=i + 1,
            field=outcome,
        )
    ucode, ulabels = pd.factorize(df[unit], sort=True)
    tcode, tlabels = pd.factorize(df[time], sort=True)
    for code, col in ((ucode, unit), (tcode, time)):
        if (code < 0).any():
            i = int(np.flatnonzero(code < 0)[0])
            raise DataError(f"'{col}' is missing", row=i + 1, field=col)
    N, T = len(ulabels), len(tlabels)
    cell = ucode.astype(np.int64) * T + tcode
    dup = pd.Series(cell).duplicated().to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise DataError(
            f"unit '{df[unit].iloc[i]}' appears twice in period {df[time].iloc[i]}",
            row=i + 1,
            field=time,
        )
    flat = np.full(N * T, np.nan)
    flat[cell] = y.to_numpy(dtype=float)
    Y = flat.reshape(N, T)
    units, times = pd.Index(ulabels), pd.Index(tlabels)
    if len(cell) < N * T:
        r, c = np.argwhere(np.isnan(Y))[0]
        raise DataError(
            f"unbalanced panel: unit '{units[r]}' has no row for period "
            f"{times[c]} (synthetic control and SDID need every unit in every period)",
            field=time,
        )
    return WidePanel(Y=Y, units=tuple(units), times=np.asarray(times))


def resolve_starts(
    panel: WidePanel,
    treated_units: Sequence[Hashable],
    treatment_start: float | Mapping[Hashable, float],
    *,
    min_pre: int = 1,
) -> dict[int, int]:
    """Map each treated unit's row to the column of its first treated period.

    Parameters
    ----------
    treated_units
        Labels of the treated units (at least one).
    treatment_start
        One first treated period for all, or one per treated unit (staggered).
    min_pre
        Least number of untreated periods needed before each start.
    """
    if not treated_units:
        raise DataError("name at least one treated unit (--treated-unit)")
    rows: dict[int, int] = {}
    times = panel.times
    for label in treated_units:
        row = panel.index_of(label)
        if isinstance(treatment_start, Mapping):
            start = _lookup(treatment_start, label)
        else:
            start = treatment_start
        if start is None:
            raise DataError(f"no treatment start given for treated unit '{label}'")
        col = int(np.searchsorted(times.astype(float), float(start), side="left"))
        if col >= len(times):
            raise DataError(
                f"treatment start {start} is after the last period {times[-1]} in the data"
            )
        if col < min_pre:
            raise DataError(
                f"treatment start {start} leaves {col} pre-treatment period(s); "
                f"need at least {min_pre} (the data starts in {times[0]})"
            )
        rows[row] = col
    if len(rows) >= len(panel.units):
        raise EstimationError("every unit is treated: no donor units remain")
    return rows


def _lookup(mapping: Mapping[Hashable, float], label: Hashable) -> float | None:
    for k, v in mapping.items():
        if k == label or str(k) == str(label):
            return v
    return None


def unit_values(
    data: pd.DataFrame,
    panel: WidePanel,
    unit: str,
    column: str,
    *,
    positive: bool = False,
) -> np.ndarray:
    """One value per unit of ``panel`` (in its row order) from a unit-level column.

    For population weights (``positive``: finite and > 0) and cluster labels.

    Raises
    ------
    DataError
        The column is missing, a value is missing (or not a positive number), or a
        unit has two different values.
    """
    if column not in data.columns:
        raise DataError(
            f"missing column '{column}'; the data has {', '.join(map(str, data.columns))}",
            field=column,
        )
    col = data[column]
    if positive:
        col = pd.to_numeric(col, errors="coerce")
        bad = ~(col > 0) | ~np.isfinite(col.to_numpy(dtype=float, na_value=np.nan))
        kind = "a positive number"
    else:
        bad = col.isna()
        kind = "given"
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"'{column}' is not {kind} for unit '{data[unit].iloc[i]}'",
            row=i + 1,
            field=column,
        )
    per = pd.DataFrame({"u": data[unit], "v": col}).groupby("u", sort=False)["v"]
    varies = per.nunique() > 1
    if varies.any():
        u = varies.index[varies.to_numpy()][0]
        raise DataError(
            f"'{column}' must be constant within a unit; unit '{u}' has several values",
            field=column,
        )
    first = per.first()
    keyed = {str(k): v for k, v in first.items()}
    return np.array(
        [keyed[str(u)] for u in panel.units], dtype=float if positive else object
    )
