"""Difference-in-differences: staggered DiD, event studies, TWFE and Bacon decomposition.

Public API::

    att_gt(df, outcomes=[...], unit=..., time=..., cohort=...)  -> DidResult
    twfe(df, ...) / event_study(df, ...)                          -> TwfeResult
    bacon(df, ...)                                                -> BaconResult
    honest_did(result, outcome=..., method=...)                   -> HonestResult
    honest_sensitivity(betahat, sigma, n_pre, n_post, ...)        -> HonestResult
    sun_abraham / imputation / two_stage(df, ...)                 -> EventStudyResult
    dcdh(df, treatment=...) / cont_did(df, dose=...)              -> EventStudyResult
    triple_diff(df, partition=...)                                -> EventStudyResult

Everything is pure numpy/scipy/pandas (see ``docs/did.md``).
"""

from typing import TYPE_CHECKING, Any

# heterogeneity-robust event studies and other designs (docs/eventstudy.md)
from tillit.core.did._es_result import EventOutcome, EventStudyResult
from tillit.core.did.contdid import cont_did
from tillit.core.did.dcdh import dcdh
from tillit.core.did.estimator import att_gt
from tillit.core.did.imputation import imputation
from tillit.core.did.results import DidResult, EstimateTable, OutcomeResult
from tillit.core.did.sunab import sun_abraham
from tillit.core.did.triplediff import triple_diff
from tillit.core.did.twostage import two_stage

if TYPE_CHECKING:
    from tillit.core.did.honest import HonestResult, honest_did, honest_sensitivity

__all__ = [
    "DidResult",
    "EstimateTable",
    "EventOutcome",
    "EventStudyResult",
    "HonestResult",
    "OutcomeResult",
    "att_gt",
    "cont_did",
    "dcdh",
    "honest_did",
    "honest_sensitivity",
    "imputation",
    "sun_abraham",
    "triple_diff",
    "two_stage",
]

_HONEST = ("HonestResult", "honest_did", "honest_sensitivity")


def __getattr__(name: str) -> Any:
    """Load the honest-DiD linear programmes on first use (not with ``att_gt``)."""
    if name in _HONEST:
        from tillit.core.did import honest

        return getattr(honest, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
