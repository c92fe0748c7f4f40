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

Example
-------
>>> res = sdid(df, outcome="cigsale", unit="state", time="year",
...            treated_units=["California"], treatment_start=1989, seed=1)  # doctest: +SKIP
>>> round(res.estimate.estimate, 5)  # doctest: +SKIP
-15.60383
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tillit.core.errors import EstimationError
from tillit.core.results import Estimate
from tillit.core.synth import _sdid_core as core
from tillit.core.synth._panel import WidePanel, resolve_starts, to_wide
from tillit.core.synth.sdid_result import CohortFit, SDIDResult, normal_estimate

__all__ = ["sdid", "sdid_matrix"]

VARIANCES = ("placebo", "jackknife", "bootstrap", "none")


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


def _blocks(Y: np.ndarray, design: _Design) -> list[tuple[np.ndarray, int, int]]:
    T = Y.shape[1]
    out = []
    for col, rows in design.cohorts:
        if col < 2 or col >= T:
            raise EstimationError(
                "each cohort needs two pre-periods and one post-period"
            )
        out.append(
            (Y[np.concatenate([design.controls, rows])], len(design.controls), col)
        )
    return out


def _fit_cohorts(Y: np.ndarray, design: _Design, method: str) -> list[core.BlockFit]:
    return core.fit_blocks(_blocks(Y, design), method)


def _combine(taus: np.ndarray, design: _Design, T: int) -> float:
    w = np.array([len(rows) * (T - col) for col, rows in design.cohorts], dtype=float)
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
    panel = to_wide(data, outcome=outcome, unit=unit, time=time)
    starts = resolve_starts(panel, treated_units, treatment_start, min_pre=2)
    design = _design(panel, starts)
    if len(design.controls) < 2:
        raise EstimationError(
            "too few donor units: SDID needs at least two never-treated units"
        )
    Y = panel.Y
    fits = _fit_cohorts(Y, design, method)
    tau = _combine(np.array([f.tau for f in fits]), design, Y.shape[1])
    rng = np.random.default_rng(seed)
    draws, by_cohort = _variance_draws(
        Y, design, fits, method, variance, replications, rng
    )
    est = normal_estimate(tau, draws, variance, level)
    cohorts = tuple(
        CohortFit.build(
            panel,
            design.controls,
            rows,
            col,
            fit,
            inference=_cohort_estimate(fit.tau, by_cohort[:, k], variance, level),
        )
        for k, ((col, rows), fit) in enumerate(zip(design.cohorts, fits, strict=True))
    )
    weights = np.array(
        [len(r) * (Y.shape[1] - c) for c, r in design.cohorts], dtype=float
    )
    return SDIDResult(
        estimate=est,
        method=method,
        variance=variance,
        replications=len(draws),
        seed=seed,
        cohorts=cohorts,
        cohort_weights=tuple((weights / weights.sum()).tolist()),
        replicate_estimates=draws,
        cohort_replicates=by_cohort,
        controls=tuple(str(panel.units[i]) for i in design.controls),
    )


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
) -> tuple[np.ndarray, np.ndarray]:
    """Replicate estimates: overall ``(R,)`` and per cohort ``(R, K)`` (NaN: absent)."""
    if variance == "none":
        return np.empty(0), np.empty((0, len(design.cohorts)))
    if len(design.cohorts) == 1:
        fit = fits[0]
        block = Y[np.concatenate([design.controls, design.cohorts[0][1]])]
        if variance == "placebo":
            d = core.placebo_draws(fit, block, reps, rng)
        elif variance == "jackknife":
            d = core.jackknife_draws(fit, block)
        else:
            d = core.bootstrap_draws(fit, block, reps, rng)
        return d, d[:, None]
    designs = _staggered_designs(design, variance, reps, rng)
    return _replicates(Y, design, designs, method)


def _staggered_designs(
    design: _Design, variance: str, reps: int, rng: np.random.Generator
) -> list[_Design]:
    """The replicate designs of the whole cohort-by-cohort estimator."""
    sizes = [len(rows) for _, rows in design.cohorts]
    n_tr, n_co = sum(sizes), len(design.controls)
    out: list[_Design] = []
    if variance == "placebo":
        if n_co <= n_tr + 1:
            raise EstimationError(
                "placebo variance needs more controls than treated units"
            )
        for _ in range(reps):
            perm = rng.permutation(design.controls)
            fake, cut = [], n_co - n_tr
            for (col, _), size in zip(design.cohorts, sizes, strict=True):
                fake.append((col, perm[cut : cut + size]))
                cut += size
            out.append(_Design(np.sort(perm[: n_co - n_tr]), tuple(fake)))
        return out
    if variance == "jackknife":
        units = np.concatenate([design.controls, *[r for _, r in design.cohorts]])
        return [
            _Design(
                design.controls[design.controls != u],
                tuple((c, r[r != u]) for c, r in design.cohorts if np.any(r != u)),
            )
            for u in units
        ]
    tries = 0
    all_rows = np.concatenate([design.controls, *[r for _, r in design.cohorts]])
    while len(out) < reps:
        tries += 1
        if tries > 100 * reps:
            raise EstimationError(
                "bootstrap draws keep missing treated or control units"
            )
        pick = rng.choice(all_rows, size=len(all_rows), replace=True)
        ctrl = np.sort(pick[np.isin(pick, design.controls)])
        coh = tuple((c, np.sort(pick[np.isin(pick, r)])) for c, r in design.cohorts)
        coh = tuple((c, r) for c, r in coh if len(r))
        if len(ctrl) < 2 or not coh:
            continue
        out.append(_Design(ctrl, coh))
    return out


def _replicates(
    Y: np.ndarray, design: _Design, designs: list[_Design], method: str
) -> tuple[np.ndarray, np.ndarray]:
    """Fit every cohort of every replicate design in one batch and combine."""
    cols = [col for col, _ in design.cohorts]
    blocks = [b for d in designs for b in _blocks(Y, d)]
    taus = np.array([f.tau for f in core.fit_blocks(blocks, method)])
    overall = np.empty(len(designs))
    by_cohort = np.full((len(designs), len(cols)), np.nan)
    at = 0
    for r, d in enumerate(designs):
        k = len(d.cohorts)
        overall[r] = _combine(taus[at : at + k], d, Y.shape[1])
        by_cohort[r, [cols.index(c) for c, _ in d.cohorts]] = taus[at : at + k]
        at += k
    return overall, by_cohort
