"""Result of a randomised / cluster-randomised / stepped-wedge pilot analysis."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tillit.core.results import Estimate, jsonable
from tillit.core.trials.balance import BalanceResult

__all__ = ["TrialResult"]


@dataclass(frozen=True)
class TrialResult:
    """Treatment effect with cluster-robust and randomisation-inference p-values."""

    estimate: Estimate
    df: float
    vcov: str
    ri_p_value: float
    permutations: int
    exact: bool
    seed: int | None
    design: str
    adjust: str
    n: int
    n_clusters: int
    n_treated: int
    n_control: int
    coefficients: tuple[dict[str, Any], ...]
    balance: BalanceResult | None
    dropped: int = 0
    ri_draws: np.ndarray = field(
        default_factory=lambda: np.empty(0), repr=False, compare=False
    )

    def to_dict(self) -> dict[str, Any]:
        """Stable JSON shape: the effect's fields at top level plus design facts."""
        d: dict[str, Any] = self.estimate.to_dict()
        d.update(
            {
                "df": self.df,
                "vcov": self.vcov,
                "level": self.estimate.level,
                "ri_p_value": self.ri_p_value,
                "permutations": self.permutations,
                "exact": self.exact,
                "seed": self.seed,
                "design": self.design,
                "adjust": self.adjust,
                "n": self.n,
                "n_clusters": self.n_clusters,
                "n_treated": self.n_treated,
                "n_control": self.n_control,
                "dropped": self.dropped,
                "coefficients": list(self.coefficients),
                "balance": self.balance.to_dict() if self.balance else None,
            }
        )
        out: dict[str, Any] = jsonable(d)
        return out

    def tidy(self) -> pd.DataFrame:
        """One row per reported coefficient (treatment first; fixed effects omitted)."""
        return pd.DataFrame(list(self.coefficients))

    def summary(self) -> str:
        """Text for people."""
        e = self.estimate
        unit = "clusters" if self.design not in ("complete", "stratified") else "units"
        lines = [
            f"{self.design} design; {self.n} observations, {self.n_clusters} {unit} "
            f"({self.n_treated} treated, {self.n_control} control); adjustment: {self.adjust}",
            f"effect {e.estimate:.4f} (SE {e.se:.4f}, {self.vcov}, df {self.df:.1f}); "
            f"{e.level:.0%} CI {e.ci_low:.4f}, {e.ci_high:.4f}; p = {e.p_value:.4g}",
            f"randomisation inference: p = {self.ri_p_value:.4g} "
            f"({'exact, ' if self.exact else ''}{self.permutations} allocations"
            f"{'' if self.seed is None else f', seed {self.seed}'})",
        ]
        if self.dropped:
            lines.append(f"{self.dropped} rows with missing values were dropped")
        if self.balance is not None:
            lines += ["", "balance:", self.balance.summary()]
        return "\n".join(lines)

    def plot(self, ax: Any = None) -> Any:
        """Histogram of the randomisation distribution with the observed effect."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        draws = self.ri_draws[np.isfinite(self.ri_draws)]
        ax.hist(draws, bins=40, color="lightgrey", edgecolor="grey")
        ax.axvline(self.estimate.estimate, color="tab:red", label="observed")
        ax.set_xlabel("effect under re-randomisation")
        ax.legend()
        return ax
