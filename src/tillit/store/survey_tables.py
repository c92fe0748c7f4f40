"""Compatibility name for :mod:`tillit.store.tables.survey`: import from there.

Kept while the branches of this wave still import the old name; removed afterwards.
"""

from tillit.store.tables.survey import (
    dialogue_posts,
    dialogue_reports,
    dialogue_settings,
    rate_events,
    survey_links,
    survey_releases,
    survey_responses,
    survey_rounds,
)

__all__ = [
    "dialogue_posts",
    "dialogue_reports",
    "dialogue_settings",
    "rate_events",
    "survey_links",
    "survey_releases",
    "survey_responses",
    "survey_rounds",
]
