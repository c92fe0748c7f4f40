"""Evidence synthesis: fixed/random-effects meta-analysis and meta-regression.

* :func:`meta_analysis`: one data set; REML, DL, ML, PM or fixed effect; Hartung-Knapp;
  tau^2 with SE and Q-profile CI; I^2, H^2, Q; prediction interval; moderators (QM, R^2).
* :func:`meta_analysis_many` / :func:`meta_by_group`: K outcomes at once, vectorised.
* :mod:`~tillit.core.meta.effects`: log risk/odds ratios and mean differences.
* :func:`forest_plot`.
"""

from tillit.core.meta.batch import MetaBatch, meta_analysis_many, meta_by_group
from tillit.core.meta.effects import (
    log_odds_ratio,
    log_risk_ratio,
    mean_difference,
    standardised_mean_difference,
)
from tillit.core.meta.model import MetaResult, meta_analysis
from tillit.core.meta.plot import forest_plot

__all__ = [
    "MetaBatch",
    "MetaResult",
    "forest_plot",
    "log_odds_ratio",
    "log_risk_ratio",
    "mean_difference",
    "meta_analysis",
    "meta_analysis_many",
    "meta_by_group",
    "standardised_mean_difference",
]
