"""Staggered difference-in-differences for many outcomes at once (Callaway & Sant'Anna 2021).

:func:`att_gt` estimates every group-time effect ATT(g,t), keeps the per-unit influence
functions, and derives from them all aggregations (simple, group, calendar, dynamic), their
analytic or multiplier-bootstrap standard errors with uniform bands, multiple-testing
adjustments across outcomes and the diagnostics. Outcomes are processed as a matrix: the
comparison sets, propensity scores, regression designs, aggregation maps and bootstrap draws
are shared, so K outcomes cost little more than one.

Example
-------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> units, periods = np.repeat(np.arange(60), 6), np.tile(np.arange(2000, 2006), 60)
>>> cohort = np.repeat(rng.choice([0, 2003, 2004], 60), 6)
>>> y = 0.1 * rng.normal(size=360) + 0.5 * ((cohort > 0) & (periods >= cohort))
>>> df = pd.DataFrame({"id": units, "year": periods, "g": cohort, "y": y})
>>> res = att_gt(df, outcomes=["y"], unit="id", time="year", cohort="g")
>>> round(float(res["y"].simple.estimate[0]), 1)
0.5
"""

from __future__ import annotations

import math
import warnings
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from tillit.core.did._aggregate import build_maps
from tillit.core.did._attgt import estimate_cells, plan
from tillit.core.did._inference import (
    Draws,
    adjust_pvalues,
    romano_wolf,
)
from tillit.core.did._panel import Panel, build_panel
from tillit.core.did._summarise import _Chunk, _Setup, _stats_fast, _stats_general
from tillit.core.did.results import DidResult, OutcomeResult
from tillit.core.errors import EstimationError

__all__ = ["att_gt"]

_CHUNK = 4_000_000  # max elements of one (units x cells x outcomes) influence block


def att_gt(
    data: pd.DataFrame,
    *,
    outcomes: list[str],
    unit: str,
    time: str,
    cohort: str,
    covariates: list[str] | None = None,
    control: str = "never",
    method: str = "dr",
    anticipation: int = 0,
    base_period: str = "varying",
    bootstrap: int = 0,
    multiplier: str = "mammen",
    seed: int | None = None,
    level: float = 0.95,
    cluster: str | None = None,
    min_e: float = -math.inf,
    max_e: float = math.inf,
    compare_controls: bool = True,
    honest: bool = True,
    keep_influence: bool | None = None,
    unbalanced: bool = False,
) -> DidResult:
    """Estimate ATT(g,t) and its aggregations for one or many outcomes.

    Parameters
    ----------
    data
        Long panel, one row per unit and period.
    outcomes
        Outcome columns; all are estimated in one vectorised pass.
    unit, time, cohort
        Column names; ``cohort`` is the first treated period (0 or empty: never treated).
    covariates
        Baseline covariates (values at each cell's base period), for ``method``:
        ``dr`` doubly robust (default, as R), ``ipw`` or ``reg`` (Sant'Anna & Zhao 2020).
    control
        ``never`` (never-treated units) or ``notyet`` (not-yet-treated units too).
    anticipation
        Periods before the cohort's first period in which effects may already start.
    base_period
        ``varying`` (R's default: pre-period cells compare consecutive periods) or
        ``universal`` (every cell compares with period g - anticipation - 1).
    bootstrap
        Multiplier-bootstrap draws (0: analytic SEs). With draws, SEs are bootstrap SEs
        (R's robust IQR form) and uniform bands are added.
    multiplier
        ``mammen`` (R's default) or ``rademacher`` weights.
    seed
        Seed for the draws (reproducible).
    level
        Confidence level.
    cluster
        Column to cluster on (units nested in clusters); default: the unit.
    min_e, max_e
        Event-time window for the dynamic aggregation (``max_e`` also limits simple and
        group, as in R).
    compare_controls
        Re-estimate the overall effect with the other comparison group (diagnostic).
    honest
        Compute Rambachan-Roth style bounds for the event study.
    keep_influence
        Keep per-unit influence functions in the result (default: when small).
    unbalanced
        Keep units that are not observed in every period (R's
        ``allow_unbalanced_panel``): each ATT(g,t) then compares the means of the
        units observed in each of its two periods and standard errors stay clustered
        by unit. Without covariates only. Default: drop such units (R's default).

    Returns
    -------
    DidResult
        One :class:`~tillit.core.did.results.OutcomeResult` per estimable outcome;
        outcomes that cannot be estimated are listed in ``degenerate`` with the reason.

    Raises
    ------
    DataError, EstimationError
        Bad input, or no outcome can be estimated.
    """
    if method not in {"dr", "ipw", "reg"}:
        raise EstimationError(f"unknown method {method!r}; use dr, ipw or reg")
    if base_period not in {"varying", "universal"}:
        raise EstimationError("base_period must be 'varying' or 'universal'")
    panel = build_panel(
        data,
        outcomes=list(outcomes),
        unit=unit,
        time=time,
        cohort=cohort,
        covariates=covariates,
        cluster=cluster,
        anticipation=anticipation,
        control=control,
        allow_unbalanced=unbalanced,
    )
    n_clus = (
        int(panel.cluster.max()) + 1 if panel.cluster is not None else panel.n_units
    )
    if bootstrap and n_clus < 10:
        raise EstimationError(
            f"only {n_clus} clusters: too few for the multiplier bootstrap (need 10 or more)"
        )
    rng = np.random.default_rng(seed)
    draws = (
        Draws.build(rng, bootstrap, multiplier, panel.cohort, panel.cluster)
        if bootstrap
        else None
    )
    setup = _Setup(
        control,
        method,
        anticipation,
        base_period,
        bootstrap,
        level,
        min_e,
        max_e,
        bool(keep_influence)
        if keep_influence is not None
        else panel.n_units * panel.n_periods**2 * len(outcomes) < 20_000_000,
        honest,
        unbalanced,
    )
    results, degenerate, tboot = _estimate_all(panel, setup, draws)
    if not results:
        why = "; ".join(f"{k}: {v}" for k, v in degenerate.items())
        raise EstimationError(f"no outcome could be estimated ({why})")
    if compare_controls:
        cols = {
            "unit": unit,
            "time": time,
            "cohort": cohort,
            "covariates": covariates,
            "cluster": cluster,
        }
        results = _with_comparison(results, data, setup, cols)
    results = {k: results[k] for k in panel.outcomes if k in results}
    mt = _multiple_testing(results, tboot)
    settings = {
        "control": control,
        "method": method if covariates else "unconditional",
        "covariates": list(covariates or []),
        "base_period": base_period,
        "anticipation": anticipation,
        "bootstrap": bootstrap,
        "multiplier": multiplier,
        "seed": seed,
        "level": level,
        "cluster": cluster or unit,
        "unbalanced": (
            "kept: each cell uses the units observed in its two periods"
            if unbalanced
            else "dropped to balanced (R did default)"
        ),
    }
    return DidResult(
        n_units=panel.n_units,
        n_periods=panel.n_periods,
        settings=settings,
        outcomes=results,
        degenerate=degenerate,
        multiple_testing=mt,
        notes=panel.notes,
    )


def _estimate_all(
    panel: Panel, setup: _Setup, draws: Draws | None
) -> tuple[dict[str, OutcomeResult], dict[str, str], dict[str, np.ndarray]]:
    """Batch outcomes by missing-value pattern, then chunk each batch."""
    y = panel.y
    observed = ~np.isnan(y)
    # balanced: a unit needs every period; unbalanced: at least one
    valid = observed.any(axis=1) if setup.unbalanced else observed.all(axis=1)
    degenerate: dict[str, str] = {}
    batches: dict[bytes, list[int]] = {}
    masked = np.where(valid[:, None, :], y, np.nan)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter(
            "ignore", RuntimeWarning
        )  # all-NaN outcomes: handled below
        spread = np.nanmax(masked, axis=(0, 1)) - np.nanmin(masked, axis=(0, 1))
    for k, name in enumerate(panel.outcomes):
        if not valid[:, k].any():
            degenerate[name] = "no unit has a value in every period (all missing)"
        elif spread[k] == 0:
            degenerate[name] = "constant outcome: nothing to estimate"
        else:
            # outcomes sharing a pattern of observed values share one computation
            # (unbalanced: the whole pattern, since each cell counts its own units)
            pattern = observed[:, :, k] if setup.unbalanced else valid[:, k]
            batches.setdefault(pattern.tobytes(), []).append(k)
    results: dict[str, OutcomeResult] = {}
    tboot: dict[str, np.ndarray] = {}
    for ks in batches.values():
        rows = valid[:, ks[0]]
        try:
            out, tb = _estimate_batch(panel, rows, ks, setup, draws)
        except EstimationError as err:
            for k in ks:
                degenerate[panel.outcomes[k]] = err.message
            continue
        results.update(out)
        tboot.update(tb)
    return results, degenerate, tboot


def _estimate_batch(
    panel: Panel,
    rows: np.ndarray,
    ks: list[int],
    setup: _Setup,
    draws: Draws | None,
) -> tuple[dict[str, OutcomeResult], dict[str, np.ndarray]]:
    coh = panel.cohort[rows]
    if not np.isfinite(coh).any() or (
        setup.control == "never" and not np.isinf(coh).any()
    ):
        raise EstimationError(
            "too few units with complete values (no treated or no "
            "comparison units left)"
        )
    cells = plan(
        coh,
        panel.periods,
        control=setup.control,
        anticipation=setup.anticipation,
        base_period=setup.base_period,
    )
    maps = build_maps(
        cells.group, cells.time, coh, min_e=setup.min_e, max_e=setup.max_e
    )
    yb = panel.y if rows.all() else panel.y[rows]
    y = yb[:, :, ks] if len(ks) < yb.shape[2] else yb.copy()
    if not setup.unbalanced:
        y -= y.mean(axis=1, keepdims=True)  # unit shifts cancel in every change
    x = panel.x[rows]
    clus = panel.cluster[rows] if panel.cluster is not None else np.flatnonzero(rows)
    n, gt = y.shape[0], cells.group.shape[0]
    fast = x.shape[2] == 0 and panel.cluster is None and not setup.unbalanced
    codes = np.searchsorted(maps.cohort_codes, coh)
    reps = draws.reps if draws is not None else 1
    if fast:  # memory per outcome: cohort cross-products, bootstrap draws, y itself
        c_codes = maps.cohort_codes.size
        per_k = max(
            c_codes * panel.n_periods * max(panel.n_periods, reps),
            reps * gt,
            n * panel.n_periods,
            n * gt if setup.keep_influence else 0,
        )
    else:
        per_k = n * gt
    step = max(1, _CHUNK // max(per_k, 1))
    out: dict[str, OutcomeResult] = {}
    tb: dict[str, np.ndarray] = {}
    ctx = _Chunk(panel, rows, coh, cells, maps, clus, setup, draws)
    for s in range(0, len(ks), step):
        idx = list(range(s, min(s + step, len(ks))))
        yc = y[:, :, s : s + len(idx)]
        if fast:
            st = _stats_fast(yc, codes, ctx)
        else:
            att, inf = estimate_cells(yc, x, cells, setup.method, setup.unbalanced)
            st = _stats_general(att, inf, ctx)
        names = [panel.outcomes[ks[i]] for i in idx]
        o, t = ctx.summarise(st, names, yc)
        out.update(o)
        tb.update(t)
    return out, tb


def _with_comparison(
    results: dict[str, OutcomeResult],
    data: pd.DataFrame,
    setup: _Setup,
    args: dict[str, Any],
) -> dict[str, OutcomeResult]:
    """Add the overall ATT with the other comparison group to each outcome's diagnostics."""
    other = "notyet" if setup.control == "never" else "never"
    try:
        alt = att_gt(
            data,
            outcomes=list(results),
            unit=args["unit"],
            time=args["time"],
            cohort=args["cohort"],
            covariates=args["covariates"],
            control=other,
            method=setup.method,
            anticipation=setup.anticipation,
            base_period=setup.base_period,
            level=setup.level,
            cluster=args["cluster"],
            min_e=setup.min_e,
            max_e=setup.max_e,
            compare_controls=False,
            honest=False,
            keep_influence=False,
            unbalanced=setup.unbalanced,
        )
    except EstimationError as err:
        alt, why = None, err.message
    else:
        why = ""
    out = {}
    for name, res in results.items():
        if alt is not None and name in alt.outcomes:
            s = alt[name].simple
            entry: dict[str, Any] = {
                "control": other,
                **s.row(0),
                "difference": float(s.estimate[0] - res.simple.estimate[0]),
            }
        else:
            entry = {"control": other, "note": why if alt is None else "not estimable"}
        diagnostics = {**res.diagnostics, "comparison_group": entry}
        out[name] = replace(res, diagnostics=diagnostics)
    return out


def _multiple_testing(
    results: dict[str, OutcomeResult], tboot: dict[str, np.ndarray]
) -> dict[str, Any]:
    names = list(results)
    p = np.array([results[k].simple.p_value[0] for k in names], dtype=float)
    adj = adjust_pvalues(p)
    rw = np.full(p.shape, np.nan)
    if tboot and all(k in tboot for k in names):
        t_obs = np.array(
            [results[k].simple.estimate[0] / results[k].simple.se[0] for k in names]
        )
        rw = romano_wolf(t_obs, np.column_stack([tboot[k] for k in names]))
    return {
        "target": "simple",
        "outcomes": names,
        "p_value": p,
        "holm": adj["holm"],
        "bh": adj["bh"],
        "romano_wolf": rw,
    }
