"""Synthetic difference-in-differences on an outcome matrix (the engine room).

Arkhangelsky, Athey, Hirshberg, Imbens & Wager (2021), "Synthetic Difference in
Differences", AER 111(12), Algorithm 1 (estimate) and Algorithms 2-4 (bootstrap,
jackknife and placebo variance).  The numerics follow R ``synthdid`` 0.0.9 exactly:
the collapsed form, the regularisation ``zeta_omega = (N_tr T_post)^(1/4) sigma`` with
``sigma`` the standard deviation of first differences of the control pre-period
outcomes, ``zeta_lambda = 1e-6 sigma``, the Frank-Wolfe solver with stopping tolerance
``(1e-5 sigma)^2``, and the sparsification restart (100 iterations, zero weights at or
below a quarter of the largest, then up to 10 000 iterations).

Rows ``0..N0-1`` of ``Y`` are controls, the rest treated; columns ``0..T0-1`` are
pre-treatment periods.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from tillit.core.errors import EstimationError
from tillit.core.synth._fw import fw_solve, padded, solve_gram
from tillit.core.synth._fw_gram import gram, merge, placebo_gram

__all__ = [
    "Block",
    "BlockFit",
    "Options",
    "block_weights",
    "bootstrap_draws",
    "fit_block",
    "fit_blocks",
    "jackknife_draws",
    "placebo_draws",
    "placebo_weights",
    "refit",
    "tau",
    "taus",
]

METHODS = ("sdid", "sc", "did")


@dataclass(frozen=True)
class Options:
    """Solver options fixed at the first fit and reused by every variance replicate."""

    method: str
    zeta_omega: float
    zeta_lambda: float
    min_decrease: float
    omega_intercept: bool
    update_omega: bool
    update_lambda: bool
    max_iter: int = 10_000
    max_iter_pre_sparsify: int = 100


@dataclass(frozen=True, eq=False)
class BlockFit:
    """One simultaneous-adoption fit: the estimate and both weight vectors.

    ``w1`` are the treated rows' population weights (``None``: equal), which make the
    treated average a weighted one.
    """

    tau: float
    omega: np.ndarray
    lambda_: np.ndarray
    N0: int
    T0: int
    noise_level: float
    options: Options
    w1: np.ndarray | None = None
    beta: np.ndarray | None = None  # covariate coefficients (optimized covariates)


def noise_level(Y: np.ndarray, N0: int, T0: int) -> float:
    """Standard deviation (ddof 1) of first differences of control pre-period outcomes."""
    d = np.diff(Y[:N0, :T0], axis=1)
    if d.size < 2:
        raise EstimationError("need at least two pre-treatment periods and one control")
    return float(np.std(d, ddof=1))


def default_options(
    Y: np.ndarray, N0: int, T0: int, method: str
) -> tuple[Options, float]:
    """Regularisation and tolerances of R ``synthdid_estimate``/``sc_estimate``/``did_estimate``."""
    if method not in METHODS:
        raise EstimationError(
            f"unknown method '{method}'; use one of {', '.join(METHODS)}"
        )
    sigma = noise_level(Y, N0, T0)
    n1, t1 = Y.shape[0] - N0, Y.shape[1] - T0
    eta_omega = 1e-6 if method == "sc" else (n1 * t1) ** 0.25
    opts = Options(
        method=method,
        zeta_omega=eta_omega * sigma,
        zeta_lambda=1e-6 * sigma,
        min_decrease=1e-5 * sigma,
        omega_intercept=method != "sc",
        update_omega=method != "did",
        update_lambda=method == "sdid",
    )
    return opts, sigma


def treated_mean(Y: np.ndarray, w1: np.ndarray | None) -> np.ndarray:
    """Mean over the rows (axis -2) of treated rows ``Y``, weighted by ``w1`` if given.

    ``Y`` is ``(..., n1, T)`` and ``w1`` ``(..., n1)``; returns ``(..., T)``.
    """
    if w1 is None:
        out: np.ndarray = Y.mean(axis=-2)
        return out
    w = w1 / w1.sum(axis=-1, keepdims=True)
    out = np.einsum("...n,...nt->...t", w, Y)
    return out


def collapsed(
    Y: np.ndarray, N0: int, T0: int, w1: np.ndarray | None = None
) -> np.ndarray:
    """Average treated rows (weighted by ``w1``) and post columns: ``(..., N0+1, T0+1)``."""
    top = np.concatenate(
        [Y[..., :N0, :T0], Y[..., :N0, T0:].mean(-1, keepdims=True)], -1
    )
    tm = treated_mean(Y[..., N0:, :], w1)
    bot = np.concatenate(
        [tm[..., None, :T0], tm[..., T0:].mean(-1)[..., None, None]], -1
    )
    return np.concatenate([top, bot], -2)


@dataclass(frozen=True, eq=False)
class Block:
    """One estimation problem: a block-design matrix, its options and starting weights.

    ``omega0``/``lambda0`` start the Frank-Wolfe solver (uniform when ``None``) or, when
    the options do not update that weight vector, are the weights used.
    """

    Y: np.ndarray
    N0: int
    T0: int
    opts: Options
    omega0: np.ndarray | None = None
    lambda0: np.ndarray | None = None
    w1: np.ndarray | None = None


def block_weights(blocks: Sequence[Block]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Unit and time weights of many blocks, solved in one lock-step Frank-Wolfe batch.

    The time-weight and unit-weight problems of every block run together (R's
    ``sc.weight.fw`` with the sparsification restart), so the Python loop runs at most
    ``max_iter_pre_sparsify + max_iter`` times however many blocks there are.
    """
    res: list[list[np.ndarray | None]] = [[b.omega0, b.lambda0] for b in blocks]
    probs: list[np.ndarray] = []
    zeta, icpt, mdec, slots = [], [], [], []
    inits: list[np.ndarray | None] = []
    for k, b in enumerate(blocks):
        Yc = collapsed(b.Y, b.N0, b.T0, b.w1)
        o = b.opts
        if o.update_lambda:
            probs.append(Yc[: b.N0, :])
            zeta.append(o.zeta_lambda)
            icpt.append(True)
            inits.append(b.lambda0)
            slots.append((k, 1))
            mdec.append(o.min_decrease)
        if o.update_omega:
            probs.append(Yc[:, : b.T0].T)
            zeta.append(o.zeta_omega)
            icpt.append(o.omega_intercept)
            inits.append(b.omega0)
            slots.append((k, 0))
            mdec.append(o.min_decrease)
    if probs:
        caps = {(b.opts.max_iter, b.opts.max_iter_pre_sparsify) for b in blocks}
        if len(caps) > 1:
            raise ValueError("blocks solved together need the same iteration caps")
        max_iter, pre = caps.pop()
        xs = fw_solve(
            probs,
            np.array(zeta),
            np.array(icpt),
            inits,
            np.array(mdec),
            max_iter=max_iter,
            max_iter_pre_sparsify=pre,
        )
        for (k, j), x in zip(slots, xs, strict=True):
            res[k][j] = x
    return [(np.asarray(om), np.asarray(lam)) for om, lam in res]


def _treated_u(
    n1: int, w1: np.ndarray | None, lead: tuple[int, ...] = ()
) -> np.ndarray:
    if w1 is None:
        return np.full((*lead, n1), 1.0 / n1)
    out: np.ndarray = w1 / w1.sum(axis=-1, keepdims=True)
    return out


def tau(
    Y: np.ndarray,
    N0: int,
    T0: int,
    om: np.ndarray,
    lam: np.ndarray,
    w1: np.ndarray | None = None,
) -> float:
    """Estimate ``(-omega, w1/sum w1)' Y (-lambda, 1/T1)`` (paper eq. (1), closed form).

    Without population weights ``w1`` the treated rows weigh ``1/N1`` each.
    """
    n1, t1 = Y.shape[0] - N0, Y.shape[1] - T0
    u = np.concatenate([-om, _treated_u(n1, w1)])
    v = np.concatenate([-lam, np.full(t1, 1.0 / t1)])
    return float(u @ Y @ v)


def taus(
    Y: np.ndarray,
    N0: int,
    T0: int,
    om: np.ndarray,
    lam: np.ndarray,
    w1: np.ndarray | None = None,
) -> np.ndarray:
    """:func:`tau` of many same-shape panels ``Y[b]`` with weights ``om[b]``, ``lam[b]``."""
    B, N, T = Y.shape
    u = np.concatenate([-om, _treated_u(N - N0, w1, (B,))], axis=1)
    v = np.concatenate([-lam, np.full((B, T - T0), 1.0 / (T - T0))], axis=1)
    out: np.ndarray = np.einsum("bn,bnt,bt->b", u, Y, v)
    return out


def _init_weights(
    method: str, N0: int, T0: int, w0: np.ndarray | None = None
) -> tuple[np.ndarray | None, np.ndarray | None]:
    if method == "did":  # with population weights: the weighted control average
        om = np.full(N0, 1.0 / N0) if w0 is None else w0 / w0.sum()
        return om, np.full(T0, 1.0 / T0)
    if method == "sc":
        return None, np.zeros(T0)
    return None, None


def _check_block(Y: np.ndarray, N0: int, T0: int) -> None:
    if N0 < 1 or Y.shape[0] <= N0:
        raise EstimationError("need at least one control and one treated unit")
    if T0 < 2 or Y.shape[1] <= T0:
        raise EstimationError("need at least two pre-treatment and one post period")


def fit_blocks(
    designs: Sequence[tuple[np.ndarray, int, int]],
    method: str = "sdid",
    weights: Sequence[np.ndarray | None] | None = None,
) -> list[BlockFit]:
    """Estimate SDID (or SC / DiD) on many block-design matrices ``(Y, N0, T0)`` at once.

    Each block gets its own regularisation and tolerances (R's defaults) and starts
    from R's default weights; all are solved in one Frank-Wolfe batch.  ``weights``
    gives each block's population weights of all its rows (controls first) or
    ``None``: the treated average is weighted by them, and so is the control average
    of ``method="did"``; the synthetic weights ``omega`` and ``lambda`` are chosen as
    without them (they are what makes the controls resemble the treated).
    """
    wts = list(weights) if weights is not None else [None] * len(designs)
    blocks, sigmas = [], []
    for (Y, N0, T0), w in zip(designs, wts, strict=True):
        _check_block(Y, N0, T0)
        opts, sigma = default_options(Y, N0, T0, method)
        om0, lam0 = _init_weights(method, N0, T0, None if w is None else w[:N0])
        w1 = None if w is None else w[N0:]
        blocks.append(Block(Y, N0, T0, opts, om0, lam0, w1))
        sigmas.append(sigma)
    solved = block_weights(blocks)
    return [
        BlockFit(
            tau(b.Y, b.N0, b.T0, om, lam, b.w1), om, lam, b.N0, b.T0, s, b.opts, b.w1
        )
        for b, (om, lam), s in zip(blocks, solved, sigmas, strict=True)
    ]


def fit_block(
    Y: np.ndarray,
    N0: int,
    T0: int,
    method: str = "sdid",
    weights: np.ndarray | None = None,
) -> BlockFit:
    """Estimate SDID (or its SC / DiD special cases) on a block-design matrix."""
    return fit_blocks([(Y, N0, T0)], method, [weights])[0]


def _sum_normalize(x: np.ndarray) -> np.ndarray:
    s = x.sum(axis=-1, keepdims=True)
    uniform = np.full_like(x, 1.0 / x.shape[-1])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(s != 0, x / np.where(s == 0, 1, s), uniform)


def refit(
    fit: BlockFit,
    Ys: Sequence[np.ndarray],
    N0s: Sequence[int],
    om_inits: Sequence[np.ndarray],
    w1s: Sequence[np.ndarray | None] | None = None,
) -> np.ndarray:
    """Re-estimate replicate panels with ``fit``'s options, warm-started (R synthdid)."""
    w1s = list(w1s) if w1s is not None else [None] * len(Ys)
    blocks = [
        Block(Y, n0, fit.T0, fit.options, om, fit.lambda_, w1)
        for Y, n0, om, w1 in zip(Ys, N0s, om_inits, w1s, strict=True)
    ]
    weights = block_weights(blocks)
    return np.array(
        [
            tau(b.Y, b.N0, b.T0, om, lam, b.w1)
            for b, (om, lam) in zip(blocks, weights, strict=True)
        ]
    )


def placebo_draws(
    fit: BlockFit,
    Y: np.ndarray,
    reps: int,
    rng: np.random.Generator,
    wts: np.ndarray | None = None,
    perms: np.ndarray | None = None,
) -> np.ndarray:
    """Placebo estimates (Algorithm 4): controls only, a random N1 of them as treated.

    All ``reps`` replicates are solved in one lock-step batch (R ``placebo_se``); their
    unit-weight problems share the controls' Gram matrix (:func:`placebo_weights`).
    ``wts`` are the controls' population weights (a placebo-treated control keeps its
    own); ``perms`` replace the random permutations of the controls (the last N1 of
    each row are its placebo-treated controls), e.g. whole-cluster assignments.
    """
    N0 = fit.N0
    n1 = Y.shape[0] - N0
    if n1 >= N0:
        raise EstimationError(
            "placebo variance needs more control units than treated units"
        )
    if perms is None:
        perms = np.stack([rng.permutation(N0) for _ in range(reps)])
    weights = placebo_weights(fit, Y, perms, N0 - n1, wts)
    om = np.stack([w[0] for w in weights])
    lam = np.stack([w[1] for w in weights])
    w1 = None if wts is None else wts[perms[:, N0 - n1 :]]
    return taus(Y[perms], N0 - n1, fit.T0, om, lam, w1)


def placebo_weights(
    fit: BlockFit,
    Y: np.ndarray,
    perms: np.ndarray,
    n0: int,
    wts: np.ndarray | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Weights of placebo panels ``Y[perm]`` (first ``n0`` rows controls), warm-started.

    The same iterates as :func:`block_weights` on those panels, but every unit-weight
    problem takes its rows from one ``N0 x N0`` Gram matrix of the controls' centred
    pre-period outcomes instead of a matrix of its own.

    A replicate's problems depend only on *which* controls it treats, not on the
    order of the permutation (its unit weights start from the fit's, renormalised,
    and the order of the rows of its time-weight problem changes only rounding), so
    replicates that treat the same controls are solved once: with one treated unit
    and ``N0`` controls there are at most ``N0`` distinct problems however many
    draws (Prop 99: 38 for R's 200).  Population weights ``wts`` follow the units,
    so this holds with them too.
    """
    B = len(perms)
    key = np.sort(perms[:, n0:], axis=1)
    _, first, inv = np.unique(key, axis=0, return_index=True, return_inverse=True)
    inv = inv.reshape(-1)
    full, lam = _placebo_solve(fit, Y, perms[first], n0, wts)
    return [(full[inv[b], perms[b, :n0]], lam[inv[b]]) for b in range(B)]


def _placebo_solve(
    fit: BlockFit,
    Y: np.ndarray,
    perms: np.ndarray,
    n0: int,
    wts: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Unit weights at the controls' own positions ``(B, N0)`` and time weights."""
    o, T0, B = fit.options, fit.T0, len(perms)
    lam = np.tile(fit.lambda_, (B, 1))
    full = np.zeros((B, fit.N0))
    full[np.arange(B)[:, None], perms[:, :n0]] = _sum_normalize(
        fit.omega[perms[:, :n0]]
    )
    parts, inits = [], []
    if o.update_lambda:
        probs = list(collapsed(Y[perms], n0, T0)[:, :n0])
        parts.append(gram(probs, o.zeta_lambda, True, o.min_decrease))
        inits.append(padded(parts[-1], list(lam)))
    if o.update_omega:
        C = Y[: fit.N0, :T0].T
        if o.omega_intercept:
            C = C - C.mean(axis=0)
        w1 = None if wts is None else wts[perms[:, n0:]]
        g = placebo_gram(
            C, T0 * o.zeta_omega**2, perms[:, n0:], T0 * o.min_decrease**2, w1
        )
        parts.append(g)
        inits.append(full)
    if not parts:
        return full, lam
    g = parts[0] if len(parts) == 1 else merge(*parts)
    x0 = np.zeros((len(g.m), g.M))
    at = 0
    for x in inits:
        x0[at : at + len(x), : x.shape[1]] = x
        at += len(x)
    x = solve_gram(g, x0, o.max_iter, o.max_iter_pre_sparsify)
    if o.update_lambda:
        lam = x[:B, :T0]
    if o.update_omega:
        full = x[len(x) - B :, : fit.N0]
    return full, lam


def jackknife_draws(
    fit: BlockFit,
    Y: np.ndarray,
    wts: np.ndarray | None = None,
    groups: Sequence[np.ndarray] | None = None,
) -> np.ndarray:
    """Leave-one-out estimates with the fitted weights held fixed (Algorithm 3).

    ``groups`` (row positions of each cluster) leaves out one cluster at a time
    instead of one unit; ``wts`` are all rows' population weights.
    """
    N, N0 = Y.shape[0], fit.N0
    if groups is None:
        groups = [np.array([i]) for i in range(N)]
        if N - N0 < 2 or np.count_nonzero(fit.omega) < 2:
            raise EstimationError(
                "the jackknife needs at least two treated units and two controls "
                "with weight"
            )
    out = np.empty(len(groups))
    for k, drop in enumerate(groups):
        rows = np.setdiff1d(np.arange(N), drop)
        n0 = int(np.sum(rows < N0))
        om = fit.omega[rows[:n0]]
        if n0 == len(rows) or om.sum() <= 0:
            raise EstimationError(
                "the cluster jackknife needs at least two clusters with treated units "
                "and two with weighted controls"
            )
        w1 = None if wts is None else wts[rows[n0:]]
        out[k] = tau(Y[rows], n0, fit.T0, om / om.sum(), fit.lambda_, w1)
    return out


def bootstrap_draws(
    fit: BlockFit,
    Y: np.ndarray,
    reps: int,
    rng: np.random.Generator,
    wts: np.ndarray | None = None,
    groups: Sequence[np.ndarray] | None = None,
) -> np.ndarray:
    """Unit bootstrap (Algorithm 2): resample units, re-estimate, skip one-sided draws.

    The draws are made first (R's order and rejection rule), then all replicates are
    solved in one lock-step batch.  With ``groups`` (row positions of each cluster)
    whole clusters are resampled instead of units.
    """
    N, N0 = Y.shape[0], fit.N0
    if N - N0 < 2 and groups is None:
        raise EstimationError(
            "the bootstrap needs at least two treated units; use placebo"
        )
    draws: list[np.ndarray] = []
    tries = 0
    while len(draws) < reps:
        tries += 1
        if tries > 100 * reps:
            raise EstimationError(
                "bootstrap draws keep missing treated or control units"
            )
        if groups is None:
            ind = np.sort(rng.integers(0, N, size=N))
        else:
            pick = rng.integers(0, len(groups), size=len(groups))
            ind = np.sort(np.concatenate([groups[g] for g in pick]))
        n0 = int(np.sum(ind < N0))
        if 0 < n0 < len(ind):
            draws.append(ind)
    n0s = [int(np.sum(ind < N0)) for ind in draws]
    return refit(
        fit,
        [Y[ind] for ind in draws],
        n0s,
        [
            _sum_normalize(fit.omega[ind[:n0]])
            for ind, n0 in zip(draws, n0s, strict=True)
        ],
        None
        if wts is None
        else [wts[ind[n0:]] for ind, n0 in zip(draws, n0s, strict=True)],
    )


def with_options(fit: BlockFit, **changes: object) -> BlockFit:
    """Copy of ``fit`` with some options replaced (for tests)."""
    return replace(fit, options=replace(fit.options, **changes))  # type: ignore[arg-type]
