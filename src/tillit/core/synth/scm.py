"""Synthetic control on a long panel, with placebo inference.

``synth(data, ...)`` fits Abadie, Diamond & Hainmueller (2010) synthetic controls for
one or several treated units (each with its own treatment start, so staggered starts
work), and by default runs placebo-in-space inference: every donor is refitted as if it
were treated (the treated units are left out of every placebo's donor pool), the
post/pre RMSPE ratio of each fit is computed (ADH 2010 Section 4), and the permutation
p-value is the share of ratios at least as large as the treated one, the treated unit
included: ``(1 + #{placebo ratio >= treated ratio}) / (1 + #placebos)``.  With several
treated units the statistic is the mean of their ratios and its reference distribution
comes from random sets of distinct donors of the same size, each donor at its treated
unit's start (Cavallo, Galiani, Noy & Pantano 2013), seeded.  ``placebo="time"``
instead backdates the treatment to an earlier period and reports the gap there.

Several treated units: each is fitted on its own (``fits``); ``gap`` is their average in
event time (periods since each unit's start); ``pooled`` is one synthetic control for the
average of the treated units when they share a start.

Example
-------
>>> res = synth(df, outcome="cigsale", unit="state", time="year",
...             treated_units=["California"], treatment_start=1989,
...             predictors=["cigsale@1975", "cigsale@1980", "cigsale@1988",
...                         "beer@1984-1988", "lnincome@1980-1988"])  # doctest: +SKIP
>>> res.p_value  # doctest: +SKIP
0.02564102564102564
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from itertools import combinations
from math import comb

import numpy as np
import pandas as pd

from tillit.core.errors import DataError, EstimationError
from tillit.core.synth._panel import WidePanel, py, resolve_starts, to_wide
from tillit.core.synth._predictors import (
    PredictorSpec,
    parse_predictor,
    predictor_matrix,
)
from tillit.core.synth._scm import SCFit, fit_sc, fit_sc_batch
from tillit.core.synth.synth_result import PlaceboFit, SynthResult, UnitFit

__all__ = ["synth"]

PLACEBOS = ("space", "time", "none")
VARIANTS = ("standard", "demeaned", "penalized")


class _Problem:
    """Everything a fit needs: the panel, predictor specs, variant and V."""

    def __init__(
        self,
        data: pd.DataFrame,
        panel: WidePanel,
        specs: list[PredictorSpec],
        unit: str,
        time: str,
        outcome: str,
        variant: str,
        penalty: float,
        v: np.ndarray | None,
    ) -> None:
        self.data, self.panel, self.specs = data, panel, specs
        self.unit, self.time, self.outcome = unit, time, outcome
        self.variant, self.penalty, self.v = variant, penalty, v
        self._X: dict[tuple[int, int], tuple[np.ndarray, list[str]]] = {}

    def outcomes(self, start: int, end: int) -> np.ndarray:
        """Outcome matrix up to column ``end`` (demeaned over ``[0, start)`` if asked)."""
        Y = self.panel.Y[:, :end]
        if self.variant == "demeaned":
            Y = Y - Y[:, :start].mean(axis=1, keepdims=True)
        return Y

    def predictors(self, start: int, clip: bool) -> tuple[np.ndarray, list[str]] | None:
        if not self.specs:
            return None
        key = (start, int(clip))
        if key not in self._X:
            times = self.panel.times
            pre_end = float(times[start])
            specs = self.specs
            if clip:
                specs = [s for s in specs if _spec_before(s, times, pre_end)]
                if not specs:
                    raise DataError("no predictor lies before the placebo start")
            data = self.data
            if self.variant == "demeaned":
                data = _demeaned(data, self.unit, self.time, self.outcome, pre_end)
            self._X[key] = predictor_matrix(
                data,
                specs,
                unit=self.unit,
                time=self.time,
                units=list(self.panel.units),
                times=times,
                pre_end=pre_end,
            )
        return self._X[key]

    def fit(
        self, target: int, donors: np.ndarray, start: int, end: int, clip: bool = False
    ) -> SCFit:
        Y = self.outcomes(start, end)
        X = self.predictors(start, clip)
        X1 = X0 = None
        if X is not None:
            X1, X0 = X[0][:, target], X[0][:, donors]
        pen = self.penalty if self.variant == "penalized" else 0.0
        return fit_sc(Y[target], Y[donors], start, X1=X1, X0=X0, v=self.v, penalty=pen)

    def fit_many(
        self, jobs: list[tuple[int, np.ndarray]], start: int, end: int
    ) -> list[SCFit]:
        """Fit ``(target, donors)`` jobs; with nested ``V``, all in one batch."""
        X = self.predictors(start, False)
        if X is None or self.v is not None or len(jobs) < 2:
            return [self.fit(t, d, start, end) for t, d in jobs]
        Y = self.outcomes(start, end)
        size = np.array([len(d) for _, d in jobs])
        J = int(size.max())
        pad = np.array(
            [np.concatenate([d, np.repeat(d[:1], J - len(d))]) for _, d in jobs]
        )
        real = np.arange(J)[None, :] < size[:, None]
        tg = np.array([t for t, _ in jobs])
        pen = self.penalty if self.variant == "penalized" else 0.0
        return fit_sc_batch(
            Y[tg],
            Y[pad],
            start,
            X[0][:, tg].T,
            np.swapaxes(X[0][:, pad], 0, 1),
            real=real,
            penalty=pen,
        )


def _spec_before(spec: PredictorSpec, times: np.ndarray, pre_end: float) -> bool:
    if spec.at is not None:
        return spec.at < pre_end
    if spec.lo is not None:
        return spec.hi is not None and spec.hi < pre_end
    return True


def _demeaned(
    data: pd.DataFrame, unit: str, time: str, outcome: str, pre_end: float
) -> pd.DataFrame:
    d = data.copy()
    y = pd.to_numeric(d[outcome], errors="coerce")
    pre = pd.to_numeric(d[time], errors="coerce") < pre_end
    means = y.where(pre).groupby(d[unit]).transform("mean")
    d[outcome] = y - means
    return d


def _specs(predictors: Sequence[str | PredictorSpec] | None) -> list[PredictorSpec]:
    out: list[PredictorSpec] = []
    for p in predictors or ():
        out.extend(parse_predictor(p) if isinstance(p, str) else [p])
    return out


def synth(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    treated_units: Sequence[Hashable],
    treatment_start: float | Mapping[Hashable, float],
    predictors: Sequence[str | PredictorSpec] | None = None,
    v: Sequence[float] | None = None,
    variant: str = "standard",
    penalty: float = 0.0,
    placebo: str = "space",
    placebo_start: float | None = None,
    donors: Sequence[Hashable] | None = None,
    seed: int | None = None,
    max_sets: int = 10_000,
) -> SynthResult:
    """Fit synthetic controls and run placebo inference.

    Parameters
    ----------
    data
        Long balanced panel.
    outcome, unit, time
        Column names.
    treated_units
        Treated unit labels.
    treatment_start
        First treated period, shared or per unit (staggered).
    predictors
        Predictor specs (``"beer@1984-1988"``, ``"cigsale@1975"``, ``"lnincome"``); none
        means every pre-period outcome, equally weighted (the weights then minimise the
        pre-period MSPE directly).
    v
        Predictor weights (diagonal of ``V``); chosen by nested optimisation when absent.
    variant
        ``"standard"``, ``"demeaned"`` (intercept: outcomes minus their pre-period mean)
        or ``"penalized"`` (Abadie & L'Hour 2021 with ``penalty``).
    placebo
        ``"space"`` (default), ``"time"`` or ``"none"``.
    placebo_start
        Fake start for ``placebo="time"`` (default: the middle of the pre-period).
    donors
        Donor pool (default: every untreated unit).
    seed
        Seed for the random donor sets used with several treated units.
    max_sets
        Largest number of donor sets drawn for the several-treated p-value.
    """
    if placebo not in PLACEBOS:
        raise EstimationError(f"unknown placebo '{placebo}'; use space, time or none")
    if variant not in VARIANTS:
        raise EstimationError(f"unknown variant '{variant}'; use {', '.join(VARIANTS)}")
    if variant == "penalized" and penalty <= 0:
        raise EstimationError("the penalized variant needs a penalty > 0")
    panel = to_wide(data, outcome=outcome, unit=unit, time=time)
    starts = resolve_starts(panel, treated_units, treatment_start, min_pre=2)
    pool = _donor_pool(panel, starts, donors)
    specs = _specs(predictors)
    vv = None if v is None else np.asarray(v, dtype=float)
    if vv is not None and (len(vv) != len(specs) or np.any(vv < 0) or vv.sum() <= 0):
        raise DataError(
            f"give {len(specs)} non-negative predictor weights (one per predictor)"
        )
    prob = _Problem(data, panel, specs, unit, time, outcome, variant, penalty, vv)
    T = panel.Y.shape[1]
    fits, placebos = _fit_all(prob, starts, pool, T, placebo == "space")
    unit_fits = tuple(
        _unit_fit(panel, prob, row, starts[row], pool, f) for row, f in fits.items()
    )
    p_value = np.nan
    time_placebo = None
    if placebo == "space":
        p_value = _p_value(fits, starts, placebos, panel.times, seed, max_sets)
    elif placebo == "time":
        time_placebo = _time_placebo(prob, starts, pool, placebo_start)
    pooled = _pooled(prob, starts, pool, T) if len(starts) > 1 else None
    return SynthResult.build(
        panel=panel,
        fits=unit_fits,
        placebos=placebos,
        p_value=p_value,
        time_placebo=time_placebo,
        pooled=pooled,
        variant=variant,
        placebo=placebo,
        seed=seed,
        donors=tuple(str(panel.units[i]) for i in pool),
    )


def _donor_pool(
    panel: WidePanel, starts: dict[int, int], donors: Sequence[Hashable] | None
) -> np.ndarray:
    treated = set(starts)
    if donors is None:
        pool = [i for i in range(len(panel.units)) if i not in treated]
    else:
        pool = sorted({panel.index_of(d) for d in donors} - treated)
    if len(pool) < 2:
        raise EstimationError(
            "too few donor units: synthetic control needs at least two"
        )
    return np.array(pool)


def _unit_fit(
    panel: WidePanel,
    prob: _Problem,
    row: int,
    col: int,
    pool: np.ndarray,
    fit: SCFit,
    clip: bool = False,
) -> UnitFit:
    X = prob.predictors(col, clip)
    labels = X[1] if X is not None else []
    return UnitFit(
        unit=str(panel.units[row]),
        start=py(panel.times[col]),
        start_col=col,
        weights={
            str(panel.units[j]): float(w)
            for j, w in zip(pool, fit.weights, strict=True)
        },
        v=dict(zip(labels, fit.v.tolist(), strict=True)) if fit.v is not None else {},
        actual=prob.outcomes(col, panel.Y.shape[1])[row],
        synthetic=fit.synthetic,
        gap=fit.gap,
        pre_rmspe=fit.pre_rmspe,
        post_rmspe=fit.post_rmspe,
        exact_predictor_fit=fit.exact,
    )


def _fit_all(
    prob: _Problem, starts: dict[int, int], pool: np.ndarray, T: int, space: bool
) -> tuple[dict[int, SCFit], tuple[PlaceboFit, ...]]:
    """Fit the treated units and (``space``) refit every donor as if treated.

    All fits at one start (the treated units and the placebo refits) form one batch.
    """
    fits: dict[int, SCFit] = {}
    out = []
    for col in sorted(set(starts.values())):
        rows = [r for r, c in starts.items() if c == col]
        jobs = [(r, pool) for r in rows]
        if space:
            jobs += [(int(d), pool[pool != d]) for d in pool]
        res = prob.fit_many(jobs, col, T)
        fits.update(zip(rows, res[: len(rows)], strict=True))
        for d, f in zip(pool if space else [], res[len(rows) :], strict=True):
            out.append(
                PlaceboFit(
                    str(prob.panel.units[d]),
                    py(prob.panel.times[col]),
                    f.gap,
                    f.pre_rmspe,
                    f.post_rmspe,
                )
            )
    return {row: fits[row] for row in starts}, tuple(out)


def _p_value(
    fits: dict[int, SCFit],
    starts: dict[int, int],
    placebos: tuple[PlaceboFit, ...],
    times: np.ndarray,
    seed: int | None,
    max_sets: int,
) -> float:
    """Permutation p-value of the (mean) post/pre RMSPE ratio."""
    stat = float(np.mean([f.ratio for f in fits.values()]))
    if len(fits) == 1:
        ref = np.array([p.ratio for p in placebos])
        return float((1 + np.sum(ref >= stat * (1 - 1e-12))) / (1 + len(ref)))
    ratio = {(p.unit, p.start): p.ratio for p in placebos}
    units = sorted({p.unit for p in placebos})
    tstarts = [py(times[starts[r]]) for r in fits]
    n = len(fits)
    if n > len(units):
        raise EstimationError(
            "fewer donors than treated units: no placebo sets possible"
        )
    rng = np.random.default_rng(seed)
    if comb(len(units), n) <= max_sets:
        sets = list(combinations(range(len(units)), n))
    else:
        sets = [
            tuple(rng.choice(len(units), n, replace=False)) for _ in range(max_sets)
        ]
    means = np.array(
        [
            np.mean([ratio[(units[j], s)] for j, s in zip(c, tstarts, strict=True)])
            for c in sets
        ]
    )
    return float((1 + np.sum(means >= stat * (1 - 1e-12))) / (1 + len(means)))


def _time_placebo(
    prob: _Problem,
    starts: dict[int, int],
    pool: np.ndarray,
    placebo_start: float | None,
) -> tuple[UnitFit, ...]:
    out = []
    times = prob.panel.times
    for row, col in starts.items():
        if placebo_start is None:
            fake = col // 2
        else:
            fake = int(np.searchsorted(times.astype(float), float(placebo_start)))
        if fake < 2 or fake >= col:
            raise DataError(
                f"placebo start must leave two earlier periods and lie before the "
                f"treatment start {times[col]}"
            )
        sub = _Problem(
            prob.data,
            _truncate(prob.panel, col),
            prob.specs,
            prob.unit,
            prob.time,
            prob.outcome,
            prob.variant,
            prob.penalty,
            prob.v,
        )
        f = sub.fit(row, pool, fake, col, clip=True)
        out.append(_unit_fit(sub.panel, sub, row, fake, pool, f, clip=True))
    return tuple(out)


def _truncate(panel: WidePanel, end: int) -> WidePanel:
    return WidePanel(panel.Y[:, :end], panel.units, panel.times[:end])


def _pooled(
    prob: _Problem, starts: dict[int, int], pool: np.ndarray, T: int
) -> UnitFit | None:
    cols = set(starts.values())
    if len(cols) != 1:
        return None
    col = cols.pop()
    rows = np.array(sorted(starts))
    Y = prob.outcomes(col, T)
    y1 = Y[rows].mean(axis=0)
    X = prob.predictors(col, False)
    X1 = X0 = None
    if X is not None:
        X1, X0 = X[0][:, rows].mean(axis=1), X[0][:, pool]
    pen = prob.penalty if prob.variant == "penalized" else 0.0
    f = fit_sc(y1, Y[pool], col, X1=X1, X0=X0, v=prob.v, penalty=pen)
    labels = X[1] if X is not None else []
    return UnitFit(
        unit="pooled",
        start=py(prob.panel.times[col]),
        start_col=col,
        weights={
            str(prob.panel.units[j]): float(w)
            for j, w in zip(pool, f.weights, strict=True)
        },
        v=dict(zip(labels, f.v.tolist(), strict=True)) if f.v is not None else {},
        actual=y1,
        synthetic=f.synthetic,
        gap=f.gap,
        pre_rmspe=f.pre_rmspe,
        post_rmspe=f.post_rmspe,
        exact_predictor_fit=f.exact,
    )
