"""Difference-in-differences: staggered DiD, event studies, TWFE and Bacon decomposition.

Public API::

    att_gt(df, outcomes=[...], unit=..., time=..., cohort=...)  -> DidResult
    twfe(df, ...) / event_study(df, ...)                          -> TwfeResult
    bacon(df, ...)                                                -> BaconResult
    honest_did(result, outcome=..., method=...)                   -> HonestResult
    honest_sensitivity(betahat, sigma, n_pre, n_post, ...)        -> HonestResult

Everything is pure numpy/scipy/pandas (see ``docs/did.md``).
"""

from tillit.core.did.estimator import att_gt
from tillit.core.did.honest import HonestResult, honest_did, honest_sensitivity
from tillit.core.did.results import DidResult, EstimateTable, OutcomeResult

__all__ = [
    "DidResult",
    "EstimateTable",
    "HonestResult",
    "OutcomeResult",
    "att_gt",
    "honest_did",
    "honest_sensitivity",
]
