"""Unconditional ATT(g,t) inference from cohort sufficient statistics (no per-unit tensor).

Without covariates and with unit-level clustering, the influence function of any linear
functional ``a`` of the cells (a cell itself or an aggregation) is, for a unit ``i`` of
cohort ``c``, ``IF_ia = coef[c, a, :] @ Y_i + const[c, a]``: linear in the unit's own outcome
path with cohort-specific coefficients. Every quantity the engine needs then follows from
cohort sums ``S_c = sum_i Y_i`` and cross-products ``Q_c = sum_i Y_i Y_i'`` (and, for the
bootstrap, ``sum_i v_bi Y_i``), so the units x cells x outcomes influence array is never
built. The general path in :mod:`tillit.core.did.estimator` (covariates, clusters) builds it;
tests check both give the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tillit.core.did._aggregate import AggregationMaps
from tillit.core.did._attgt import CellPlan
from tillit.core.did._inference import Draws

__all__ = ["Functionals", "cohort_stats", "fast_cells"]


@dataclass(frozen=True)
class CohortStats:
    """Per-cohort sums of one batch of outcomes."""

    code: np.ndarray  # cohort code per unit
    n_c: np.ndarray  # units per cohort
    s: np.ndarray  # (C, T, K) sums
    q: np.ndarray  # (C, T, T, K) cross-products


def cohort_stats(y: np.ndarray, code: np.ndarray, n_codes: int) -> CohortStats:
    """Cohort sums and cross-products of outcome paths ``y`` (n, T, K)."""
    _, T, K = y.shape
    n_c = np.bincount(code, minlength=n_codes).astype(float)
    s = np.zeros((n_codes, T, K))
    q = np.zeros((n_codes, T, T, K))
    yk = np.ascontiguousarray(y.transpose(2, 0, 1))  # (K, n, T)
    for c in range(n_codes):
        sel = code == c
        if not sel.any():
            continue
        yc = yk[:, sel, :]
        s[c] = yc.sum(axis=1).T
        q[c] = (yc.transpose(0, 2, 1) @ yc).transpose(1, 2, 0)
    return CohortStats(code=code, n_c=n_c, s=s, q=q)


@dataclass(frozen=True)
class Functionals:
    """Linear functionals of the cells: estimate, and IF = coef @ Y_i + const by cohort."""

    estimate: np.ndarray  # (A, K)
    coef: np.ndarray  # (C, A, T)
    const: np.ndarray  # (C, A, K)

    def sumsq(self, st: CohortStats) -> np.ndarray:
        """``sum_i IF_ia^2`` per functional and outcome, (A, K)."""
        out = np.zeros(self.estimate.shape)
        for c in range(st.n_c.shape[0]):
            if st.n_c[c] == 0:
                continue
            b = self.coef[c]
            quad = (np.tensordot(b, st.q[c], axes=([1], [0])) * b[:, :, None]).sum(1)
            lin = b @ st.s[c]
            k = self.const[c]
            out += quad + 2 * k * lin + st.n_c[c] * k * k
        return out

    def cov(self, st: CohortStats, rows: np.ndarray) -> np.ndarray:
        """Covariance ``sum_i IF_ia IF_ib / n^2`` of functionals ``rows``, (K, R, R)."""
        K = self.estimate.shape[1]
        R = rows.shape[0]
        out = np.zeros((K, R, R))
        n = float(st.n_c.sum())
        for c in range(st.n_c.shape[0]):
            if st.n_c[c] == 0 or R == 0:
                continue
            b = self.coef[c][rows]  # (R, T)
            k = self.const[c][rows]  # (R, K)
            bq = np.tensordot(b, st.q[c], axes=([1], [0]))  # (R, T, K)
            out += np.einsum("rtk,qt->krq", bq, b, optimize=True)
            lin = b @ st.s[c]  # (R, K)
            cross = k.T[:, :, None] * lin.T[:, None, :]  # (K, R, R)
            out += cross + cross.transpose(0, 2, 1)
            out += st.n_c[c] * k.T[:, :, None] * k.T[:, None, :]
        return out / n**2

    def materialize(
        self, y: np.ndarray, st: CohortStats, rows: np.ndarray
    ) -> np.ndarray:
        """Per-unit influence functions of the functionals ``rows``: (n, len(rows), K)."""
        coef = self.coef[:, rows][st.code]  # (n, R, T)
        out: np.ndarray = (
            np.einsum("nrt,ntk->nrk", coef, y, optimize=True)
            + self.const[:, rows][st.code]
        )
        return out

    def boot(self, vy: np.ndarray, vsum: np.ndarray, n: int) -> np.ndarray:
        """Multiplier-bootstrap draws ``sum_i v_bi IF_ia / n``: (B, A, K).

        ``vy`` (C, B, T, K) holds ``sum_{i in c} v_bi Y_i``, ``vsum`` (C, B) ``sum v_bi``.
        """
        out = self.coef_part(vy)
        out += np.einsum("cb,cak->bak", vsum, self.const)
        out /= n
        return out

    def coef_part(self, vy: np.ndarray) -> np.ndarray:
        """``sum_c coef[c] @ vy[c]`` as (B, A, K): one GEMM over (cohort, period)."""
        C, B, T, K = vy.shape
        A = self.coef.shape[1]
        lhs = self.coef.transpose(1, 0, 2).reshape(A, C * T)
        rhs = vy.transpose(0, 2, 1, 3).reshape(C * T, B * K)
        out: np.ndarray = (lhs @ rhs).reshape(A, B, K).transpose(1, 0, 2)
        return out

    def combine(self, w: np.ndarray, extra: np.ndarray | None = None) -> Functionals:
        """Functionals ``w.T @ self`` (w: (A, A2)), plus an extra constant (C, A2, K)."""
        const = np.einsum("cak,ab->cbk", self.const, w)
        if extra is not None:
            const = const + extra
        return Functionals(
            estimate=w.T @ self.estimate,
            coef=np.einsum("cat,ab->cbt", self.coef, w),
            const=const,
        )


def fast_cells(
    st: CohortStats, cells: CellPlan, codes: np.ndarray, n: int
) -> Functionals:
    """ATT(g,t) as functionals: difference of cohort-weighted mean changes."""
    T = st.s.shape[1]
    GT = cells.group.shape[0]
    rep = np.array(
        [
            int(np.flatnonzero(st.code == c)[0]) if st.n_c[c] else -1
            for c in range(codes.shape[0])
        ]
    )
    present = rep >= 0
    d = np.zeros((codes.shape[0], GT))
    ctrl = np.zeros((codes.shape[0], GT))
    d[present] = cells.treated[rep[present]]
    ctrl[present] = cells.control[rep[present]]
    n1 = st.n_c @ d
    n0 = st.n_c @ ctrl
    sdy = st.s[:, cells.t_idx, :] - st.s[:, cells.b_idx, :]  # (C, GT, K)
    m1 = np.einsum("cg,cgk->gk", d, sdy) / n1[:, None]
    m0 = np.einsum("cg,cgk->gk", ctrl, sdy) / n0[:, None]
    alpha = n * (d / n1 - ctrl / n0)  # (C, GT)
    const = -n * ((d / n1)[:, :, None] * m1[None] - (ctrl / n0)[:, :, None] * m0[None])
    e = np.zeros((GT, T))
    e[np.arange(GT), cells.t_idx] += 1.0
    e[np.arange(GT), cells.b_idx] -= 1.0
    coef = alpha[:, :, None] * e[None]
    att = m1 - m0
    att[cells.reference] = 0.0
    coef[:, cells.reference] = 0.0
    const[:, cells.reference] = 0.0
    return Functionals(estimate=att, coef=coef, const=const)


def boot_cells_and_aggregates(
    cells_f: Functionals,
    agg_f: Functionals,
    maps: AggregationMaps,
    vy: np.ndarray,
    vsum: np.ndarray,
    n: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Bootstrap draws of the cells and of ``agg_f = aggregate(cells_f, maps)``.

    The aggregations' coefficients are ``maps.w``-combinations of the cells', so the
    outcome-path part is computed once for the cells and combined (one GEMM, not two).
    """
    part = cells_f.coef_part(vy)  # (B, GT, K)
    B, GT, K = part.shape
    A = maps.w.shape[1]
    b_gt = part + _vsum_const(vsum, cells_f.const)
    # (B*K, GT) @ (GT, A): the aggregations' outcome-path part
    b_agg = (part.transpose(0, 2, 1).reshape(B * K, GT) @ maps.w).reshape(B, K, A)
    b_agg = b_agg.transpose(0, 2, 1) + _vsum_const(vsum, agg_f.const)
    b_gt /= n
    b_agg /= n
    return b_gt, b_agg


def _vsum_const(vsum: np.ndarray, const: np.ndarray) -> np.ndarray:
    """``sum_c vsum[c, b] const[c, a, k]`` as (B, A, K), one matrix product."""
    C, A, K = const.shape
    out: np.ndarray = (vsum.T @ const.reshape(C, A * K)).reshape(-1, A, K)
    return out


def aggregate(cells_f: Functionals, maps: AggregationMaps) -> Functionals:
    """All aggregations as functionals, including the weight-estimation terms."""
    extra = np.einsum("acg,gk->cak", maps.wc, cells_f.estimate)
    return cells_f.combine(maps.w, extra)


def bootstrap_sums(
    y: np.ndarray,
    st: CohortStats,
    draws: Draws,
    rows: np.ndarray,
    cohort_codes: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """``sum_{i in c} v_bi Y_i`` (C, B, T, K) and ``sum_{i in c} v_bi`` (C, B).

    ``y`` holds the kept units (``rows`` of the panel, in panel order); the draws have
    one column per panel unit, grouped by cohort, so each cohort's multipliers are a
    view of the current chunk.  Dropped units get zero outcome rows and zero weight.
    """
    n, T, K = y.shape
    C = st.n_c.shape[0]
    vy = np.zeros((C, draws.reps, T * K))
    vsum = np.zeros((C, draws.reps))
    every = bool(rows.all())
    flat = y.reshape(n, T * K)
    if not every:
        full = np.zeros((rows.shape[0], T * K))
        full[rows] = flat
        flat = full
    blocks = [(c, *draws.block(float(cohort_codes[c]))) for c in range(C) if st.n_c[c]]
    parts = [
        (c, cols, flat[units], rows[units].astype(float)) for c, cols, units in blocks
    ]
    for r, v in draws.chunks():
        for c, cols, yc, wc in parts:
            vc = v[:, cols]
            np.matmul(vc, yc, out=vy[c, r])
            vsum[c, r] = vc.sum(1) if every else vc @ wc
    return vy.reshape(C, draws.reps, T, K), vsum
