"""Result type shared by the heterogeneity-robust event studies and the dCDH estimator.

Every outcome keeps its event-study coefficients **with their covariance**, so the
Rambachan-Roth sensitivity analysis (:func:`tillit.core.did.honest_sensitivity`) applies
to any of them through :meth:`EventStudyResult.honest`. JSON (``to_dict``) is documented
in ``docs/eventstudy.md``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import special  # not scipy.stats: it costs seconds to import

from tillit.core.did.results import EstimateTable, json_dict

if TYPE_CHECKING:  # the honest-DiD LPs load only when .honest() is called
    from tillit.core.did.honest import HonestResult

__all__ = ["EventOutcome", "EventStudyResult", "pretrend_wald", "table"]


def table(
    labels: dict[str, np.ndarray],
    est: np.ndarray,
    vcov: np.ndarray,
    level: float,
    dof: int | None = None,
) -> EstimateTable:
    """An :class:`EstimateTable` from estimates and their covariance.

    ``dof`` gives t(dof) critical values and p-values (normal when None).
    """
    se = np.sqrt(np.clip(np.diag(vcov), 0, None)) if vcov.size else np.zeros(0)
    q = 0.5 + level / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        z = -np.abs(est / se)
        if dof is None:
            crit, p = float(special.ndtri(q)), 2 * special.ndtr(z)
        else:
            crit = float(special.stdtrit(max(dof, 1), q))
            p = 2 * special.stdtr(max(dof, 1), z)
    nan = np.full(est.shape[0], math.nan)
    return EstimateTable(
        labels=labels,
        estimate=est,
        se=se,
        ci_low=est - crit * se,
        ci_high=est + crit * se,
        p_value=np.where(se > 0, p, math.nan),
        cband_low=nan,
        cband_high=nan,
    )


def pretrend_wald(beta: np.ndarray, vcov: np.ndarray) -> dict[str, Any]:
    """Joint Wald test that the given (pre-period) coefficients are zero.

    A singular covariance (e.g. a one-unit cohort) is reported as ``singular`` with no
    statistic; it is never inverted.
    """
    k = int(beta.shape[0])
    if k == 0:
        return {"status": "not_computable", "statistic": None, "df": 0, "p_value": None}
    if not (np.all(np.isfinite(beta)) and np.all(np.isfinite(vcov))):
        return {"status": "not_computable", "statistic": None, "df": k, "p_value": None}
    ev = np.linalg.eigvalsh(vcov)
    if not np.all(np.isfinite(ev)) or ev.min() <= 1e-12 * max(ev.max(), 1e-300):
        return {"status": "singular", "statistic": None, "df": k, "p_value": None}
    stat = float(beta @ np.linalg.solve(vcov, beta))
    return {
        "status": "ok",
        "statistic": stat,
        "df": k,
        "p_value": float(special.chdtrc(k, stat)),
    }


@dataclass(frozen=True)
class EventOutcome:
    """One outcome's event study.

    Attributes
    ----------
    event
        Coefficients by ``event_time`` (pre-periods negative, in order).
    vcov
        Covariance of ``event`` (rows as in ``event``).
    overall
        One-row table of the headline average effect.
    n_obs
        Rows used.
    pretrend
        Joint test of the pre-period coefficients (``status`` ok/singular/...).
    extra
        Estimator-specific tables or numbers (JSON-ready).
    """

    outcome: str
    event: EstimateTable
    vcov: np.ndarray
    overall: EstimateTable
    n_obs: int
    pretrend: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Stable JSON of one outcome."""
        return json_dict(
            {
                "outcome": self.outcome,
                "n_obs": self.n_obs,
                "event_study": self.event.rows(),
                "vcov": self.vcov,
                "overall": self.overall.row(0),
                "pretrend": self.pretrend,
                **self.extra,
            }
        )

    def tidy(self) -> pd.DataFrame:
        """Event-study and overall rows with a ``term`` column."""
        ev = self.event.tidy()
        ev.insert(0, "term", "event")
        ov = self.overall.tidy().drop(columns="term", errors="ignore")
        ov.insert(0, "term", "overall")
        out = pd.concat([ev, ov], ignore_index=True)
        out.insert(0, "outcome", self.outcome)
        return out


@dataclass(frozen=True)
class EventStudyResult:
    """Event studies of one or many outcomes by one estimator.

    ``method`` is ``sun_abraham``, ``imputation``, ``two_stage`` or ``dcdh``.
    """

    method: str
    title: str
    n_units: int
    n_periods: int
    n_clusters: int
    outcomes: dict[str, EventOutcome]
    settings: dict[str, Any] = field(default_factory=dict)
    degenerate: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def __getitem__(self, outcome: str) -> EventOutcome:
        """The result for one outcome."""
        return self.outcomes[outcome]

    def to_dict(self) -> dict[str, Any]:
        """Stable JSON (``docs/eventstudy.md``)."""
        return json_dict(
            {
                "method": self.method,
                "n_units": self.n_units,
                "n_periods": self.n_periods,
                "n_clusters": self.n_clusters,
                "settings": self.settings,
                "outcomes": {k: v.to_dict() for k, v in self.outcomes.items()},
                "degenerate": self.degenerate,
                "notes": list(self.notes),
            }
        )

    def tidy(self) -> pd.DataFrame:
        """All coefficients of all outcomes in one DataFrame."""
        parts = [o.tidy() for o in self.outcomes.values()]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()

    def summary(self) -> str:
        """Text for people."""
        lines = [
            f"{self.title}: {self.n_units} units, {self.n_periods} periods, "
            f"{self.n_clusters} clusters"
        ]
        for name, o in self.outcomes.items():
            ov = o.overall
            lines.append(
                f"Outcome: {name} ({o.n_obs} rows)\n"
                f"  overall {ov.estimate[0]:.4f}  se {ov.se[0]:.4f}  "
                f"[{ov.ci_low[0]:.4f}, {ov.ci_high[0]:.4f}]"
            )
            lines.append(
                f"  {'event':>8}{'estimate':>11}{'se':>9}{'ci_low':>10}{'ci_high':>10}"
            )
            ev = o.event
            for i in range(len(ev)):
                lines.append(
                    f"  {ev.labels['event_time'][i]:>8g}{ev.estimate[i]:>11.4f}"
                    f"{ev.se[i]:>9.4f}{ev.ci_low[i]:>10.4f}{ev.ci_high[i]:>10.4f}"
                )
            pt = o.pretrend
            if pt.get("status") == "ok":
                lines.append(
                    f"  pre-trend Wald chi2({pt['df']}) = {pt['statistic']:.3f}, "
                    f"p = {pt['p_value']:.4f}"
                )
            elif pt.get("status"):
                lines.append(f"  pre-trend test: {pt['status']}")
        lines.extend(f"Not estimated: {k}: {v}" for k, v in self.degenerate.items())
        lines.extend(f"Note: {n}" for n in self.notes)
        return "\n".join(lines)

    def honest(
        self,
        outcome: str | None = None,
        *,
        method: str = "smoothness",
        m_grid: Sequence[float] | None = None,
        l_vec: Sequence[float] | None = None,
        alpha: float = 0.05,
    ) -> HonestResult:
        """Rambachan-Roth sensitivity of one outcome's event study.

        Uses the negative event times as pre-periods and the others as post-periods,
        with the covariance kept in the result.
        """
        from tillit.core.did.honest import honest_sensitivity

        name = outcome or next(iter(self.outcomes))
        o = self.outcomes[name]
        e = o.event.labels["event_time"]
        keep = np.isfinite(o.event.estimate)
        pre, post = int((keep & (e < 0)).sum()), int((keep & (e >= 0)).sum())
        order = np.flatnonzero(keep)
        return honest_sensitivity(
            o.event.estimate[order],
            o.vcov[np.ix_(order, order)],
            pre,
            post,
            method=method,
            m_grid=m_grid,
            l_vec=l_vec,
            alpha=alpha,
            outcome=name,
        )

    def plot(self, outcome: str | None = None, ax: Any = None) -> Any:
        """Event-study plot: pre-periods grey, post-periods blue, with intervals."""
        import matplotlib.pyplot as plt  # lazy: plotting is optional

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4))
        name = outcome or next(iter(self.outcomes))
        d = self.outcomes[name].event
        e = d.labels["event_time"]
        for mask, colour, lab in (
            (e < 0, "tab:gray", "pre"),
            (e >= 0, "tab:blue", "post"),
        ):
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
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xlabel("event time")
        ax.set_ylabel(f"effect on {name}")
        ax.set_title(self.title)
        ax.legend()
        return ax
