"""The ARP linear program ``eta(y) = min_{eta, delta} eta  s.t.  y - X delta <= eta * sd``.

Andrews, Roth & Pakes (2023) test moment inequalities with nuisance parameters through
this LP. In a sensitivity analysis the same ``(X, sd)`` is solved for hundreds of ``y``
(every ``theta`` on the grid, every least-favourable draw), so :class:`EtaLp` keeps the
optimal bases it has seen: for a new ``y`` the best cached dual vertex ``gamma`` is
*certified* optimal when its primal solution ``(eta, delta) = W_B^{-1} y_B`` is feasible
(weak duality). Otherwise a few dual-simplex pivots from the best cached vertex reach the
optimum (each pivot adds the most violated constraint and drops the basis row whose dual
weight reaches zero first), and HiGHS is called only if that fails (cycling, numerics).
The answer is the LP optimum either way; the cache only saves solver calls.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

__all__ = ["EtaLp"]

_TOL_LAMBDA = (
    1e-6  # HonestDiD's tol_lambda: a dual weight above this marks a binding row
)


class EtaLp:
    """Solver of ``eta(y)`` for fixed ``X`` (m, p) and ``sd`` (m,), with a vertex cache."""

    def __init__(self, x: np.ndarray, sd: np.ndarray) -> None:
        self.x, self.sd = x, sd
        self.w = np.column_stack([sd, x])
        self.m, self.p = x.shape
        self._gam: list[np.ndarray] = []
        self._rows: list[np.ndarray] = []
        self._inv: list[np.ndarray] = []
        self._g = np.zeros((0, self.m))  # the cached vertices stacked
        self.n_highs = 0

    def solve(self, y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """``(eta, delta, lambda)``: optimum, a primal minimiser and the dual weights."""
        hit = self._cached(y[:, None])
        i = int(hit[0])
        if i < 0 and self._gam:
            i = self._pivot(y)
        if i >= 0:
            sol = self._inv[i] @ y[self._rows[i]]
            return float(sol[0]), sol[1:], self._gam[i]
        return self._highs(y)

    def _pivot(self, y: np.ndarray) -> int:
        """Dual simplex from the best cached vertex; index of the optimal vertex, or -1."""
        start = int(np.argmax(self._g @ y))
        rows, inv = self._rows[start].copy(), self._inv[start]
        tol = 1e-9 * (1.0 + float(np.abs(y).max()))
        for _ in range(20 + 2 * self.m):
            z = inv @ y[rows]
            slack = self.w @ z - y
            r = int(np.argmin(slack))
            if slack[r] >= -tol:
                return self._store(rows, inv)
            u = self.w[r] @ inv  # W_r = u W_B
            pos = np.flatnonzero(u > 1e-12)
            if pos.size == 0 or r in rows:
                return -1
            j = pos[np.argmin(inv[0][pos] / u[pos])]
            rows[j] = r
            try:
                inv = np.linalg.inv(self.w[rows])
            except np.linalg.LinAlgError:
                return -1
            if not np.isfinite(inv).all():
                return -1
        return -1

    def _store(self, rows: np.ndarray, inv: np.ndarray) -> int:
        """Add the vertex of basis ``rows`` (any order) to the cache; its index or -1."""
        gam = np.zeros(self.m)
        gam[rows] = inv[0]
        if (gam < -1e-9).any():
            return -1
        gam[np.abs(gam) <= _TOL_LAMBDA] = 0.0
        self._gam.append(gam)
        self._rows.append(np.asarray(rows))
        self._inv.append(inv)
        self._g = np.vstack([self._g, gam])
        return len(self._gam) - 1

    def solve_many(self, y: np.ndarray) -> np.ndarray:
        """``eta`` of every column of ``y`` (m, n)."""
        out = np.full(y.shape[1], np.nan)
        for lo in range(0, y.shape[1], 500):  # blocks: later blocks reuse new vertices
            cols = np.arange(lo, min(lo + 500, y.shape[1]))
            hit = self._cached(y[:, cols])
            for i in np.unique(hit[hit >= 0]):
                sel = cols[hit == i]
                out[sel] = self._gam[i] @ y[:, sel]
            for c in cols[hit < 0]:
                out[c] = self.solve(y[:, c])[0]
        return out

    def _cached(self, y: np.ndarray) -> np.ndarray:
        """Index of a certified optimal cached vertex per column of ``y``, or -1."""
        n = y.shape[1]
        found = np.full(n, -1)
        if not self._gam:
            return found
        vals = self._g @ y  # (V, n): dual objective at each vertex
        best = np.argmax(vals, axis=0)
        for i in np.unique(best):
            cols = np.flatnonzero(best == i)
            sol = self._inv[i] @ y[self._rows[i]][:, cols]  # (p + 1, c)
            slack = sol[0] * self.sd[:, None] + self.x @ sol[1:] - y[:, cols]
            scale = 1e-9 * (1.0 + np.abs(y[:, cols]).max(axis=0))
            good = (slack >= -scale).all(axis=0)
            found[cols[good]] = i
        return found

    def _highs(self, y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        self.n_highs += 1
        c = np.r_[1.0, np.zeros(self.p)]
        res = optimize.linprog(
            c,
            A_ub=-self.w,
            b_ub=-y,
            bounds=[(None, None)] * (self.p + 1),
            method="highs",
        )
        if res.status != 0:
            return float("nan"), np.full(self.p, np.nan), np.zeros(self.m)
        lam = -np.asarray(res.ineqlin.marginals, dtype=float)
        self._remember(lam, np.asarray(res.ineqlin.residual, dtype=float))
        return float(res.fun), np.asarray(res.x[1:], dtype=float), lam

    def _remember(self, lam: np.ndarray, slack: np.ndarray) -> None:
        """Cache the vertex with a square basis: its positive rows, completed (for a
        degenerate vertex) by the tightest other rows that keep ``W_B`` invertible."""
        rows: list[int] = [int(i) for i in np.flatnonzero(lam > _TOL_LAMBDA)]
        for i in np.argsort(slack):
            if len(rows) == self.p + 1:
                break
            if i in rows:
                continue
            trial = self.w[np.array([*rows, int(i)])]
            if np.linalg.matrix_rank(trial) == len(rows) + 1:
                rows.append(int(i))
        if len(rows) != self.p + 1:
            return
        idx = np.array(sorted(rows))
        wb = self.w[idx]
        if np.linalg.cond(wb) > 1e12:
            return
        self._store(idx, np.linalg.inv(wb))
