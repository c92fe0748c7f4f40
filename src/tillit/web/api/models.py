"""Pydantic response models of ``/api/v1`` (they make the OpenAPI description exact)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = [
    "ErrorOut",
    "ImportJobOut",
    "ImportOut",
    "IndicatorDetailOut",
    "IndicatorOut",
    "JobOut",
    "OrganisationOut",
    "PeerGroupOut",
    "PeerSetOut",
    "ProfileOut",
    "ProfileRowOut",
    "RankingOut",
    "RankingRowOut",
    "SeriesOut",
    "SeriesYearOut",
    "TrendOut",
]


class ErrorOut(BaseModel):
    """The one error shape."""

    ok: bool = False
    error: str
    status: int
    file: str | None = None
    row: int | str | None = None
    field: str | None = None


class IndicatorOut(BaseModel):
    """Indicator metadata."""

    id: str
    title: str
    description: str
    area: str
    unit_of_measure: str
    divided_by_gender: bool
    higher_is_better: bool | None = Field(
        description="the direction to judge by: null unless a source says so"
    )
    direction: str = Field(description="higher, lower, neither or unknown")
    direction_source: str = Field(description="who says so; empty when unknown")
    source: str
    is_public: bool
    is_demo: bool


class IndicatorDetailOut(IndicatorOut):
    """Indicator metadata with the years that have organisation values."""

    years: list[int]


class OrganisationOut(BaseModel):
    """A municipality, region, the country or another body."""

    code: str
    name: str
    kind: str
    county_code: str | None
    skr_group: str | None
    is_demo: bool


class PeerGroupOut(BaseModel):
    """A peer set available to an organisation (``key`` goes in ``peers=``)."""

    key: str
    title: str
    kind: str
    size: int


class PeerSetOut(BaseModel):
    """A resolved peer set."""

    key: str
    title: str
    kind: str
    codes: list[str]


class RankingRowOut(BaseModel):
    """One organisation in a ranking (1 = best, or highest where no direction is known)."""

    org: str
    name: str | None
    value: float | None
    rank: float | None
    n: int
    percentile: float | None = Field(
        description="0-100: 100 = best where the direction is known, else highest"
    )
    position: str


class RankingOut(BaseModel):
    """All organisations ranked on one indicator in one year."""

    indicator: IndicatorOut
    year: int | None
    gender: str
    rows: list[RankingRowOut]


class SeriesYearOut(BaseModel):
    """One year of a follow-up: the organisation's value and the peer distribution."""

    year: int
    value: float | None
    rank: float | None
    n: int
    percentile: float | None
    min: float | None
    q1: float | None
    median: float | None
    q3: float | None
    max: float | None
    mean: float | None


class TrendOut(BaseModel):
    """OLS trend over the last years."""

    slope: float | None
    se: float | None
    p_value: float | None
    n: int
    first_year: int | None
    last_year: int | None
    direction: str


class GenderYearOut(BaseModel):
    """Gender split of the organisation in one year (gap = K - M)."""

    year: int
    T: float | None
    K: float | None
    M: float | None
    gap: float | None
    ratio: float | None


class SeriesOut(BaseModel):
    """An organisation against its peers on one indicator."""

    indicator: IndicatorOut
    organisation: OrganisationOut
    peers: PeerSetOut
    gender: str
    years: list[SeriesYearOut]
    trend: TrendOut
    label: dict[str, str]
    genders: list[GenderYearOut]


class ProfileRowOut(BaseModel):
    """One indicator in a municipality profile."""

    indicator: str
    title: str
    area: str
    unit_of_measure: str
    higher_is_better: bool | None
    indicator_direction: str = Field(description="higher, lower, neither or unknown")
    direction_source: str
    is_demo: bool
    year: int
    value: float | None
    rank: float | None
    n: int | None
    percentile: float | None
    position: str
    slope: float | None
    se: float | None
    direction: str | None = Field(description="the trend's direction")


class ProfileOut(BaseModel):
    """All indicators of an organisation with trend and position among peers."""

    organisation: OrganisationOut
    peers: PeerSetOut
    rows: list[ProfileRowOut]


class ImportOut(BaseModel):
    """What an import did."""

    ok: bool = True
    batch_id: int | None
    n_rows: int
    n_new: int
    n_updated: int
    n_unchanged: int
    duplicate_of: int | None
    source: str
    filename: str


class JobOut(BaseModel):
    """A background job: status, progress, result or error (``version`` 1)."""

    version: int
    id: int
    kind: str
    status: str = Field(description="queued, running, done or failed")
    done: int
    total: int = Field(description="0 while the total is not known")
    percent: float | None
    message: str
    result: dict[str, Any] | None = Field(
        description="the kind's result when done (an import: its report); when "
        "failed, the error's file, row and field"
    )
    error: str
    attempts: int
    max_attempts: int
    created_at: str | None
    started_at: str | None
    finished_at: str | None


class ImportJobOut(BaseModel):
    """An upload accepted as an import job; follow it at ``status_url``."""

    ok: bool = True
    job: JobOut
    status_url: str
