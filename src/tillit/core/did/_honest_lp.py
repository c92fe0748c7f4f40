"""The ARP linear program ``eta(y) = min_{eta, delta} eta  s.t.  y - X delta <= eta * sd``.

Andrews, Roth & Pakes (2023) test moment inequalities with nuisance parameters through
this LP. In a sensitivity analysis the same ``(X, sd)`` is solved for hundreds of ``y``
(every ``theta`` on the grid, every least-favourable draw), so :class:`EtaLp` keeps the
optimal bases it has seen: for a new ``y`` the best cached dual vertex ``gamma`` is
*certified* optimal when its primal solution ``(eta, delta) = W_B^{-1} y_B`` is feasible
(weak duality), and HiGHS is called only when no cached vertex is certified. The answer
is the LP optimum either way; the cache only saves solver calls.
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
        self.n_highs = 0

    def solve(self, y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """``(eta, delta, lambda)``: optimum, a primal minimiser and the dual weights."""
        hit = self._cached(y[:, None])
        if hit[0] >= 0:
            i = int(hit[0])
            sol = self._inv[i] @ y[self._rows[i]]
            return float(sol[0]), sol[1:], self._gam[i]
        return self._highs(y)

    def solve_many(self, y: np.ndarray) -> np.ndarray:
        """``eta`` of every column of ``y`` (m, n)."""
        out = np.full(y.shape[1], np.nan)
        todo = np.arange(y.shape[1])
        while todo.size:
            hit = self._cached(y[:, todo])
            ok = hit >= 0
            for i in np.unique(hit[ok]):
                cols = todo[hit == i]
                out[cols] = self._gam[i] @ y[:, cols]
            todo = todo[~ok]
            if todo.size:
                out[todo[0]] = self._highs(y[:, todo[0]])[0]
                todo = todo[1:]
        return out

    def _cached(self, y: np.ndarray) -> np.ndarray:
        """Index of a certified optimal cached vertex per column of ``y``, or -1."""
        n = y.shape[1]
        found = np.full(n, -1)
        if not self._gam:
            return found
        vals = np.stack(self._gam) @ y  # (V, n): dual objective at each vertex
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
        pos = list(np.flatnonzero(lam > _TOL_LAMBDA))
        rows = list(pos)
        for i in np.argsort(slack):
            if len(rows) == self.p + 1:
                break
            if i in rows:
                continue
            trial = self.w[[*rows, int(i)]]
            if np.linalg.matrix_rank(trial) == len(rows) + 1:
                rows.append(int(i))
        if len(rows) != self.p + 1:
            return
        idx = np.array(sorted(rows))
        wb = self.w[idx]
        if np.linalg.cond(wb) > 1e12:
            return
        inv = np.linalg.inv(wb)
        gam = np.zeros(self.m)
        gam[idx] = inv[0]  # gamma_B' W_B = e_1'
        if (gam < -1e-9).any():
            return
        gam[np.abs(gam) <= _TOL_LAMBDA] = 0.0
        self._gam.append(gam)
        self._rows.append(idx)
        self._inv.append(inv)
