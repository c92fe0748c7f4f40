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

from dataclasses import dataclass, replace

import numpy as np

from tillit.core.errors import EstimationError
from tillit.core.synth._fw import fw_weights, sparsify

__all__ = [
    "BlockFit",
    "Options",
    "bootstrap_draws",
    "fit_block",
    "jackknife_draws",
    "placebo_draws",
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
    """One simultaneous-adoption fit: the estimate and both weight vectors."""

    tau: float
    omega: np.ndarray
    lambda_: np.ndarray
    N0: int
    T0: int
    noise_level: float
    options: Options


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


def collapsed(Y: np.ndarray, N0: int, T0: int) -> np.ndarray:
    """Average treated rows and post columns: ``(..., N0 + 1, T0 + 1)``."""
    top = np.concatenate(
        [Y[..., :N0, :T0], Y[..., :N0, T0:].mean(-1, keepdims=True)], -1
    )
    bot = np.concatenate(
        [
            Y[..., N0:, :T0].mean(-2, keepdims=True),
            Y[..., N0:, T0:].mean(axis=(-2, -1))[..., None, None],
        ],
        -1,
    )
    return np.concatenate([top, bot], -2)


def _solve(
    Yb: np.ndarray, zeta: float, intercept: bool, init: np.ndarray | None, opts: Options
) -> np.ndarray:
    """Frank-Wolfe with R's sparsification restart, batched over the first axis."""
    x = fw_weights(
        Yb,
        zeta,
        intercept=intercept,
        init=init,
        min_decrease=opts.min_decrease,
        max_iter=opts.max_iter_pre_sparsify,
    )
    return fw_weights(
        Yb,
        zeta,
        intercept=intercept,
        init=sparsify(x),
        min_decrease=opts.min_decrease,
        max_iter=opts.max_iter,
    )


def weights_batch(
    Yb: np.ndarray,
    N0: int,
    T0: int,
    opts: Options,
    omega0: np.ndarray | None,
    lambda0: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Unit and time weights for a batch ``(B, N, T)`` of problems of one shape."""
    B = Yb.shape[0]
    Yc = collapsed(Yb, N0, T0)
    if opts.update_lambda:
        lam = _solve(Yc[:, :N0, :], opts.zeta_lambda, True, lambda0, opts)
    else:
        lam = np.broadcast_to(lambda0, (B, T0)).copy()
    if opts.update_omega:
        om = _solve(
            np.swapaxes(Yc[:, :, :T0], 1, 2),
            opts.zeta_omega,
            opts.omega_intercept,
            omega0,
            opts,
        )
    else:
        om = np.broadcast_to(omega0, (B, N0)).copy()
    return om, lam


def tau_batch(
    Yb: np.ndarray, N0: int, T0: int, om: np.ndarray, lam: np.ndarray
) -> np.ndarray:
    """Estimate ``(-omega, 1/N1)' Y (-lambda, 1/T1)`` for each problem in the batch."""
    n1, t1 = Yb.shape[1] - N0, Yb.shape[2] - T0
    u = np.concatenate([-om, np.full((om.shape[0], n1), 1.0 / n1)], axis=1)
    v = np.concatenate([-lam, np.full((lam.shape[0], t1), 1.0 / t1)], axis=1)
    return np.einsum("kn,knt,kt->k", u, Yb, v)


def _init_weights(
    method: str, N0: int, T0: int
) -> tuple[np.ndarray | None, np.ndarray | None]:
    if method == "did":
        return np.full(N0, 1.0 / N0), np.full(T0, 1.0 / T0)
    if method == "sc":
        return None, np.zeros(T0)
    return None, None


def fit_block(Y: np.ndarray, N0: int, T0: int, method: str = "sdid") -> BlockFit:
    """Estimate SDID (or its SC / DiD special cases) on a block-design matrix."""
    if N0 < 1 or Y.shape[0] <= N0:
        raise EstimationError("need at least one control and one treated unit")
    if T0 < 2 or Y.shape[1] <= T0:
        raise EstimationError("need at least two pre-treatment and one post period")
    opts, sigma = default_options(Y, N0, T0, method)
    om0, lam0 = _init_weights(method, N0, T0)
    om, lam = weights_batch(Y[None], N0, T0, opts, om0, lam0)
    tau = float(tau_batch(Y[None], N0, T0, om, lam)[0])
    return BlockFit(tau, om[0], lam[0], N0, T0, sigma, opts)


def _sum_normalize(x: np.ndarray) -> np.ndarray:
    s = x.sum(axis=-1, keepdims=True)
    uniform = np.full_like(x, 1.0 / x.shape[-1])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(s != 0, x / np.where(s == 0, 1, s), uniform)


def _refit(fit: BlockFit, Yb: np.ndarray, N0: int, om_init: np.ndarray) -> np.ndarray:
    """Re-estimate a batch of replicate panels from the fitted starting weights."""
    lam0 = np.repeat(fit.lambda_[None], len(Yb), axis=0)
    om, lam = weights_batch(Yb, N0, fit.T0, fit.options, om_init, lam0)
    return tau_batch(Yb, N0, fit.T0, om, lam)


def placebo_draws(
    fit: BlockFit, Y: np.ndarray, reps: int, rng: np.random.Generator, chunk: int = 100
) -> np.ndarray:
    """Placebo estimates (Algorithm 4): controls only, a random N1 of them as treated."""
    N0 = fit.N0
    n1 = Y.shape[0] - N0
    if n1 >= N0:
        raise EstimationError(
            "placebo variance needs more control units than treated units"
        )
    perms = np.stack([rng.permutation(N0) for _ in range(reps)])
    out = np.empty(reps)
    for s in range(0, reps, chunk):
        p = perms[s : s + chunk]
        Yb = Y[p]
        om_init = _sum_normalize(fit.omega[p[:, : N0 - n1]])
        out[s : s + chunk] = _refit(fit, Yb, N0 - n1, om_init)
    return out


def jackknife_draws(fit: BlockFit, Y: np.ndarray) -> np.ndarray:
    """Leave-one-unit-out estimates with the fitted weights held fixed (Algorithm 3)."""
    N, N0 = Y.shape[0], fit.N0
    if N - N0 < 2 or np.count_nonzero(fit.omega) < 2:
        raise EstimationError(
            "the jackknife needs at least two treated units and two controls with weight"
        )
    keep = ~np.eye(N, dtype=bool)
    out = np.empty(N)
    for i in range(N):
        rows = np.flatnonzero(keep[i])
        n0 = N0 - (i < N0)
        om = fit.omega[rows[:n0]]
        om = om / om.sum()
        out[i] = tau_batch(Y[rows][None], n0, fit.T0, om[None], fit.lambda_[None])[0]
    return out


def bootstrap_draws(
    fit: BlockFit, Y: np.ndarray, reps: int, rng: np.random.Generator
) -> np.ndarray:
    """Unit bootstrap (Algorithm 2): resample units, re-estimate, skip one-sided draws."""
    N, N0 = Y.shape[0], fit.N0
    if N - N0 < 2:
        raise EstimationError(
            "the bootstrap needs at least two treated units; use placebo"
        )
    out: list[float] = []
    tries = 0
    while len(out) < reps:
        tries += 1
        if tries > 100 * reps:
            raise EstimationError(
                "bootstrap draws keep missing treated or control units"
            )
        ind = np.sort(rng.integers(0, N, size=N))
        n0 = int(np.sum(ind < N0))
        if n0 == 0 or n0 == N:
            continue
        om_init = _sum_normalize(fit.omega[ind[:n0]])[None]
        out.append(float(_refit(fit, Y[ind][None], n0, om_init)[0]))
    return np.asarray(out)


def with_options(fit: BlockFit, **changes: object) -> BlockFit:
    """Copy of ``fit`` with some options replaced (for tests)."""
    return replace(fit, options=replace(fit.options, **changes))  # type: ignore[arg-type]
