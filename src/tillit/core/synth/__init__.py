"""Synthetic control and synthetic difference-in-differences.

* :func:`synth` -- Abadie, Diamond & Hainmueller (2010) synthetic control with nested or
  supplied predictor weights, demeaned and penalised variants, placebo-in-space and
  placebo-in-time inference, several treated units and staggered starts.
* :func:`sdid` -- Arkhangelsky et al. (2021) synthetic DiD (and its SC / DiD special
  cases) with placebo, jackknife and bootstrap variance, staggered cohorts, population
  weights, clusters and covariates;
  :func:`sdid_matrix` is the same on an outcome matrix (R ``synthdid_estimate``).
* :func:`conformal_sc` -- Chernozhukov, Wüthrich & Zhu (2021) conformal p-values and
  pointwise intervals for synthetic control.
"""

from tillit.core.synth._predictors import PredictorSpec, parse_predictor
from tillit.core.synth.conformal import ConformalResult, conformal_sc
from tillit.core.synth.scm import synth
from tillit.core.synth.sdid import sdid, sdid_matrix
from tillit.core.synth.sdid_result import SDIDResult
from tillit.core.synth.synth_result import SynthResult

__all__ = [
    "ConformalResult",
    "PredictorSpec",
    "SDIDResult",
    "SynthResult",
    "conformal_sc",
    "parse_predictor",
    "sdid",
    "sdid_matrix",
    "synth",
]
