"""Result objects of the DiD engine: frozen, printable, tidy, JSON-ready and plottable.

The JSON shape (``to_dict()``) is documented in ``docs/did.md`` and is stable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tillit.core.results import jsonable

__all__ = ["DidResult", "EstimateTable", "OutcomeResult", "json_dict"]

_TABLE_COLS = (
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "p_value",
    "cband_low",
    "cband_high",
)


def json_dict(obj: dict[str, Any]) -> dict[str, Any]:
    """:func:`tillit.core.results.jsonable` for a dict, typed."""
    out: dict[str, Any] = jsonable(obj)
    return out


@dataclass(frozen=True)
class EstimateTable:
    """Estimates with labels (e.g. group and time) and pointwise and uniform intervals.

    ``crit`` is the uniform (sup-t) critical value behind ``cband_low``/``cband_high``;
    it and the bands are NaN when no bootstrap was run.
    """

    labels: dict[str, np.ndarray]
    estimate: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    p_value: np.ndarray
    cband_low: np.ndarray
    cband_high: np.ndarray
    crit: float | np.ndarray = math.nan

    def __len__(self) -> int:
        """Number of rows."""
        return int(self.estimate.shape[0])

    def rows(self) -> list[dict[str, Any]]:
        """One JSON-ready dict per estimate."""
        cols = {**self.labels, **{c: getattr(self, c) for c in _TABLE_COLS}}
        return [jsonable({k: v[i] for k, v in cols.items()}) for i in range(len(self))]

    def row(self, i: int) -> dict[str, Any]:
        """One estimate as a dict (without labels)."""
        return json_dict({c: getattr(self, c)[i] for c in _TABLE_COLS[:5]})

    def tidy(self) -> pd.DataFrame:
        """The table as a DataFrame."""
        cols = {**self.labels, **{c: getattr(self, c) for c in _TABLE_COLS}}
        return pd.DataFrame(cols)


@dataclass(frozen=True)
class OutcomeResult:
    """Callaway-Sant'Anna estimates for one outcome.

    Attributes
    ----------
    att_gt
        ATT(g,t) with labels ``group``, ``time``, ``event_time``.
    simple, group_overall, calendar_overall, dynamic_overall
        One-row tables of the overall aggregations.
    group, calendar, dynamic
        Aggregations by group, calendar period and event time.
    diagnostics
        Pre-trend test, balance, comparison-group sensitivity, honest bounds.
    influence
        Per-unit influence functions of ATT(g,t), shape (n_units, n_cells), or None.
    dynamic_vcov
        Covariance of the ``dynamic`` estimates (analytic, from the influence functions;
        rows as in ``dynamic``), for :func:`tillit.core.did.honest.honest_did`; None
        when estimated with ``honest=False``.
    """

    outcome: str
    n_units: int
    n_periods: int
    att_gt: EstimateTable
    simple: EstimateTable
    group: EstimateTable
    group_overall: EstimateTable
    calendar: EstimateTable
    calendar_overall: EstimateTable
    dynamic: EstimateTable
    dynamic_overall: EstimateTable
    diagnostics: dict[str, Any] = field(default_factory=dict)
    verdict: dict[str, str] = field(default_factory=dict)
    influence: np.ndarray | None = None
    dynamic_vcov: np.ndarray | None = None

    def to_dict(self) -> dict[str, Any]:
        """Stable JSON shape (see docs/did.md)."""
        return json_dict(
            {
                "outcome": self.outcome,
                "n_units": self.n_units,
                "n_periods": self.n_periods,
                "att_gt": self.att_gt.rows(),
                "aggregations": {
                    "simple": self.simple.row(0),
                    "group": self.group.rows(),
                    "group_overall": self.group_overall.row(0),
                    "calendar": self.calendar.rows(),
                    "calendar_overall": self.calendar_overall.row(0),
                    "dynamic": self.dynamic.rows(),
                    "dynamic_overall": self.dynamic_overall.row(0),
                },
                "diagnostics": self.diagnostics,
                "verdict": self.verdict,
            }
        )

    def tidy(self) -> pd.DataFrame:
        """All estimates in one DataFrame with a ``term`` column."""
        parts = []
        for term in (
            "att_gt",
            "simple",
            "group",
            "group_overall",
            "calendar",
            "calendar_overall",
            "dynamic",
            "dynamic_overall",
        ):
            part: pd.DataFrame = getattr(self, term).tidy()
            part.insert(0, "term", term)
            parts.append(part)
        out = pd.concat(parts, ignore_index=True)
        out.insert(0, "outcome", self.outcome)
        return out

    def summary(self) -> str:
        """Text for people: ATT(g,t), aggregations and the verdict."""
        lines = [
            f"Outcome: {self.outcome}  ({self.n_units} units, {self.n_periods} periods)"
        ]
        lines.append(_fmt_table(self.att_gt, ["group", "time"], "ATT(g,t)"))
        s = self.simple
        lines.append(
            f"Overall ATT (simple): {s.estimate[0]:.4f}  se {s.se[0]:.4f}  "
            f"[{s.ci_low[0]:.4f}, {s.ci_high[0]:.4f}]"
        )
        lines.append(_fmt_table(self.dynamic, ["event_time"], "Event study (dynamic)"))
        pt = self.diagnostics.get("pretrend", {})
        if pt.get("p_value") is not None:
            lines.append(
                f"Pre-trend Wald test: chi2({pt['df']}) = {pt['statistic']:.3f}, "
                f"p = {pt['p_value']:.4f}"
            )
        if self.verdict:
            lines.append(self.verdict.get("en", ""))
        return "\n".join(lines)

    def plot(self, ax: Any = None) -> Any:
        """Event-study plot with pointwise intervals and, if bootstrapped, uniform bands."""
        import matplotlib.pyplot as plt  # lazy: plotting is optional

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4))
        d = self.dynamic
        e = d.labels["event_time"]
        pre = e < 0
        for mask, colour, lab in ((pre, "tab:gray", "pre"), (~pre, "tab:blue", "post")):
            ax.errorbar(
                e[mask],
                d.estimate[mask],
                yerr=[
                    d.estimate[mask] - d.ci_low[mask],
                    d.ci_high[mask] - d.estimate[mask],
                ],
                fmt="o",
                color=colour,
                capsize=3,
                label=lab,
            )
        if np.isfinite(d.cband_low).any():
            ax.fill_between(
                e,
                d.cband_low,
                d.cband_high,
                color="tab:blue",
                alpha=0.15,
                step="mid",
                label="uniform band",
            )
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xlabel("event time")
        ax.set_ylabel(f"effect on {self.outcome}")
        ax.legend()
        return ax


def _fmt_table(t: EstimateTable, labels: list[str], title: str) -> str:
    head = "".join(f"{c:>10}" for c in labels) + (
        f"{'estimate':>11}{'se':>9}{'ci_low':>10}{'ci_high':>10}"
    )
    out = [title, head]
    for i in range(len(t)):
        lab = "".join(f"{t.labels[c][i]:>10g}" for c in labels)
        out.append(
            f"{lab}{t.estimate[i]:>11.4f}{t.se[i]:>9.4f}{t.ci_low[i]:>10.4f}"
            f"{t.ci_high[i]:>10.4f}"
        )
    return "\n".join(out)


@dataclass(frozen=True)
class DidResult:
    """Result of :func:`tillit.core.did.att_gt` for one or many outcomes."""

    n_units: int
    n_periods: int
    settings: dict[str, Any]
    outcomes: dict[str, OutcomeResult]
    degenerate: dict[str, str] = field(default_factory=dict)
    multiple_testing: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    method: str = "did"

    def __getitem__(self, outcome: str) -> OutcomeResult:
        """The result for one outcome."""
        return self.outcomes[outcome]

    @property
    def first(self) -> OutcomeResult:
        """The first estimated outcome."""
        return next(iter(self.outcomes.values()))

    def to_dict(self) -> dict[str, Any]:
        """Stable JSON: settings, per-outcome results, multiple testing, notes.

        The first outcome's ``att_gt``, ``aggregations`` and ``diagnostics`` are repeated
        at top level for one-outcome scripts.
        """
        first = self.first.to_dict()
        return json_dict(
            {
                "method": self.method,
                "n_units": self.n_units,
                "n_periods": self.n_periods,
                "settings": self.settings,
                "outcome": first["outcome"],
                "att_gt": first["att_gt"],
                "aggregations": first["aggregations"],
                "diagnostics": first["diagnostics"],
                "outcomes": {k: v.to_dict() for k, v in self.outcomes.items()},
                "degenerate": self.degenerate,
                "multiple_testing": self.multiple_testing,
                "notes": list(self.notes),
            }
        )

    def tidy(self) -> pd.DataFrame:
        """All estimates of all outcomes in one DataFrame."""
        return pd.concat([o.tidy() for o in self.outcomes.values()], ignore_index=True)

    def summary(self) -> str:
        """Text for people."""
        s = self.settings
        head = (
            f"Staggered DiD (Callaway & Sant'Anna 2021): {self.n_units} units, "
            f"{self.n_periods} periods; comparison {s['control']}, method {s['method']}, "
            f"base period {s['base_period']}, "
            + (
                f"{s['bootstrap']} bootstrap draws"
                if s["bootstrap"]
                else "analytic SEs"
            )
        )
        parts = [head, *[o.summary() for o in self.outcomes.values()]]
        for name, why in self.degenerate.items():
            parts.append(f"Not estimated: {name}: {why}")
        mt = self.multiple_testing
        if mt.get("outcomes") and len(mt["outcomes"]) > 1:
            parts.append(
                "Adjusted p-values (overall ATT): outcome, raw, Holm, BH, Romano-Wolf"
            )
            for i, name in enumerate(mt["outcomes"]):
                vals = [mt[k][i] for k in ("p_value", "holm", "bh", "romano_wolf")]
                parts.append(
                    f"  {name}: "
                    + ", ".join("-" if v is None else f"{v:.4f}" for v in vals)
                )
        parts.extend(f"Note: {n}" for n in self.notes)
        return "\n\n".join(parts)

    def plot(self, outcome: str | None = None, ax: Any = None) -> Any:
        """Event-study plot of one outcome (the first by default)."""
        res = self.outcomes[outcome] if outcome else self.first
        return res.plot(ax=ax)
