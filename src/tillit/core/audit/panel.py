"""An indicator panel as one 3-D array: indicators x units (municipalities) x years.

Every signal-audit computation works on this array with NaN for missing values, so it is
vectorised across indicators.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tillit.core.errors import DataError

__all__ = ["IndicatorPanel"]


@dataclass(frozen=True)
class IndicatorPanel:
    """Values ``values[i, u, t]`` of indicator ``indicators[i]`` for unit ``units[u]``
    in year ``years[t]`` (NaN where missing)."""

    values: np.ndarray = field(repr=False)
    indicators: tuple[str, ...]
    units: tuple[str, ...] = field(repr=False)
    years: tuple[int, ...]

    def __post_init__(self) -> None:
        """Check the shape against the labels."""
        shape = (len(self.indicators), len(self.units), len(self.years))
        if self.values.shape != shape:
            raise DataError(
                f"values have shape {self.values.shape}, labels say {shape}"
            )

    @classmethod
    def from_array(
        cls,
        values: np.ndarray,
        indicators: list[str] | None = None,
        units: list[str] | None = None,
        years: list[int] | None = None,
    ) -> IndicatorPanel:
        """Wrap a 3-D array (indicators x units x years); labels default to numbers."""
        arr = np.asarray(values, dtype=float)
        if arr.ndim != 3:
            raise DataError(f"expected a 3-D array, got {arr.ndim} dimensions")
        ni, nu, nt = arr.shape
        ind = (
            tuple(indicators)
            if indicators is not None
            else tuple(f"I{i}" for i in range(ni))
        )
        un = tuple(units) if units is not None else tuple(f"U{u}" for u in range(nu))
        yr = tuple(years) if years is not None else tuple(range(nt))
        return cls(np.where(np.isfinite(arr), arr, np.nan), ind, un, yr)

    @classmethod
    def from_long(
        cls,
        df: pd.DataFrame,
        *,
        indicator: str = "indicator",
        unit: str = "unit",
        year: str = "year",
        value: str = "value",
        source: str | None = None,
    ) -> IndicatorPanel:
        """Build from long data with one row per indicator, unit and year.

        Unit and indicator ids are read as strings; ``year`` must be an integer and
        ``value`` numeric or empty. Duplicated (indicator, unit, year) rows are an error.
        """
        cols = [indicator, unit, year, value]
        miss = [c for c in cols if c not in df.columns]
        if miss:
            raise DataError(
                f"missing column(s) {', '.join(miss)}; the data has "
                f"{', '.join(map(str, df.columns))}",
                file=source,
                field=miss[0],
            )
        if df.empty:
            raise DataError("the panel has no rows", file=source)
        d = df.reset_index(drop=True)
        yr = pd.to_numeric(d[year], errors="coerce").to_numpy(float)
        bad = np.flatnonzero(~np.isfinite(yr) | (yr != np.round(yr)))
        if bad.size:
            raise DataError(
                f"year must be an integer (got {d[year].iloc[bad[0]]!r})",
                file=source,
                row=int(bad[0]) + 1,
                field=year,
            )
        raw = d[value]
        val = pd.to_numeric(raw, errors="coerce").to_numpy(float)
        bad = np.flatnonzero(
            np.isnan(val)
            & raw.notna().to_numpy()
            & (raw.astype(str).str.strip() != "").to_numpy()
        )
        if bad.size:
            raise DataError(
                f"value must be a number (got {raw.iloc[bad[0]]!r})",
                file=source,
                row=int(bad[0]) + 1,
                field=value,
            )
        ind_codes, ind_lab = pd.factorize(d[indicator].astype(str), sort=True)
        unit_codes, unit_lab = pd.factorize(d[unit].astype(str), sort=True)
        yr_codes, yr_lab = pd.factorize(yr.astype(int), sort=True)
        shape = (len(ind_lab), len(unit_lab), len(yr_lab))
        flat = np.ravel_multi_index((ind_codes, unit_codes, yr_codes), shape)
        order = np.argsort(flat, kind="stable")
        dup = np.flatnonzero(np.diff(flat[order]) == 0)
        if dup.size:
            r = int(order[dup[0] + 1])
            raise DataError(
                f"duplicate row for indicator {d[indicator].iloc[r]!r}, unit "
                f"{d[unit].iloc[r]!r}, year {int(yr[r])}",
                file=source,
                row=r + 1,
                field=indicator,
            )
        arr = np.full(shape, np.nan)
        arr.reshape(-1)[flat] = val
        return cls(
            arr,
            tuple(map(str, ind_lab)),
            tuple(map(str, unit_lab)),
            tuple(int(y) for y in yr_lab),
        )

    def select(self, indicators: list[str] | tuple[str, ...]) -> IndicatorPanel:
        """A panel with only the named indicators (in that order)."""
        pos = {k: i for i, k in enumerate(self.indicators)}
        miss = [k for k in indicators if k not in pos]
        if miss:
            raise DataError(
                f"indicator(s) not in the panel: {', '.join(miss)}", field="indicator"
            )
        idx = [pos[k] for k in indicators]
        return IndicatorPanel(
            self.values[idx], tuple(indicators), self.units, self.years
        )

    def index(self, indicator: str) -> int:
        """Position of an indicator, or a DataError naming it."""
        try:
            return self.indicators.index(indicator)
        except ValueError:
            raise DataError(
                f"indicator {indicator!r} is not in the panel", field="indicator"
            ) from None

    def to_long(self) -> pd.DataFrame:
        """Long data ``indicator, unit, year, value`` without missing values."""
        i, u, t = np.nonzero(np.isfinite(self.values))
        return pd.DataFrame(
            {
                "indicator": np.asarray(self.indicators, dtype=object)[i],
                "unit": np.asarray(self.units, dtype=object)[u],
                "year": np.asarray(self.years)[t],
                "value": self.values[i, u, t],
            }
        )
