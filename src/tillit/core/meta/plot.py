"""Forest plot of a meta-analysis (matplotlib imported lazily)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from tillit.core.meta.model import MetaResult

__all__ = ["forest_plot"]


def forest_plot(result: MetaResult, ax: Any = None) -> Any:
    """Draw study estimates with intervals, the pooled diamond and the prediction interval.

    Returns the matplotlib ``Axes``. Marker areas are proportional to the study weights.
    """
    import matplotlib.pyplot as plt

    st = result.studies()
    k = len(st)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.35 * k + 1.8))
    ys = np.arange(k, 0, -1) + 1.0
    ax.hlines(ys, st["ci_low"], st["ci_high"], color="black", lw=1)
    ax.scatter(
        st["effect"], ys, s=8 + 4 * st["weight"].to_numpy(), marker="s", color="black"
    )
    est = result.estimate
    if len(result.terms) == 1:
        diamond_x = [est.ci_low, est.estimate, est.ci_high, est.estimate]
        diamond_y = [0.6, 0.85, 0.6, 0.35]
        ax.fill(diamond_x, diamond_y, color="tab:blue")
        lo, hi = result.prediction
        if np.isfinite(lo):
            ax.hlines(0.6, lo, hi, color="tab:blue", lw=1, linestyles="dotted")
    ax.axvline(0.0, color="grey", lw=0.8, ls="--")
    ax.set_yticks([*ys, 0.6])
    ax.set_yticklabels([*st["study"].astype(str), f"{result.method.upper()} model"])
    ax.set_xlabel("effect")
    ax.set_ylim(0, k + 2)
    return ax
