"""Tables, standard errors and diagnostics from either computation path.

:func:`_stats_general` works from materialised per-unit influence functions (covariates,
clusters); :func:`_stats_fast` from cohort sufficient statistics (:mod:`._fast`). Both
return a :class:`_Stats`, which :class:`_Chunk` turns into per-outcome results.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from tillit.core.did import _diagnostics as diag
from tillit.core.did import _fast
from tillit.core.did._aggregate import AggregationMaps
from tillit.core.did._attgt import CellPlan
from tillit.core.did._inference import (
    Draws,
    analytic_se,
    bootstrap_se,
    uniform_crit,
)
from tillit.core.did._panel import Panel
from tillit.core.did.results import EstimateTable, OutcomeResult

__all__ = ["_Chunk", "_Setup", "_stats_fast", "_stats_general"]

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
    unbalanced: bool = False


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
    out: np.ndarray = zk @ zk.transpose(0, 2, 1) / n**2
    return out


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
        v = ctx.draws.by_cluster()
        if ctx.panel.cluster is None:
            v = v[:, ctx.rows]
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
        vy, vsum = _fast.bootstrap_sums(y, st, ctx.draws, ctx.rows, m.cohort_codes)
        b_gt, b_agg = _fast.boot_cells_and_aggregates(cf, af, m, vy, vsum, n)
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
    draws: Draws | None

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
                dynamic_vcov=None if st.vc_dyn is None else st.vc_dyn[j],
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
        crit=crit,
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
        crit=float(np.asarray(t.crit)[j]),
    )
