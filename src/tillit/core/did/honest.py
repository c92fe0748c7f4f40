"""Honest DiD: sensitivity of an event study to violations of parallel trends.

Rambachan & Roth (2023, "A More Credible Approach to Parallel Trends", REStud 90(5)),
as R's HonestDiD computes it. The event-study coefficients ``beta = tau + delta`` mix the
effects ``tau`` (zero before treatment) with the violation of parallel trends ``delta``;
assuming only ``delta in Delta`` gives a confidence set for ``theta = l' tau_post``:

* ``method="smoothness"``, ``Delta^SD(M)``: the slope of ``delta`` changes by at most
  ``M`` per period. Default interval: the **optimal FLCI** (RR section 4.1,
  ``findOptimalFLCI``); ``ci="C-F"``, ``"C-LF"``, ``"Conditional"`` give the ARP
  conditional-FLCI hybrid, conditional-LF hybrid and conditional tests
  (``computeConditionalCS_DeltaSD``). ``bias="positive"|"negative"`` adds a sign
  restriction on the post-period bias (``Delta^SDPB``/``Delta^SDNB``, conditional only).
* ``method="relative_magnitudes"``, ``Delta^RM(Mbar)``: each post-period change of
  ``delta`` is at most ``Mbar`` times the largest pre-period change. Default: the
  conditional-LF hybrid (``"C-LF"``, ``kappa = alpha/10``), or ``"Conditional"``, as the
  union over where (and with which sign) the largest pre-period change sits
  (``computeConditionalCS_DeltaRM``).

:func:`honest_sensitivity` takes HonestDiD's inputs (``betahat`` without the reference
period, ``sigma``, ``num_pre_periods``, ``num_post_periods``, ``l_vec``);
:func:`honest_did` takes a :func:`tillit.core.did.att_gt` result estimated with
``base_period="universal"``. Both return a :class:`HonestResult` with the original interval,
one robust interval per ``M`` and the breakdown value.

How this differs from HonestDiD, on purpose: the FLCI uses the exact folded-normal
quantile (HonestDiD simulates it with 10^6 draws); confidence-set endpoints are bisected
between grid points instead of read off a 1,000-point grid; the conditional sets' search
range is widened to cover the identified set at ``betahat`` (HonestDiD's fixed range can
cut it). The least-favourable critical value is simulated like HonestDiD's (1,000 draws by
default, ``lf_draws``), with numpy's generator, so ``C-LF`` sets differ from HonestDiD's
by that Monte Carlo error. Published HonestDiD numbers are matched to within these errors
(``tests/reference/did/test_honest_reference.py``).

Example
-------
>>> import numpy as np
>>> beta = np.array([0.01, -0.01, 0.0, 0.05, 0.07])
>>> sigma = np.diag([1e-4] * 5)
>>> res = honest_sensitivity(beta, sigma, 3, 2, m_grid=[0.0, 0.02])
>>> [round(float(r), 3) for r in res.ci_low]
[0.03, 0.006]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import special

from tillit.core.did import _honest_delta as hd
from tillit.core.did._honest_flci import optimal_flci
from tillit.core.did._honest_result import HonestResult, plot_sensitivity
from tillit.core.did._honest_sets import rm_set, sd_set
from tillit.core.errors import EstimationError
from tillit.core.results import Estimate

__all__ = ["HonestResult", "honest_did", "honest_sensitivity", "plot_sensitivity"]

_METHODS = {"smoothness": ("FLCI", "M"), "relative_magnitudes": ("C-LF", "Mbar")}
_CI = {"smoothness": ("FLCI", "C-F", "C-LF", "Conditional"),
       "relative_magnitudes": ("C-LF", "Conditional")}  # fmt: skip
_HYBRID = {"C-F": "FLCI", "C-LF": "LF", "Conditional": "ARP"}


def _check(
    beta: np.ndarray, sigma: np.ndarray, k: int, t: int, l_vec: np.ndarray
) -> None:
    if beta.ndim != 1 or beta.shape[0] != k + t:
        raise EstimationError(
            f"betahat has {beta.size} entries but num_pre_periods + num_post_periods "
            f"= {k + t}"
        )
    if sigma.shape != (k + t, k + t):
        raise EstimationError(f"sigma must be {k + t} x {k + t}, not {sigma.shape}")
    if k < 1 or t < 1:
        raise EstimationError("honest DiD needs at least one pre- and one post-period")
    if l_vec.shape != (t,) or not np.any(l_vec):
        raise EstimationError(f"l_vec must have {t} entries, not all zero")
    if not (np.isfinite(beta).all() and np.isfinite(sigma).all()):
        raise EstimationError("betahat and sigma must be finite")
    if np.linalg.eigvalsh((sigma + sigma.T) / 2).min() < -1e-10 * np.abs(sigma).max():
        raise EstimationError(
            "sigma is not positive semi-definite (or is numerically zero)"
        )


def default_grid(
    beta: np.ndarray, sigma: np.ndarray, k: int, method: str
) -> np.ndarray:
    """HonestDiD's default grids: ``Mbar`` 0..2, ``M`` 0..an upper bound of the pre-period
    second differences (``DeltaSD_upperBound_Mpre``), ten values each."""
    if method == "relative_magnitudes":
        return np.linspace(0.0, 2.0, 10)
    if k == 1:
        return np.linspace(0.0, float(np.sqrt(sigma[0, 0])), 10)
    a = hd.a_sd(k, 0)
    se = np.sqrt(np.diag(a @ sigma[:k, :k] @ a.T))
    ub = float(np.max(a @ beta[:k] + special.ndtri(0.95) * se))
    return np.linspace(0.0, ub, 10)


def honest_sensitivity(
    betahat: Sequence[float] | np.ndarray,
    sigma: np.ndarray,
    num_pre_periods: int,
    num_post_periods: int,
    *,
    method: str = "smoothness",
    m_grid: Sequence[float] | np.ndarray | None = None,
    l_vec: Sequence[float] | np.ndarray | None = None,
    alpha: float = 0.05,
    ci: str | None = None,
    bias: str | None = None,
    grid_points: int = 100,
    lf_draws: int = 1000,
    seed: int = 0,
    target: str | None = None,
    outcome: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> HonestResult:
    """Robust intervals for ``theta = l' tau_post`` over a grid of ``M`` (HonestDiD's
    ``createSensitivityResults`` / ``createSensitivityResults_relativeMagnitudes``).

    Parameters
    ----------
    betahat, sigma
        Event-study coefficients (pre-periods first, reference period excluded) and
        their covariance.
    num_pre_periods, num_post_periods
        How many of ``betahat`` are pre- and post-period coefficients.
    method
        ``smoothness`` (``Delta^SD(M)``) or ``relative_magnitudes`` (``Delta^RM(Mbar)``).
    m_grid
        Values of ``M`` or ``Mbar`` (default: HonestDiD's, :func:`default_grid`).
    l_vec
        Weights of the target on the post-period effects (default: the first).
    alpha
        One minus the confidence level.
    ci
        ``FLCI`` (smoothness default), ``C-F``, ``C-LF`` (relative-magnitudes default)
        or ``Conditional``.
    bias
        ``positive``/``negative``: sign restriction on the post-period bias (smoothness,
        conditional intervals only).
    grid_points, lf_draws, seed
        Coarse grid of the test inversion; draws (and seed) of the least-favourable
        critical value.
    target, outcome
        Labels for the output.
    progress
        Called as ``progress(done, total)`` after each value of ``M``.
    """
    if method not in _METHODS:
        raise EstimationError("method must be 'smoothness' or 'relative_magnitudes'")
    ci = ci or _METHODS[method][0]
    if ci not in _CI[method]:
        raise EstimationError(
            f"ci must be one of {', '.join(_CI[method])} for {method}"
        )
    if bias not in (None, "positive", "negative") or (bias and ci == "FLCI"):
        raise EstimationError(
            "bias must be positive or negative, with a conditional ci"
        )
    if not 0 < alpha < 1:
        raise EstimationError("alpha must be between 0 and 1")
    k, t = int(num_pre_periods), int(num_post_periods)
    beta = np.asarray(betahat, dtype=float).ravel()
    sig = np.asarray(sigma, dtype=float)
    lv = np.eye(t)[0] if l_vec is None else np.asarray(l_vec, dtype=float).ravel()
    _check(beta, sig, k, t, lv)
    grid = default_grid(beta, sig, k, method) if m_grid is None else m_grid
    ms = np.asarray(grid, dtype=float).ravel()
    if ms.size == 0 or (ms < 0).any() or not np.isfinite(ms).all():
        raise EstimationError("m_grid must be finite values >= 0")
    lows, highs, opens = [], [], []
    for m in ms:
        lo, hi, op = _one(beta, sig, k, lv, float(m), alpha, method, ci, bias,
                          grid_points, lf_draws, seed)  # fmt: skip
        lows.append(lo)
        highs.append(hi)
        opens.append(op)
        if progress is not None:
            progress(len(lows), ms.size)
    est = float(lv @ beta[k:])
    se = float(np.sqrt(max(lv @ sig[k:, k:] @ lv, 0.0)))
    z = float(special.ndtri(1 - alpha / 2))
    p = float(2 * special.ndtr(-abs(est / se))) if se > 0 else float("nan")
    notes = []
    if any(opens):
        notes.append("an interval reaches the end of its search range (may be wider)")
    delta = ("DeltaSD" if method == "smoothness" else "DeltaRM") + (
        {"positive": "PB", "negative": "NB"}[bias] if bias else ""
    )
    return HonestResult(
        method=method,
        delta=delta,
        ci_method=ci,
        parameter=_METHODS[method][1],
        l_vec=lv,
        target=target or _label(lv),
        alpha=alpha,
        num_pre_periods=k,
        num_post_periods=t,
        original=Estimate(est, se, est - z * se, est + z * se, p, 1 - alpha),
        m=ms,
        ci_low=np.array(lows),
        ci_high=np.array(highs),
        open_end=np.array(opens, dtype=bool),
        outcome=outcome,
        notes=tuple(notes),
    )


def _one(
    beta: np.ndarray,
    sig: np.ndarray,
    k: int,
    lv: np.ndarray,
    m: float,
    alpha: float,
    method: str,
    ci: str,
    bias: str | None,
    grid_points: int,
    lf_draws: int,
    seed: int,
) -> tuple[float, float, bool]:
    """One robust interval ``(low, high, open)``."""
    if ci == "FLCI":
        lo, hi = optimal_flci(sig, k, lv, m, alpha).interval(beta)
        return lo, hi, False
    kw = {"hybrid": _HYBRID[ci], "grid_points": grid_points, "lf_draws": lf_draws,
          "seed": seed}  # fmt: skip
    if method == "smoothness":
        cs = sd_set(beta, sig, k, lv, m, alpha, bias=bias, **kw)  # type: ignore[arg-type]
    else:
        cs = rm_set(beta, sig, k, lv, m, alpha, **kw)  # type: ignore[arg-type]
    return cs.lb, cs.ub, cs.open_end


def _label(lv: np.ndarray) -> str:
    t = lv.size
    if np.allclose(lv, np.eye(t)[0]):
        return "first post-period effect"
    if np.allclose(lv, np.full(t, 1 / t)):
        return "average of the post-period effects"
    if np.count_nonzero(lv) == 1 and np.isclose(lv.max(), 1.0):
        return f"post-period effect {int(np.argmax(lv)) + 1}"
    return "l_vec' tau_post"


def honest_did(
    result: Any,
    outcome: str | None = None,
    *,
    method: str = "smoothness",
    m_grid: Sequence[float] | np.ndarray | None = None,
    target: str | int | Sequence[float] = "first",
    alpha: float | None = None,
    ci: str | None = None,
    **kw: Any,
) -> HonestResult:
    """Sensitivity analysis of one outcome of a :func:`tillit.core.did.att_gt` result.

    Uses the dynamic (event-study) aggregation and its influence-function covariance, as
    HonestDiD's ``honest_did`` for R ``did``. Needs ``base_period="universal"`` (the
    pre-period coefficients must be levels against the reference period ``-1 -
    anticipation``) and consecutive event times.

    Parameters
    ----------
    result
        A :class:`~tillit.core.did.results.DidResult` (or one ``OutcomeResult``).
    outcome
        Which outcome (default: the first).
    method, m_grid, ci
        As in :func:`honest_sensitivity`.
    target
        ``first`` (the first post-period effect, HonestDiD's default), ``average`` (of
        all post-period effects), an event time (int), or weights on the post-periods.
    alpha
        Default: one minus the result's level.
    **kw
        Passed to :func:`honest_sensitivity` (``bias``, ``grid_points``, ``lf_draws``,
        ``seed``, ``progress``).
    """
    res = result
    if hasattr(result, "outcomes"):
        if outcome is not None and outcome not in result.outcomes:
            raise EstimationError(f"no estimated outcome {outcome!r}")
        res = result.outcomes[outcome] if outcome else result.first
        settings = result.settings
    else:
        settings = kw.pop("settings", {})
    if settings.get("base_period", "universal") != "universal":
        raise EstimationError(
            "honest DiD needs event-study coefficients against one reference period: "
            "estimate with base_period='universal' (CLI: --base-period universal)"
        )
    vcov = getattr(res, "dynamic_vcov", None)
    if vcov is None:
        raise EstimationError("the result has no event-study covariance (honest=False)")
    ref = -1 - int(settings.get("anticipation", 0))
    beta, sigma, e_pre, e_post = _event_study(res, np.asarray(vcov), ref)
    lv = _target(target, e_post)
    lvl = settings.get("level", 0.95)
    return honest_sensitivity(
        beta, sigma, e_pre.size, e_post.size, method=method, m_grid=m_grid, l_vec=lv,
        alpha=round(1 - lvl, 12) if alpha is None else alpha, ci=ci,
        target=_target_label(target, e_post, lv), outcome=res.outcome, **kw,
    )  # fmt: skip


def _event_study(
    res: Any, vcov: np.ndarray, ref: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Coefficients and covariance without the reference period; checks consecutiveness."""
    d = res.dynamic
    e = np.asarray(d.labels["event_time"], dtype=float)
    keep = e != ref
    beta, sigma = np.asarray(d.estimate, dtype=float)[keep], vcov[np.ix_(keep, keep)]
    e = e[keep]
    if not np.isfinite(beta).all() or not np.isfinite(sigma).all():
        raise EstimationError("event-study estimates or covariance are not finite")
    full = np.r_[e[e < ref], ref, e[e > ref]]
    if np.any(np.diff(full) != 1):
        raise EstimationError(
            "honest DiD needs consecutive event times around the reference period "
            f"{ref}; got {', '.join(f'{x:g}' for x in e)}"
        )
    return beta, sigma, e[e < ref], e[e > ref]


def _target(target: str | int | Sequence[float], e_post: np.ndarray) -> np.ndarray:
    t = e_post.size
    if isinstance(target, str):
        if target in ("first", "average"):
            out: np.ndarray = np.eye(t)[0] if target == "first" else np.full(t, 1.0 / t)
            return out
        raise EstimationError(
            "target must be 'first', 'average', an event time or weights"
        )
    if isinstance(target, int | np.integer):
        hit = np.flatnonzero(e_post == target)
        if hit.size == 0:
            raise EstimationError(
                f"event time {target} is not a post-period ({', '.join(f'{x:g}' for x in e_post)})"
            )
        unit: np.ndarray = np.eye(t)[int(hit[0])]
        return unit
    lv = np.asarray(target, dtype=float).ravel()
    if lv.size != t:
        raise EstimationError(f"target weights need {t} entries (one per post-period)")
    return lv


def _target_label(target: Any, e_post: np.ndarray, lv: np.ndarray) -> str:
    if isinstance(target, str) and target == "first":
        return f"effect at event time {e_post[0]:g}"
    if isinstance(target, str) and target == "average":
        return f"average effect over event times {e_post[0]:g} to {e_post[-1]:g}"
    if isinstance(target, int | np.integer):
        return f"effect at event time {target}"
    return _label(lv)
