"""Plots for synthetic control and synthetic DiD (matplotlib, imported lazily).

Each function draws on ``ax`` (a new figure when ``None``) and returns the axes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from tillit.core.errors import EstimationError

if TYPE_CHECKING:
    from tillit.core.synth.sdid_result import SDIDResult
    from tillit.core.synth.synth_result import SynthResult

__all__ = ["plot_sdid", "plot_synth"]


def _axes(ax: Any) -> Any:
    if ax is not None:
        return ax
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(7, 4))
    return ax


def plot_synth(res: SynthResult, kind: str = "paths", ax: Any = None) -> Any:
    """``paths``: actual vs synthetic; ``gaps``: gap with placebo gaps; ``weights``: bars."""
    ax = _axes(ax)
    f = res.fits[0]
    times = res.times[: len(f.gap)]
    if kind == "paths":
        ax.plot(times, f.actual, color="black", label=f.unit)
        ax.plot(
            times, f.synthetic, color="tab:blue", ls="--", label=f"synthetic {f.unit}"
        )
        ax.axvline(times[f.start_col], color="grey", ls=":")
        ax.legend()
    elif kind == "gaps":
        for p in res.placebos:
            ax.plot(times[: len(p.gap)], p.gap, color="lightgrey", lw=0.8)
        for g in res.fits:
            ax.plot(times[: len(g.gap)], g.gap, color="black", lw=2, label=g.unit)
        ax.axhline(0, color="grey", lw=0.8)
        ax.axvline(times[f.start_col], color="grey", ls=":")
        ax.set_ylabel("gap (treated - synthetic)")
        ax.legend()
    elif kind == "weights":
        w = sorted(((v, k) for k, v in res.weights.items() if v > 1e-4), reverse=True)
        ax.barh([k for _, k in w][::-1], [v for v, _ in w][::-1], color="tab:blue")
        ax.set_xlabel("donor weight")
    else:
        raise EstimationError(f"unknown plot '{kind}'; use paths, gaps or weights")
    return ax


def plot_sdid(res: SDIDResult, ax: Any = None, cohort: int = 0) -> Any:
    """Treated mean and the (shifted) synthetic control, with time weights as bars."""
    ax = _axes(ax)
    c = res.cohorts[cohort]
    ax.plot(c.times, c.treated_path, color="black", label="treated")
    ax.plot(
        c.times, c.synthetic_path, color="tab:blue", ls="--", label="synthetic control"
    )
    lam = np.array(list(c.time_weights.values()))
    pre_t = c.times[: len(lam)]
    if lam.max() > 0:
        lo = float(np.min([c.treated_path.min(), c.synthetic_path.min()]))
        span = float(np.ptp(np.concatenate([c.treated_path, c.synthetic_path])))
        ax.bar(
            pre_t,
            lam / lam.max() * 0.15 * span,
            bottom=lo,
            color="tab:orange",
            alpha=0.5,
            label="time weights",
        )
    ax.axvline(c.times[len(lam)], color="grey", ls=":")
    ax.set_title(f"{res.method}: {c.estimate:.3f}")
    ax.legend()
    return ax
