"""Goodman-Bacon (2021) decomposition of the static TWFE coefficient.

In a balanced panel without covariates, the TWFE coefficient is a weighted average of all
2x2 DiD comparisons between timing groups (Goodman-Bacon 2021, Theorem 1, eq. 10-11):
treated vs never treated, earlier vs later treated (before the later group starts), and
later vs earlier treated (after the earlier group started: the "forbidden" comparisons that
bias TWFE when effects change over time). The weights sum to one and the weighted sum
reproduces the TWFE coefficient exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tillit.core.did._panel import build_panel
from tillit.core.did.results import json_dict
from tillit.core.did.twfe import twfe
from tillit.core.errors import EstimationError

__all__ = ["BaconResult", "bacon"]


@dataclass(frozen=True)
class BaconResult:
    """The 2x2 comparisons, their weights and estimates, and the TWFE coefficient."""

    outcome: str
    twfe: float
    comparisons: pd.DataFrame  # type, treated, control, estimate, weight

    def to_dict(self) -> dict[str, Any]:
        """Stable JSON: TWFE coefficient, per-type totals, all comparisons."""
        by_type = self.by_type()
        return json_dict(
            {
                "method": "bacon",
                "outcome": self.outcome,
                "twfe": self.twfe,
                "by_type": by_type.to_dict(orient="records"),
                "comparisons": self.comparisons.to_dict(orient="records"),
            }
        )

    def by_type(self) -> pd.DataFrame:
        """Total weight and weighted average estimate per comparison type."""
        c = self.comparisons
        g = c.assign(wx=c.weight * c.estimate).groupby("type", sort=False)
        out = g[["weight", "wx"]].sum().reset_index()
        out["estimate"] = out.wx / out.weight
        return out.drop(columns="wx")

    def tidy(self) -> pd.DataFrame:
        """The comparisons."""
        return self.comparisons.copy()

    def summary(self) -> str:
        """Text for people."""
        lines = [
            f"Goodman-Bacon decomposition of TWFE = {self.twfe:.4f} ({self.outcome})"
        ]
        for r in self.by_type().itertuples():
            lines.append(
                f"  {r.type:<28} weight {r.weight:.3f}  average {r.estimate:.4f}"
            )
        forb = self.comparisons.type == "later vs earlier treated"
        if forb.any():
            lines.append(
                f"  {self.comparisons.weight[forb].sum():.1%} of the weight is on comparisons "
                "with already-treated controls; TWFE can mislead if effects change over time."
            )
        return "\n".join(lines)


def _dd(
    y: np.ndarray, t: np.ndarray, c: np.ndarray, pre: np.ndarray, post: np.ndarray
) -> float:
    """2x2 DiD of mean outcomes: treated rows t, control rows c over period masks."""
    yt, yc = y[t], y[c]
    return float(
        (yt[:, post].mean() - yt[:, pre].mean())
        - (yc[:, post].mean() - yc[:, pre].mean())
    )


def bacon(
    data: pd.DataFrame, *, outcome: str, unit: str, time: str, cohort: str
) -> BaconResult:
    """Decompose the TWFE coefficient of ``outcome`` (balanced panel, no covariates)."""
    p = build_panel(
        data, outcomes=[outcome], unit=unit, time=time, cohort=cohort, control="notyet"
    )
    y = p.y[:, :, 0]
    if np.isnan(y).any():
        raise EstimationError("the decomposition needs complete outcomes")
    T = p.n_periods
    groups = np.unique(p.cohort[np.isfinite(p.cohort)])
    share = {g: float((p.cohort == g).mean()) for g in groups}
    dbar = {g: float((p.periods >= g).mean()) for g in groups}
    n_u = float(np.isinf(p.cohort).mean())
    rows: list[tuple[str, float, float, float, float]] = []
    allp = np.ones(T, dtype=bool)
    for k in groups:
        tk = p.cohort == k
        post_k = p.periods >= k
        if n_u > 0:
            nk = share[k] / (share[k] + n_u)
            w = (share[k] + n_u) ** 2 * nk * (1 - nk) * dbar[k] * (1 - dbar[k])
            est = _dd(y, tk, np.isinf(p.cohort), allp & ~post_k, post_k)
            rows.append(("treated vs never treated", k, np.inf, est, w))
        for m in groups[groups > k]:
            tm = p.cohort == m
            nkl = share[k] / (share[k] + share[m])
            dk, dm = dbar[k], dbar[m]
            win = p.periods < m
            w = (
                ((share[k] + share[m]) * (1 - dm)) ** 2
                * nkl
                * (1 - nkl)
                * ((dk - dm) / (1 - dm))
                * ((1 - dk) / (1 - dm))
            )
            est = _dd(y, tk, tm, win & ~post_k, win & post_k)
            rows.append(("earlier vs later treated", k, m, est, w))
            win = post_k
            post_m = p.periods >= m
            w = (
                ((share[k] + share[m]) * dk) ** 2
                * nkl
                * (1 - nkl)
                * (dm / dk)
                * ((dk - dm) / dk)
            )
            est = _dd(y, tm, tk, win & ~post_m, win & post_m)
            rows.append(("later vs earlier treated", m, k, est, w))
    if not rows:
        raise EstimationError(
            "no 2x2 comparisons: need two timing groups or never-treated units"
        )
    comp = pd.DataFrame(
        rows, columns=["type", "treated", "control", "estimate", "weight"]
    )
    comp["weight"] = comp.weight / comp.weight.sum()
    b = float(
        twfe(data, outcomes=[outcome], unit=unit, time=time, cohort=cohort)
        .coefficients[outcome]
        .estimate[0]
    )
    return BaconResult(outcome=outcome, twfe=b, comparisons=comp)
