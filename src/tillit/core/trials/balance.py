"""Covariate balance between arms: standardised differences and a joint test.

Standardised difference: ``(mean_T - mean_C) / sqrt((s_T^2 + s_C^2) / 2)`` (Austin 2009);
|d| > 0.1 is the usual flag. Joint test: regress the treatment indicator on all
covariates (with stratum effects when stratified) and Wald-test that every covariate
coefficient is zero with a cluster-robust (CR1) covariance, referred to ``F(q, G - 1)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from tillit.core.errors import EstimationError
from tillit.core.results import jsonable
from tillit.core.trials.robust import ols_robust

__all__ = ["BalanceResult", "balance_table"]


@dataclass(frozen=True)
class BalanceResult:
    """Per-covariate balance rows and the joint F test."""

    rows: tuple[dict[str, float | str], ...]
    f_stat: float
    df1: int
    df2: float
    p_value: float

    def tidy(self) -> pd.DataFrame:
        """One row per covariate."""
        return pd.DataFrame(list(self.rows))

    def to_dict(self) -> dict[str, Any]:
        """Stable JSON shape."""
        out: dict[str, Any] = jsonable(
            {
                "covariates": list(self.rows),
                "joint_f": self.f_stat,
                "joint_df1": self.df1,
                "joint_df2": self.df2,
                "joint_p": self.p_value,
            }
        )
        return out

    def summary(self) -> str:
        """Text table."""
        t = self.tidy().to_string(index=False, float_format=lambda x: f"{x:.3f}")
        return f"{t}\njoint test: F({self.df1}, {self.df2:g}) = {self.f_stat:.3f}, p = {self.p_value:.4g}"


def balance_table(
    covariates: pd.DataFrame,
    treatment: np.ndarray,
    cluster: np.ndarray | None = None,
    stratum: np.ndarray | None = None,
) -> BalanceResult:
    """Balance of ``covariates`` (numeric columns) between ``treatment`` 1 and 0."""
    d = np.asarray(treatment, dtype=float)
    x = covariates.to_numpy(dtype=float)
    t, c = d == 1, d == 0
    rows: list[dict[str, float | str]] = []
    for j, name in enumerate(covariates.columns):
        m1, m0 = x[t, j].mean(), x[c, j].mean()
        v1 = x[t, j].var(ddof=1) if t.sum() > 1 else np.nan
        v0 = x[c, j].var(ddof=1) if c.sum() > 1 else np.nan
        sd = np.sqrt((v1 + v0) / 2)
        rows.append(
            {
                "covariate": str(name),
                "mean_treated": float(m1),
                "mean_control": float(m0),
                "difference": float(m1 - m0),
                "std_diff": float((m1 - m0) / sd) if sd > 0 else np.nan,
            }
        )
    f_stat = p = df2 = np.nan
    q = x.shape[1]
    if q:
        parts = [np.ones((len(d), 1))]
        if stratum is not None:
            dummies = pd.get_dummies(pd.Series(stratum).astype(str), drop_first=True)
            parts.append(dummies.to_numpy(dtype=float))
        design = np.column_stack([*parts, x])
        try:
            fit = ols_robust(d, design, cluster, kind="CR1")
            b = fit.beta[-q:]
            v = fit.vcov[-q:, -q:]
            f_stat = float(b @ np.linalg.solve(v, b)) / q
            df2 = float(fit.n_clusters - 1)
            p = float(stats.f.sf(f_stat, q, df2))
        except (EstimationError, np.linalg.LinAlgError):
            pass
    return BalanceResult(tuple(rows), float(f_stat), q, float(df2), float(p))
