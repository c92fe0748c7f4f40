"""Result of :func:`tillit.core.synth.sdid`: estimate, weights, per-cohort fits."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from tillit.core.results import Estimate, jsonable_dict
from tillit.core.synth._panel import WidePanel, py
from tillit.core.synth._sdid_core import BlockFit, treated_mean

__all__ = ["CohortFit", "SDIDResult", "normal_estimate"]


def normal_estimate(
    tau: float, draws: np.ndarray, variance: str, level: float
) -> Estimate:
    """Turn replicate estimates into an :class:`Estimate` with a normal interval.

    Placebo and bootstrap: ``se = sqrt((r-1)/r) sd(draws)``; jackknife:
    ``se = sqrt((n-1)/n * (n-1) var(draws))`` (R ``synthdid``).
    """
    draws = np.asarray(draws, dtype=float)
    if variance == "none" or len(draws) < 2:
        se = math.nan
    elif variance == "jackknife":
        n = len(draws)
        se = math.sqrt((n - 1) / n * (n - 1) * float(np.var(draws, ddof=1)))
    else:
        se = float(np.std(draws, ddof=0))
    z = float(special.ndtri(0.5 + level / 2))
    p = float(2 * special.ndtr(-abs(tau) / se)) if se > 0 else math.nan
    return Estimate(tau, se, tau - z * se, tau + z * se, p, level)


@dataclass(frozen=True, eq=False)
class CohortFit:
    """The fit for one adoption cohort (the only one without staggering)."""

    start: Any
    treated: tuple[str, ...]
    estimate: float
    unit_weights: dict[str, float]
    time_weights: dict[str, float]
    times: np.ndarray
    treated_path: np.ndarray
    synthetic_path: np.ndarray
    effect_curve: np.ndarray
    noise_level: float
    zeta_omega: float
    inference: Estimate | None = None
    beta: np.ndarray | None = None

    @classmethod
    def build(
        cls,
        panel: WidePanel,
        controls: np.ndarray,
        rows: np.ndarray,
        col: int,
        fit: BlockFit,
        inference: Estimate | None = None,
    ) -> CohortFit:
        """Collect weights and paths for plots from a block fit.

        ``inference`` is the cohort's estimate with its se and interval from the
        replicates that gave the overall se.
        """
        Y = panel.Y
        treated_path = treated_mean(Y[rows], fit.w1)
        synth = fit.omega @ Y[controls]
        pre = slice(0, col)
        # SDID matches trends, not levels: shift the synthetic path by the
        # lambda-weighted pre-period gap (the unit intercept of eq. (1)).
        shift = float(fit.lambda_ @ (treated_path[pre] - synth[pre]))
        if fit.options.method == "sc":
            shift = 0.0
        gap = treated_path - synth
        curve = gap[col:] - float(fit.lambda_ @ gap[pre])
        return cls(
            start=py(panel.times[col]),
            treated=tuple(str(panel.units[i]) for i in rows),
            estimate=fit.tau,
            unit_weights={
                str(panel.units[i]): float(w)
                for i, w in zip(controls, fit.omega, strict=True)
            },
            time_weights={
                str(t): float(w)
                for t, w in zip(panel.times[:col], fit.lambda_, strict=True)
            },
            times=np.asarray(panel.times),
            treated_path=treated_path,
            synthetic_path=synth + shift,
            effect_curve=curve,
            noise_level=fit.noise_level,
            zeta_omega=fit.options.zeta_omega,
            inference=inference,
            beta=fit.beta,
        )

    def inference_fields(self) -> dict[str, float]:
        """``se``, ``ci_low``, ``ci_high`` and ``p_value`` of the cohort (NaN if none)."""
        e = self.inference
        if e is None:
            return dict.fromkeys(("se", "ci_low", "ci_high", "p_value"), math.nan)
        return {
            "se": e.se,
            "ci_low": e.ci_low,
            "ci_high": e.ci_high,
            "p_value": e.p_value,
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON shape of one cohort."""
        post = self.times[len(self.time_weights) :]
        return jsonable_dict(
            {
                "start": self.start,
                "treated_units": list(self.treated),
                "estimate": self.estimate,
                **self.inference_fields(),
                "unit_weights": self.unit_weights,
                "time_weights": self.time_weights,
                "effect_curve": [
                    {"time": t, "effect": e}
                    for t, e in zip(post.tolist(), self.effect_curve, strict=True)
                ],
                "noise_level": self.noise_level,
                "zeta_omega": self.zeta_omega,
                "covariate_coefficients": None
                if self.beta is None
                else self.beta.tolist(),
            }
        )


@dataclass(frozen=True, eq=False)
class SDIDResult:
    """Synthetic DiD (or SC / DiD special case) estimate with its weights.

    ``unit_weights`` and ``time_weights`` are the cohort's weights with one cohort; with
    staggered adoption they are the cohort-weighted averages (unit weights over the
    never-treated units; time weights over calendar periods), and each cohort's own
    weights are in ``cohorts``.
    """

    estimate: Estimate
    method: str
    variance: str
    replications: int
    seed: int | None
    cohorts: tuple[CohortFit, ...]
    cohort_weights: tuple[float, ...]
    replicate_estimates: np.ndarray
    controls: tuple[str, ...]
    cohort_replicates: np.ndarray | None = None
    weights: str | None = None
    cluster: str | None = None
    n_clusters: int | None = None
    covariates: tuple[str, ...] = ()
    covariate_method: str | None = None

    @property
    def unit_weights(self) -> dict[str, float]:
        """Unit weight of each control (cohort-weighted average when staggered)."""
        out = dict.fromkeys(self.controls, 0.0)
        for c, w in zip(self.cohorts, self.cohort_weights, strict=True):
            for k, v in c.unit_weights.items():
                out[k] += w * v
        return out

    @property
    def time_weights(self) -> dict[str, float]:
        """Time weight of each pre-period (cohort-weighted average when staggered)."""
        out: dict[str, float] = {}
        for c, w in zip(self.cohorts, self.cohort_weights, strict=True):
            for k, v in c.time_weights.items():
                out[k] = out.get(k, 0.0) + w * v
        return out

    def to_dict(self) -> dict[str, Any]:
        """Stable JSON: estimate, se, ci_low, ci_high, p_value, weights, cohorts."""
        d = self.estimate.to_dict()
        d.update(
            {
                "estimator": self.method,
                "level": self.estimate.level,
                "variance": self.variance,
                "replications": self.replications,
                "seed": self.seed,
                "weights": self.weights,
                "cluster": self.cluster,
                "n_clusters": self.n_clusters,
                "covariates": list(self.covariates),
                "covariate_method": self.covariate_method,
                "unit_weights": self.unit_weights,
                "time_weights": self.time_weights,
                "cohorts": [
                    c.to_dict() | {"weight": w}
                    for c, w in zip(self.cohorts, self.cohort_weights, strict=True)
                ],
            }
        )
        return jsonable_dict(d)

    def tidy(self) -> pd.DataFrame:
        """One row for the overall effect and one per cohort when staggered."""
        e = self.estimate
        rows = [
            {
                "term": "ATT",
                "estimate": e.estimate,
                "se": e.se,
                "ci_low": e.ci_low,
                "ci_high": e.ci_high,
                "p_value": e.p_value,
            }
        ]
        if len(self.cohorts) > 1:
            for c in self.cohorts:
                rows.append(
                    {"term": f"cohort {c.start}", "estimate": c.estimate}
                    | c.inference_fields()
                )
        return pd.DataFrame(rows)

    def summary(self) -> str:
        """Text for people."""
        e = self.estimate
        name = {
            "sdid": "Synthetic DiD",
            "sc": "Synthetic control (SDID form)",
            "did": "Difference-in-differences",
        }[self.method]
        top = sorted(self.unit_weights.items(), key=lambda kv: -kv[1])[:8]
        tw = {k: v for k, v in self.time_weights.items() if v > 1e-6}
        lines = [
            f"{name}: estimate {e.estimate:.4f}",
            f"  se {e.se:.4f} ({self.variance}, {self.replications} replicates, seed "
            f"{self.seed}{self._inference_note()})",
            f"  {int(e.level * 100)}% CI [{e.ci_low:.4f}, {e.ci_high:.4f}]  p = {e.p_value:.4g}",
            "  top unit weights: " + ", ".join(f"{k} {v:.3f}" for k, v in top if v > 0),
            "  time weights: " + ", ".join(f"{k} {v:.3f}" for k, v in tw.items()),
        ]
        if len(self.cohorts) > 1:
            for c, w in zip(self.cohorts, self.cohort_weights, strict=True):
                inf = c.inference_fields()
                lines.append(
                    f"  cohort {c.start}: {c.estimate:.4f} (se {inf['se']:.4f}, "
                    f"CI [{inf['ci_low']:.4f}, {inf['ci_high']:.4f}], weight {w:.3f}, "
                    f"{len(c.treated)} unit(s))"
                )
        return "\n".join(lines)

    def _inference_note(self) -> str:
        parts = []
        if self.cluster:
            parts.append(f"; {self.n_clusters} clusters of '{self.cluster}'")
        if self.weights:
            parts.append(f"; treated weighted by '{self.weights}'")
        return "".join(parts)

    def plot(self, ax: Any = None, cohort: int = 0) -> Any:
        """Treated vs synthetic paths with the time weights (see :mod:`.plots`)."""
        from tillit.core.synth.plots import plot_sdid

        return plot_sdid(self, ax=ax, cohort=cohort)
