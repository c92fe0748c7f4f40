"""Compiled Frank-Wolfe loop for :mod:`tillit.core.synth._fw` (numba, imported lazily).

The numpy path in ``_fw`` runs a batch of problems in lock step, which makes every
iteration a dozen numpy calls: about 25 microseconds of interpreter overhead however
small the problems.  A placebo variance of 200 replicates needs up to 10 000
sequential iterations, so that overhead, not arithmetic, set its time.  Here each
problem runs its own loop in compiled code instead, problems shared out over threads,
with the same Gram-row arithmetic (see the ``_fw`` module docstring): a step finds the
vertex (an argmin over the problem's ``m`` variables), takes the exact line search
from two scalars, updates the half-gradient ``G <- (1 - s) G + s R_i`` in one pass and
one entry of the (scaled) weights.  ``G``, ``h = x'Hx - 2 q'x`` and ``p = q'x`` are
recomputed exactly from ``x`` every ``recompute`` steps, as in ``_fw``.

This is the one module of :mod:`tillit.core` that is compiled (see ARCHITECTURE.md,
"Compiled kernels"); ``_fw`` keeps the numpy path, and the tests hold the two to the
same iterates.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import config, njit

from tillit.core.synth._fw_gram import Gram

__all__ = ["lanes", "run", "run_batch"]


@njit(cache=True, nogil=True, error_model="numpy")
def _exact(
    R: np.ndarray,
    Pk: np.ndarray,
    add_p: bool,
    q: np.ndarray,
    o: int,
    zo: int,
    mk: int,
    x: np.ndarray,
    G: np.ndarray,
) -> tuple[float, float]:  # pragma: no cover - compiled
    """Exact ``G = sum_i x_i R_i`` (plus ``Pk``), ``h = x'G - q'x``, ``p = q'x``."""
    for j in range(mk):
        G[j] = Pk[j] if add_p else 0.0
    for i in range(mk):
        xi = x[i]
        if xi != 0.0:
            for j in range(mk):
                G[j] += xi * R[o + i, j]
    d = 0.0
    p = 0.0
    for j in range(mk):
        d += x[j] * G[j]
        p += x[j] * q[zo + j]
    return d - p, p


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _argmin(G: np.ndarray, mk: int) -> int:  # pragma: no cover - compiled
    """First index of the smallest of ``G[:mk]`` (numpy's ``argmin``, R's which.min).

    Blocks of eight are reduced to their minimum by branch-free pairwise selects
    (which the compiler vectorises); only a block that beats the best so far is
    searched for the index.  Twice as fast as the plain loop at 289 entries; below
    64 entries the plain loop is as fast and is used.
    """
    if mk < 64:
        i = 0
        low = G[0]
        for j in range(1, mk):
            if G[j] < low:
                low = G[j]
                i = j
        return i
    best = G[0]
    blk = 0
    j = 0
    while j + 8 <= mk:
        a0 = G[j] if G[j] <= G[j + 4] else G[j + 4]
        a1 = G[j + 1] if G[j + 1] <= G[j + 5] else G[j + 5]
        a2 = G[j + 2] if G[j + 2] <= G[j + 6] else G[j + 6]
        a3 = G[j + 3] if G[j + 3] <= G[j + 7] else G[j + 7]
        b0 = a0 if a0 <= a2 else a2
        b1 = a1 if a1 <= a3 else a3
        c = b0 if b0 <= b1 else b1
        if c < best:
            best = c
            blk = j
        j += 8
    i = blk
    while i < mk - 1 and G[i] != best:
        i += 1
    for k in range(j, mk):
        if G[k] < best:
            best = G[k]
            i = k
    return i


# "contract" lets the compiler fuse a*b + c into one rounding (FMA); no other
# fast-math assumption, so nan and inf keep their IEEE meaning.
@njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def _solve(
    R: np.ndarray,
    Pk: np.ndarray,
    add_p: bool,
    z: np.ndarray,
    q: np.ndarray,
    o: int,
    zo: int,
    mk: int,
    tk: float,
    xk: np.ndarray,
    max_iter: int,
    recompute: int,
) -> None:  # pragma: no cover - compiled
    """Frank-Wolfe steps of one problem from its weights ``xk`` (updated in place).

    Its row ``i`` is ``R[o + i, :mk]`` (plus ``Pk`` when ``add_p``); its
    ``H_ii - 2 q_i`` and ``q_i`` are ``z[zo + i]`` and ``q[zo + i]``.

    The weights are kept as ``cx * xk`` between recomputations, so that a step
    touches one entry of ``xk``; the gradient ``G`` is updated in full.
    """
    G = np.empty(mk)
    h, p, cx = 0.0, 0.0, 1.0
    due = 1  # the next step that recomputes G, h and p exactly
    for t in range(1, max_iter + 1):
        if t == due:
            due += recompute
            if cx != 1.0:
                for j in range(mk):
                    xk[j] *= cx
                cx = 1.0
            h, p = _exact(R, Pk, add_p, q, o, zo, mk, xk, G)
        i = _argmin(G, mk)
        gi = G[i]
        pg = p - gi
        num = h + pg
        den = z[zo + i] + num + pg
        s = num / den  # IEEE: x/0 is +-inf or nan (error_model="numpy")
        if not s > 0.0:  # also a nan step (x already at the vertex): no move
            s = 0.0
        elif s > 1.0:
            s = 1.0
        dec = (num + num - s * den) * s
        h = z[zo + i] if s == 1.0 else h - dec
        p += (q[zo + i] - p) * s
        cs = 1.0 - s
        if add_p:
            for j in range(mk):
                G[j] = cs * G[j] + s * (R[o + i, j] + Pk[j])
        else:
            for j in range(mk):
                G[j] = cs * G[j] + s * R[o + i, j]
        cn = cx * cs
        if cn < 1e-100:  # a full step or a vanishing scale: take it exactly
            for j in range(mk):
                xk[j] *= cn
            xk[i] += s
            cx = 1.0
        else:
            xk[i] += s / cn
            cx = cn
        if t >= 2 and not dec > tk:
            break
    if cx != 1.0:
        for j in range(mk):
            xk[j] *= cx


@njit(cache=True, nogil=True, error_model="numpy")
def run_batch(
    R: np.ndarray,
    P: np.ndarray,
    has_p: bool,
    z: np.ndarray,
    q: np.ndarray,
    off: np.ndarray,
    zoff: np.ndarray,
    m: np.ndarray,
    tol: np.ndarray,
    x: np.ndarray,
    max_iter: int,
    recompute: int,
    ks: np.ndarray,
) -> None:  # pragma: no cover - compiled; tested against the numpy path
    """Run every problem of a batch from its weights ``x`` (updated in place).

    Problem ``k`` has ``m[k]`` variables; its row ``i`` is ``R[off[k] + i]`` plus
    ``P[k]`` when ``has_p``, and its ``H_ii - 2 q_i`` and ``q_i`` sit at
    ``z[zoff[k] + i]`` and ``q[zoff[k] + i]``.  Steps stop after ``max_iter`` or once
    a step from the second on lowers ``x'Hx - 2 q'x`` by no more than ``tol[k]``.
    Only the problems ``ks`` are run, so that several threads can share a batch.
    """
    Rk = np.empty((x.shape[1], x.shape[1]) if has_p else (0, 0))
    for k in ks:
        mk, o, zo = m[k], off[k], zoff[k]
        if has_p and max_iter >= 4 * mk:  # long run: this problem's own rows, so
            for i in range(mk):  # that a step reads one row, not two
                for j in range(mk):
                    Rk[i, j] = R[o + i, j] + P[k, j]
            _solve(Rk, P[0], False, z, q, 0, zo, mk, tol[k], x[k], max_iter, recompute)
        elif has_p:  # short run (the 100 steps before sparsifying): add P[k] as it goes
            _solve(R, P[k], True, z, q, o, zo, mk, tol[k], x[k], max_iter, recompute)
        else:
            _solve(R, P[0], False, z, q, o, zo, mk, tol[k], x[k], max_iter, recompute)


def lanes() -> int:
    """Threads to share a batch over: numba's ``NUMBA_NUM_THREADS`` (the CPUs)."""
    return max(1, int(getattr(config, "NUMBA_NUM_THREADS", 1)))


def run(g: Gram, x: np.ndarray, max_iter: int, recompute: int) -> None:
    """:func:`run_batch` on batch ``g`` from weights ``x`` (updated in place), over
    :func:`lanes` threads (the compiled loop releases the GIL).

    The problems go out in small tasks, largest first, to whichever thread is free:
    they differ in size and in how long they run, so a fixed split leaves one thread
    idle while the other finishes.
    """
    i64 = np.int64
    P = np.zeros((1, 1)) if g.P is None else np.ascontiguousarray(g.P, dtype=float)
    args = (
        np.ascontiguousarray(g.R, dtype=float),
        P,
        g.P is not None,
        np.ascontiguousarray(g.z, dtype=float),
        np.ascontiguousarray(g.q, dtype=float),
        np.ascontiguousarray(g.off, dtype=i64),
        np.ascontiguousarray(g.zoff, dtype=i64),
        np.ascontiguousarray(g.m, dtype=i64),
        np.ascontiguousarray(g.tol, dtype=float),
        x,
        int(max_iter),
        int(recompute),
    )
    B = len(x)
    n = min(lanes(), B)
    if n <= 1:
        run_batch(*args, np.arange(B))
        return
    order = np.argsort(-np.asarray(g.m), kind="stable")
    tasks = np.array_split(order, min(B, 8 * n))
    with ThreadPoolExecutor(n) as pool:
        for f in [pool.submit(run_batch, *args, ks) for ks in tasks]:
            f.result()
