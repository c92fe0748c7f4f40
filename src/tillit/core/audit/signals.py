"""The signal audit: reliability, redundancy, validity and gaming of a set of indicators,
and the resulting recommendation of what to remove and what to add.

Example
-------
>>> from tillit.core.audit import audit_signals, planted_panel
>>> panel, truth = planted_panel(seed=1, n_units=120, n_years=12, target_year=2006)
>>> res = audit_signals(panel, criteria=truth["criteria"], targets=truth["targets"])
>>> res.recommendations.loc["noise", "action"]
'drop'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tillit.core.audit.gaming import Target, gaming_table, parse_target
from tillit.core.audit.ledger import Ledger
from tillit.core.audit.panel import IndicatorPanel
from tillit.core.audit.recommend import gaps, recommend
from tillit.core.audit.redundancy import Redundancy, redundancy
from tillit.core.audit.reliability import center_by_year, reliability
from tillit.core.audit.validity import adjust_pvalues, validity
from tillit.core.errors import DataError, EstimationError
from tillit.core.results import jsonable

__all__ = ["SignalAudit", "audit_signals"]

_TIDY_COLS = [
    "rank",
    "action",
    "score",
    "hours_per_year",
    "information",
    "icc",
    "icc_low",
    "icc_high",
    "icc_k",
    "snr",
    "retest_r",
    "mdc",
    "mdc_sd",
    "unique_share",
    "cluster",
    "nearest",
    "nearest_r",
    "validity",
    "best_criterion",
    "unreliable",
    "redundant",
    "not_valid",
    "gamed",
    "keep_instead",
    "not_assessed",
    "n_years",
    "evidence",
]


@dataclass(frozen=True)
class SignalAudit:
    """Result of :func:`audit_signals`.

    ``recommendations`` (indexed by indicator) holds every per-indicator number, flag,
    action and evidence; ``validity`` one row per indicator x criterion x level;
    ``gaming`` one row per target; ``gaps`` what to add.
    """

    indicators: tuple[str, ...]
    criteria: tuple[str, ...]
    recommendations: pd.DataFrame = field(repr=False)
    redundancy: Redundancy = field(repr=False)
    validity: pd.DataFrame = field(repr=False)
    gaming: pd.DataFrame = field(repr=False)
    gaps: pd.DataFrame = field(repr=False)
    histograms: dict[str, dict[str, Any]] = field(repr=False)
    settings: dict[str, Any] = field(repr=False)
    diagnostics: tuple[str, ...] = ()

    def tidy(self) -> pd.DataFrame:
        """One row per indicator with the ranked recommendation and its evidence."""
        out = self.recommendations[_TIDY_COLS].copy()
        out.index.name = "indicator"
        return out.reset_index()

    def to_dict(self) -> dict[str, Any]:
        """Stable JSON: settings, indicators table, validity, gaming, gaps, pairs."""
        out: dict[str, Any] = jsonable(
            {
                "indicators": list(self.indicators),
                "criteria": list(self.criteria),
                "settings": self.settings,
                "recommendations": self.tidy().to_dict(orient="records"),
                "redundant_pairs": self.redundancy.pairs().to_dict(orient="records"),
                "validity": self.validity.to_dict(orient="records"),
                "gaming": self.gaming.to_dict(orient="records"),
                "gaps": self.gaps.to_dict(orient="records"),
                "diagnostics": list(self.diagnostics),
            }
        )
        return out

    def summary(self) -> str:
        """The ranked recommendation and the gaps, for people."""
        rec = self.recommendations
        counts = rec["action"].value_counts()
        lines = [
            f"Signal audit of {len(self.indicators)} indicators"
            + (f" against {', '.join(self.criteria)}" if self.criteria else "")
            + ": "
            + ", ".join(
                f"{counts.get(a, 0)} {a}"
                for a in ("drop", "slim", "review target", "keep", "not assessed")
            ),
            "",
            f"{'rank':>4} {'indicator':<16} {'action':<14} {'h/yr':>9} {'info':>6}  evidence",
        ]
        for ind, r in rec.iterrows():
            rk = "" if np.isnan(r["rank"]) else f"{r['rank']:.0f}"
            lines.append(
                f"{rk:>4} {ind!s:<16} {r['action']:<14} {r['hours_per_year']:>9,.0f} "
                f"{r['information']:>6.3f}  {r['evidence']}"
                + (f"; keep {r['keep_instead']} instead" if r["keep_instead"] else "")
            )
        if not self.gaps.empty:
            lines += ["", "What to add:"]
            for g in self.gaps.itertuples():
                lines.append(f"  {g.name} ({g.hours_per_year:,.0f} h/yr): {g.evidence}")
        lines += [f"note: {d}" for d in self.diagnostics]
        return "\n".join(lines)

    def figure_data(self, max_heatmap: int = 60) -> dict[str, Any]:
        """The numbers behind the report's figures (JSON): the between-municipality
        correlation matrix (up to ``max_heatmap`` indicators, else None) and the
        histograms around each gaming target."""
        heat = None
        if len(self.indicators) <= max_heatmap:
            heat = {
                "indicators": list(self.indicators),
                "r": self.redundancy.r_between.tolist(),
            }
        out: dict[str, Any] = jsonable({"heatmap": heat, "histograms": self.histograms})
        return out


def _targets(targets: Sequence[Target | str]) -> list[Target]:
    """Parse target strings."""
    return [t if isinstance(t, Target) else parse_target(t) for t in targets]


def audit_signals(
    panel: IndicatorPanel,
    *,
    indicators: Sequence[str] | None = None,
    criteria: Sequence[str] = (),
    targets: Sequence[Target | str] = (),
    ledger: Ledger | None = None,
    level: float = 0.95,
    alpha: float = 0.05,
    method: str = "bh",
    threshold: float = 0.8,
    min_icc: float = 0.2,
    min_unique: float = 0.2,
    n_treated: int = 10,
    power: float = 0.8,
    bunching: dict[str, Any] | None = None,
) -> SignalAudit:
    """Audit indicators for reliability, redundancy, validity and gaming.

    Parameters
    ----------
    panel
        The indicator panel (indicators x municipalities x years).
    indicators
        Indicators to audit (default: all but the criteria).
    criteria
        Indicators in ``panel`` that measure what matters (user satisfaction, sick
        leave, turnover, quality); validity is association with them.
    targets
        Targets to test for gaming, as :class:`Target` or ``"IND=THRESHOLD[:YEAR]"``.
    ledger
        Burden ledger whose ``indicator_ids`` link requirements to indicators (hours).
    level, alpha, method
        Confidence level; significance level and multiple-testing method (``bh``,
        ``holm``) for validity and gaming flags.
    threshold, min_icc, min_unique
        Redundancy ``|r|``; ICC below which an indicator is unreliable; unique share
        below which it is redundant.
    n_treated, power
        Pilot design for the minimum detectable change.
    bunching
        Extra arguments to :func:`~tillit.core.audit.gaming.bunching`.
    """
    crit, inds, sub = _inputs(panel, indicators, criteria)
    x = sub.values
    rel = reliability(x, level=level, n_treated=n_treated, alpha=alpha, power=power)
    rel.index = pd.Index(inds, name="indicator")
    rel["n_years"] = np.isfinite(x).any(axis=1).sum(axis=1)
    red = redundancy(x, inds, threshold=threshold)
    val = None
    if crit:
        cx = center_by_year(panel.select(list(crit)).values)
        val = validity(center_by_year(x), inds, cx, crit, level=level, method=method)
    tg = _targets(targets)
    gam, hists, controls = _gaming(x, inds, sub.years, tg, method, bunching)
    hours = (
        ledger.hours_by_indicator() if ledger is not None else pd.Series(dtype=float)
    )
    rec = recommend(
        rel.join(red.tidy().set_index("indicator")),
        val,
        gam,
        hours,
        alpha=alpha,
        min_icc=min_icc,
        min_unique=min_unique,
        threshold=threshold,
    )
    gp = gaps(
        rec, ledger.requirements if ledger is not None else None, val, crit, alpha
    )
    settings = {
        "level": level,
        "alpha": alpha,
        "method": method,
        "threshold": threshold,
        "min_icc": min_icc,
        "min_unique": min_unique,
        "n_treated": n_treated,
        "power": power,
        "n_units": int(x.shape[1]),
        "years": list(sub.years),
        "shrinkage": red.shrinkage,
        "targets": [t.__dict__ for t in tg],
    }
    diags = _diagnostics(rel, inds, crit, tg, controls, ledger, hours)
    return SignalAudit(
        inds,
        crit,
        rec,
        red,
        val if val is not None else pd.DataFrame(columns=list(_VALIDITY_COLS)),
        gam,
        gp,
        hists,
        settings,
        diags,
    )


def _inputs(
    panel: IndicatorPanel, indicators: Sequence[str] | None, criteria: Sequence[str]
) -> tuple[tuple[str, ...], tuple[str, ...], IndicatorPanel]:
    """Criteria, audited indicators (default: all but the criteria) and their panel."""
    crit = tuple(dict.fromkeys(criteria))
    for c in crit:
        panel.index(c)
    inds = (
        tuple(indicators)
        if indicators
        else tuple(i for i in panel.indicators if i not in crit)
    )
    if not inds:
        raise DataError("no indicators to audit", field="indicator")
    sub = panel.select(list(inds))
    if sub.values.shape[1] < 5:
        raise EstimationError(
            f"the audit needs at least 5 units, got {sub.values.shape[1]}"
        )
    return crit, inds, sub


_VALIDITY_COLS = (
    "indicator",
    "criterion",
    "level",
    "r",
    "ci_low",
    "ci_high",
    "p_value",
    "p_adjusted",
    "n",
)


def _gaming(
    x: np.ndarray,
    inds: tuple[str, ...],
    years: tuple[int, ...],
    tg: list[Target],
    method: str,
    bunching: dict[str, Any] | None,
) -> tuple[pd.DataFrame, dict[str, dict[str, Any]], list[int]]:
    """The gaming table with adjusted p-values, its histograms and the controls used."""
    targeted = {t.indicator for t in tg}
    controls = [i for i, k in enumerate(inds) if k not in targeted]
    gam, hists = gaming_table(x, inds, years, tg, controls, **(bunching or {}))
    gam["bunching_q"] = adjust_pvalues(gam["bunching_p"].to_numpy(float), method)
    gam["shift_q"] = adjust_pvalues(gam["shift_p"].to_numpy(float), method)
    return gam, hists, controls


def _diagnostics(
    rel: pd.DataFrame,
    inds: tuple[str, ...],
    crit: tuple[str, ...],
    tg: list[Target],
    controls: list[int],
    ledger: Ledger | None,
    hours: pd.Series,
) -> tuple[str, ...]:
    """What the reader of the result should know about its inputs."""
    diags: list[str] = []
    if tg and not controls:
        diags.append(
            "no untargeted indicator: level shifts tested without a comparison"
        )
    if ledger is None:
        diags.append("no ledger: hours saved are 0 and the ranking is by information")
    elif not set(hours.index) & set(inds):
        diags.append("no ledger requirement is linked to an audited indicator")
    if not crit:
        diags.append("no criteria: validity not assessed (counted as 1)")
    few = rel.index[rel["n_units"] < 20].tolist()
    if few:
        diags.append("fewer than 20 municipalities with data: " + ", ".join(few))
    return tuple(diags)
