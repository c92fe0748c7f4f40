"""Two-way fixed effects: the static TWFE coefficient and the TWFE event study.

Both use the within (two-way demeaned) transformation of a balanced panel, which is exact
for unit and period fixed effects, and solve all outcomes with one factorisation. Standard
errors are cluster-robust CR1 (Liang-Zeger with the small-sample factor
``G/(G-1) * (N-1)/(N-K)``). ``ssc="nested"`` (default) counts in ``K`` the slopes and the
period effects but not unit effects nested in the clusters, as R's ``fixest`` and Stata's
``reghdfe``; ``ssc="full"`` counts every dummy, as a dense-dummy OLS in ``statsmodels``.

Under staggered adoption with heterogeneous effects the static TWFE coefficient is a
weighted average of 2x2 comparisons, some with "forbidden" already-treated controls; see
:mod:`tillit.core.did.bacon` and use :func:`tillit.core.did.att_gt` instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from tillit.core.did._panel import Panel, build_panel
from tillit.core.did.results import EstimateTable, json_dict
from tillit.core.errors import EstimationError

__all__ = ["TwfeResult", "event_study", "twfe"]


@dataclass(frozen=True)
class TwfeResult:
    """TWFE estimates for one or many outcomes.

    ``coefficients[outcome]`` is a table labelled by ``term`` (``treated`` for the static
    model) or ``event_time`` (event study; the reference period is left out).
    """

    method: str
    n_units: int
    n_periods: int
    n_clusters: int
    coefficients: dict[str, EstimateTable]
    settings: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Stable JSON: one list of estimates per outcome."""
        return json_dict(
            {
                "method": self.method,
                "n_units": self.n_units,
                "n_periods": self.n_periods,
                "n_clusters": self.n_clusters,
                "settings": self.settings,
                "outcomes": {k: v.rows() for k, v in self.coefficients.items()},
                "notes": list(self.notes),
            }
        )

    def tidy(self) -> pd.DataFrame:
        """All coefficients in one DataFrame."""
        parts = []
        for name, tab in self.coefficients.items():
            df = tab.tidy()
            df.insert(0, "outcome", name)
            parts.append(df)
        return pd.concat(parts, ignore_index=True)

    def summary(self) -> str:
        """Text for people."""
        head = (
            f"{self.method}: {self.n_units} units, {self.n_periods} periods, "
            f"CR1 standard errors with {self.n_clusters} clusters"
        )
        lines = [head]
        for name, tab in self.coefficients.items():
            lines.append(f"Outcome: {name}")
            lab = next(iter(tab.labels))
            for i in range(len(tab)):
                lines.append(
                    f"  {tab.labels[lab][i]!s:>10} {tab.estimate[i]:>10.4f} "
                    f"se {tab.se[i]:.4f}  [{tab.ci_low[i]:.4f}, {tab.ci_high[i]:.4f}]"
                )
        lines.extend(f"Note: {n}" for n in self.notes)
        return "\n".join(lines)

    def plot(self, outcome: str | None = None, ax: Any = None) -> Any:
        """Coefficient plot (event study: by event time)."""
        import matplotlib.pyplot as plt  # lazy

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4))
        tab = self.coefficients[outcome or next(iter(self.coefficients))]
        lab = next(iter(tab.labels))
        x = tab.labels[lab]
        x = x if np.issubdtype(np.asarray(x).dtype, np.number) else np.arange(len(x))
        ax.errorbar(
            x,
            tab.estimate,
            yerr=[tab.estimate - tab.ci_low, tab.ci_high - tab.estimate],
            fmt="o",
            capsize=3,
        )
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xlabel(lab)
        return ax


def _demean(a: np.ndarray) -> np.ndarray:
    """Two-way within transformation of (n, T, ...) arrays (exact when balanced)."""
    out: np.ndarray = (
        a
        - a.mean(axis=1, keepdims=True)
        - a.mean(axis=0, keepdims=True)
        + a.mean(axis=(0, 1), keepdims=True)
    )
    return out


def _fit(
    panel: Panel,
    regs: np.ndarray,
    labels: dict[str, np.ndarray],
    ssc: str,
    level: float,
) -> tuple[dict[str, EstimateTable], int]:
    """OLS of demeaned outcomes on demeaned regressors (n, T, E), CR1 by cluster."""
    y = panel.y
    if np.isnan(y).any():
        raise EstimationError(
            "TWFE needs complete outcomes; drop units with missing values"
        )
    n, T, E = regs.shape
    xt = _demean(regs).reshape(n * T, E)
    yt = _demean(y).reshape(n * T, -1)
    a = xt.T @ xt
    try:
        a_inv = np.linalg.inv(a)
    except np.linalg.LinAlgError as exc:
        raise EstimationError(
            "the TWFE regressors are collinear with the fixed effects"
        ) from exc
    beta = a_inv @ (xt.T @ yt)  # (E, K)
    resid = yt - xt @ beta
    clus = panel.cluster if panel.cluster is not None else np.arange(n)
    g = int(clus.max()) + 1
    cl = np.repeat(clus, T)
    scores = np.zeros((g, E, y.shape[2]))
    np.add.at(scores, cl, xt[:, :, None] * resid[:, None, :])
    meat = np.einsum("gek,gfk->kef", scores, scores)
    N = n * T
    # unit effects are always nested in the clusters (a unit has one cluster)
    k_par = E + (T - 1 + n if ssc == "full" else T)  # "nested": as pyfixest/fixest
    factor = g / (g - 1) * (N - 1) / (N - k_par)
    vcov = factor * np.einsum("ef,kfh,hi->kei", a_inv, meat, a_inv)
    se = np.sqrt(np.einsum("kee->ke", vcov))
    z = stats.t.ppf(0.5 + level / 2, g - 1)
    out = {}
    for j, name in enumerate(panel.outcomes):
        b, s = beta[:, j], se[j]
        p = 2 * stats.t.sf(np.abs(b / s), g - 1)
        nan = np.full(E, math.nan)
        out[name] = EstimateTable(
            labels=labels,
            estimate=b,
            se=s,
            ci_low=b - z * s,
            ci_high=b + z * s,
            p_value=p,
            cband_low=nan,
            cband_high=nan,
        )
    return out, g


def _panel(df: pd.DataFrame, kw: dict[str, Any]) -> Panel:
    return build_panel(
        df,
        outcomes=list(kw["outcomes"]),
        unit=kw["unit"],
        time=kw["time"],
        cohort=kw["cohort"],
        cluster=kw.get("cluster"),
        control="never" if kw.get("require_never") else "notyet",
    )


def twfe(
    data: pd.DataFrame,
    *,
    outcomes: list[str],
    unit: str,
    time: str,
    cohort: str,
    cluster: str | None = None,
    ssc: str = "nested",
    level: float = 0.95,
) -> TwfeResult:
    """Static TWFE: ``y_it = a_i + l_t + b * 1{t >= g_i} + e_it`` with CR1 errors.

    Inference uses t(G-1) critical values, as ``fixest``.
    """
    panel = _panel(data, locals())
    d = (panel.periods[None, :] >= panel.cohort[:, None]).astype(float)[:, :, None]
    coefs, g = _fit(panel, d, {"term": np.array(["treated"])}, ssc, level)
    return TwfeResult(
        method="twfe",
        n_units=panel.n_units,
        n_periods=panel.n_periods,
        n_clusters=g,
        coefficients=coefs,
        settings={"ssc": ssc, "level": level, "cluster": cluster or unit},
        notes=panel.notes,
    )


def event_study(
    data: pd.DataFrame,
    *,
    outcomes: list[str],
    unit: str,
    time: str,
    cohort: str,
    cluster: str | None = None,
    reference: int = -1,
    ssc: str = "nested",
    level: float = 0.95,
) -> TwfeResult:
    """TWFE event study: one dummy per event time ``t - g`` except ``reference``.

    Never-treated units have no dummies. Without never-treated units the earliest event
    time is also left out (it is collinear with the fixed effects).
    """
    panel = _panel(data, locals())
    rel = panel.periods[None, :] - panel.cohort[:, None]  # -inf for never treated
    events = np.unique(rel[np.isfinite(rel)])
    events = events[events != reference]
    notes = list(panel.notes)
    if not np.isinf(panel.cohort).any() and events.size:
        notes.append(f"no never-treated units: event time {events[0]:g} also left out")
        events = events[1:]
    if events.size == 0:
        raise EstimationError("no event times to estimate")
    regs = (rel[:, :, None] == events[None, None, :]).astype(float)
    coefs, g = _fit(panel, regs, {"event_time": events}, ssc, level)
    return TwfeResult(
        method="event_study",
        n_units=panel.n_units,
        n_periods=panel.n_periods,
        n_clusters=g,
        coefficients=coefs,
        settings={
            "ssc": ssc,
            "level": level,
            "reference": reference,
            "cluster": cluster or unit,
        },
        notes=tuple(notes),
    )
