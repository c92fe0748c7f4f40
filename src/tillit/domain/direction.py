"""An indicator's direction: known only where an administrator or a documented source
says so (#12 goal 5).

The store keeps ``higher_is_better`` (True, False or NULL) beside ``direction_source``
(who said so: a document, a law, an administrator's name and date).  The direction is
*known* only when the source is not empty:

==================  =========================  =============================
higher_is_better    direction_source           direction
==================  =========================  =============================
True                "SoS: Öppna jämförelser"   ``higher`` (higher is better)
False               "admin anna, 2026-03-01"   ``lower`` (lower is better)
NULL                "population: no quality"   ``neither`` (no better way)
any                 ""                         ``unknown``
==================  =========================  =============================

Where the direction is ``neither`` or ``unknown`` nothing may say better or worse:
pages, exports, colours and sentences say highest and lowest instead.
"""

from __future__ import annotations

from typing import Literal

from tillit.core.errors import DataError

__all__ = [
    "DIRECTIONS",
    "MAX_SOURCE",
    "Direction",
    "direction_of",
    "judged",
    "parse_direction",
]

Direction = Literal["higher", "lower", "neither", "unknown"]
DIRECTIONS: tuple[Direction, ...] = ("higher", "lower", "neither", "unknown")
MAX_SOURCE = 400


def direction_of(higher_is_better: bool | None, source: str | None) -> Direction:
    """The direction a stored pair means (see the module table).

    Examples
    --------
    >>> direction_of(True, "")
    'unknown'
    >>> direction_of(False, "SKR, Öppna jämförelser 2024")
    'lower'
    """
    if not (source or "").strip():
        return "unknown"
    if higher_is_better is None:
        return "neither"
    return "higher" if higher_is_better else "lower"


def judged(higher_is_better: bool | None, source: str | None) -> bool | None:
    """The direction to judge by: ``higher_is_better`` when sourced, else None."""
    return higher_is_better if (source or "").strip() else None


def parse_direction(text: str) -> tuple[bool | None, bool]:
    """``higher|lower|neither|unknown`` -> ``(higher_is_better, known)``.

    Raises
    ------
    DataError
        For any other word.
    """
    word = text.strip().lower()
    table: dict[str, tuple[bool | None, bool]] = {
        "higher": (True, True),
        "lower": (False, True),
        "neither": (None, True),
        "unknown": (None, False),
    }
    if word not in table:
        raise DataError(
            "the direction is one of higher, lower, neither or unknown",
            field="direction",
        )
    return table[word]
