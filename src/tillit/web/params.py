"""Bounded request parameters shared by pages and the API.

Every number has a range and every text a maximum length and pattern, so that no
request can reach the database with an unbounded integer or an arbitrary string.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path, Query
from pydantic import StringConstraints

__all__ = [
    "CODE_PATTERN",
    "CodeQ",
    "FormatPath",
    "GenderQ",
    "IndicatorPath",
    "IndicatorQ",
    "KindQ",
    "LimitQ",
    "MuniPath",
    "MuniQ",
    "OffsetQ",
    "PeerListQ",
    "PeersQ",
    "TextQ",
    "YearFromQ",
    "YearQ",
    "YearToQ",
]

CODE_PATTERN = r"^[A-Za-z0-9_.-]+$"
PEERS_PATTERN = r"^[A-Za-z0-9_.-]+$"

Code = Annotated[
    str, StringConstraints(min_length=1, max_length=16, pattern=CODE_PATTERN)
]

IndicatorPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=32,
        pattern=CODE_PATTERN,
        description="indicator id, e.g. N00945",
    ),
]
IndicatorQ = Annotated[
    str,
    Query(
        min_length=1, max_length=32, pattern=CODE_PATTERN, description="indicator id"
    ),
]
MuniPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=16,
        pattern=CODE_PATTERN,
        description="organisation code, e.g. 0180",
    ),
]
MuniQ = Annotated[
    str,
    Query(
        min_length=1,
        max_length=16,
        pattern=CODE_PATTERN,
        description="organisation code",
    ),
]
CodeQ = Annotated[str, Query(max_length=16, pattern=r"^[A-Za-z0-9_.-]*$")]
YearQ = Annotated[
    int | None, Query(ge=1900, le=2100, description="year (default: latest)")
]
YearFromQ = Annotated[int, Query(ge=1900, le=2100, alias="from")]
YearToQ = Annotated[int, Query(ge=1900, le=2100, alias="to")]
GenderQ = Annotated[
    Literal["T", "K", "M"], Query(description="T total, K women, M men")
]
PeersQ = Annotated[
    str,
    Query(
        min_length=1,
        max_length=40,
        pattern=PEERS_PATTERN,
        description="all | county | skr | similar | custom | a peer-group id",
    ),
]
PeerListQ = Annotated[
    list[Code] | None,
    Query(max_length=400, description="organisation codes of a custom peer set"),
]
TextQ = Annotated[str, Query(max_length=200)]
LimitQ = Annotated[int, Query(ge=1, le=10000)]
OffsetQ = Annotated[int, Query(ge=0, le=1_000_000)]
FormatPath = Annotated[Literal["csv", "parquet"], Path(description="csv or parquet")]
KindQ = Annotated[
    Literal["", "municipality", "region", "country", "other"],
    Query(description="organisation kind (empty: all)"),
]
