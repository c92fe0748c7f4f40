"""Predictors for synthetic control: outcome lags and covariates averaged over periods.

A predictor is written ``column``, ``column@1975``, ``column@1980-1988`` (inclusive) or
``column@1975,1980,1988`` (each period its own predictor).  A bare ``column`` is averaged
over all pre-treatment periods.  Averages skip missing values, as R ``Synth`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tillit.core.errors import DataError

__all__ = ["PredictorSpec", "parse_predictor", "predictor_matrix"]


@dataclass(frozen=True)
class PredictorSpec:
    """A column averaged over a period, a closed range, or (neither) all pre-periods."""

    column: str
    at: float | None = None
    lo: float | None = None
    hi: float | None = None

    @property
    def label(self) -> str:
        """Readable name such as ``beer@1984-1988``."""
        if self.at is not None:
            return f"{self.column}@{_fmt(self.at)}"
        if self.lo is not None and self.hi is not None:
            return f"{self.column}@{_fmt(self.lo)}-{_fmt(self.hi)}"
        return self.column


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def parse_predictor(text: str) -> list[PredictorSpec]:
    """Parse one ``--predictor`` value into one or more specs.

    >>> [s.label for s in parse_predictor("cigsale@1975,1980")]
    ['cigsale@1975', 'cigsale@1980']
    """
    col, sep, when = text.partition("@")
    col = col.strip()
    if not col:
        raise DataError(f"predictor '{text}' names no column")
    if not sep:
        return [PredictorSpec(col)]
    try:
        when = when.strip()
        if "," in when:
            return [
                PredictorSpec(col, at=float(p)) for p in when.split(",") if p.strip()
            ]
        if "-" in when[1:]:
            cut = when.index("-", 1)
            lo, hi = float(when[:cut]), float(when[cut + 1 :])
            if hi < lo:
                raise ValueError
            return [PredictorSpec(col, lo=lo, hi=hi)]
        return [PredictorSpec(col, at=float(when))]
    except ValueError as exc:
        raise DataError(
            f"cannot read predictor '{text}': use column, column@1975, "
            "column@1980-1988 or column@1975,1980"
        ) from exc


def _periods(spec: PredictorSpec, times: np.ndarray, pre_end: float) -> np.ndarray:
    t = times.astype(float)
    if spec.at is not None:
        at: np.ndarray = times[t == spec.at]
        return at
    if spec.lo is not None and spec.hi is not None:
        return times[(t >= spec.lo) & (t <= spec.hi)]
    return times[t < pre_end]


def predictor_matrix(
    data: pd.DataFrame,
    specs: Sequence[PredictorSpec],
    *,
    unit: str,
    time: str,
    units: Sequence[object],
    times: np.ndarray,
    pre_end: float,
) -> tuple[np.ndarray, list[str]]:
    """Predictor values ``(k, N)`` for ``units`` (columns in that order) and row labels.

    Raises
    ------
    DataError
        A column is missing or not numeric, a period lies outside the data or after
        the treatment start, or a unit has no value in a predictor's periods.
    """
    rows, labels = [], []
    for spec in specs:
        if spec.column not in data.columns:
            raise DataError(
                f"predictor column '{spec.column}' is not in the data",
                field=spec.column,
            )
        per = _periods(spec, times, pre_end)
        if len(per) == 0:
            raise DataError(
                f"predictor '{spec.label}' covers no period in the data",
                field=spec.column,
            )
        if np.any(per.astype(float) >= pre_end):
            raise DataError(
                f"predictor '{spec.label}' uses periods at or after the treatment start",
                field=spec.column,
            )
        vals = pd.to_numeric(data[spec.column], errors="coerce")
        sub = pd.DataFrame({"u": data[unit], "t": data[time], "v": vals})
        sub = sub[sub["t"].isin(per)]
        means = sub.groupby("u")["v"].mean()
        means = means.reindex(list(units))
        if means.isna().any():
            missing = means.index[means.isna()][0]
            raise DataError(
                f"unit '{missing}' has no value of '{spec.column}' in the periods of "
                f"predictor '{spec.label}'",
                field=spec.column,
            )
        rows.append(means.to_numpy(dtype=float))
        labels.append(spec.label)
    return np.vstack(rows), labels
