"""Peer comparison for follow-up: ranks, percentiles, peer summaries, trends, labels.

Pure pandas/numpy/scipy on long DataFrames (``org, year, value``); the web and service
layers load the data and call these.
"""

from tillit.core.followup.labels import gender_gap, position_label
from tillit.core.followup.peers import peer_summary, rank_within_peers
from tillit.core.followup.result import FollowUp, follow_up
from tillit.core.followup.trend import DIRECTIONS, Trend, trend, trends

__all__ = [
    "DIRECTIONS",
    "FollowUp",
    "Trend",
    "follow_up",
    "gender_gap",
    "peer_summary",
    "position_label",
    "rank_within_peers",
    "trend",
    "trends",
]
