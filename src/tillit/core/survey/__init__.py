"""Trust barometer core: instruments, scale indices and disclosure control."""

from tillit.core.survey.disclosure import (
    DEFAULT_THRESHOLD,
    Decision,
    ReleaseAuditor,
    suppress,
)
from tillit.core.survey.indices import group_indices, scale_scores
from tillit.core.survey.instruments import (
    CITIZEN,
    STAFF,
    Instrument,
    Question,
    instrument,
)

__all__ = [
    "CITIZEN",
    "DEFAULT_THRESHOLD",
    "STAFF",
    "Decision",
    "Instrument",
    "Question",
    "ReleaseAuditor",
    "group_indices",
    "instrument",
    "scale_scores",
    "suppress",
]
