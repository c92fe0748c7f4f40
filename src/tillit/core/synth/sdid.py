"""Synthetic difference-in-differences (Arkhangelsky et al. 2021) on a long panel.

``sdid(data, ...)`` estimates the average effect on the treated with unit weights
``omega`` and time weights ``lambda`` (paper eq. (1)-(4), Algorithm 1), or its special
cases ``method="sc"`` (synthetic control: no time weights, no intercept, tiny ridge) and
``method="did"`` (uniform weights), exactly as R ``synthdid``'s ``synthdid_estimate``,
``sc_estimate`` and ``did_estimate``.  Variance by placebo (Algorithm 4, the default and
the only choice with one treated unit), the fixed-weight jackknife (Algorithm 3) or the
unit bootstrap (Algorithm 2); draws come from ``numpy.random.default_rng(seed)``.

Staggered adoption: units may start treatment in different periods.  Each adoption
cohort is estimated on its own block (the cohort's units against the never-treated
units, pre-periods before the cohort's start, post-periods from the start to the end of
the panel), and the overall effect averages the cohort estimates with weights equal to
their number of treated unit-periods, as in Clarke, Pailañir, Athey & Imbens (2023,
Stata ``sdid``).  Placebo and bootstrap replicates repeat the whole cohort-by-cohort
procedure.

Population weights (``weights``, a unit-level column): the treated average in every
cohort, and hence the estimand, is weighted by them (a population-weighted ATT), and
cohorts combine by their weighted treated unit-periods; ``method="did"`` weighs its
control average too, so that it equals the weighted two-way fixed-effects regression.
The synthetic weights ``omega`` and ``lambda`` are chosen as without them: they make
the controls resemble the treated, and a control's population does not change that.

Clusters (``cluster``, a unit-level column above the unit, synthdid #121): the
bootstrap resamples whole clusters, the jackknife leaves out one cluster at a time, and
the placebo gives each treated cluster's pattern to a random never-treated cluster
(:mod:`tillit.core.synth._sdid_clusters`), as Stata ``sdid``'s ``cluster()``.

Example
-------
>>> res = sdid(df, outcome="cigsale", unit="state", time="year",
...            treated_units=["California"], treatment_start=1989, seed=1)  # doctest: +SKIP
>>> round(res.estimate.estimate, 5)  # doctest: +SKIP
-15.60383
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from tillit.core.errors import EstimationError
from tillit.core.results import Estimate
from tillit.core.synth import _sdid_core as core
from tillit.core.synth._panel import WidePanel, resolve_starts, to_wide, unit_values
from tillit.core.synth._sdid_clusters import ClusterPlacebo, cluster_groups
from tillit.core.synth._sdid_covariates import contract, fit_blocks_x, project
from tillit.core.synth.sdid_result import CohortFit, SDIDResult, normal_estimate

__all__ = ["sdid", "sdid_matrix"]

VARIANCES = ("placebo", "jackknife", "bootstrap", "none")
COVARIATE_METHODS = ("optimized", "projected")


@dataclass(frozen=True, eq=False)
class _Design:
    """Rows of controls and of each cohort, and the cohorts' start columns."""

    controls: np.ndarray
    cohorts: tuple[tuple[int, np.ndarray], ...]  # (start column, treated rows)


def _design(panel: WidePanel, starts: dict[int, int]) -> _Design:
    treated = np.array(sorted(starts))
    controls = np.setdiff1d(np.arange(len(panel.units)), treated)
    by_start: dict[int, list[int]] = {}
    for row, col in sorted(starts.items()):
        by_start.setdefault(col, []).append(row)
    cohorts = tuple((col, np.array(rows)) for col, rows in sorted(by_start.items()))
    return _Design(controls, cohorts)


@dataclass(frozen=True, eq=False)
class _Units:
    """Unit-level inputs: population weights and cluster codes (``None``: absent)."""

    w: np.ndarray | None = None
    cluster: np.ndarray | None = None
    X: np.ndarray | None = None  # (N, T, C) time-varying covariates
    xmethod: str = "optimized"

    def take(self, rows: np.ndarray) -> np.ndarray | None:
        return None if self.w is None else self.w[rows]

    def groups(self, rows: np.ndarray) -> list[np.ndarray] | None:
        return None if self.cluster is None else cluster_groups(self.cluster[rows])


_Blocks = tuple[
    list[tuple[np.ndarray, int, int]], list[np.ndarray | None], list[np.ndarray]
]


def _blocks(Y: np.ndarray, design: _Design, units: _Units) -> _Blocks:
    """Each cohort's block ``(Y, N0, T0)``, population weights and covariates.

    With ``projected`` covariates the blocks hold ``Y - X beta``, ``beta`` from this
    design's never-treated units (so replicates re-project, as Stata ``sdid``).
    """
    T = Y.shape[1]
    out, wts, xs = [], [], []
    if units.X is not None and units.xmethod == "projected":
        Y = Y - contract(units.X, project(Y, units.X, design.controls))
    for col, rows in design.cohorts:
        if col < 2 or col >= T:
            raise EstimationError(
                "each cohort needs two pre-periods and one post-period"
            )
        idx = np.concatenate([design.controls, rows])
        out.append((Y[idx], len(design.controls), col))
        wts.append(units.take(idx))
        if units.X is not None:
            xs.append(units.X[idx])
    return out, wts, xs


def _fit(blocks: _Blocks, method: str, units: _Units) -> list[core.BlockFit]:
    designs, wts, xs = blocks
    if units.X is not None and units.xmethod == "optimized":
        return fit_blocks_x(designs, xs, method, wts)
    return core.fit_blocks(designs, method, wts)


def _fit_cohorts(
    Y: np.ndarray, design: _Design, method: str, units: _Units
) -> list[core.BlockFit]:
    fits = _fit(_blocks(Y, design, units), method, units)
    if units.X is not None and units.xmethod == "projected":
        beta = project(Y, units.X, design.controls)
        fits = [replace(f, beta=beta) for f in fits]
    return fits


def _cohort_weights(design: _Design, T: int, units: _Units) -> np.ndarray:
    """Treated unit-periods of each cohort (population-weighted when weighted)."""
    return np.array(
        [
            (len(rows) if units.w is None else float(units.w[rows].sum())) * (T - col)
            for col, rows in design.cohorts
        ],
        dtype=float,
    )


def _combine(taus: np.ndarray, design: _Design, T: int, units: _Units) -> float:
    w = _cohort_weights(design, T, units)
    return float(np.dot(w, taus) / w.sum())


def sdid_matrix(Y: np.ndarray, N0: int, T0: int, method: str = "sdid") -> core.BlockFit:
    """Estimate on a matrix whose first ``N0`` rows are controls and first ``T0`` columns pre.

    This is R's ``synthdid_estimate(Y, N0, T0)`` (or ``sc_estimate``/``did_estimate``).
    """
    return core.fit_block(np.asarray(Y, dtype=float), N0, T0, method)


def sdid(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    treated_units: Sequence[Hashable],
    treatment_start: float | Mapping[Hashable, float],
    method: str = "sdid",
    variance: str = "placebo",
    replications: int = 200,
    seed: int | None = None,
    level: float = 0.95,
    weights: str | None = None,
    cluster: str | None = None,
    covariates: Sequence[str] = (),
    covariate_method: str = "optimized",
) -> SDIDResult:
    """Estimate the effect on the treated by synthetic difference-in-differences.

    Parameters
    ----------
    data
        Long balanced panel.
    outcome, unit, time
        Column names.
    treated_units
        Labels of the treated units.
    treatment_start
        First treated period, one for all or a mapping unit -> start (staggered).
    method
        ``"sdid"`` (default), ``"sc"`` or ``"did"``.
    variance
        ``"placebo"`` (default), ``"jackknife"``, ``"bootstrap"`` or ``"none"``.
    replications
        Placebo or bootstrap draws (R's default 200).
    seed
        Seed of ``numpy.random.default_rng``; the same seed gives the same ``se``.
    level
        Confidence level of the normal interval ``estimate +- z se``.
    weights
        Column of population (or analytic) weights, constant within a unit: the
        treated average is weighted by them (see the module docstring).
    cluster
        Column of a cluster above the unit, constant within a unit: variance
        replicates resample, leave out or reassign whole clusters.
    covariates
        Time-varying covariate columns (complete, numeric): SDID on ``Y - X beta``
        (:mod:`tillit.core.synth._sdid_covariates`).
    covariate_method
        ``"optimized"`` (R synthdid's ``X``: ``beta`` chosen with the weights) or
        ``"projected"`` (``beta`` from a two-way FE regression on the never-treated
        units, Kranz 2022).

    Returns
    -------
    SDIDResult
    """
    if variance not in VARIANCES:
        raise EstimationError(
            f"unknown variance '{variance}'; use {', '.join(VARIANCES)}"
        )
    if method not in core.METHODS:
        raise EstimationError(f"unknown method '{method}'; use sdid, sc or did")
    if covariate_method not in COVARIATE_METHODS:
        raise EstimationError(
            f"unknown covariate method '{covariate_method}'; use optimized or projected"
        )
    if not 1 <= replications <= 100_000:
        raise EstimationError("replications must be between 1 and 100000")
    panel = to_wide(data, outcome=outcome, unit=unit, time=time)
    starts = resolve_starts(panel, treated_units, treatment_start, min_pre=2)
    design = _design(panel, starts)
    if len(design.controls) < 2:
        raise EstimationError(
            "too few donor units: SDID needs at least two never-treated units"
        )
    units = _Units(
        None
        if weights is None
        else unit_values(data, panel, unit, weights, positive=True),
        None if cluster is None else unit_values(data, panel, unit, cluster),
        _covariates(data, panel, unit, time, covariates),
        covariate_method,
    )
    Y = panel.Y
    fits = _fit_cohorts(Y, design, method, units)
    tau = _combine(np.array([f.tau for f in fits]), design, Y.shape[1], units)
    rng = np.random.default_rng(seed)
    draws, by_cohort = _variance_draws(
        Y, design, fits, method, variance, replications, rng, units
    )
    est = normal_estimate(tau, draws, variance, level)
    cohorts = tuple(
        CohortFit.build(
            _residual_panel(panel, units, fit),
            design.controls,
            rows,
            col,
            fit,
            inference=_cohort_estimate(fit.tau, by_cohort[:, k], variance, level),
        )
        for k, ((col, rows), fit) in enumerate(zip(design.cohorts, fits, strict=True))
    )
    cw = _cohort_weights(design, Y.shape[1], units)
    return SDIDResult(
        estimate=est,
        method=method,
        variance=variance,
        replications=len(draws),
        seed=seed,
        cohorts=cohorts,
        cohort_weights=tuple((cw / cw.sum()).tolist()),
        replicate_estimates=draws,
        cohort_replicates=by_cohort,
        controls=tuple(str(panel.units[i]) for i in design.controls),
        weights=weights,
        cluster=cluster,
        n_clusters=None if units.cluster is None else len(set(units.cluster.tolist())),
        covariates=tuple(covariates),
        covariate_method=covariate_method if covariates else None,
    )


def _covariates(
    data: pd.DataFrame,
    panel: WidePanel,
    unit: str,
    time: str,
    names: Sequence[str],
) -> np.ndarray | None:
    """The covariates as ``(N, T, C)`` in the panel's unit and period order."""
    if not names:
        return None
    mats = []
    for name in names:
        w = to_wide(data, outcome=name, unit=unit, time=time)
        if w.units != panel.units or not np.array_equal(w.times, panel.times):
            raise EstimationError(
                f"covariate '{name}' does not cover the outcome panel"
            )
        mats.append(w.Y)
    return np.stack(mats, axis=-1)


def _residual_panel(panel: WidePanel, units: _Units, fit: core.BlockFit) -> WidePanel:
    """The panel of ``Y - X beta`` a cohort was estimated on (``Y`` without covariates)."""
    if units.X is None or fit.beta is None:
        return panel
    return WidePanel(panel.Y - contract(units.X, fit.beta), panel.units, panel.times)


def _cohort_estimate(
    tau: float, draws: np.ndarray, variance: str, level: float
) -> Estimate:
    """A cohort's estimate with the se of its own entries in the shared replicates.

    Bootstrap draws that left the cohort out are skipped; a jackknife with a draw that
    removes the whole cohort (a one-unit cohort) gives no se.
    """
    if variance == "bootstrap":
        draws = draws[~np.isnan(draws)]
    return normal_estimate(tau, draws, variance, level)


def _variance_draws(
    Y: np.ndarray,
    design: _Design,
    fits: list[core.BlockFit],
    method: str,
    variance: str,
    reps: int,
    rng: np.random.Generator,
    units: _Units,
) -> tuple[np.ndarray, np.ndarray]:
    """Replicate estimates: overall ``(R,)`` and per cohort ``(R, K)`` (NaN: absent)."""
    if variance == "none":
        return np.empty(0), np.empty((0, len(design.cohorts)))
    if len(design.cohorts) == 1 and units.X is None:
        d = _one_cohort_draws(Y, design, fits[0], variance, reps, rng, units)
        return d, d[:, None]
    designs = _staggered_designs(design, variance, reps, rng, units)
    return _replicates(Y, design, designs, method, units)


def _one_cohort_draws(
    Y: np.ndarray,
    design: _Design,
    fit: core.BlockFit,
    variance: str,
    reps: int,
    rng: np.random.Generator,
    units: _Units,
) -> np.ndarray:
    """Replicates of a simultaneous-adoption design (R synthdid's own algorithms)."""
    rows = np.concatenate([design.controls, design.cohorts[0][1]])
    block, wb, groups = Y[rows], units.take(rows), units.groups(rows)
    if variance == "jackknife":
        return core.jackknife_draws(fit, block, wb, groups)
    if variance == "bootstrap":
        return core.bootstrap_draws(fit, block, reps, rng, wb, groups)
    if units.cluster is None:
        w0 = None if wb is None else wb[: fit.N0]
        return core.placebo_draws(fit, block, reps, rng, w0)
    cp = ClusterPlacebo.build(units.cluster, design.controls, [design.cohorts[0][1]])
    pos = {r: i for i, r in enumerate(cp.pool.tolist())}
    perms = np.empty((reps, len(cp.pool)), dtype=np.intp)
    for b in range(reps):
        ctrl, (fake,) = cp.draw(rng)
        perms[b] = [pos[r] for r in [*ctrl.tolist(), *fake.tolist()]]
    # the fit restricted to the pool: its unit weights (renormalised) warm-start
    where = np.searchsorted(design.controls, cp.pool)
    sub = replace(fit, omega=core._sum_normalize(fit.omega[where]), N0=len(cp.pool))
    Yp = Y[np.concatenate([cp.pool, design.cohorts[0][1]])]
    return core.placebo_draws(sub, Yp, reps, rng, units.take(cp.pool), perms)


def _staggered_designs(
    design: _Design,
    variance: str,
    reps: int,
    rng: np.random.Generator,
    units: _Units,
) -> list[_Design]:
    """The replicate designs of the whole cohort-by-cohort estimator."""
    if variance == "placebo":
        return _staggered_placebo(design, reps, rng, units)
    all_rows = np.concatenate([design.controls, *[r for _, r in design.cohorts]])
    groups = (
        [np.array([u]) for u in all_rows]
        if units.cluster is None
        else [all_rows[g] for g in cluster_groups(units.cluster[all_rows])]
    )
    out: list[_Design] = []
    if variance == "jackknife":
        for g in groups:
            coh = tuple((c, r[~np.isin(r, g)]) for c, r in design.cohorts)
            coh = tuple((c, r) for c, r in coh if len(r))
            ctrl = design.controls[~np.isin(design.controls, g)]
            if not coh or len(ctrl) < 2:
                raise EstimationError(
                    "the jackknife needs every left-out unit or cluster to leave "
                    "treated units and two controls"
                )
            out.append(_Design(ctrl, coh))
        return out
    tries = 0
    while len(out) < reps:
        tries += 1
        if tries > 100 * reps:
            raise EstimationError(
                "bootstrap draws keep missing treated or control units"
            )
        pick = np.concatenate(
            [groups[g] for g in rng.integers(0, len(groups), len(groups))]
        )
        ctrl = np.sort(pick[np.isin(pick, design.controls)])
        coh = tuple((c, np.sort(pick[np.isin(pick, r)])) for c, r in design.cohorts)
        coh = tuple((c, r) for c, r in coh if len(r))
        if len(ctrl) < 2 or not coh:
            continue
        out.append(_Design(ctrl, coh))
    return out


def _staggered_placebo(
    design: _Design, reps: int, rng: np.random.Generator, units: _Units
) -> list[_Design]:
    sizes = [len(rows) for _, rows in design.cohorts]
    cols = [col for col, _ in design.cohorts]
    n_tr, n_co = sum(sizes), len(design.controls)
    out: list[_Design] = []
    if units.cluster is not None:
        cp = ClusterPlacebo.build(
            units.cluster, design.controls, [r for _, r in design.cohorts]
        )
        for _ in range(reps):
            ctrl, drawn = cp.draw(rng)
            coh = tuple((c, f) for c, f in zip(cols, drawn, strict=True) if len(f))
            out.append(_Design(ctrl, coh))
        return out
    if n_co <= n_tr + 1:
        raise EstimationError("placebo variance needs more controls than treated units")
    for _ in range(reps):
        perm = rng.permutation(design.controls)
        fake: list[tuple[int, np.ndarray]] = []
        cut = n_co - n_tr
        for col, size in zip(cols, sizes, strict=True):
            fake.append((col, perm[cut : cut + size]))
            cut += size
        out.append(_Design(np.sort(perm[: n_co - n_tr]), tuple(fake)))
    return out


def _replicates(
    Y: np.ndarray,
    design: _Design,
    designs: list[_Design],
    method: str,
    units: _Units,
) -> tuple[np.ndarray, np.ndarray]:
    """Fit every cohort of every replicate design in one batch and combine."""
    cols = [col for col, _ in design.cohorts]
    blocks: list[tuple[np.ndarray, int, int]] = []
    wts: list[np.ndarray | None] = []
    xs: list[np.ndarray] = []
    for d in designs:
        b, w, x = _blocks(Y, d, units)
        blocks += b
        wts += w
        xs += x
    taus = np.array([f.tau for f in _fit((blocks, wts, xs), method, units)])
    overall = np.empty(len(designs))
    by_cohort = np.full((len(designs), len(cols)), np.nan)
    at = 0
    for r, d in enumerate(designs):
        k = len(d.cohorts)
        overall[r] = _combine(taus[at : at + k], d, Y.shape[1], units)
        by_cohort[r, [cols.index(c) for c, _ in d.cohorts]] = taus[at : at + k]
        at += k
    return overall, by_cohort
