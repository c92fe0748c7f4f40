"""Gram rows of batches of Frank-Wolfe problems (see :mod:`tillit.core.synth._fw`).

:func:`gram` builds each problem's own rows ``H[i] - q`` from its data matrix;
:func:`placebo_gram` builds placebo replicates' unit-weight problems from one Gram
matrix of the controls; :func:`merge` puts two batches into one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tillit.core.errors import EstimationError

__all__ = ["Gram", "gram", "merge", "placebo_gram"]


@dataclass(frozen=True, eq=False)
class Gram:
    """Gram rows of a batch of problems, padded to a common width ``M``.

    Problem ``k``'s row ``i`` is ``R[off[k] + i] + P[k]`` (``P`` absent: zero): its
    own rows for problems built by :func:`gram`, rows shared by all problems plus a
    per-problem vector for placebo replicates built by :func:`placebo_gram`.

    Attributes
    ----------
    R
        ``(rows, M)`` Gram rows ``H[i] - q`` (or the shared ``H[i]``); padded columns
        hold ``big``, larger than every real entry.
    z, q
        ``H_ii - 2 q_i`` and ``q_i`` of problem ``k`` at ``zoff[k] + i``.
    off, zoff, m
        First row in ``R``, first entry in ``z``/``q``, and number of variables.
    P
        ``(B, M)`` per-problem part of the rows, or ``None``.
    tol
        Stopping threshold of each problem on the decrease of ``x'Hx - 2 q'x``.
    big
        The padding constant.
    """

    R: np.ndarray
    z: np.ndarray
    q: np.ndarray
    off: np.ndarray
    zoff: np.ndarray
    m: np.ndarray
    tol: np.ndarray
    P: np.ndarray | None = None
    big: float = 1.0

    @property
    def Rf(self) -> np.ndarray:
        """``R`` as a flat view."""
        return self.R.reshape(-1)

    @property
    def M(self) -> int:
        """Common (padded) number of variables."""
        return int(self.R.shape[1])

    def row(self, k: np.ndarray, i: np.ndarray) -> np.ndarray:
        """Rows ``i`` of problems ``k``."""
        R: np.ndarray = self.R[self.off[k] + i]
        return R if self.P is None else R + self.P[k]


def _groups(
    Ys: Sequence[np.ndarray], intercept: np.ndarray
) -> list[tuple[np.ndarray, bool]]:
    """Indices of the problems of each shape (and intercept), in first-seen order."""
    groups: dict[tuple[int, int, bool], list[int]] = {}
    for k, Y in enumerate(Ys):
        groups.setdefault((*Y.shape, bool(intercept[k])), []).append(k)
    return [(np.asarray(ks), key[2]) for key, ks in groups.items()]


def _fill(
    out: np.ndarray, Y: np.ndarray, eta: np.ndarray, icpt: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Write ``H - q`` of same-shape problems ``Y`` into ``out``; return ``z`` and ``q``."""
    if icpt:
        Y = Y - Y.mean(axis=1, keepdims=True)
    m = Y.shape[2] - 1
    A = Y[:, :, :m]
    if m <= 64:  # BLAS, 15x einsum; too small a product for BLAS to start threads
        np.matmul(A.transpose(0, 2, 1), A, out=out)
    else:  # einsum: no BLAS threads (they spin under load)
        np.einsum("kti,ktj->kij", A, A, out=out)
    d = np.arange(m)
    out[:, d, d] += eta[:, None]
    q = np.matmul(Y[:, None, :, m], A)[:, 0, :]
    z = np.einsum("kii->ki", out) - 2 * q
    out -= q[:, None, :]
    return z, q


def gram(
    Ys: Sequence[np.ndarray],
    zeta: float | np.ndarray,
    intercept: bool | np.ndarray,
    min_decrease: float | np.ndarray,
) -> Gram:
    """Build the padded Gram rows of problems ``Y_k`` (``n_k x (m_k + 1)``, last column b).

    ``zeta``, ``intercept`` and ``min_decrease`` are scalars or one per problem.
    Problems of one shape share a contiguous range of rows.
    """
    B = len(Ys)
    zeta = np.broadcast_to(np.asarray(zeta, dtype=float), (B,))
    icpt = np.broadcast_to(np.asarray(intercept, dtype=bool), (B,))
    mdec = np.broadcast_to(np.asarray(min_decrease, dtype=float), (B,))
    n = np.array([Y.shape[0] for Y in Ys])
    m = np.array([Y.shape[1] - 1 for Y in Ys])
    M = int(m.max())
    R = np.empty((int(m.sum()), M))
    z, q = np.empty(len(R)), np.empty(len(R))
    off = np.empty(B, dtype=np.intp)
    top, at, pads = 0.0, 0, []
    for idx, ic in _groups(Ys, icpt):
        mk, nb = int(m[idx[0]]), len(idx)
        off[idx] = at + mk * np.arange(nb)
        view = R[at : at + nb * mk].reshape(nb, mk, M)
        Y = np.stack([Ys[k] for k in idx.tolist()]).astype(float, copy=False)
        with np.errstate(over="ignore", invalid="ignore"):  # checked just below
            zb, qb = _fill(view[:, :, :mk], Y, n[idx] * zeta[idx] ** 2, ic)
        z[at : at + nb * mk], q[at : at + nb * mk] = zb.ravel(), qb.ravel()
        hi, lo = float(view[:, :, :mk].max()), float(view[:, :, :mk].min())
        if not (np.isfinite(hi) and np.isfinite(lo) and np.isfinite(zb).all()):
            raise EstimationError(
                "the outcomes are too large for the weight solver (non-finite Gram matrix)"
            )
        top = max(top, hi, -lo)
        if mk < M:
            pads.append(view[:, :, mk:])
        at += nb * mk
    big = 1e3 * top + 1.0
    for v in pads:
        v[...] = big
    return Gram(R, z, q, off, off.copy(), m, n * mdec**2, big=big)


def placebo_gram(
    C: np.ndarray,
    eta: float,
    treated: np.ndarray,
    tol: float,
    w1: np.ndarray | None = None,
) -> Gram:
    """Unit-weight problems of placebo replicates, all from one Gram matrix.

    A placebo replicate's unit-weight problem regresses the mean of its pseudo-treated
    columns of ``C`` (``n x N``, the controls' centred pre-period outcomes) on its
    other columns, so its ``H`` is a submatrix of ``C'C + eta I`` and its ``q`` an
    average of columns of ``C'C``.  Each problem keeps the ``N`` original columns as
    its variables; its pseudo-treated ones are inert (a huge gradient entry, weight
    0).  ``treated`` is ``(B, n1)``; ``w1`` ``(B, n1)`` weighs the pseudo-treated
    columns' average (population weights; ``None``: equal).
    """
    N = C.shape[1]
    B = len(treated)
    M = N
    with np.errstate(over="ignore", invalid="ignore"):  # checked just below
        Gf = C.T @ C
        if w1 is None:
            Q = Gf[treated].mean(axis=1)
        else:
            w = w1 / w1.sum(axis=1, keepdims=True)
            Q = np.einsum("bn,bnj->bj", w, Gf[treated])
        d = np.arange(N)
        R = np.empty((N, M))
        R[:, :N] = Gf
        R[d, d] += eta
        z = np.zeros((B, M))
        z[:, :N] = R[d, d] - 2 * Q
    top = float(np.abs(R[:, :N]).max()) + float(np.abs(Q).max())
    if not (np.isfinite(top) and np.isfinite(z).all()):
        raise EstimationError(
            "the outcomes are too large for the weight solver (non-finite Gram matrix)"
        )
    big = 1e3 * top + 1.0
    R[:, N:] = big
    P = np.zeros((B, M))
    P[:, :N] = -Q
    P[np.arange(B)[:, None], treated] += big
    q = np.zeros((B, M))
    q[:, :N] = Q
    return Gram(
        R,
        z.ravel(),
        q.ravel(),
        np.zeros(B, dtype=np.intp),
        np.arange(B, dtype=np.intp) * M,
        np.full(B, N),
        np.full(B, tol),
        P,
        big,
    )


def merge(a: Gram, b: Gram) -> Gram:
    """One batch of the problems of ``a`` and ``b`` (rows padded to the wider)."""
    M = max(a.M, b.M)
    big = max(a.big, b.big)

    def widen(R: np.ndarray, fill: float) -> np.ndarray:
        return (
            R
            if R.shape[1] == M
            else np.pad(R, ((0, 0), (0, M - R.shape[1])), constant_values=fill)
        )

    P = None
    if a.P is not None or b.P is not None:
        P = np.vstack(
            [
                widen(a.P if a.P is not None else np.zeros((len(a.m), a.M)), 0.0),
                widen(b.P if b.P is not None else np.zeros((len(b.m), b.M)), 0.0),
            ]
        )
    return Gram(
        np.vstack([widen(a.R, big), widen(b.R, big)]),
        np.concatenate([a.z, b.z]),
        np.concatenate([a.q, b.q]),
        np.concatenate([a.off, b.off + len(a.R)]),
        np.concatenate([a.zoff, b.zoff + len(a.z)]),
        np.concatenate([a.m, b.m]),
        np.concatenate([a.tol, b.tol]),
        P,
        big,
    )
