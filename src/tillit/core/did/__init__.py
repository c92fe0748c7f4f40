"""Difference-in-differences: staggered DiD, event studies, TWFE and Bacon decomposition.

Public API::

    att_gt(df, outcomes=[...], unit=..., time=..., cohort=...)  -> DidResult
    twfe(df, ...) / event_study(df, ...)                          -> TwfeResult
    bacon(df, ...)                                                -> BaconResult
    honest_did(result, outcome=..., method=...)                   -> HonestResult
    honest_sensitivity(betahat, sigma, n_pre, n_post, ...)        -> HonestResult

Everything is pure numpy/scipy/pandas (see ``docs/did.md``).
"""

from typing import TYPE_CHECKING, Any

from tillit.core.did.estimator import att_gt
from tillit.core.did.results import DidResult, EstimateTable, OutcomeResult

if TYPE_CHECKING:
    from tillit.core.did.honest import HonestResult, honest_did, honest_sensitivity

__all__ = [
    "DidResult",
    "EstimateTable",
    "HonestResult",
    "OutcomeResult",
    "att_gt",
    "honest_did",
    "honest_sensitivity",
]

_HONEST = ("HonestResult", "honest_did", "honest_sensitivity")


def __getattr__(name: str) -> Any:
    """Load the honest-DiD linear programmes on first use (not with ``att_gt``)."""
    if name in _HONEST:
        from tillit.core.did import honest

        return getattr(honest, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
