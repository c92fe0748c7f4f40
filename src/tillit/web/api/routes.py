"""The JSON API under ``/api/v1`` (OpenAPI at ``/api/v1/openapi.json``).

Reads follow the same role rules as the pages (anonymous clients see public indicators
only). The import endpoint needs a signed-in session and the ``X-CSRF-Token`` header
(the token is in ``GET /api/v1/session``); it queues an import job whose status is at
``GET /api/v1/jobs/{id}``.
"""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, File, Header, Request, UploadFile

from tillit.core.errors import DataError, PermissionDenied
from tillit.core.results import jsonable
from tillit.domain import access
from tillit.services import followup as fu
from tillit.services import imports, jobs
from tillit.web.api.models import (
    ErrorOut,
    ImportJobOut,
    IndicatorDetailOut,
    IndicatorOut,
    OrganisationOut,
    PeerGroupOut,
    ProfileOut,
    RankingOut,
    SeriesOut,
)
from tillit.web.deps import ActorDep, EngineDep, csrf_token
from tillit.web.downloads import frame_response
from tillit.web.params import (
    FormatPath,
    GenderQ,
    IndicatorPath,
    IndicatorQ,
    KindQ,
    LimitQ,
    MuniPath,
    MuniQ,
    OffsetQ,
    PeerListQ,
    PeersQ,
    TextQ,
    YearFromQ,
    YearQ,
    YearToQ,
)

__all__ = ["router"]

_ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorOut} for s in (400, 403, 404, 409, 422)
}
router = APIRouter(prefix="/api/v1", tags=["api"], responses=_ERRORS)

_IND_KEYS = tuple(IndicatorOut.model_fields)
_ORG_KEYS = tuple(OrganisationOut.model_fields)


def _ind(d: dict[str, Any]) -> dict[str, Any]:
    return {k: d[k] for k in _IND_KEYS}


def _org(d: dict[str, Any]) -> dict[str, Any]:
    return {k: d[k] for k in _ORG_KEYS}


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return jsonable(df.to_dict(orient="records"))  # type: ignore[no-any-return]


@router.get("/session", summary="Who am I, and the CSRF token for writes")
def session_info(request: Request, actor: ActorDep) -> dict[str, Any]:
    """The current role and the token to send as ``X-CSRF-Token`` with writes."""
    return {
        "role": actor.role,
        "username": actor.username,
        "csrf_token": csrf_token(request) if actor.user_id else None,
    }


@router.get("/indicators", response_model=list[IndicatorOut])
def indicators(
    engine: EngineDep,
    actor: ActorDep,
    q: TextQ = "",
    area: TextQ = "",
    limit: LimitQ = 1000,
    offset: OffsetQ = 0,
) -> list[dict[str, Any]]:
    """Indicators visible to the caller, filtered by search text and area."""
    rows = fu.list_indicators(engine, actor, q=q, area=area, limit=limit, offset=offset)
    return [_ind(r) for r in rows]


@router.get("/indicators/{indicator_id}", response_model=IndicatorDetailOut)
def indicator(
    engine: EngineDep, actor: ActorDep, indicator_id: IndicatorPath
) -> dict[str, Any]:
    """One indicator with the years that have values."""
    d = _ind(fu.get_indicator(engine, actor, indicator_id))
    d["years"] = fu.indicator_years(engine, indicator_id)
    return d


@router.get("/indicators/{indicator_id}/ranking", response_model=RankingOut)
def ranking(
    engine: EngineDep,
    actor: ActorDep,
    indicator_id: IndicatorPath,
    year: YearQ = None,
    gender: GenderQ = "T",
) -> dict[str, Any]:
    """All municipalities ranked on one indicator in one year (default: latest)."""
    ind, yr, table = fu.indicator_ranking(
        engine, actor, indicator_id, year=year, gender=gender
    )
    return {
        "indicator": _ind(ind),
        "year": yr,
        "gender": gender,
        "rows": _records(table),
    }


@router.get("/organisations", response_model=list[OrganisationOut])
def organisations(
    engine: EngineDep,
    kind: KindQ = "",
    q: TextQ = "",
    limit: LimitQ = 1000,
) -> list[dict[str, Any]]:
    """Municipalities, regions, the country and other bodies."""
    return [_org(r) for r in fu.list_organisations(engine, kind=kind, q=q, limit=limit)]


@router.get("/organisations/{code}", response_model=OrganisationOut)
def organisation(engine: EngineDep, code: MuniPath) -> dict[str, Any]:
    """One organisation by code."""
    return _org(fu.get_organisation(engine, code))


@router.get("/organisations/{code}/peer-groups", response_model=list[PeerGroupOut])
def org_peer_groups(engine: EngineDep, code: MuniPath) -> list[dict[str, Any]]:
    """The peer sets available to an organisation."""
    return fu.peer_sets_for(engine, code)


@router.get("/peer-groups", response_model=list[PeerGroupOut])
def peer_groups(engine: EngineDep, org: MuniQ) -> list[dict[str, Any]]:
    """The peer sets available to ``org`` (same as /organisations/{code}/peer-groups)."""
    return fu.peer_sets_for(engine, org)


def _series(
    engine: Any,
    actor: Any,
    indicator: str,
    org: str,
    peers: str,
    peer: list[str] | None,
    gender: str,
    year_from: int,
    year_to: int,
) -> fu.Series:
    if year_from > year_to:
        raise DataError("'from' must not be after 'to'", field="from")
    return fu.series(
        engine,
        actor,
        indicator,
        org,
        peers=peers,
        custom=peer,
        gender=gender,
        years=(year_from, year_to),
    )


@router.get("/series", response_model=SeriesOut)
def series(
    engine: EngineDep,
    actor: ActorDep,
    indicator: IndicatorQ,
    org: MuniQ,
    peers: PeersQ = "all",
    peer: PeerListQ = None,
    gender: GenderQ = "T",
    year_from: YearFromQ = 1900,
    year_to: YearToQ = 2100,
) -> dict[str, Any]:
    """An organisation's yearly series against a peer set: rank, percentile, peer
    quartiles, trend and (where the indicator has one) the gender split."""
    s = _series(engine, actor, indicator, org, peers, peer, gender, year_from, year_to)
    d = s.followup.to_dict()
    return {
        "indicator": _ind(s.indicator),
        "organisation": _org(s.organisation),
        "peers": s.peers.to_dict(),
        "gender": s.gender,
        "years": d["years"],
        "trend": d["trend"],
        "label": d["label"],
        "genders": _records(s.genders),
    }


@router.get("/profile", response_model=ProfileOut)
def profile(
    engine: EngineDep, actor: ActorDep, org: MuniQ, peers: PeersQ = "all"
) -> dict[str, Any]:
    """All indicators of an organisation: latest value, trend, position among peers."""
    o, peer_set, table = fu.profile(engine, actor, org, peers=peers)
    return {
        "organisation": _org(o),
        "peers": peer_set.to_dict(),
        "rows": _records(table.drop(columns=["spark"])),
    }


@router.post("/import", response_model=ImportJobOut, status_code=202)
def import_data(
    request: Request,
    engine: EngineDep,
    actor: ActorDep,
    file: Annotated[UploadFile, File(description="CSV or Kolada JSON")],
    x_csrf_token: Annotated[str, Header(max_length=200)] = "",
) -> dict[str, Any]:
    """Queue a CSV or Kolada JSON file as an import job (members for their own
    organisation, admins); its report is the job's ``result`` at ``status_url``."""
    if not access.may_import(actor):
        raise PermissionDenied("sign in as an administrator or organisation member")
    name = (file.filename or "upload")[-200:]
    data = file.file.read(imports.MAX_UPLOAD + 1)
    if len(data) > imports.MAX_UPLOAD:
        raise DataError("the file is larger than 50 MB", file=name)
    job_id = imports.submit_upload(engine, actor, data, name)
    return {
        "ok": True,
        "job": jobs.get_job(engine, actor, job_id).to_dict(),
        "status_url": f"/api/v1/jobs/{job_id}",
    }


# ---- exports: the data behind every view ------------------------------------------
_FILE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}, "application/vnd.apache.parquet": {}}}
}


@router.get("/export/indicators.{fmt}", responses=_FILE, response_model=None)
def export_indicators(
    engine: EngineDep, actor: ActorDep, fmt: FormatPath, q: TextQ = "", area: TextQ = ""
) -> Any:
    """The indicator list as CSV or Parquet."""
    rows = fu.list_indicators(engine, actor, q=q, area=area, limit=100000)
    df = pd.DataFrame(rows, columns=list(_IND_KEYS))
    return frame_response(df, "indicators", fmt)


@router.get(
    "/export/ranking/{indicator_id}.{fmt}", responses=_FILE, response_model=None
)
def export_ranking(
    engine: EngineDep,
    actor: ActorDep,
    indicator_id: IndicatorPath,
    fmt: FormatPath,
    year: YearQ = None,
    gender: GenderQ = "T",
) -> Any:
    """One indicator ranked across municipalities (the indicator page) as a file."""
    _ind0, yr, table = fu.indicator_ranking(
        engine, actor, indicator_id, year=year, gender=gender
    )
    table = table.assign(indicator=indicator_id, year=yr, gender=gender)
    return frame_response(table, f"{indicator_id}_{yr}_{gender}", fmt)


@router.get("/export/series.{fmt}", responses=_FILE, response_model=None)
def export_series(
    engine: EngineDep,
    actor: ActorDep,
    fmt: FormatPath,
    indicator: IndicatorQ,
    org: MuniQ,
    peers: PeersQ = "all",
    peer: PeerListQ = None,
    gender: GenderQ = "T",
    year_from: YearFromQ = 1900,
    year_to: YearToQ = 2100,
) -> Any:
    """The follow-up table (organisation against peers per year) as a file."""
    s = _series(engine, actor, indicator, org, peers, peer, gender, year_from, year_to)
    return frame_response(s.tidy(), f"{indicator}_{org}_{s.peers.key}", fmt)


@router.get("/export/peer-values.{fmt}", responses=_FILE, response_model=None)
def export_peer_values(
    engine: EngineDep,
    actor: ActorDep,
    fmt: FormatPath,
    indicator: IndicatorQ,
    org: MuniQ,
    peers: PeersQ = "all",
    peer: PeerListQ = None,
    gender: GenderQ = "T",
    year_from: YearFromQ = 1900,
    year_to: YearToQ = 2100,
) -> Any:
    """Every peer's values behind a follow-up view (long: org, year, value)."""
    s = _series(engine, actor, indicator, org, peers, peer, gender, year_from, year_to)
    df = s.peer_values.assign(indicator=indicator, gender=gender)
    return frame_response(df, f"{indicator}_{org}_{s.peers.key}_peers", fmt)


@router.get("/export/profile/{code}.{fmt}", responses=_FILE, response_model=None)
def export_profile(
    engine: EngineDep,
    actor: ActorDep,
    code: MuniPath,
    fmt: FormatPath,
    peers: PeersQ = "all",
) -> Any:
    """A municipality profile as a file."""
    _o, _p, table = fu.profile(engine, actor, code, peers=peers)
    table = table.drop(columns=["spark"]).assign(org=code, peer_set=peers)
    return frame_response(table, f"profile_{code}_{peers}", fmt)
