"""Follow-up use cases: indicator lists, rankings, a municipality against its peers,
municipality profiles and peer sets. Reads only; every function checks the actor's right
to see an indicator (public readers see public indicators only).

The statistics come from :mod:`tillit.core.followup`; the data from the repository
:mod:`tillit.store.followup` (the one read path). Only yearly values (``month = 0``) of
whole organisations (``unit_id = 0``) take part in peer comparisons.  An indicator is
judged (best, worst, improving) only where its direction has a source
(:mod:`tillit.domain.direction`); elsewhere the words are highest and lowest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tillit.core.errors import DataError, NotFound, PermissionDenied
from tillit.core.followup import (
    FollowUp,
    follow_up,
    gender_gap,
    position_label,
    rank_within_peers,
    trends,
)
from tillit.domain.records import Actor
from tillit.store import followup as repo
from tillit.store.db import Connection, Engine, read_transaction

__all__ = [
    "MAX_CUSTOM",
    "PROFILE_COLUMNS",
    "PeerSet",
    "Series",
    "areas",
    "export_values",
    "get_indicator",
    "get_organisation",
    "indicator_ranking",
    "indicator_years",
    "list_indicators",
    "list_organisations",
    "peer_sets_for",
    "profile",
    "resolve_peers",
    "series",
]

MAX_CUSTOM = 400
PROFILE_COLUMNS = (
    "indicator", "title", "area", "unit_of_measure", "higher_is_better",
    "indicator_direction", "direction_source", "is_demo", "year", "value", "rank",
    "n", "percentile", "position", "slope", "se", "direction", "spark",
)  # fmt: skip
_PEER_ORDER = {"all": 0, "county": 1, "skr": 2, "similar": 3}


def list_indicators(
    engine: Engine,
    actor: Actor,
    *,
    q: str = "",
    area: str = "",
    limit: int = 1000,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Indicators the actor may see, filtered by a search text and an area."""
    with read_transaction(engine) as conn:
        return repo.list_indicators(
            conn,
            public_only=not actor.can_read_private(),
            q=q,
            area=area,
            limit=limit,
            offset=offset,
        )


def areas(engine: Engine, actor: Actor) -> list[str]:
    """The distinct indicator areas the actor may see."""
    with read_transaction(engine) as conn:
        return repo.areas(conn, public_only=not actor.can_read_private())


def _indicator(conn: Connection, actor: Actor, indicator_id: str) -> dict[str, Any]:
    d = repo.get_indicator(conn, indicator_id)
    if not d["is_public"] and not actor.can_read_private():
        raise PermissionDenied(f"indicator {indicator_id!r} is not public: sign in")
    return d


def get_indicator(engine: Engine, actor: Actor, indicator_id: str) -> dict[str, Any]:
    """One indicator's metadata; NotFound or PermissionDenied (non-public, anonymous)."""
    with read_transaction(engine) as conn:
        return _indicator(conn, actor, indicator_id)


def list_organisations(
    engine: Engine, *, kind: str = "", q: str = "", limit: int = 1000
) -> list[dict[str, Any]]:
    """Organisations by code, optionally of one kind and matching a search text."""
    with read_transaction(engine) as conn:
        return repo.list_organisations(conn, kind=kind, q=q, limit=limit)


def get_organisation(engine: Engine, code: str) -> dict[str, Any]:
    """One organisation by code (NotFound otherwise)."""
    with read_transaction(engine) as conn:
        return repo.get_organisation(conn, code)


def indicator_years(engine: Engine, indicator_id: str) -> list[int]:
    """Years with yearly organisation values of an indicator, ascending."""
    with read_transaction(engine) as conn:
        return repo.indicator_years(conn, indicator_id)


def export_values(
    engine: Engine,
    indicator_id: str,
    *,
    codes: list[str] | None = None,
    gender: str | None = "T",
) -> pd.DataFrame:
    """All stored values of one indicator (``tillit export``, a trusted system call).

    Columns ``indicator`` and :data:`tillit.store.followup.SERIES_COLUMNS`; NotFound for
    an unknown indicator.
    """
    with read_transaction(engine) as conn:
        repo.get_indicator(conn, indicator_id)
        df = repo.indicator_series(conn, indicator_id, org_ids=codes, gender=gender)
    df.insert(0, "indicator", indicator_id)
    return df


@dataclass(frozen=True)
class PeerSet:
    """A resolved peer set: its key, title, kind and member organisation codes."""

    key: str
    title: str
    kind: str
    codes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON shape."""
        return {
            "key": self.key,
            "title": self.title,
            "kind": self.kind,
            "codes": list(self.codes),
        }


def peer_sets_for(engine: Engine, code: str) -> list[dict[str, Any]]:
    """Peer sets available to ``code``: all, county, SKR group, similar groups.

    Each item: ``key`` (what :func:`resolve_peers` takes), ``title``, ``kind`` and
    ``size``.
    """
    with read_transaction(engine) as conn:
        org = repo.get_organisation(conn, code)
        n_all = repo.count_organisations(conn, org["kind"])
        groups = repo.peer_groups_of(conn, org["id"])
    out: list[dict[str, Any]] = [
        {"key": "all", "title": "all", "kind": "all", "size": n_all}
    ]
    out += [
        {"key": g["id"], "title": g["title"], "kind": g["kind"], "size": g["size"]}
        for g in groups
    ]
    out.sort(key=lambda g: (_PEER_ORDER.get(str(g["kind"]), 9), str(g["key"])))
    return out


def _resolve(
    conn: Connection, code: str, peers: str, custom: list[str] | None
) -> PeerSet:
    org = repo.get_organisation(conn, code)
    if peers == "all":
        codes = repo.organisation_codes(conn, kind=org["kind"])
        return PeerSet("all", "all", "all", tuple(codes))
    if peers == "custom":
        chosen = sorted({*(custom or []), code})
        if len(chosen) > MAX_CUSTOM:
            raise DataError(f"at most {MAX_CUSTOM} peers", field="peer")
        known = repo.known_organisations(conn, chosen)
        unknown = [c for c in chosen if c not in known]
        if unknown:
            raise DataError(
                f"unknown organisation code(s): {', '.join(unknown[:5])}",
                field="peer",
            )
        return PeerSet("custom", "custom", "custom", tuple(chosen))
    by_kind = peers in ("county", "skr", "similar")
    group = repo.peer_group(
        conn,
        org["id"],
        kind=peers if by_kind else None,
        group_id=None if by_kind else peers,
    )
    if group is None:
        raise NotFound(f"no peer set {peers!r} for {code}")
    members = set(repo.group_members(conn, group["id"])) | {code}
    return PeerSet(group["id"], group["title"], group["kind"], tuple(sorted(members)))


def resolve_peers(
    engine: Engine, code: str, peers: str = "all", custom: list[str] | None = None
) -> PeerSet:
    """The peer set named by ``peers`` for ``code`` (which is always included).

    ``peers`` is ``all`` (same kind), ``county``, ``skr``, ``similar`` (the first
    Kolada "similar municipalities" group containing ``code``), ``custom`` (the codes in
    ``custom``) or a peer-group id.
    """
    with read_transaction(engine) as conn:
        return _resolve(conn, code, peers, custom)


def indicator_ranking(
    engine: Engine,
    actor: Actor,
    indicator_id: str,
    *,
    year: int | None = None,
    gender: str = "T",
    kind: str = "municipality",
) -> tuple[dict[str, Any], int | None, pd.DataFrame]:
    """All organisations of ``kind`` ranked on one indicator in one year.

    Returns ``(indicator, year, table)``; ``year`` defaults to the latest with data and
    the table has ``org, name, value, rank, n, percentile, position`` (rank 1 and
    percentile 100 are the best where the direction is known, else the highest).
    """
    cols = ["org", "name", "value", "rank", "n", "percentile", "position"]
    with read_transaction(engine) as conn:
        ind = _indicator(conn, actor, indicator_id)
        years = repo.indicator_years(conn, indicator_id)
        if year is None:
            year = years[-1] if years else None
        if year is None:
            return ind, None, pd.DataFrame(columns=cols)
        orgs = repo.list_organisations(conn, kind=kind, limit=10000)
        df = repo.yearly_values(conn, [indicator_id], None, (gender,), (year, year))
    names = {o["code"]: o["name"] for o in orgs}
    df = df[df["org"].isin(names.keys())]
    hib = ind["higher_is_better"]
    ranked = rank_within_peers(df, higher_is_better=hib)
    ranked["name"] = ranked["org"].map(names)
    ranked["position"] = [
        position_label(p, higher_is_better=hib) for p in ranked["percentile"]
    ]
    return ind, year, ranked[cols]


@dataclass(frozen=True)
class Series:
    """An organisation's series on one indicator against a peer set."""

    indicator: dict[str, Any]
    organisation: dict[str, Any]
    peers: PeerSet
    gender: str
    followup: FollowUp
    peer_values: pd.DataFrame  # org, year, value of every peer (long)
    genders: pd.DataFrame  # year, T, K, M, gap, ratio of the organisation

    def tidy(self) -> pd.DataFrame:
        """One row per year: the organisation against its peers."""
        t = self.followup.tidy()
        t.insert(0, "indicator", self.indicator["id"])
        t.insert(1, "org", self.organisation["code"])
        t.insert(2, "gender", self.gender)
        t.insert(3, "peer_set", self.peers.key)
        return t


def series(
    engine: Engine,
    actor: Actor,
    indicator_id: str,
    code: str,
    *,
    peers: str = "all",
    custom: list[str] | None = None,
    gender: str = "T",
    years: tuple[int, int] = (1900, 2100),
    last_n: int = 5,
) -> Series:
    """Follow up ``code`` on ``indicator_id`` against a peer set (see resolve_peers)."""
    if gender not in ("T", "K", "M"):
        raise DataError("gender must be T, K or M", field="gender")
    with read_transaction(engine) as conn:
        ind = _indicator(conn, actor, indicator_id)
        org = repo.get_organisation(conn, code)
        peer_set = _resolve(conn, code, peers, custom)
        df = repo.yearly_values(conn, [indicator_id], peer_set.codes, (gender,), years)
        own = repo.yearly_values(conn, [indicator_id], (code,), ("T", "K", "M"), years)
    fu = follow_up(
        df[["org", "year", "value"]],
        code,
        higher_is_better=ind["higher_is_better"],
        last_n=last_n,
    )
    if own.empty or not (own["gender"] != "T").any():
        gaps = pd.DataFrame(columns=["year", "T", "K", "M", "gap", "ratio"])
    else:
        gaps = gender_gap(own)
    return Series(ind, org, peer_set, gender, fu, df[["org", "year", "value"]], gaps)


def profile(
    engine: Engine,
    actor: Actor,
    code: str,
    *,
    peers: str = "all",
    last_n: int = 5,
    lang: str = "sv",
) -> tuple[dict[str, Any], PeerSet, pd.DataFrame]:
    """All indicators of an organisation: latest value, trend and position among peers.

    Returns ``(organisation, peer set, table)``; the table has one row per visible
    indicator with a yearly value and the columns :data:`PROFILE_COLUMNS`
    (``indicator_direction``: higher, lower, neither or unknown; ``direction``: the
    trend's; ``spark``: the last 10 years as a list of (year, value)).  Positions and
    trends say best/worst and improving/worsening only where ``indicator_direction``
    is higher or lower.
    """
    with read_transaction(engine) as conn:
        org = repo.get_organisation(conn, code)
        peer_set = _resolve(conn, code, peers, None)
        inds = repo.list_indicators(conn, public_only=not actor.can_read_private())
        own = repo.yearly_values(conn, [i["id"] for i in inds], (code,))
        own = own.dropna(subset=["value"]).sort_values(["indicator", "year"])
        if own.empty:
            return org, peer_set, pd.DataFrame(columns=list(PROFILE_COLUMNS))
        latest = own.groupby("indicator").tail(1).set_index("indicator")
        yrs = (int(latest["year"].min()), int(latest["year"].max()))
        peer_df = repo.yearly_values(
            conn, list(latest.index), peer_set.codes, ("T",), yrs
        )
    meta = pd.DataFrame(inds).set_index("id").loc[latest.index]
    hib = pd.Series(list(meta["higher_is_better"]), index=meta.index, dtype=object)
    table = _profile_table(meta, hib, latest, own, last_n)
    table = table.join(_positions(peer_df, latest["year"], hib, code))
    table["position"] = [
        position_label(p, higher_is_better=h, lang=lang)
        for p, h in zip(table["percentile"], table["higher_is_better"], strict=True)
    ]
    out = table.reset_index().sort_values(["area", "indicator"], ignore_index=True)
    return org, peer_set, out[list(PROFILE_COLUMNS)]


def _profile_table(
    meta: pd.DataFrame,
    hib: pd.Series,
    latest: pd.DataFrame,
    own: pd.DataFrame,
    last_n: int,
) -> pd.DataFrame:
    """Per indicator: metadata, latest value, trend and the last ten years."""
    tr = trends(own, key="indicator", higher_is_better=hib, last_n=last_n)
    tail = own.groupby("indicator").tail(10)
    spark = {
        k: list(zip(g["year"], g["value"], strict=True))
        for k, g in tail.groupby("indicator")
    }
    out = pd.DataFrame(
        {
            "indicator": latest.index,
            "title": meta["title"].to_numpy(),
            "area": meta["area"].to_numpy(),
            "unit_of_measure": meta["unit_of_measure"].to_numpy(),
            "higher_is_better": hib.to_numpy(),
            "indicator_direction": meta["direction"].to_numpy(),
            "direction_source": meta["direction_source"].to_numpy(),
            "is_demo": meta["is_demo"].to_numpy(),
            "year": latest["year"].to_numpy(),
            "value": latest["value"].to_numpy(),
        }
    ).set_index("indicator")
    out = out.join(tr[["slope", "se", "direction"]])
    out["spark"] = pd.Series(
        [spark.get(k, []) for k in out.index], index=out.index, dtype=object
    )
    return out


def _positions(
    peer_df: pd.DataFrame, year_of: pd.Series, hib: pd.Series, code: str
) -> pd.DataFrame:
    """Rank, n and percentile of ``code`` per indicator in that indicator's year.

    Every indicator is ranked at once: one group per indicator, values flipped where
    lower is better so that one direction serves all (unknown: highest first).
    """
    same_year = peer_df["year"].to_numpy() == peer_df["indicator"].map(year_of)
    peer_df = peer_df[same_year.to_numpy()]
    flip = (peer_df["indicator"].map(hib) == False).to_numpy()  # noqa: E712
    ranked = rank_within_peers(
        pd.DataFrame(
            {
                "org": peer_df["org"].to_numpy(),
                "year": peer_df["indicator"].to_numpy(),
                "value": np.where(flip, -peer_df["value"], peer_df["value"]),
            }
        ),
        higher_is_better=True,
    )
    mine = ranked[ranked["org"] == code].set_index("year")
    mine.index.name = "indicator"
    return mine[["rank", "n", "percentile"]]
