"""The result of an honest-DiD sensitivity analysis and its plot (see :mod:`.honest`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tillit.core.results import Estimate, jsonable

__all__ = ["HonestResult", "plot_sensitivity"]


@dataclass(frozen=True)
class HonestResult:
    """A sensitivity analysis: robust intervals for ``theta = l' tau_post`` over ``M``.

    ``breakdown`` is the smallest ``M`` (or ``Mbar``) on the grid whose interval includes
    zero (None: none does); ``largest_significant`` the largest grid value below it whose
    interval excludes zero (None: not even the first).
    """

    method: str
    delta: str
    ci_method: str
    parameter: str
    l_vec: np.ndarray
    target: str
    alpha: float
    num_pre_periods: int
    num_post_periods: int
    original: Estimate
    m: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    open_end: np.ndarray
    outcome: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def breakdown(self) -> float | None:
        """Smallest grid value whose interval includes zero."""
        inc = (self.ci_low <= 0) & (self.ci_high >= 0)
        return float(self.m[np.argmax(inc)]) if inc.any() else None

    @property
    def largest_significant(self) -> float | None:
        """Largest grid value, below the breakdown, whose interval excludes zero."""
        inc = (self.ci_low <= 0) & (self.ci_high >= 0)
        first = int(np.argmax(inc)) if inc.any() else self.m.size
        return float(self.m[first - 1]) if first > 0 else None

    def to_dict(self) -> dict[str, Any]:
        """Stable JSON shape (``docs/did.md``, "Honest DiD")."""
        out: dict[str, Any] = jsonable(
            {
                "outcome": self.outcome,
                "method": self.method,
                "delta": self.delta,
                "ci_method": self.ci_method,
                "parameter": self.parameter,
                "target": self.target,
                "l_vec": self.l_vec,
                "alpha": self.alpha,
                "num_pre_periods": self.num_pre_periods,
                "num_post_periods": self.num_post_periods,
                "original": self.original.to_dict(),
                "sensitivity": [
                    {"m": m, "ci_low": lo, "ci_high": hi, "open": bool(op)}
                    for m, lo, hi, op in zip(
                        self.m, self.ci_low, self.ci_high, self.open_end, strict=True
                    )
                ],
                "breakdown": self.breakdown,
                "largest_significant": self.largest_significant,
                "notes": list(self.notes),
            }
        )
        return out

    def tidy(self) -> pd.DataFrame:
        """One row per interval, the original first (``m`` is NaN there)."""
        o = self.original
        rows = [(np.nan, o.ci_low, o.ci_high, "Original", "")]
        rows += [
            (m, lo, hi, self.ci_method, self.delta)
            for m, lo, hi in zip(self.m, self.ci_low, self.ci_high, strict=True)
        ]
        return pd.DataFrame(rows, columns=["m", "ci_low", "ci_high", "method", "delta"])

    def summary(self) -> str:
        """Text for people."""
        o, lvl = self.original, round(100 * (1 - self.alpha))
        head = (
            f"Honest DiD (Rambachan & Roth 2023), {self.delta}, {self.ci_method}; "
            f"target: {self.target}"
            + (f"; outcome {self.outcome}" if self.outcome else "")
        )
        lines = [
            head,
            f"Original: {o.estimate:.4g} ({lvl}% CI {o.ci_low:.4g} to {o.ci_high:.4g})",
            f"{self.parameter:>10}{'ci_low':>12}{'ci_high':>12}",
        ]
        for m, lo, hi in zip(self.m, self.ci_low, self.ci_high, strict=True):
            lines.append(f"{m:>10.4g}{lo:>12.4g}{hi:>12.4g}")
        bd = self.breakdown
        lines.append(
            f"Breakdown: the interval first includes zero at {self.parameter} = {bd:g}"
            if bd is not None
            else f"Breakdown: no {self.parameter} on the grid gives an interval with zero"
        )
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)

    def plot(self, ax: Any = None) -> Any:
        """The sensitivity plot; see :func:`plot_sensitivity`."""
        return plot_sensitivity(self, ax=ax)


def plot_sensitivity(res: HonestResult, ax: Any = None) -> Any:
    """HonestDiD's sensitivity plot: the original interval, then one per ``M``.

    Returns the matplotlib Figure.
    """
    import matplotlib.pyplot as plt  # lazy: plotting is optional

    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 4))
    else:
        fig = ax.figure
    gap = float(np.min(np.diff(res.m))) if res.m.size > 1 else 1.0
    x0 = float(res.m[0]) - gap
    o = res.original
    ax.errorbar([x0], [o.estimate], yerr=[[o.estimate - o.ci_low], [o.ci_high - o.estimate]],
                fmt="none", color="tab:red", capsize=4, label="Original")  # fmt: skip
    mid = (res.ci_low + res.ci_high) / 2
    ax.errorbar(res.m, mid, yerr=[mid - res.ci_low, res.ci_high - mid], fmt="none",
                color="tab:blue", capsize=4, label=f"{res.ci_method} ({res.delta})")  # fmt: skip
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlabel(res.parameter)
    ax.set_ylabel(f"{round(100 * (1 - res.alpha))}% interval")
    ax.set_title(res.target, fontsize="medium")
    ax.legend(loc="best")
    return fig
