"""Analyse a randomised, cluster-randomised or stepped-wedge pilot.

Model: ``y = b D + Z g + e`` by least squares, where ``Z`` holds an intercept, stratum
effects (stratified designs), and, for a stepped wedge, cluster and period fixed effects
(the Hussey & Hughes 2007 model with fixed cluster effects). Covariate adjustment with
pre-period outcomes is ANCOVA (covariates centred in ``Z``) or CUPED (Deng et al. 2013:
``y - theta'(x - mean x)`` with ``theta`` from the pooled regression of ``y`` on ``x``).

Inference: CR2 (Bell-McCaffrey, Satterthwaite df) or CR1 (``G - 1`` df) clustered on the
randomisation unit, and a randomisation-inference p-value from re-drawing the assignment
under the actual design (complete, stratified, cluster, stepped-wedge), seeded; exact
enumeration when the number of allocations is at most ``permutations``.

Example
-------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> df = pd.DataFrame({"d": np.repeat([0, 1], 20), "y": rng.normal(size=40)})
>>> res = analyse_trial(df, "y", "d", permutations=200, seed=1)
>>> res.design
'complete'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from tillit.core.errors import DataError, EstimationError
from tillit.core.results import Estimate
from tillit.core.trials.assign import enumerate_complete, n_allocations, permute_within
from tillit.core.trials.balance import balance_table
from tillit.core.trials.result import TrialResult
from tillit.core.trials.ri import cell_stats, ri_pvalue
from tillit.core.trials.robust import OlsFit, ols_robust

__all__ = ["analyse_trial"]


@dataclass(frozen=True)
class _Prepared:
    y: np.ndarray
    d: np.ndarray
    z: np.ndarray
    z_names: tuple[str, ...]  # reported columns of z (covariates)
    unit: np.ndarray  # randomisation unit code per row
    n_units: int
    block: np.ndarray | None  # stratum per unit
    start: np.ndarray | None  # stepped wedge: crossover period per unit (inf = never)
    period: np.ndarray | None  # stepped wedge: period code per row
    design: str
    dropped: int
    x_raw: np.ndarray  # covariates, uncentred


def _column(df: pd.DataFrame, name: str, numeric: bool = True) -> pd.Series:
    if name not in df.columns:
        raise DataError(
            f"no column {name!r}; the data has {', '.join(map(str, df.columns))}",
            field=name,
        )
    col = df[name]
    if numeric:
        conv = pd.to_numeric(col, errors="coerce")
        bad = np.flatnonzero(conv.isna() & col.notna())
        if bad.size:
            raise DataError(
                f"not a number: {col.iloc[bad[0]]!r}", row=int(bad[0]) + 1, field=name
            )
        return conv
    return col


def _constant_within(
    values: np.ndarray, unit: np.ndarray, what: str, field: str
) -> None:
    frame = pd.DataFrame({"u": unit, "v": values})
    n = frame.groupby("u")["v"].nunique()
    if (n > 1).any():
        raise DataError(
            f"{what} varies within cluster {n.index[n > 1][0]!r}", field=field
        )


def _prepare(
    data: pd.DataFrame,
    outcome: str,
    treatment: str,
    cluster: str | None,
    stratum: str | None,
    covariates: Sequence[str],
    time: str | None,
) -> _Prepared:
    used = [outcome, treatment, *covariates] + [
        c for c in (cluster, stratum, time) if c
    ]
    cols = {c: _column(data, c, numeric=c not in (cluster, stratum)) for c in used}
    frame = pd.DataFrame(cols)
    keep = frame.notna().all(axis=1).to_numpy()
    frame = frame.loc[keep].reset_index(drop=True)
    d = frame[treatment].to_numpy(dtype=float)
    if not np.all(np.isin(d, (0.0, 1.0))):
        raise DataError("treatment must be 0 or 1", field=treatment)
    if time is None and (d.min() == d.max()):
        raise EstimationError("everyone has the same treatment; nothing to compare")
    y = frame[outcome].to_numpy(dtype=float)
    if cluster:
        unit_codes, unit = np.unique(frame[cluster].astype(str), return_inverse=True)
    else:
        unit_codes, unit = np.arange(len(frame)), np.arange(len(frame))
    n_units = len(unit_codes)
    first = pd.Series(np.arange(len(frame))).groupby(unit).first().to_numpy()
    block = None
    if stratum:
        strat = frame[stratum].astype(str).to_numpy()
        if cluster:
            _constant_within(strat, unit, "stratum", stratum)
        block = strat[first]
    x_raw = frame[list(covariates)].to_numpy(dtype=float).reshape(len(frame), -1)
    x = x_raw - x_raw.mean(0) if x_raw.size else x_raw
    start = period = None
    if time is None:
        if cluster:
            _constant_within(d, unit, "treatment", treatment)
        parts = [np.ones((len(frame), 1))]
        if block is not None:
            parts.append(
                pd.get_dummies(block[unit], drop_first=True).to_numpy(dtype=float)
            )
        design = {(False, False): "complete", (False, True): "stratified"}.get(
            (bool(cluster), block is not None),
            "stratified-cluster" if block is not None else "cluster",
        )
    else:
        if not cluster:
            raise DataError("a stepped-wedge analysis needs --cluster", field="cluster")
        t_codes, period = np.unique(
            frame[time].to_numpy(dtype=float), return_inverse=True
        )
        start = _crossovers(d, unit, period, n_units, t_codes, treatment)
        parts = [
            pd.get_dummies(unit).to_numpy(dtype=float),
            pd.get_dummies(period, drop_first=True).to_numpy(dtype=float),
        ]
        design = "stepped-wedge"
    z = np.column_stack([*parts, x])
    return _Prepared(
        y,
        d,
        z,
        tuple(covariates),
        unit,
        n_units,
        block,
        start,
        period,
        design,
        int((~keep).sum()),
        x_raw,
    )


def _crossovers(
    d: np.ndarray,
    unit: np.ndarray,
    period: np.ndarray,
    n_units: int,
    t_codes: np.ndarray,
    field: str,
) -> np.ndarray:
    """First treated period code per cluster (inf if never); checks once-on-stays-on."""
    first_on = np.full(n_units, np.inf)
    np.minimum.at(first_on, unit[d == 1], period[d == 1].astype(float))
    should = period >= first_on[unit]
    if np.any(should != (d == 1)):
        row = int(np.flatnonzero(should != (d == 1))[0]) + 1
        raise DataError(
            "in a stepped wedge a cluster stays treated once it crosses over",
            row=row,
            field=field,
        )
    if np.isfinite(first_on).all() and np.all(first_on == first_on[0]):
        raise EstimationError("all clusters cross over at the same period; no contrast")
    return first_on


def _cuped(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    if x.shape[1] == 0:
        return y
    theta, *_ = np.linalg.lstsq(np.column_stack([np.ones(len(y)), x]), y, rcond=None)
    out: np.ndarray = y - x @ theta[1:]
    return out


def _draw_fn(p: _Prepared, rng: np.random.Generator, exact: bool):  # type: ignore[no-untyped-def]
    """Return draw(m) -> cell assignments (cells, m) and the cell id per row."""
    if p.start is None:
        unit_d = np.zeros(p.n_units)
        unit_d[p.unit] = p.d
        if exact:
            allocations = enumerate_complete(unit_d)
            pos = [0]

            def draw_exact(m: int) -> np.ndarray:
                out = allocations[pos[0] : pos[0] + m].T
                pos[0] += m
                return out

            return draw_exact, p.unit, p.n_units, len(allocations)
        return (
            (lambda m: permute_within(unit_d, p.block, m, rng).T),
            p.unit,
            p.n_units,
            None,
        )
    # stepped wedge: cells are cluster x period, permute crossover periods across clusters
    if p.period is None:  # pragma: no cover - guarded by the caller
        raise EstimationError("internal: stepped wedge without periods")
    start = p.start
    n_t = int(p.period.max()) + 1
    cell = p.unit * n_t + p.period
    cell_unit = np.repeat(np.arange(p.n_units), n_t)
    cell_t = np.tile(np.arange(n_t), p.n_units)

    def draw_sw(m: int) -> np.ndarray:
        starts = permute_within(start, p.block, m, rng)  # (m, units)
        return (cell_t[:, None] >= starts.T[cell_unit]).astype(float)

    return draw_sw, cell, p.n_units * n_t, None


def analyse_trial(
    data: pd.DataFrame,
    outcome: str,
    treatment: str,
    *,
    cluster: str | None = None,
    stratum: str | None = None,
    covariates: Sequence[str] = (),
    time: str | None = None,
    adjust: str = "ancova",
    vcov: str = "CR2",
    permutations: int = 1000,
    seed: int | None = None,
    level: float = 0.95,
    balance: bool = True,
) -> TrialResult:
    """Estimate a pilot's effect with cluster-robust and randomisation inference.

    Parameters
    ----------
    data
        One row per observation (person, unit, or cluster-period).
    outcome, treatment
        Outcome column and the 0/1 treatment column.
    cluster
        Randomisation cluster (cluster-randomised and stepped-wedge designs).
    stratum
        Randomisation stratum (block); re-randomisation stays within it.
    covariates
        Pre-period outcomes or other baseline covariates.
    time
        Period column: makes this a stepped-wedge analysis (cluster and period effects).
    adjust
        ``"ancova"`` (covariates in the regression), ``"cuped"`` or ``"none"``.
    vcov
        ``"CR2"`` (Bell-McCaffrey df) or ``"CR1"`` (``G - 1`` df).
    permutations
        Re-randomisations for the RI p-value (0 to skip).
    seed
        Seed of the re-randomisations (recorded in the result).
    """
    if adjust not in ("ancova", "cuped", "none"):
        raise DataError(f"adjust must be ancova, cuped or none, not {adjust!r}")
    if vcov not in ("CR1", "CR2"):
        raise DataError(f"vcov must be CR1 or CR2, not {vcov!r}")
    p = _prepare(data, outcome, treatment, cluster, stratum, covariates, time)
    n_cov = len(covariates)
    y, z = p.y, p.z
    if adjust != "ancova" and n_cov:
        cov = z[:, z.shape[1] - n_cov :]
        z = z[:, : z.shape[1] - n_cov]
        if adjust == "cuped":
            y = _cuped(y, cov)
    x = np.column_stack([p.d, z])
    fit = ols_robust(y, x, p.unit if (cluster or p.start is not None) else None, vcov)
    b, se, df = float(fit.beta[0]), float(fit.se[0]), float(fit.df[0])
    crit = stats.t.ppf(0.5 + level / 2, df)
    est = Estimate(
        b,
        se,
        b - crit * se,
        b + crit * se,
        float(2 * stats.t.sf(abs(b / se), df)),
        level,
    )
    coefs = [_coef_row("treatment", fit, 0, level)]
    if adjust == "ancova":
        offset = x.shape[1] - n_cov
        coefs += [
            _coef_row(c, fit, offset + j, level) for j, c in enumerate(covariates)
        ]
    rng = np.random.default_rng(seed)
    ri_p, draws, n_perm, exact = np.nan, np.empty(0), 0, False
    if permutations > 0:
        exact = (
            p.start is None
            and p.block is None
            and n_allocations(np.bincount(p.unit, weights=p.d, minlength=p.n_units) > 0)
            <= permutations
        )
        draw, cell, n_cells, n_exact = _draw_fn(p, rng, exact)
        n_perm = n_exact if exact else permutations
        st = cell_stats(y, z, cell, n_cells)
        ri_p, draws = ri_pvalue(b, st, draw, n_perm, exact)
    unit_d = np.bincount(p.unit, weights=p.d, minlength=p.n_units) > 0
    bal = None
    if balance and n_cov:
        cov_frame = pd.DataFrame(
            p.z[:, p.z.shape[1] - n_cov :], columns=list(covariates)
        )
        if p.start is None:
            bal = balance_table(
                cov_frame,
                p.d,
                p.unit if cluster else None,
                None if p.block is None else p.block[p.unit],
            )
    return TrialResult(
        estimate=est,
        df=df,
        vcov=vcov,
        ri_p_value=ri_p,
        permutations=n_perm,
        exact=exact,
        seed=seed,
        design=p.design,
        adjust=adjust if n_cov else "none",
        n=len(p.y),
        n_clusters=p.n_units,
        n_treated=int(unit_d.sum()),
        n_control=int((~unit_d).sum()),
        coefficients=tuple(coefs),
        balance=bal,
        dropped=p.dropped,
        ri_draws=draws,
    )


def _coef_row(term: str, fit: OlsFit, j: int, level: float) -> dict[str, object]:
    b, se, df = float(fit.beta[j]), float(fit.se[j]), float(fit.df[j])
    c = stats.t.ppf(0.5 + level / 2, df)
    return {
        "term": term,
        "estimate": b,
        "se": se,
        "df": df,
        "ci_low": b - c * se,
        "ci_high": b + c * se,
        "p_value": float(2 * stats.t.sf(abs(b / se), df)),
    }
