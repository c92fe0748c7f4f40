"""Turn a long data frame into the wide arrays the DiD estimators work on.

The estimators never see a data frame: they get a :class:`Panel` with a units x periods x
outcomes array, the cohort of every unit and the covariates. Validation happens here, once,
with errors that name the column and the unit at fault.

Panel rules (the same as R's ``did`` with its defaults, so numbers are comparable):

* a unit's cohort is the first treated period; 0, empty or a value after the last period means
  never treated;
* units treated in the first period (or within ``anticipation`` of it) are dropped;
* the panel is balanced by dropping units that miss a period or a covariate
  (R ``did``'s default; its ``allow_unbalanced_panel`` alternative is not implemented);
* a missing *outcome* value drops the unit for that outcome only, so outcomes with different
  missing patterns are estimated on their own balanced subsets (all in one call).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tillit.core.errors import DataError, EstimationError

__all__ = ["Panel", "build_panel"]

NEVER = np.inf


@dataclass(frozen=True)
class Panel:
    """Balanced wide panel.

    Attributes
    ----------
    units
        Unit identifiers, length n.
    periods
        Sorted periods, length T.
    cohort
        First treated period per unit (``inf`` for never treated), length n.
    y
        Outcomes, shape (n, T, K); NaN where missing.
    x
        Covariates, shape (n, T, p) (p may be 0).
    outcomes, covariates
        Column names.
    cluster
        Integer cluster code per unit, or None (clustered by unit).
    notes
        What was dropped or recoded, for the diagnostics.
    """

    units: np.ndarray
    periods: np.ndarray
    cohort: np.ndarray
    y: np.ndarray
    x: np.ndarray
    outcomes: tuple[str, ...]
    covariates: tuple[str, ...]
    cluster: np.ndarray | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def n_units(self) -> int:
        """Number of units kept."""
        return int(self.units.shape[0])

    @property
    def n_periods(self) -> int:
        """Number of periods."""
        return int(self.periods.shape[0])


def _numeric(df: pd.DataFrame, col: str) -> pd.Series:
    """Return a column as float, or raise a DataError naming the first bad row."""
    if pd.api.types.is_numeric_dtype(df[col]) and not pd.api.types.is_bool_dtype(
        df[col]
    ):
        return df[col].astype(float)
    s = pd.to_numeric(df[col], errors="coerce")
    bad = s.isna() & df[col].notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 1
        raise DataError(
            f"value {_show(df[col].iloc[row - 1])!r} is not a number",
            row=row,
            field=col,
        )
    return s.astype(float)


def _show(v: object) -> str:
    """A value as a user would write it (no numpy repr)."""
    return str(v.item() if isinstance(v, np.generic) else v)


def _check_columns(df: pd.DataFrame, cols: list[str]) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise DataError(
            f"missing column(s) {', '.join(missing)}; the data has "
            f"{', '.join(map(str, df.columns))}",
            field=missing[0],
        )


def _cohorts(
    df: pd.DataFrame, unit: str, cohort: str, codes: np.ndarray, n: int
) -> np.ndarray:
    """One cohort per unit; a unit with two cohorts is an error naming the unit."""
    g = _numeric(df, cohort).fillna(0.0).to_numpy()
    lo = np.full(n, np.inf)
    hi = np.full(n, -np.inf)
    np.minimum.at(lo, codes, g)
    np.maximum.at(hi, codes, g)
    if np.any(lo != hi):
        bad = int(np.flatnonzero(lo != hi)[0])
        uid = df[unit].iloc[int(np.flatnonzero(codes == bad)[0])]
        raise DataError(
            f"unit {_show(uid)} has two cohorts ({lo[bad]:g} and {hi[bad]:g}); the cohort "
            "(first treated period) must be the same in every row of a unit. A "
            "treatment that changes dose or switches off and on needs `tillit "
            "estimate dcdh` (de Chaisemartin & D'Haultfoeuille)",
            field=cohort,
        )
    return np.where(lo == 0, NEVER, lo)


def _to_wide(
    df: pd.DataFrame,
    cols: list[str],
    ucode: np.ndarray,
    tcode: np.ndarray,
    shape: tuple[int, int],
) -> np.ndarray:
    out = np.full((*shape, len(cols)), np.nan)
    if not cols:
        return out
    sub = df[cols]
    if all(
        pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t)
        for t in sub.dtypes
    ):
        out[ucode, tcode, :] = sub.to_numpy(dtype=float, na_value=np.nan)
    else:
        for j, c in enumerate(cols):
            out[ucode, tcode, j] = _numeric(df, c).to_numpy()
    return out


def build_panel(
    df: pd.DataFrame,
    *,
    outcomes: list[str],
    unit: str,
    time: str,
    cohort: str,
    covariates: list[str] | None = None,
    cluster: str | None = None,
    anticipation: int = 0,
    control: str = "never",
    allow_unbalanced: bool = False,
) -> Panel:
    """Validate a long data frame and return a wide :class:`Panel`.

    Units not observed in every period are dropped (a balanced panel, R's default)
    unless ``allow_unbalanced``, which keeps every unit with at least one row.

    Raises
    ------
    DataError
        Missing column, non-numeric values, duplicated unit-period rows, a unit with two
        cohorts.
    EstimationError
        No treated or no comparison units are left.
    """
    covariates = list(covariates or [])
    if not outcomes:
        raise DataError("at least one outcome column is needed", field="outcome")
    cols = [unit, time, cohort, *outcomes, *covariates] + ([cluster] if cluster else [])
    _check_columns(df, cols)
    notes: list[str] = []
    t_all = _numeric(df, time)
    if t_all.isna().any():
        row = int(np.flatnonzero(t_all.isna().to_numpy())[0]) + 1
        raise DataError("period is missing", row=row, field=time)
    if df[unit].isna().any():
        row = int(np.flatnonzero(df[unit].isna().to_numpy())[0]) + 1
        raise DataError("unit is missing", row=row, field=unit)
    ucode, unit_index = pd.factorize(df[unit], sort=True)
    tcode, period_index = pd.factorize(t_all, sort=True)
    n, T = len(unit_index), len(period_index)
    dup = pd.Series(ucode * T + tcode).duplicated()
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0]) + 1
        raise DataError(
            f"unit {_show(df[unit].iloc[row - 1])} has two rows for period "
            f"{t_all.iloc[row - 1]:g}",
            row=row,
            field=time,
        )
    if T < 2:
        raise EstimationError("difference-in-differences needs at least two periods")
    g = _cohorts(df, unit, cohort, ucode, n)
    periods = np.asarray(period_index, dtype=float)
    late = np.isfinite(g) & (g > periods[-1])
    if late.any():
        notes.append(
            f"{int(late.sum())} units first treated after the last period are "
            "treated as never treated"
        )
        g = np.where(late, NEVER, g)
    y = _to_wide(df, outcomes, ucode, tcode, (n, T))
    x = _to_wide(df, covariates, ucode, tcode, (n, T))
    present = np.zeros((n, T), dtype=bool)
    present[ucode, tcode] = True
    if allow_unbalanced and covariates:
        raise EstimationError(
            "covariates need a balanced panel; drop the covariates or the "
            "unbalanced option"
        )
    keep = present.any(axis=1) if allow_unbalanced else present.all(axis=1)
    if allow_unbalanced:
        gaps = int((keep & ~present.all(axis=1)).sum())
        if gaps:
            notes.append(
                f"{gaps} units are not observed in every period; each ATT(g,t) uses "
                "the units observed in its two periods (unbalanced panel)"
            )
    elif (~keep).any():
        notes.append(
            f"{int((~keep).sum())} units not observed in every period were dropped "
            "(balanced panel)"
        )
    if covariates:
        xbad = keep & np.isnan(x).any(axis=(1, 2))
        if xbad.any():
            notes.append(
                f"{int(xbad.sum())} units with a missing covariate were dropped"
            )
        keep &= ~xbad
    early = keep & (g <= periods[0] + anticipation)
    if early.any():
        notes.append(
            f"{int(early.sum())} units already treated in the first period were dropped"
        )
        keep &= ~early
    clus = None
    if cluster:
        clus = pd.factorize(df.groupby(ucode)[cluster].first().to_numpy())[0]
    units = np.asarray(unit_index)[keep]
    g, y, x = g[keep], y[keep], x[keep]
    clus = clus[keep] if clus is not None else None
    if not np.isfinite(g).any():
        raise EstimationError("no treated units: every unit is never treated")
    if not np.isinf(g).any():
        if control == "never":
            raise EstimationError(
                "no never-treated units to compare with; use control 'notyet' "
                "(not-yet-treated units) instead"
            )
        last = g.max()
        cut = periods < last - anticipation
        notes.append(
            f"no never-treated units: periods from {last - anticipation:g} on were "
            f"dropped and cohort {last:g} serves only as a not-yet-treated comparison"
        )
        periods, y, x = periods[cut], y[:, cut], x[:, cut]
        g = np.where(g == last, NEVER, g)
        if periods.shape[0] < 2:
            raise EstimationError("too few periods before the last cohort is treated")
    return Panel(
        units=units,
        periods=periods,
        cohort=g,
        y=y,
        x=x,
        outcomes=tuple(outcomes),
        covariates=tuple(covariates),
        cluster=clus,
        notes=tuple(notes),
    )
