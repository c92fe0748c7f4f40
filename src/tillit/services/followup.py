"""Follow-up use cases: indicator lists, rankings, a municipality against its peers,
municipality profiles and peer sets. Reads only; every function checks the actor's right
to see an indicator (public readers see public indicators only).

The statistics come from :mod:`tillit.core.followup`; this module loads long DataFrames
(``org, year, value``) with SQLAlchemy Core. Only yearly values (``month = 0``) of whole
organisations (``unit_id = 0``) take part in peer comparisons.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, and_, func, or_, select

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
from tillit.store.tables import (
    indicators,
    observations,
    organisations,
    peer_group_members,
    peer_groups,
)

__all__ = [
    "PeerSet",
    "Series",
    "areas",
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

_IND_COLS = (
    "id",
    "title",
    "description",
    "area",
    "unit_of_measure",
    "divided_by_gender",
    "higher_is_better",
    "source",
    "is_public",
    "is_demo",
)
_ORG_COLS = ("id", "code", "name", "kind", "county_code", "skr_group", "is_demo")
MAX_CUSTOM = 400


def _visible(actor: Actor) -> Any:
    return True if actor.can_read_private() else indicators.c.is_public.is_(True)


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
    stmt = select(*(indicators.c[c] for c in _IND_COLS)).where(_visible(actor))
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(indicators.c.title).like(like),
                func.lower(indicators.c.id).like(like),
                func.lower(indicators.c.description).like(like),
            )
        )
    if area:
        stmt = stmt.where(indicators.c.area == area)
    stmt = stmt.order_by(indicators.c.area, indicators.c.id).limit(limit).offset(offset)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]


def areas(engine: Engine, actor: Actor) -> list[str]:
    """The distinct indicator areas the actor may see."""
    stmt = (
        select(indicators.c.area)
        .where(_visible(actor))
        .distinct()
        .order_by(indicators.c.area)
    )
    with engine.connect() as conn:
        return [a for (a,) in conn.execute(stmt) if a]


def get_indicator(engine: Engine, actor: Actor, indicator_id: str) -> dict[str, Any]:
    """One indicator's metadata; NotFound or PermissionDenied (non-public, anonymous)."""
    with engine.connect() as conn:
        row = conn.execute(
            select(*(indicators.c[c] for c in _IND_COLS)).where(
                indicators.c.id == indicator_id
            )
        ).first()
    if row is None:
        raise NotFound(f"no indicator {indicator_id!r}")
    d = dict(row._mapping)
    if not d["is_public"] and not actor.can_read_private():
        raise PermissionDenied(f"indicator {indicator_id!r} is not public: sign in")
    return d


def list_organisations(
    engine: Engine, *, kind: str = "", q: str = "", limit: int = 1000
) -> list[dict[str, Any]]:
    """Organisations by code, optionally of one kind and matching a search text."""
    stmt = select(*(organisations.c[c] for c in _ORG_COLS))
    if kind:
        stmt = stmt.where(organisations.c.kind == kind)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(organisations.c.name).like(like),
                organisations.c.code.like(like),
            )
        )
    with engine.connect() as conn:
        rows = conn.execute(stmt.order_by(organisations.c.code).limit(limit))
        return [dict(r._mapping) for r in rows]


def get_organisation(engine: Engine, code: str) -> dict[str, Any]:
    """One organisation by code (NotFound otherwise)."""
    with engine.connect() as conn:
        row = conn.execute(
            select(*(organisations.c[c] for c in _ORG_COLS)).where(
                organisations.c.code == code
            )
        ).first()
    if row is None:
        raise NotFound(f"no organisation with code {code!r}")
    return dict(row._mapping)


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


def _group_members(conn: Any, group_id: str) -> tuple[str, ...]:
    rows = conn.execute(
        select(organisations.c.code)
        .join(peer_group_members)
        .where(peer_group_members.c.group_id == group_id)
        .order_by(organisations.c.code)
    )
    return tuple(c for (c,) in rows)


def peer_sets_for(engine: Engine, code: str) -> list[dict[str, Any]]:
    """Peer sets available to ``code``: all, county, SKR group, similar groups.

    Each item: ``key`` (what :func:`resolve_peers` takes), ``title``, ``kind`` and
    ``size``.
    """
    org = get_organisation(engine, code)
    out: list[dict[str, Any]] = []
    with engine.connect() as conn:
        n_all = conn.execute(
            select(func.count()).where(organisations.c.kind == org["kind"])
        ).scalar()
        out.append({"key": "all", "title": "all", "kind": "all", "size": n_all})
        groups = conn.execute(
            select(peer_groups.c.id, peer_groups.c.title, peer_groups.c.kind)
            .join(peer_group_members)
            .where(
                and_(
                    peer_group_members.c.organisation_id == org["id"],
                    peer_groups.c.owner_user_id.is_(None),
                )
            )
            .order_by(peer_groups.c.kind, peer_groups.c.id)
        ).all()
        ids = [g[0] for g in groups]
        sizes: dict[int, int] = dict(
            conn.execute(
                select(peer_group_members.c.group_id, func.count())
                .where(peer_group_members.c.group_id.in_(ids))
                .group_by(peer_group_members.c.group_id)
            ).all()
        )
        for gid, title, kind in groups:
            out.append(
                {
                    "key": gid,
                    "title": title,
                    "kind": kind,
                    "size": int(sizes.get(gid, 0)),
                }
            )
    order = {"all": 0, "county": 1, "skr": 2, "similar": 3}
    out.sort(key=lambda g: (order.get(g["kind"], 9), g["key"]))
    return out


def resolve_peers(
    engine: Engine, code: str, peers: str = "all", custom: list[str] | None = None
) -> PeerSet:
    """The peer set named by ``peers`` for ``code`` (which is always included).

    ``peers`` is ``all`` (same kind), ``county``, ``skr``, ``similar`` (the first
    Kolada "similar municipalities" group containing ``code``), ``custom`` (the codes in
    ``custom``) or a peer-group id.
    """
    org = get_organisation(engine, code)
    with engine.connect() as conn:
        if peers == "all":
            codes = tuple(
                c
                for (c,) in conn.execute(
                    select(organisations.c.code)
                    .where(organisations.c.kind == org["kind"])
                    .order_by(organisations.c.code)
                )
            )
            return PeerSet("all", "all", "all", codes)
        if peers == "custom":
            chosen = sorted({*(custom or []), code})
            if len(chosen) > MAX_CUSTOM:
                raise DataError(f"at most {MAX_CUSTOM} peers", field="peer")
            known = {
                c
                for (c,) in conn.execute(
                    select(organisations.c.code).where(organisations.c.code.in_(chosen))
                )
            }
            unknown = [c for c in chosen if c not in known]
            if unknown:
                raise DataError(
                    f"unknown organisation code(s): {', '.join(unknown[:5])}",
                    field="peer",
                )
            return PeerSet("custom", "custom", "custom", tuple(chosen))
        kinds = {"county": "county", "skr": "skr", "similar": "similar"}
        stmt = (
            select(peer_groups.c.id, peer_groups.c.title, peer_groups.c.kind)
            .join(peer_group_members)
            .where(peer_group_members.c.organisation_id == org["id"])
        )
        if peers in kinds:
            stmt = stmt.where(peer_groups.c.kind == kinds[peers])
        else:
            stmt = stmt.where(peer_groups.c.id == peers)
        row = conn.execute(stmt.order_by(peer_groups.c.id)).first()
        if row is None:
            raise NotFound(f"no peer set {peers!r} for {code}")
        members = set(_group_members(conn, row.id)) | {code}
        return PeerSet(row.id, row.title, row.kind, tuple(sorted(members)))


def _values(
    engine: Engine,
    indicator_ids: list[str],
    codes: tuple[str, ...] | None,
    genders: tuple[str, ...] = ("T",),
    years: tuple[int, int] = (1900, 2100),
) -> pd.DataFrame:
    """Long frame ``indicator, org, year, gender, value`` of yearly organisation values.

    Filters on organisation ids (not codes) so that the natural-key index
    (indicator, organisation, unit, period, gender) serves the query.
    """
    with engine.connect() as conn:
        code_of: dict[int, str] = dict(
            conn.execute(select(organisations.c.id, organisations.c.code)).all()
        )
        stmt = select(
            observations.c.indicator_id,
            observations.c.organisation_id,
            observations.c.year,
            observations.c.gender,
            observations.c.value,
        ).where(
            observations.c.indicator_id.in_(indicator_ids),
            observations.c.unit_id == 0,
            observations.c.month == 0,
            observations.c.gender.in_(genders),
            observations.c.year.between(*years),
        )
        if years[1] - years[0] <= 30:  # lets the natural-key index seek on period
            periods = [str(y) for y in range(years[0], years[1] + 1)]
            stmt = stmt.where(observations.c.period.in_(periods))
        if codes is not None:
            wanted = set(codes)
            ids = [i for i, c in code_of.items() if c in wanted]
            stmt = stmt.where(observations.c.organisation_id.in_(ids))
        rows = conn.execute(stmt).all()
    cols = list(zip(*rows, strict=True)) if rows else [(), (), (), (), ()]
    return pd.DataFrame(
        {
            "indicator": pd.Series(cols[0], dtype=object),
            "org": pd.Series(cols[1], dtype=object).map(code_of),
            "year": np.asarray(cols[2], dtype=np.int64),
            "gender": pd.Series(cols[3], dtype=object),
            "value": np.array(cols[4], dtype=float),
        }
    )


def indicator_years(engine: Engine, indicator_id: str) -> list[int]:
    """Years with yearly organisation values of an indicator, ascending."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(observations.c.year)
            .where(
                observations.c.indicator_id == indicator_id,
                observations.c.unit_id == 0,
                observations.c.month == 0,
            )
            .distinct()
            .order_by(observations.c.year)
        )
        return [int(y) for (y,) in rows]


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
    the table has ``org, name, value, rank, n, percentile, position``.
    """
    ind = get_indicator(engine, actor, indicator_id)
    years = indicator_years(engine, indicator_id)
    if year is None:
        year = years[-1] if years else None
    cols = ["org", "name", "value", "rank", "n", "percentile", "position"]
    if year is None:
        return ind, None, pd.DataFrame(columns=cols)
    orgs = pd.DataFrame(list_organisations(engine, kind=kind, limit=10000))
    df = _values(engine, [indicator_id], None, (gender,), (year, year))
    df = df[df["org"].isin(orgs["code"])] if not orgs.empty else df.iloc[:0]
    ranked = rank_within_peers(df, higher_is_better=ind["higher_is_better"])
    names = dict(zip(orgs.get("code", []), orgs.get("name", []), strict=True))
    ranked["name"] = ranked["org"].map(names)
    ranked["position"] = [
        position_label(p, higher_is_better=ind["higher_is_better"])
        for p in ranked["percentile"]
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
    ind = get_indicator(engine, actor, indicator_id)
    org = get_organisation(engine, code)
    if gender not in ("T", "K", "M"):
        raise DataError("gender must be T, K or M", field="gender")
    peer_set = resolve_peers(engine, code, peers, custom)
    df = _values(engine, [indicator_id], peer_set.codes, (gender,), years)
    fu = follow_up(
        df[["org", "year", "value"]],
        code,
        higher_is_better=ind["higher_is_better"],
        last_n=last_n,
    )
    own = _values(engine, [indicator_id], (code,), ("T", "K", "M"), years)
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
    indicator with a yearly value: ``indicator, title, area, unit_of_measure,
    higher_is_better, is_demo, year, value, rank, n, percentile, position, slope, se,
    direction, spark`` (``spark``: the last 10 years as a list of (year, value)).
    """
    org = get_organisation(engine, code)
    peer_set = resolve_peers(engine, code, peers)
    inds = pd.DataFrame(list_indicators(engine, actor, limit=100000))
    cols = [
        "indicator", "title", "area", "unit_of_measure", "higher_is_better", "is_demo",
        "year", "value", "rank", "n", "percentile", "position", "slope", "se",
        "direction", "spark",
    ]  # fmt: skip
    if inds.empty:
        return org, peer_set, pd.DataFrame(columns=cols)
    own = _values(engine, list(inds["id"]), (code,)).dropna(subset=["value"])
    if own.empty:
        return org, peer_set, pd.DataFrame(columns=cols)
    own = own.sort_values(["indicator", "year"])
    latest = own.groupby("indicator").tail(1).set_index("indicator")
    meta = inds.set_index("id").loc[latest.index]
    hib = (
        meta["higher_is_better"].astype(object).where(meta["higher_is_better"].notna())
    )
    tr = trends(own, key="indicator", higher_is_better=hib, last_n=last_n)
    yrs = sorted(set(latest["year"]))
    peer_df = _values(
        engine, list(latest.index), peer_set.codes, ("T",), (min(yrs), max(yrs))
    )
    key = latest["year"]
    peer_df = peer_df[
        peer_df["year"].to_numpy() == peer_df["indicator"].map(key).to_numpy()
    ]
    # rank every indicator at once: one group per indicator, values flipped where lower
    # is better so that one direction serves all
    flip = peer_df["indicator"].map(meta["higher_is_better"]).eq(False).to_numpy()
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
    pos = ranked[ranked["org"] == code].set_index("year")[["rank", "n", "percentile"]]
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
            "is_demo": meta["is_demo"].to_numpy(),
            "year": latest["year"].to_numpy(),
            "value": latest["value"].to_numpy(),
        }
    ).set_index("indicator")
    out = out.join(pos).join(tr[["slope", "se", "direction"]])
    out["spark"] = pd.Series(
        [spark.get(k, []) for k in out.index], index=out.index, dtype=object
    )
    out["position"] = [
        position_label(p, higher_is_better=h, lang=lang)
        for p, h in zip(out["percentile"], out["higher_is_better"], strict=True)
    ]
    out = out.reset_index().sort_values(["area", "indicator"], ignore_index=True)
    return org, peer_set, out[cols]
