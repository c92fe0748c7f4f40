"""Frank-Wolfe weights on the unit simplex, as R ``synthdid`` computes them.

R's ``synthdid:::sc.weight.fw`` (Arkhangelsky et al. 2021, Algorithm 1) minimises
``zeta^2 ||x||^2 + ||A x - b||^2 / n`` over the simplex by Frank-Wolfe steps with exact
line search: the vertex ``i`` with the smallest gradient entry, the step
``s = clip(num / den, 0, 1)`` towards it, and a stop once the objective falls by no more
than ``min_decrease^2`` (or after ``max_iter`` steps).  This module runs many such
problems, of different sizes, in lock step, so that a whole set of placebo or bootstrap
replicates (their time weights and their unit weights) costs one Python loop of at most
``max_iter`` iterations.  Every problem still follows exactly R's iterates and stopping
rule (up to floating-point rounding, see ``tests/unit/synth/test_fw.py``).

How one iteration stays cheap.  With ``H = A'A + n zeta^2 I`` and ``q = A'b`` the
half-gradient is ``G = H x - q`` and, because ``sum(x) = 1``, ``G = sum_i x_i R_i`` with
rows ``R_i = H[i] - q``.  A step ``x <- (1 - s) x + s e_i`` becomes
``G <- (1 - s) G + s R_i``.  Both are kept up to a per-problem scale ``c``
(``x = c u``, ``G = c W``), so a step is ``c <- (1 - s) c``, ``u_i += s / c`` and
``W += (s / c) R_i`` (scipy's compiled CSR kernel adds the rows of the whole batch in
one pass; numpy take-scale-add otherwise), and the argmin is taken on ``W`` directly.
The line search needs two scalars, the objective ``h = x'Hx - 2 q'x`` and ``p = q'x``,
updated in closed form: ``num = h + p - G_i``, ``den = H_ii - 2 q_i + num + p - G_i``
(``= (e_i - x)' H (e_i - x)``), ``s = clip(num / den, 0, 1)``, the decrease
``dec = s (2 num - s den)`` (``= s num`` inside the box), ``h <- h - dec`` and
``p <- p + s (q_i - p)``.  Every ``RECOMPUTE`` iterations ``G``, ``h`` and ``p`` are
recomputed exactly from ``x`` (a sparse product over the non-zero weights) to bound
drift, and a full step (``s = 1``) or a vanishing scale resets the problem's row
exactly.  When one problem is left (the fit itself), it finishes on Python floats with
the same arithmetic, about six times cheaper a step than a batch of one.

Problems of different sizes share one batch by padding: a problem with ``m < M``
variables gets ``M - m`` inert ones whose gradient entry is a constant far above any
real entry (so never the argmin) and whose weight stays 0.  Problems that stop leave
the batch, so the remaining work shrinks.  A row may be a shared row plus a
per-problem vector: the unit-weight problems of placebo replicates all take their
rows from the controls' one Gram matrix (:mod:`tillit.core.synth._fw_gram`), so a
step adds two cached rows instead of streaming one from a table per replicate.

Batches of at least ``JIT_MIN`` problems (and every batch once it has been loaded) run
instead in the compiled loop of :mod:`tillit.core.synth._fw_kernel`: the same
arithmetic, one problem at a time per thread, without the per-iteration interpreter
overhead.  This numpy path stays for small batches and for when numba is missing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import sparse

from tillit.core.synth._fw_gram import Gram, gram

__all__ = ["fw_solve", "fw_weights", "padded", "run_fw", "solve_gram", "sparsify"]

RECOMPUTE = 1024
"""Iterations between exact recomputations of the gradient and the scalars."""

_TINY = 1e-100
"""Smallest scale ``c`` kept before a row is reset exactly."""

_CAP = 1 << 25
"""Floats of Gram rows held at once (256 MB); larger batches run in chunks."""


def sparsify(v: np.ndarray) -> np.ndarray:
    """Zero weights at or below a quarter of the largest and renormalise (R synthdid).

    Works row-wise on a 2-D array.
    """
    v = np.atleast_2d(np.asarray(v, dtype=float)).copy()
    v[v <= v.max(axis=1, keepdims=True) / 4] = 0.0
    out: np.ndarray = v / v.sum(axis=1, keepdims=True)
    return out


def _exact(
    g: Gram, ids: np.ndarray, x: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact ``G = sum_i x_i R_i``, ``h = x'G - q'x`` and ``p = q'x`` for weights ``x``."""
    B = len(x)
    off, zoff = g.off[ids], g.zoff[ids]
    r, j = np.nonzero(x)
    w = x[r, j]
    rows = off[r] + j
    indptr = np.concatenate([[0], np.cumsum(np.bincount(r, minlength=B))])
    S = sparse.csr_matrix((w, rows, indptr), shape=(B, len(g.R)))
    G = np.ascontiguousarray(S @ g.R)
    if g.P is not None:
        G += g.P[ids]
    d = np.bincount(r, weights=w * G[r, j], minlength=B)
    p = np.bincount(r, weights=w * g.q[zoff[r] + j], minlength=B)
    return G, d - p, p


def _axpy_rows(st: _State, coef: np.ndarray, row: np.ndarray) -> None:
    """``W[k] += coef[k] * R[row[k]]`` for every active ``k`` (numpy fallback)."""
    W, R, buf = st.W, st.g.R, st.buf
    R.take(row, 0, buf)
    buf *= coef[:, None]
    W += buf
    if st.g.P is not None:
        st.g.P.take(st.ids, 0, buf)
        buf *= coef[:, None]
        W += buf


def _load_kernel() -> Any:
    """scipy's compiled CSR kernel ``Y += A X`` (a private scipy function), or None.

    It is used only after it computes a known product correctly, so a scipy release
    that moves or changes it falls back to numpy instead of failing.
    """
    try:
        from scipy.sparse._sparsetools import csr_matvecs as kernel
    except ImportError:  # pragma: no cover - depends on the scipy build
        return None
    indptr = np.array([0, 1, 2], dtype=np.intp)
    indices = np.array([2, 0], dtype=np.intp)
    data = np.array([2.0, 3.0])
    x = np.arange(6.0).reshape(3, 2)
    y = np.ones((2, 2))
    try:
        kernel(2, 3, 2, indptr, indices, data, x.ravel(), y.ravel())
    except Exception:  # pragma: no cover - a changed private signature
        return None
    expected = 1.0 + np.array([[8.0, 10.0], [0.0, 3.0]])
    return kernel if np.array_equal(y, expected) else None


_csr_matvecs = _load_kernel()
FUSED = True
"""Use scipy's CSR kernel for the row update (tests switch it off to compare)."""

JIT = True
"""Run batches in the compiled loop of ``_fw_kernel`` when numba is installed (tests
switch it off to compare with the numpy path)."""

JIT_MIN = 32
"""Smallest batch that loads the compiled loop.  Loading numba costs about 0.7 s once
per process, more than the numpy path takes for a fit's two problems (~40 ms) but
far less than it saves on variance replicates (200 placebo draws, whole ``sdid()``
call: Prop 99 0.43 s -> 0.024 s, 290 units 0.95 s -> 0.21 s).  Once loaded, every
batch uses it."""

_UNSET: Any = object()
_jit_kernel: Any = _UNSET


def _jit() -> Any:
    """``_fw_kernel.run``, or None when numba cannot be imported (imported once,
    on first use, so that code which never solves weights never loads numba)."""
    global _jit_kernel
    if _jit_kernel is _UNSET:
        try:
            from tillit.core.synth import _fw_kernel
        except Exception:  # pragma: no cover - numba missing, broken or uncachable
            _jit_kernel = None
        else:
            _jit_kernel = _fw_kernel.run
    return _jit_kernel


def _loaded() -> bool:
    """Whether the compiled loop is already loaded in this process."""
    return _jit_kernel is not _UNSET and _jit_kernel is not None


def _run_compiled(kernel: Any, g: Gram, x: np.ndarray, max_iter: int) -> np.ndarray:
    """Run the batch in the compiled loop (``x`` is updated in place and returned)."""
    kernel(g, x, max_iter, RECOMPUTE)
    return x


class _State:
    """The active problems of a run: scaled weights ``u`` and gradient ``W``, scalars."""

    def __init__(self, g: Gram, x: np.ndarray) -> None:
        self.g = g
        self.ids = np.arange(len(x))
        self.off = g.off.copy()
        self.tol = g.tol.copy()
        self.zoff = g.zoff.copy()
        self.u = x.copy()
        self.W, self.h, self.p = _exact(g, self.ids, self.u)
        self.c = np.ones(len(x))
        self.dec = np.zeros(len(x))
        self._views()

    def _views(self) -> None:
        n, M = self.u.shape
        self.base = np.arange(n) * M
        self.uf = self.u.reshape(-1)
        self.Wf = self.W.reshape(-1)
        self.buf = np.empty((n, M))
        self.indptr = np.arange(n + 1, dtype=np.intp)

    def x(self) -> np.ndarray:
        """Current weights of the active problems."""
        return self.u * self.c[:, None]

    def recompute(self) -> None:
        """Exact gradient and scalars from the current weights (scale back to 1)."""
        self.u = self.x()
        self.W, self.h, self.p = _exact(self.g, self.ids, self.u)
        self.c = np.ones(len(self.u))
        self._views()

    def keep(self, keep: np.ndarray) -> None:
        """Drop the problems not in ``keep``."""
        for name in ("ids", "off", "zoff", "tol", "u", "W", "h", "p", "c", "dec"):
            setattr(self, name, getattr(self, name)[keep])
        self._views()

    def reset(
        self, k: np.ndarray, i: np.ndarray, s: np.ndarray, cn: np.ndarray
    ) -> None:
        """Take the step ``x <- (1-s) x + s e_i`` exactly in rows ``k`` (scale to 1)."""
        rows = self.g.row(self.ids[k], i)
        x = self.u[k] * cn[:, None]
        x[np.arange(len(k)), i] += s
        self.W[k] = self.W[k] * cn[:, None] + s[:, None] * rows
        self.u[k] = x
        self.c[k] = 1.0
        full = s == 1.0
        qi = self.g.q[self.zoff[k] + i]
        self.h[k[full]] = rows[full, i[full]] - qi[full]
        self.p[k[full]] = qi[full]


def run_fw(g: Gram, x0: np.ndarray, max_iter: int) -> np.ndarray:
    """Frank-Wolfe steps from ``x0`` (``(B, M)``, zero on padding) until each stops."""
    out = np.array(x0, dtype=float, order="C")
    if max_iter < 1 or len(out) == 0:
        return out
    kernel = _jit() if JIT and (len(out) >= JIT_MIN or _loaded()) else None
    if kernel is not None:
        return _run_compiled(kernel, g, out, max_iter)
    st = _State(g, out)
    t = 1
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        while t <= max_iter:
            if len(st.ids) == 1:
                out[st.ids[0]] = _run_one(st, t, max_iter)
                return out
            if t % RECOMPUTE == 0:
                st.recompute()
            last = min(max_iter, (t // RECOMPUTE + 1) * RECOMPUTE - 1)
            t, stopped = _steps(st, t, last)
            if stopped:
                x = st.x()
                done = ~(st.dec > st.tol)
                out[st.ids[done]] = x[done]
                if done.all():
                    return out
                st.keep(~done)
    out[st.ids] = st.x()
    return out


def _steps(st: _State, t: int, last: int) -> tuple[int, bool]:
    """Steps ``t..last`` of every active problem, or up to the first that stops.

    Returns the next step and whether some problem stopped.  Everything the loop
    touches is a local name; ``h``, ``p``, ``W`` and ``u`` are updated in place.
    """
    g = st.g
    W, Wf, uf, h, p, c = st.W, st.Wf, st.uf, st.h, st.p, st.c
    off, zoff, base, tol, z, q = st.off, st.zoff, st.base, st.tol, g.z, g.q
    argmin, minred, allred = W.argmin, np.minimum.reduce, np.logical_and.reduce
    fused = _csr_matvecs is not None and FUSED
    shape = (len(W), len(g.R), W.shape[1], st.indptr)
    same = g.P is None and np.array_equal(g.off, g.zoff)
    if g.P is not None:
        pshape = (len(W), len(g.P), W.shape[1], st.indptr, st.ids)
        Pf = g.P.reshape(-1)
    while t <= last:
        i = argmin(1)
        row = off + i
        zrow = row if same else zoff + i
        fi = base + i
        gi = Wf[fi]
        gi *= c
        pg = p - gi
        num = h + pg
        den = z[zrow]
        den += num
        den += pg
        s = num / den
        cn = 1.0 - s
        cn *= c
        rare = not minred(s * cn) > _TINY
        if rare:  # a step outside (0, 1), a full step, or a vanishing scale
            s = np.fmin(np.fmax(s, 0.0), 1.0)
            cn = (1.0 - s) * c
            dec = (num + num - s * den) * s
        else:
            dec = s * num
        h -= dec
        e = q[zrow]
        e -= p
        e *= s
        p += e
        coef = s / cn
        if rare:
            bad = np.flatnonzero(cn < _TINY)
            st.reset(bad, i[bad], s[bad], cn[bad])
            cn[bad] = 1.0
            coef[bad] = 0.0
        if fused:
            _csr_matvecs(*shape, row, coef, g.Rf, Wf)
            if g.P is not None:
                _csr_matvecs(*pshape, coef, Pf, Wf)
        else:
            _axpy_rows(st, coef, row)
        uf[fi] += coef
        c = cn
        if t >= 2 and not allred(dec > tol):
            st.c, st.dec = c, dec
            return t + 1, True
        t += 1
    st.c = c
    return t, False


def _run_one(st: _State, t0: int, max_iter: int) -> np.ndarray:
    """Finish the last active problem with scalar arithmetic (same steps as ``_steps``)."""
    g = st.g
    off, zoff, tol = int(st.off[0]), int(st.zoff[0]), float(st.tol[0])
    m = int(g.m[st.ids[0]])
    R, z = g.R[off : off + m], g.z[zoff : zoff + m].tolist()
    ql = g.q[zoff : zoff + m].tolist()
    Pk = None if g.P is None else g.P[st.ids[0]]
    W, u = st.W[0], st.u[0]
    c, h, p = float(st.c[0]), float(st.h[0]), float(st.p[0])
    for t in range(t0, max_iter + 1):
        if t % RECOMPUTE == 0:
            st.u[0] = u * c
            G, hh, pp = _exact(g, st.ids, st.u)
            W[:] = G[0]
            c, h, p = 1.0, float(hh[0]), float(pp[0])
        i = int(W.argmin())
        gi = W.item(i) * c
        pg = p - gi
        num = h + pg
        den = z[i] + num
        den = den + pg
        s = _div(num, den)
        cn = (1.0 - s) * c
        if not s * cn > _TINY:
            s = 0.0 if not s > 0.0 else min(s, 1.0)
            cn = (1.0 - s) * c
            dec = (num + num - s * den) * s
        else:
            dec = s * num
        h = h - dec
        p = p + (ql[i] - p) * s
        if cn < _TINY:
            row = R[i] if Pk is None else R[i] + Pk
            u *= cn
            u[i] += s
            W *= cn
            W += s * row
            c, cn = 1.0, 1.0
            if s == 1.0:
                h, p = row.item(i) - ql[i], ql[i]
        else:
            coef = s / cn
            W += coef * R[i]
            if Pk is not None:
                W += coef * Pk
            u[i] += coef
            c = cn
        if t >= 2 and not dec > tol:
            break
    x: np.ndarray = u * c
    return x


def _div(a: float, b: float) -> float:
    """IEEE division as numpy does it (``x/0`` is ``+-inf`` or ``nan``)."""
    if b != 0.0:
        return a / b
    return math.copysign(math.inf, a) * math.copysign(1.0, b) if a != 0.0 else math.nan


def padded(g: Gram, init: Sequence[np.ndarray | None]) -> np.ndarray:
    """Starting weights ``(B, M)``: ``init[k]`` (uniform if ``None``), zero padding."""
    x = np.zeros((len(g.m), g.M))
    for k, (mk, w) in enumerate(zip(g.m, init, strict=True)):
        x[k, :mk] = 1.0 / mk if w is None else w
    return x


def _chunks(m: np.ndarray) -> list[slice]:
    """Consecutive problem ranges whose Gram rows fit in ``_CAP`` floats."""
    out, start, rows, width = [], 0, 0, 0
    for k, mk in enumerate(m.tolist()):
        w = max(width, mk)
        if k > start and (rows + mk) * w > _CAP:
            out.append(slice(start, k))
            start, rows, w = k, 0, mk
        rows, width = rows + mk, w
    out.append(slice(start, len(m)))
    return out


def solve_gram(
    g: Gram, x0: np.ndarray, max_iter: int, max_iter_pre_sparsify: int | None
) -> np.ndarray:
    """Run a prebuilt batch from ``x0`` (``(B, M)``), with the sparsification restart."""
    x = x0
    if max_iter_pre_sparsify is not None:
        x = sparsify(run_fw(g, x, max_iter_pre_sparsify))
    return run_fw(g, x, max_iter)


def fw_solve(
    Ys: Sequence[np.ndarray],
    zeta: float | np.ndarray,
    intercept: bool | np.ndarray,
    init: Sequence[np.ndarray | None],
    min_decrease: float | np.ndarray,
    max_iter: int,
    max_iter_pre_sparsify: int | None = None,
) -> list[np.ndarray]:
    """Solve many problems in lock step, with R synthdid's sparsification restart.

    With ``max_iter_pre_sparsify`` set, each problem first runs that many iterations,
    its weights are sparsified (:func:`sparsify`) and it runs again for up to
    ``max_iter`` (R ``synthdid_estimate``); otherwise one run of ``max_iter``.

    Parameters
    ----------
    Ys
        Problems ``n_k x (m_k + 1)``; the last column is the target.
    zeta, intercept, min_decrease
        Scalars or one per problem.
    init
        Starting weights per problem (``None``: uniform).
    max_iter, max_iter_pre_sparsify
        Iteration caps.

    Returns
    -------
    list of numpy.ndarray
        The weights of each problem.
    """
    B = len(Ys)
    zeta = np.broadcast_to(np.asarray(zeta, dtype=float), (B,))
    icpt = np.broadcast_to(np.asarray(intercept, dtype=bool), (B,))
    mdec = np.broadcast_to(np.asarray(min_decrease, dtype=float), (B,))
    m = np.array([Y.shape[1] - 1 for Y in Ys])
    out: list[np.ndarray] = []
    for sl in _chunks(m):
        g = gram(Ys[sl], zeta[sl], icpt[sl], mdec[sl])
        x = solve_gram(g, padded(g, init[sl]), max_iter, max_iter_pre_sparsify)
        out.extend(x[k, :mk] for k, mk in enumerate(g.m))
    return out


def fw_weights(
    Y: np.ndarray,
    zeta: float | np.ndarray,
    *,
    intercept: bool,
    init: np.ndarray | None,
    min_decrease: float | np.ndarray,
    max_iter: int,
) -> np.ndarray:
    """Frank-Wolfe weights for a batch of same-shape problems (R ``sc.weight.fw``).

    Each problem ``k`` minimises ``zeta^2 ||x||^2 + ||A x - b||^2 / n`` over the
    simplex, with ``A = Y[k, :, :-1]`` and ``b = Y[k, :, -1]`` (columns centred first
    when ``intercept``), taking R's iterates and stopping rule.

    Parameters
    ----------
    Y
        Array ``(B, n, m + 1)``; a 2-D array is treated as a batch of one.
    zeta
        Ridge parameter, scalar or one per problem.
    intercept
        Centre every column of ``Y`` (over rows) before solving.
    init
        Starting weights ``(B, m)``; uniform when ``None``.
    min_decrease
        Stopping tolerance, scalar or one per problem.
    max_iter
        Iteration cap.

    Returns
    -------
    numpy.ndarray
        Weights ``(B, m)`` (or ``(m,)`` for a 2-D input).
    """
    Y = np.asarray(Y, dtype=float)
    squeeze = Y.ndim == 2
    if squeeze:
        Y = Y[None]
    inits: list[np.ndarray | None] = (
        [None] * len(Y)
        if init is None
        else list(np.asarray(init, dtype=float).reshape(len(Y), -1))
    )
    x = np.stack(
        fw_solve(list(Y), zeta, intercept, inits, min_decrease, max_iter=max_iter)
    )
    return x[0] if squeeze else x
