"""Calibration of the simulator on observed cost per recipient, with its error distribution.

For every municipality and year the simulator gets a population generated from the
municipality's own indicators (mean granted hours, the share with 120+ hours when
known, the share with a private provider, travel minutes from population density) and
the reference model of the year: pay per granted hour at SKR's average rate.  Its
*simulated cost per recipient* is what the municipality would bear: the in-house
provider's production cost for its own recipients plus the payments to private
providers for theirs.  Observed cost per recipient (Kolada N21006, or the 2014-2017
home-care panel's ``cost``) also covers what the simulator leaves out (needs
assessment, alarms, night patrols, management), so a log-linear calibration maps one
to the other, both deflated by the year's staff cost per hour ``w``::

    log(observed / w) = a + b log(simulated / w) + error

fitted by least squares on the training years and judged on held-out years (the
deflation lets costs follow wages from year to year).  The
report gives both the raw simulator's error and the calibrated error (median, quartiles,
5th and 95th percentiles of the relative error, mean absolute percentage error).

Two further fits use the Kolada panel: the staff pool ``T`` that reproduces each
municipality's staff continuity (U21401: staff met in 14 days by recipients with two
or more visits a day, ``T (1 - (1 - 1/T)^n) = U21401``), and the descriptive
association between continuity and the user-survey items (U214xx).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tillit.core.compensation.behaviour import Priors
from tillit.core.compensation.engine import DAYS_14, TWO_A_DAY
from tillit.core.compensation.models import single
from tillit.core.compensation.montecarlo import simulate
from tillit.core.compensation.population import generate_population
from tillit.core.errors import DataError, EstimationError
from tillit.core.results import jsonable_dict

__all__ = [
    "Calibration",
    "calibrate",
    "error_summary",
    "survey_associations",
    "team_size_for_continuity",
    "travel_minutes_for_density",
]

REQUIRED = ("municipality", "year", "cost_per_recipient", "granted_hours")
Progress = Callable[[int, int], None]


def travel_minutes_for_density(density: np.ndarray | float) -> np.ndarray:
    """Mean travel minutes per visit for inhabitants per km2 (assumption, docs):
    ``30 density^-0.2`` within 4-40 minutes (5 400/km2: 5 min; 1/km2: 30 min).

    >>> travel_minutes_for_density(np.array([1.0, 100.0, 5400.0])).round(1).tolist()
    [30.0, 11.9, 5.4]
    """
    d = np.maximum(np.asarray(density, dtype=float), 0.01)
    return np.asarray(np.clip(30.0 * d**-0.2, 4.0, 40.0))


def team_size_for_continuity(staff_met: float, cancel_rate: float = 0.04) -> float:
    """The pool ``T`` from which ``n`` visits in 14 days meet ``staff_met`` staff.

    ``n`` is two visits a day for 14 days less cancellations (U21401's population).

    >>> round(team_size_for_continuity(16.0), 2)
    22.89
    """
    from scipy import optimize

    n = TWO_A_DAY * DAYS_14 * (1.0 - cancel_rate)
    if not 1.0 <= staff_met < n:
        raise DataError(
            f"staff met in 14 days must be between 1 and {n:.0f}", field="continuity"
        )
    if staff_met == 1.0:
        return 1.0

    def gap(t: float) -> float:
        return float(t * (1.0 - (1.0 - 1.0 / t) ** n) - staff_met)

    root: float = optimize.brentq(gap, 1.0 + 1e-9, 1e6, xtol=1e-10)
    return float(root)


def error_summary(observed: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """Relative error ``(predicted - observed) / observed``: quantiles, MAPE, RMSE."""
    rel = (predicted - observed) / observed
    return {
        "n": int(rel.size),
        "median": float(np.median(rel)),
        "p05": float(np.quantile(rel, 0.05)),
        "p25": float(np.quantile(rel, 0.25)),
        "p75": float(np.quantile(rel, 0.75)),
        "p95": float(np.quantile(rel, 0.95)),
        "mape": float(np.mean(np.abs(rel))),
        "rmse_kr": float(np.sqrt(np.mean((predicted - observed) ** 2))),
    }


def _simulated(
    row: Any, rate: float, staff_cost: float, priors: Priors, n: int, seed: int
) -> float:
    pop = generate_population(
        n,
        mean_hours=float(row.granted_hours),
        share_heavy=None if pd.isna(row.share_heavy) else float(row.share_heavy),
        private_share=float(row.private_share),
        travel_minutes=float(row.travel_minutes),
        seed=seed,
    )
    nums = {
        k: tuple((p.mean, p.sd, p.lo, p.hi) for p in v)
        for k, v in priors.priors.items()
    }
    base = nums["staff_cost"][0]
    nums["staff_cost"] = (
        (staff_cost, base[1], min(base[2], staff_cost), max(base[3], staff_cost)),
    )
    model = single(
        "ref",
        "granted_time",
        rate_day_personal=rate,
        rate_day_service=rate,
        rate_evening=rate,
        rate_night=rate,
    )
    res = simulate(pop, model, Priors.from_numbers(nums))
    own = res.outputs["cost_by_provider"][0, 0, 0]
    bought = res.outputs["payments_by_provider"][0, 0, 1:].sum()
    return float((own + bought) / pop.n)


@dataclass(frozen=True)
class Calibration:
    """The fitted map from simulated to observed cost per recipient, and its errors."""

    a: float
    b: float
    train_years: tuple[int, ...]
    test_years: tuple[int, ...]
    errors: Mapping[str, Mapping[str, float]]
    rows: pd.DataFrame
    team_size: Mapping[str, float]
    source: str

    def predict(
        self, simulated: np.ndarray | float, staff_cost: np.ndarray | float
    ) -> np.ndarray:
        """Calibrated cost per recipient from simulated cost per recipient and the
        year's staff cost per hour."""
        w = np.asarray(staff_cost, dtype=float)
        return np.asarray(
            w * np.exp(self.a) * (np.asarray(simulated, dtype=float) / w) ** self.b
        )

    def to_dict(self) -> dict[str, Any]:
        """Stable JSON (``docs/compensation.md``)."""
        return jsonable_dict(
            {
                "version": 1,
                "source": self.source,
                "model": "log(observed / staff_cost) = a + b log(simulated / staff_cost)",
                "a": self.a,
                "b": self.b,
                "train_years": list(self.train_years),
                "test_years": list(self.test_years),
                "n_municipalities": int(self.rows["municipality"].nunique()),
                "errors": {k: dict(v) for k, v in self.errors.items()},
                "team_size": dict(self.team_size),
            }
        )

    def tidy(self) -> pd.DataFrame:
        """One row per municipality and year with observed, simulated and calibrated."""
        return self.rows.copy()

    def summary(self) -> str:
        """The error table (codes; the CLI words it)."""
        t = pd.DataFrame(self.errors).T[["n", "median", "p05", "p95", "mape"]]
        return f"a={self.a:.3f} b={self.b:.3f}\n" + t.to_string(
            float_format=lambda x: f"{x:.3f}"
        )


def _prepare(frame: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise DataError(
            f"calibration data lacks column {missing[0]!r}", field=missing[0]
        )
    df = frame.copy()
    for col in ("private_share", "share_heavy", "travel_minutes", "continuity"):
        if col not in df.columns:
            df[col] = np.nan
    df["private_share"] = df["private_share"].fillna(0.0).clip(0.0, 1.0)
    df["travel_minutes"] = df["travel_minutes"].fillna(10.0)
    ok = (
        (df["cost_per_recipient"] > 0)
        & (df["granted_hours"] > 0)
        & np.isfinite(df["cost_per_recipient"])
        & np.isfinite(df["granted_hours"])
    )
    out: pd.DataFrame = df[ok].reset_index(drop=True)
    return out


def calibrate(
    frame: pd.DataFrame,
    *,
    rates: Mapping[int, float],
    staff_cost: Mapping[int, float],
    test_years: Sequence[int],
    priors: Priors | None = None,
    n_recipients: int = 1000,
    seed: int = 2016,
    source: str = "",
    progress: Progress | None = None,
) -> Calibration:
    """Fit ``log(observed / w) = a + b log(simulated / w)`` and report its errors.

    Parameters
    ----------
    frame
        One row per municipality and year: ``municipality, year, cost_per_recipient,
        granted_hours`` (a month) and optionally ``private_share`` (0-1),
        ``share_heavy`` (0-1), ``travel_minutes`` and ``continuity`` (U21401).
    rates, staff_cost
        The reference rate (kr per granted hour) and the staff cost per hour of each
        year.
    test_years
        Held-out years; the other years train.

    Raises
    ------
    EstimationError
        Fewer than 10 training or 5 test rows.
    """
    df = _prepare(frame)
    priors = priors or Priors.default()
    years = sorted(int(y) for y in df["year"].unique())
    for y in years:
        if y not in rates or y not in staff_cost:
            raise DataError(f"no reference rate or staff cost for {y}", field="year")
    sims = np.empty(len(df))
    for i, row in enumerate(df.itertuples(index=False)):
        yr = int(str(row.year))
        sims[i] = _simulated(
            row,
            rates[yr],
            staff_cost[yr],
            priors,
            n_recipients,
            seed + i,
        )
        if progress is not None:
            progress(i + 1, len(df))
    df["simulated"] = sims
    test = df["year"].isin(list(test_years)).to_numpy()
    if (~test).sum() < 10 or test.sum() < 5:
        raise EstimationError("calibration needs at least 10 training and 5 test rows")
    w = df["year"].map(lambda yr: staff_cost[int(yr)]).to_numpy(dtype=float)
    df["staff_cost"] = w
    x = np.log(sims / w)
    y = np.log(df["cost_per_recipient"].to_numpy(dtype=float) / w)
    design = np.column_stack([np.ones(len(df)), x])
    coef, *_ = np.linalg.lstsq(design[~test], y[~test], rcond=None)
    a, b = float(coef[0]), float(coef[1])
    df["calibrated"] = w * np.exp(a + b * x)
    obs = df["cost_per_recipient"].to_numpy(dtype=float)
    errors = {
        "raw_train": error_summary(obs[~test], sims[~test]),
        "raw_test": error_summary(obs[test], sims[test]),
        "calibrated_train": error_summary(
            obs[~test], df["calibrated"].to_numpy()[~test]
        ),
        "calibrated_test": error_summary(obs[test], df["calibrated"].to_numpy()[test]),
    }
    team = _team_sizes(df)
    test_set = tuple(int(t) for t in sorted(set(test_years) & set(years)))
    return Calibration(
        a,
        b,
        tuple(y for y in years if y not in test_set),
        test_set,
        errors,
        df,
        team,
        source,
    )


def _team_sizes(df: pd.DataFrame) -> dict[str, float]:
    vals = df["continuity"].dropna().to_numpy(dtype=float)
    ts = [team_size_for_continuity(v) for v in vals if 1.0 <= v < 26.0]
    if not ts:
        return {}
    arr = np.array(ts)
    return {
        "n": float(arr.size),
        "median": float(np.median(arr)),
        "p25": float(np.quantile(arr, 0.25)),
        "p75": float(np.quantile(arr, 0.75)),
        "mean": float(arr.mean()),
        "sd": float(arr.std(ddof=1)) if arr.size > 1 else 0.0,
    }


def survey_associations(frame: pd.DataFrame, items: Sequence[str]) -> pd.DataFrame:
    """Descriptive slopes of user-survey items on staff continuity (not causal).

    ``frame`` has ``continuity`` and one column per item; each item is regressed on
    continuity with year means removed (pooled within-year association).

    Returns
    -------
    pandas.DataFrame
        ``item, n, slope, se, r2`` (slope: points of the item per one more staff met).
    """
    rows = []
    for item in items:
        if item not in frame.columns:
            continue
        d = frame[["year", "continuity", item]].dropna()
        if len(d) < 20:
            continue
        xc = d["continuity"] - d.groupby("year")["continuity"].transform("mean")
        yc = d[item] - d.groupby("year")[item].transform("mean")
        sxx = float((xc**2).sum())
        slope = float((xc * yc).sum() / sxx)
        resid = yc - slope * xc
        dof = len(d) - 1 - d["year"].nunique()
        se = float(np.sqrt((resid**2).sum() / max(dof, 1) / sxx))
        r2 = (
            1.0 - float((resid**2).sum() / (yc**2).sum())
            if (yc**2).sum() > 0
            else np.nan
        )
        rows.append((item, len(d), slope, se, r2))
    return pd.DataFrame(rows, columns=["item", "n", "slope", "se", "r2"])
