"""Trust barometer results: every output path goes through the disclosure control.

Results exist only for closed rounds. Every statistic on every output path (page, API,
CSV, chart tooltips, pilot and peer comparisons) goes through :func:`_released`:

* threshold ``k`` (default 5; an administrator may raise it, never below 5);
* complementary suppression for breakdowns of a shown total;
* the round's persisted :class:`~tillit.core.survey.ReleaseAuditor` per variable, so that
  two overlapping groups cannot be subtracted to reveal a person, also across queries
  and after an erasure. The standard breakdown (total, units, staff groups) is released
  first, so ad-hoc queries cannot crowd it out.

Free-text answers only reach the organisation's members and administrators, and only for
groups of at least ``k`` respondents (never through the API).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, insert, select, update

from tillit.core.errors import Conflict
from tillit.core.survey import (
    Instrument,
    ReleaseAuditor,
    group_indices,
    instrument,
    scale_scores,
    suppress,
)
from tillit.domain.records import Actor
from tillit.services.surveys import (
    NO_UNIT,
    VALUE_COLS,
    Round,
    _get,
    _require_manager,
    _round_rows,
    _view,
    create_round,
)
from tillit.store.db import write_transaction
from tillit.store.survey_tables import survey_releases, survey_responses, survey_rounds
from tillit.store.tables import organisations, units

__all__ = [
    "burden",
    "free_texts",
    "ledger_estimate",
    "load_demo_surveys",
    "pilot_change",
    "query",
    "results",
    "results_csv",
    "trend",
]


def _frame(conn: Connection, rnd: Round) -> pd.DataFrame:
    """Respondent-level scores (one row per response) with unit and staff group."""
    rows = conn.execute(
        select(
            survey_responses.c.id,
            survey_responses.c.staff_group,
            survey_responses.c.answers,
            units.c.code,
            units.c.name,
        )
        .outerjoin(units, units.c.id == survey_responses.c.unit_id)
        .where(survey_responses.c.round_id == rnd.id)
        .order_by(survey_responses.c.id)
    ).all()
    inst = rnd.instrument
    answers = pd.DataFrame(
        [json.loads(r.answers) for r in rows], index=range(len(rows))
    )
    for q in inst.questions:
        if q.id not in answers.columns:
            answers[q.id] = np.nan
    answers["rid"] = [r.id for r in rows]
    answers["unit"] = [r.code or NO_UNIT for r in rows]
    answers["unit_name"] = [r.name or NO_UNIT for r in rows]
    answers["staff_group"] = [r.staff_group or NO_UNIT for r in rows]
    answers["total"] = "all"
    likert = [q.id for q in inst.questions if q.kind != "text"]
    answers[likert] = answers[likert].apply(pd.to_numeric, errors="coerce")
    scores = scale_scores(
        answers.drop(columns=[q.id for q in inst.questions if q.kind == "text"]), inst
    )
    for q in inst.questions:
        if q.kind == "number":
            scores[q.id] = answers[q.id].astype(float)
    return scores


def _variables(rnd: Round) -> list[str]:
    inst = rnd.instrument
    return [s.id for s in inst.scales if inst.items(s.id)] + [
        q.id for q in inst.questions if q.kind == "number"
    ]


def _auditors(conn: Connection, rnd: Round) -> dict[str, ReleaseAuditor]:
    out: dict[str, ReleaseAuditor] = {}
    for var, members in conn.execute(
        select(survey_releases.c.variable, survey_releases.c.members)
        .where(survey_releases.c.round_id == rnd.id)
        .order_by(survey_releases.c.id)
    ):
        aud = out.setdefault(var, ReleaseAuditor(rnd.threshold))
        aud.released.append(frozenset(json.loads(members)))
    return out


def _released(
    conn: Connection,
    rnd: Round,
    scores: pd.DataFrame,
    by: str,
    *,
    complementary: bool,
    auditors: dict[str, ReleaseAuditor],
) -> pd.DataFrame:
    """Group indices by ``by`` after threshold, complementary suppression and audit."""
    variables = [v for v in _variables(rnd) if v in scores.columns]
    table = group_indices(scores, [by], variables)
    table = suppress(
        table,
        k=rnd.threshold,
        value_cols=VALUE_COLS,
        parent=["scale"] if complementary else None,
        child=by if complementary else None,
    )
    rid = scores["rid"].to_numpy()
    grp = scores[by].to_numpy()
    sup = table["suppressed"].to_numpy(dtype=bool).copy()
    reason = table["reason"].to_numpy(dtype=object).copy()
    new: list[dict[str, Any]] = []
    for i in np.flatnonzero(~sup).tolist():
        var, g = str(table["scale"].iat[i]), table[by].iat[i]
        ids = frozenset(rid[(grp == g) & scores[var].notna().to_numpy()].tolist())
        aud = auditors.setdefault(var, ReleaseAuditor(rnd.threshold))
        if ids in aud.released:
            continue
        d = aud.release(ids)
        if d.allowed:
            members = json.dumps(sorted(int(x) for x in ids))
            new.append({"round_id": rnd.id, "variable": var, "members": members})
        else:
            sup[i], reason[i] = True, d.reason
    refused = sup & ~table["suppressed"].to_numpy(dtype=bool)
    if refused.any():
        table.loc[refused, VALUE_COLS] = np.nan
        table.loc[refused, "n"] = pd.NA
        table["suppressed"], table["reason"] = sup, reason
    if new:
        conn.execute(insert(survey_releases), new)
    return table.rename(columns={by: "group"})


def _standard(
    conn: Connection, rnd: Round, levels: tuple[str, ...] = ("unit", "staff_group")
) -> dict[str, Any]:
    """The standard breakdown, released in a fixed order: the total, then ``levels``."""
    scores = _frame(conn, rnd)
    auditors = _auditors(conn, rnd)
    out = {"scores": scores, "auditors": auditors}
    if scores.empty:
        return out | {k: pd.DataFrame() for k in ("total", "unit", "staff_group")}
    out["total"] = _released(
        conn, rnd, scores, "total", complementary=False, auditors=auditors
    )
    for by in levels:
        out[by] = _released(
            conn, rnd, scores, by, complementary=True, auditors=auditors
        )
    return out


def _require_closed(rnd: Round) -> None:
    if rnd.status != "closed":
        raise Conflict(
            "results are published when the round is closed (answers are still coming in)"
        )


def results(engine: Engine, actor: Actor, code: str) -> dict[str, Any]:
    """Disclosure-controlled indices of a closed round: total, by unit, by staff group.

    Returns ``round`` and the tables ``total``, ``unit`` and ``staff_group`` (columns
    ``group``, ``scale``, ``n``, ``mean``, ``sd``, ``se``, ``ci_low``, ``ci_high``,
    ``suppressed``, ``reason``), plus ``unit_names``.
    """
    with write_transaction(engine) as conn:
        rnd = _get(conn, code, actor)
        _require_closed(rnd)
        std = _standard(conn, rnd)
    names = {}
    if not std["scores"].empty:
        names = dict(
            zip(std["scores"]["unit"], std["scores"]["unit_name"], strict=True)
        )
    return {
        "round": rnd,
        "total": std["total"],
        "unit": std["unit"],
        "staff_group": std["staff_group"],
        "unit_names": names,
    }


def query(
    engine: Engine,
    actor: Actor,
    code: str,
    *,
    unit: str | None = None,
    staff_group: str | None = None,
) -> dict[str, Any]:
    """Indices for an ad-hoc filter (unit and/or staff group), audited against every
    earlier release of the round so that overlapping groups cannot be subtracted."""
    with write_transaction(engine) as conn:
        rnd = _get(conn, code, actor)
        _require_closed(rnd)
        std = _standard(conn, rnd)
        scores = std["scores"]
        if scores.empty:
            return {"round": rnd, "table": pd.DataFrame()}
        mask = np.ones(len(scores), dtype=bool)
        if unit:
            mask &= (scores["unit"] == unit.strip()).to_numpy()
        if staff_group:
            mask &= (scores["staff_group"] == staff_group.strip()).to_numpy()
        sub = scores[mask].copy()
        sub["filter"] = "filter"
        if sub.empty:
            table = pd.DataFrame(columns=["group", "scale", "n", *VALUE_COLS])
        else:
            table = _released(
                conn, rnd, sub, "filter", complementary=False, auditors=std["auditors"]
            )
    return {"round": rnd, "table": table, "unit": unit, "staff_group": staff_group}


def free_texts(engine: Engine, actor: Actor, code: str) -> dict[str, list[str]]:
    """Free-text answers by unit (and ``all``) for groups of at least ``k`` respondents.

    Only the organisation's members and administrators; texts are sorted (the order of
    answering is not revealed).
    """
    with engine.connect() as conn:
        rnd = _get(conn, code, actor)
        _require_manager(rnd)
        _require_closed(rnd)
        rows = conn.execute(
            select(survey_responses.c.answers, units.c.code)
            .outerjoin(units, units.c.id == survey_responses.c.unit_id)
            .where(survey_responses.c.round_id == rnd.id)
        ).all()
    text_ids = [q.id for q in rnd.instrument.questions if q.kind == "text"]
    groups: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    for answers, unit_code in rows:
        a = json.loads(answers)
        for key in ("all", unit_code or NO_UNIT):
            counts[key] = counts.get(key, 0) + 1
            groups.setdefault(key, []).extend(a[t] for t in text_ids if a.get(t))
    return {g: sorted(v) for g, v in groups.items() if counts[g] >= rnd.threshold}


def results_csv(res: dict[str, Any]) -> str:
    """The released tables of :func:`results` as CSV (suppressed cells empty)."""
    frames = []
    for level in ("total", "unit", "staff_group"):
        t = res[level]
        if len(t):
            frames.append(t.assign(level=level))
    if not frames:
        return "level,group,scale,n,mean,sd,se,ci_low,ci_high,suppressed,reason\n"
    cols = ["level", "group", "scale", "n", *VALUE_COLS, "suppressed", "reason"]
    return str(pd.concat(frames)[cols].to_csv(index=False, float_format="%.4f"))


# Released totals of closed rounds, per process. A closed round only loses answers
# (erasure), so (database, round, respondents, threshold) identifies its total; a changed
# key recomputes it through the release audit.
_TOTALS: dict[tuple[str, int, int, int], pd.DataFrame] = {}
_TOTALS_MAX = 4096


def _released_total(conn: Connection, rnd: Round) -> pd.DataFrame:
    key = (str(conn.engine.url), rnd.id, rnd.n_responses, rnd.threshold)
    hit = _TOTALS.get(key)
    if hit is None:
        hit = _standard(conn, rnd, levels=())["total"]
        if len(_TOTALS) >= _TOTALS_MAX:
            _TOTALS.clear()
        _TOTALS[key] = hit
    return hit.copy()


def _closed_totals(conn: Connection, audience: str, actor: Actor) -> pd.DataFrame:
    """Released organisation totals of every closed round of ``audience``."""
    frames = []
    for row in _round_rows(
        conn, survey_rounds.c.status == "closed", survey_rounds.c.audience == audience
    ):
        rnd = _view(row, actor)
        t = _released_total(conn, rnd)
        if len(t):
            frames.append(
                t.assign(
                    organisation=rnd.organisation_code,
                    organisation_name=rnd.organisation_name,
                    period=rnd.period,
                    round=rnd.code,
                )
            )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def trend(engine: Engine, actor: Actor, code: str) -> dict[str, Any]:
    """The organisation's released totals over periods and its peers' (same audience).

    Returns ``own`` (this organisation's totals per period and scale), ``peers`` (per
    period and scale: the mean of the other organisations' released totals and how many
    organisations it covers) and ``all`` (every organisation's released total).
    """
    with write_transaction(engine) as conn:
        rnd = _get(conn, code, actor)
        allt = _closed_totals(conn, rnd.audience, actor)
    if allt.empty:
        return {"round": rnd, "own": allt, "peers": allt, "all": allt}
    own = allt[allt["organisation"] == rnd.organisation_code]
    others = allt[(allt["organisation"] != rnd.organisation_code) & ~allt["suppressed"]]
    peers = (
        others.groupby(["period", "scale"])["mean"]
        .agg(mean="mean", organisations="count")
        .reset_index()
    )
    return {"round": rnd, "own": own, "peers": peers, "all": allt}


def _pilot_sites(conn: Connection, org_code: str) -> list[dict[str, Any]]:
    """Sites of registered/concluded pilots in ``org_code`` (empty without pilots)."""
    try:
        from tillit.services.pilots import _registered_document, _rows
        from tillit.store.pilots_tables import pilots
    except ImportError:  # pragma: no cover - the pilot registry is optional
        return []
    out = []
    for row in _rows(conn, pilots.c.status != "draft"):
        doc = _registered_document(conn, row)
        for site in doc.get("sites", []):
            if site.get("org") == org_code:
                out.append({"pilot": row.code, "title": row.title, **site})
    return out


def pilot_change(engine: Engine, actor: Actor, code: str) -> dict[str, Any]:
    """Did trust change where a pilot ran? Before/after means of pilot units vs others.

    For each registered pilot with sites in the round's organisation: when sites name
    units, every closed round of the organisation (same audience) is split into the
    pilot's units and the other units (released through the round's audit, with
    complementary suppression against the shown total); when a site is the whole
    organisation, the organisation's totals are set against its peers'. ``phase`` is
    ``after`` for rounds in or after the site's start period.
    """
    with write_transaction(engine) as conn:
        rnd = _get(conn, code, actor)
        sites = _pilot_sites(conn, rnd.organisation_code)
        rows = [
            _view(r, actor)
            for r in _round_rows(
                conn,
                survey_rounds.c.status == "closed",
                survey_rounds.c.audience == rnd.audience,
                survey_rounds.c.organisation_id == rnd.organisation_id,
            )
        ]
        out = []
        for pilot in sorted({s["pilot"] for s in sites}):
            ps = [s for s in sites if s["pilot"] == pilot]
            unit_codes = {s["unit"] for s in ps if s.get("unit")}
            start = min(s["start"] for s in ps)
            frames = []
            for r in rows:
                if not unit_codes:
                    continue
                sc = _frame(conn, r)
                if sc.empty:
                    continue
                sc["arm"] = np.where(sc["unit"].isin(unit_codes), "pilot", "other")
                std = _standard(conn, r)
                t = _released(
                    conn, r, sc, "arm", complementary=True, auditors=std["auditors"]
                )
                phase = "after" if r.period[:7] >= start[:7] else "before"
                frames.append(t.assign(period=r.period, phase=phase))
            out.append(
                {
                    "pilot": pilot,
                    "title": ps[0]["title"],
                    "start": start,
                    "level": "unit" if unit_codes else "organisation",
                    "table": pd.concat(frames, ignore_index=True)
                    if frames
                    else pd.DataFrame(),
                }
            )
    return {"round": rnd, "pilots": out}


def burden(total: pd.DataFrame, ledger_hours: float | None) -> dict[str, Any] | None:
    """Reported documentation hours per week (released) against a ledger estimate."""
    if total is None or not len(total) or "doc_hours" not in set(total["scale"]):
        return None
    row = total[total["scale"] == "doc_hours"].iloc[0]
    out: dict[str, Any] = {
        "reported": None if row["suppressed"] else float(row["mean"]),
        "ci_low": None if row["suppressed"] else float(row["ci_low"]),
        "ci_high": None if row["suppressed"] else float(row["ci_high"]),
        "ledger": ledger_hours,
        "difference": None,
    }
    if out["reported"] is not None and ledger_hours is not None:
        out["difference"] = out["reported"] - ledger_hours
    return out


def ledger_estimate(
    engine: Engine, actor: Actor, organisation_code: str
) -> dict[str, Any] | None:
    """Hours per employee and week from the organisation's newest burden inventory.

    The ledger's yearly reporting hours divided by the inventory's employees and 52
    weeks; None when there is no readable inventory with staff (or no burden ledger).
    """
    try:
        from tillit.services import audit
    except ImportError:  # pragma: no cover - the burden ledger is optional
        return None
    from tillit.core.errors import TillitError

    try:
        invs = [
            i
            for i in audit.list_inventories(engine, actor)
            if i.organisation_code == organisation_code
        ]
        if not invs:
            return None
        inv = max(invs, key=lambda i: (i.inventory_date, i.id))
        view = audit.ledger_view(engine, actor, inv.id)
    except TillitError:
        return None
    employees = sum(float(r.get("employees") or 0) for r in view.get("staff", []))
    if view.get("empty") or employees <= 0:
        return None
    return {
        "hours_per_week": float(view["total_hours"]) / employees / 52.0,
        "inventory": inv.label,
        "inventory_id": inv.id,
    }


# --- demo --------------------------------------------------------------------------------

DEMO_ORGS = ("0180", "1480", "0380", "1280")
DEMO_GROUPS = (
    ("Undersköterska", 0.55),
    ("Sjuksköterska", 0.3),
    ("Biståndshandläggare", 0.12),
    ("Chef", 0.03),
)
DEMO_TEXTS = (
    "Mer tid hos brukarna vore bra.",
    "Dokumentationen tar för mycket tid.",
    "Bra stöd från chefen.",
    "Vi behöver färre mätningar.",
    "Jag vill kunna planera själv.",
)


def _demo_answers(
    rng: np.random.Generator, inst: Instrument, level: float
) -> dict[str, Any]:
    a: dict[str, Any] = {}
    for q in inst.questions:
        if q.kind == "likert":
            x = level + rng.normal(0, 0.8)
            x = 6 - x if q.reverse else x
            a[q.id] = int(np.clip(np.rint(x), 1, 5))
        elif q.kind == "number":
            a[q.id] = round(float(rng.gamma(4.0, 2.0)), 1)
        elif rng.random() < 0.25:
            a[q.id] = str(rng.choice(DEMO_TEXTS))
    return a


def load_demo_surveys(engine: Engine, seed: int = 2016) -> dict[str, Any]:
    """Demo rounds with generated answers (deterministic; idempotent).

    Staff rounds 2024 and 2025 for four municipalities (closed, results shown), spread
    over up to three units and four staff groups so that some groups are shown and some
    suppressed, and one open 2026 round in Stockholm. Also loads the demo dialogue.
    """
    from tillit.services.dialogue import load_demo_dialogue

    load_demo_dialogue(engine)
    with engine.connect() as conn:
        if conn.execute(
            select(survey_rounds.c.id).where(survey_rounds.c.is_demo)
        ).first():
            return {"skipped": True}
        orgs = dict(
            conn.execute(
                select(organisations.c.code, organisations.c.id).where(
                    organisations.c.code.in_(DEMO_ORGS)
                )
            ).all()
        )
        unit_rows = conn.execute(
            select(units.c.id, units.c.organisation_id).order_by(units.c.code)
        ).all()
    rng = np.random.default_rng(seed)
    admin = Actor(role="admin", username="demo")
    made = []
    for code in [c for c in DEMO_ORGS if c in orgs]:
        uids = [u.id for u in unit_rows if u.organisation_id == orgs[code]][:3]
        base = 3.2 + rng.normal(0, 0.25)
        for period, status in (
            ("2024", "closed"),
            ("2025", "closed"),
            ("2026", "open"),
        ):
            if status == "open" and code != "0180":
                continue
            rc = create_round(
                engine, admin, code, period, "staff",
                title=f"Medarbetarenkät {period} (DEMO)", is_demo=True,
            )  # fmt: skip
            inst = instrument("staff")
            sizes = [14, 8, 3][: len(uids)] or [20]
            recs = []
            for j, size in enumerate(sizes):
                uid = uids[j] if uids else None
                level = base + (0.3 if (j == 0 and period >= "2025") else 0.0)
                groups = rng.choice(
                    [g for g, _ in DEMO_GROUPS],
                    size=size,
                    p=[p for _, p in DEMO_GROUPS],
                )
                for g in groups:
                    recs.append(
                        {
                            "unit_id": uid,
                            "staff_group": str(g),
                            "answers": json.dumps(
                                _demo_answers(rng, inst, level), ensure_ascii=False
                            ),
                            "source": "demo",
                        }
                    )
            with write_transaction(engine) as conn:
                rid = conn.execute(
                    select(survey_rounds.c.id).where(survey_rounds.c.code == rc)
                ).scalar()
                conn.execute(
                    insert(survey_responses), [{**r, "round_id": rid} for r in recs]
                )
                conn.execute(
                    update(survey_rounds)
                    .where(survey_rounds.c.id == rid)
                    .values(status=status)
                )
            made.append(rc)
    return {"skipped": False, "rounds": made}
