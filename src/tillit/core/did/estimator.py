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
>>> y = rng.normal(size=360) + 0.5 * ((cohort > 0) & (periods >= cohort))
>>> df = pd.DataFrame({"id": units, "year": periods, "g": cohort, "y": y})
>>> res = att_gt(df, outcomes=["y"], unit="id", time="year", cohort="g")
>>> round(res["y"].simple.estimate[0], 1)
0.5
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from tillit.core.did import _diagnostics as diag
from tillit.core.did import _fast
from tillit.core.did._aggregate import AggregationMaps, build_maps
from tillit.core.did._attgt import CellPlan, estimate_cells, plan
from tillit.core.did._inference import (
    adjust_pvalues,
    analytic_se,
    bootstrap_se,
    multipliers,
    romano_wolf,
    uniform_crit,
)
from tillit.core.did._panel import Panel, build_panel
from tillit.core.did.results import DidResult, EstimateTable, OutcomeResult
from tillit.core.errors import EstimationError

__all__ = ["att_gt"]

_CHUNK = 4_000_000  # max elements of one (units x cells x outcomes) influence block
_AGG_TABLES = (
    "simple",
    "group",
    "group_overall",
    "calendar",
    "calendar_overall",
    "dynamic",
    "dynamic_overall",
)


@dataclass(frozen=True)
class _Setup:
    control: str
    method: str
    anticipation: int
    base_period: str
    bootstrap: int
    level: float
    min_e: float
    max_e: float
    keep_influence: bool
    honest: bool


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
    )
    n_clus = (
        int(panel.cluster.max()) + 1 if panel.cluster is not None else panel.n_units
    )
    if bootstrap and n_clus < 10:
        raise EstimationError(
            f"only {n_clus} clusters: too few for the multiplier bootstrap (need 10 or more)"
        )
    rng = np.random.default_rng(seed)
    draws = multipliers(n_clus, bootstrap, rng, multiplier) if bootstrap else None
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
        "unbalanced": "dropped to balanced (R did default)",
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
    panel: Panel, setup: _Setup, draws: np.ndarray | None
) -> tuple[dict[str, OutcomeResult], dict[str, str], dict[str, np.ndarray]]:
    """Batch outcomes by missing-value pattern, then chunk each batch."""
    y = panel.y
    valid = ~np.isnan(y).any(axis=1)  # (n, K)
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
            batches.setdefault(valid[:, k].tobytes(), []).append(k)
    results: dict[str, OutcomeResult] = {}
    tboot: dict[str, np.ndarray] = {}
    for key, ks in batches.items():
        rows = np.frombuffer(key, dtype=bool)
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
    draws: np.ndarray | None,
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
    y -= y.mean(axis=1, keepdims=True)  # unit shifts cancel in every change
    x = panel.x[rows]
    clus = panel.cluster[rows] if panel.cluster is not None else np.flatnonzero(rows)
    n, gt = y.shape[0], cells.group.shape[0]
    fast = x.shape[2] == 0 and panel.cluster is None
    codes = np.searchsorted(maps.cohort_codes, coh)
    reps = draws.shape[0] if draws is not None else 1
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
            att, inf = estimate_cells(yc, x, cells, setup.method)
            st = _stats_general(att, inf, ctx)
        names = [panel.outcomes[ks[i]] for i in idx]
        o, t = ctx.summarise(st, names, yc)
        out.update(o)
        tb.update(t)
    return out, tb


@dataclass(frozen=True)
class _Stats:
    """What the tables and diagnostics need, from either computation path."""

    att: np.ndarray  # (GT, K)
    agg: np.ndarray  # (A, K)
    se_gt_a: np.ndarray
    se_agg_a: np.ndarray
    b_gt: np.ndarray | None  # (B, GT, K)
    b_agg: np.ndarray | None  # (B, A, K)
    vc_pre: np.ndarray  # (K, P, P)
    vc_dyn: np.ndarray | None  # (K, D, D)
    inf: np.ndarray | None  # (n, GT, K)


def _cov(z: np.ndarray, n: int) -> np.ndarray:
    """(K, R, R) covariance of (c, R, K) influence sums."""
    zk = np.ascontiguousarray(z.transpose(2, 1, 0))
    return zk @ zk.transpose(0, 2, 1) / n**2


def _stats_general(att: np.ndarray, inf: np.ndarray, ctx: _Chunk) -> _Stats:
    """From the materialised (n, GT, K) influence functions (covariates, clusters)."""
    m, n = ctx.maps, inf.shape[0]
    code = np.searchsorted(m.cohort_codes, ctx.cohort)
    agg = m.w.T @ att
    agg_inf = np.tensordot(inf, m.w, axes=([1], [0])).transpose(0, 2, 1)
    agg_inf += np.einsum("acg,gk->cak", m.wc, att)[code]
    s_gt, s_agg = ctx._sums(inf), ctx._sums(agg_inf)
    b_gt = b_agg = None
    if ctx.draws is not None:
        v = ctx.draws if ctx.panel.cluster is not None else ctx.draws[:, ctx.rows]
        b_gt = np.tensordot(v, s_gt, axes=([1], [0])) / n
        b_agg = np.tensordot(v, s_agg, axes=([1], [0])) / n
    c = ctx.cells
    pre = (c.group > c.time) & ~c.reference
    return _Stats(
        att=att,
        agg=agg,
        se_gt_a=analytic_se(s_gt, n),
        se_agg_a=analytic_se(s_agg, n),
        b_gt=b_gt,
        b_agg=b_agg,
        vc_pre=_cov(s_gt[:, pre], n),
        vc_dyn=_cov(s_agg[:, m.kind == "dynamic"], n) if ctx.setup.honest else None,
        inf=inf if ctx.setup.keep_influence else None,
    )


def _stats_fast(y: np.ndarray, codes: np.ndarray, ctx: _Chunk) -> _Stats:
    """From cohort sufficient statistics (no covariates, clustered by unit)."""
    m, c = ctx.maps, ctx.cells
    n = y.shape[0]
    st = _fast.cohort_stats(y, codes, m.cohort_codes.size)
    cf = _fast.fast_cells(st, c, m.cohort_codes, n)
    af = _fast.aggregate(cf, m)
    b_gt = b_agg = None
    if ctx.draws is not None:
        vy, vsum = _fast.bootstrap_sums(y, st, ctx.draws[:, ctx.rows])
        b_gt, b_agg = cf.boot(vy, vsum, n), af.boot(vy, vsum, n)
    pre = np.flatnonzero((c.group > c.time) & ~c.reference)
    dyn = np.flatnonzero(m.kind == "dynamic")
    full = (
        cf.materialize(y, st, np.arange(c.group.size))
        if ctx.setup.keep_influence
        else None
    )
    return _Stats(
        att=cf.estimate,
        agg=af.estimate,
        se_gt_a=_se_from_sumsq(cf.sumsq(st), n),
        se_agg_a=_se_from_sumsq(af.sumsq(st), n),
        b_gt=b_gt,
        b_agg=b_agg,
        vc_pre=cf.cov(st, pre),
        vc_dyn=af.cov(st, dyn) if ctx.setup.honest else None,
        inf=full,
    )


def _se_from_sumsq(ss: np.ndarray, n: int) -> np.ndarray:
    se = np.sqrt(np.maximum(ss, 0.0)) / n
    return np.where(se <= np.sqrt(np.finfo(float).eps) * 10, np.nan, se)


@dataclass
class _Chunk:
    panel: Panel
    rows: np.ndarray
    cohort: np.ndarray
    cells: CellPlan
    maps: AggregationMaps
    cluster: np.ndarray
    setup: _Setup
    draws: np.ndarray | None

    def summarise(
        self, st: _Stats, names: list[str], y: np.ndarray
    ) -> tuple[dict[str, OutcomeResult], dict[str, np.ndarray]]:
        """Tables, standard errors and diagnostics for a chunk of outcomes."""
        n = y.shape[0]
        att, agg, b_gt, b_agg = st.att, st.agg, st.b_gt, st.b_agg
        se_gt_a, se_agg_a = st.se_gt_a, st.se_agg_a
        if b_gt is not None and b_agg is not None:
            se_gt, se_agg = bootstrap_se(b_gt), bootstrap_se(b_agg)
        else:
            se_gt, se_agg = se_gt_a, se_agg_a
        se_gt = np.where(self.cells.reference[:, None], np.nan, se_gt)
        tables = self._tables(att, se_gt, agg, se_agg, b_gt, b_agg)
        diagnostics = self._diagnostics(att, agg, st, y, names)
        out, tb = {}, {}
        for j, name in enumerate(names):
            tab = {k: _slice(t, j) for k, t in tables.items()}
            dj = diagnostics[j]
            simple = tab["simple"]
            verdict = diag.verdict(
                name,
                float(simple.estimate[0]),
                float(simple.ci_low[0]),
                float(simple.ci_high[0]),
                self.setup.level,
                dj["pretrend"].get("p_value"),
                dj.get("honest", {}).get("breakdown_mbar"),
            )
            dj["se_analytic"] = {
                "att_gt": se_gt_a[:, j],
                "simple": float(se_agg_a[0, j]),
            }
            out[name] = OutcomeResult(
                outcome=name,
                n_units=n,
                n_periods=self.panel.n_periods,
                **tab,
                diagnostics=dj,
                verdict=verdict,
                influence=None if st.inf is None else st.inf[:, :, j].copy(),
            )
            if b_agg is not None:
                tb[name] = b_agg[:, 0, j] / se_agg[0, j]
        return out, tb

    def _sums(self, inf: np.ndarray) -> np.ndarray:
        """Cluster sums in the panel-wide cluster codes (the draws' columns)."""
        if self.panel.cluster is None:
            return inf
        out = np.zeros((int(self.panel.cluster.max()) + 1, *inf.shape[1:]))
        np.add.at(out, self.cluster, inf)
        return out

    def _tables(
        self,
        att: np.ndarray,
        se: np.ndarray,
        agg: np.ndarray,
        se_agg: np.ndarray,
        b_gt: np.ndarray | None,
        b_agg: np.ndarray | None,
    ) -> dict[str, EstimateTable]:
        """All tables for all outcomes of the chunk (arrays with a last outcome axis)."""
        c, m, lev = self.cells, self.maps, self.setup.level
        tables = {
            "att_gt": _table(
                {"group": c.group, "time": c.time, "event_time": c.time - c.group},
                att,
                se,
                lev,
                b_gt,
            )
        }
        label_name = {"group": "group", "calendar": "time", "dynamic": "event_time"}
        for kind in _AGG_TABLES:
            sel = m.kind == kind
            labels = {label_name[kind]: m.label[sel]} if kind in label_name else {}
            tables[kind] = _table(
                labels,
                agg[sel],
                se_agg[sel],
                lev,
                None if b_agg is None or kind not in label_name else b_agg[:, sel],
            )
        return tables

    def _diagnostics(
        self,
        att: np.ndarray,
        agg: np.ndarray,
        st: _Stats,
        y: np.ndarray,
        names: list[str],
    ) -> list[dict[str, Any]]:
        """Per-outcome diagnostics, computed for the whole chunk at once."""
        c = self.cells
        pre = (c.group > c.time) & ~c.reference
        wald = diag.pretrend_wald_many(att[pre].T, st.vc_pre)
        treated = np.isfinite(self.cohort)
        x0 = self.panel.x[self.rows][:, 0, :]
        base = np.column_stack([x0, y[:, 0, :]])
        cols = [
            *self.panel.covariates,
            *(f"{nm} (first period, unit-demeaned)" for nm in names),
        ]
        bal = diag.balance(base, treated, ~treated, cols)
        n_cov = len(self.panel.covariates)
        out = []
        for j in range(len(names)):
            d: dict[str, Any] = {
                "pretrend": wald[j],
                "balance": [*bal[:n_cov], *bal[n_cov + j : n_cov + j + 1]],
                "n_treated": int(treated.sum()),
                "n_never_treated": int(np.isinf(self.cohort).sum()),
            }
            if self.setup.honest and st.vc_dyn is not None:
                sel = self.maps.kind == "dynamic"
                d["honest"] = diag.honest_bounds(
                    self.maps.label[sel],
                    agg[sel, j],
                    st.vc_dyn[j],
                    base_period=self.setup.base_period,
                    anticipation=self.setup.anticipation,
                    level=self.setup.level,
                )
            out.append(d)
        return out


def _table(
    labels: dict[str, np.ndarray],
    est: np.ndarray,
    se: np.ndarray,
    level: float,
    boot: np.ndarray | None,
) -> EstimateTable:
    """A table whose arrays carry a trailing outcome axis; ``crit`` is per outcome."""
    z = special.ndtri(0.5 + level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2 * special.ndtr(-np.abs(est / se))
    if boot is not None and est.shape[0]:
        crit = uniform_crit(boot, se, level)
    else:
        crit = np.full(est.shape[1:], np.nan)
    return EstimateTable(
        labels=labels,
        estimate=est,
        se=se,
        ci_low=est - z * se,
        ci_high=est + z * se,
        p_value=p,
        cband_low=est - crit * se,
        cband_high=est + crit * se,
        crit=crit,  # type: ignore[arg-type]
    )


def _slice(t: EstimateTable, j: int) -> EstimateTable:
    """The table of outcome j."""
    return EstimateTable(
        labels=t.labels,
        estimate=t.estimate[:, j],
        se=t.se[:, j],
        ci_low=t.ci_low[:, j],
        ci_high=t.ci_high[:, j],
        p_value=t.p_value[:, j],
        cband_low=t.cband_low[:, j],
        cband_high=t.cband_high[:, j],
        crit=float(t.crit[j]),
    )


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
