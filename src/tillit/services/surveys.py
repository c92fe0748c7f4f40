"""The trust barometer: survey rounds, single-use links, answers, imports and results.

Rules
-----
* a round belongs to one organisation and period; administrators and the organisation's
  members create it, issue links, import answers and close it; an organisation may add
  its own questions (stored as an extended instrument version in the round);
* a link code is 128 random bits shown once; only its SHA-256 is stored. Answering needs
  no account and stores no IP address, user agent, e-mail or time; the code lets its
  holder erase the answers at any time;
* results exist only for closed rounds. Every statistic on every output path goes
  through :func:`_released`: threshold ``k`` (default 5; an administrator may set it,
  never below 5), complementary suppression for breakdowns of a shown total, and the
  round's persisted :class:`~tillit.core.survey.ReleaseAuditor` per variable, so that
  two overlapping groups cannot be subtracted to reveal a person, also across queries;
* free-text answers only reach the organisation's members and administrators, and only
  for groups of at least ``k`` respondents (never through the API).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import secrets
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from tillit.core.errors import Conflict, DataError, NotFound, PermissionDenied
from tillit.core.survey import (
    DEFAULT_THRESHOLD,
    Instrument,
    Question,
    ReleaseAuditor,
    group_indices,
    instrument,
    scale_scores,
    suppress,
)
from tillit.core.survey.instruments import Scale
from tillit.domain.records import Actor, parse_period
from tillit.store.db import write_transaction
from tillit.store.survey_tables import (
    survey_links,
    survey_releases,
    survey_responses,
    survey_rounds,
)
from tillit.store.tables import organisations, units

__all__ = [
    "Round",
    "burden",
    "close_round",
    "create_round",
    "erase_answers",
    "free_texts",
    "get_round",
    "hash_code",
    "import_csv",
    "instrument_from_json",
    "instrument_to_json",
    "issue_links",
    "link_info",
    "list_rounds",
    "load_demo_surveys",
    "parse_extra_questions",
    "pilot_change",
    "query",
    "results",
    "results_csv",
    "set_threshold",
    "submit_answers",
    "trend",
]

MAX_LINKS = 2000
NO_UNIT = "–"
VALUE_COLS = ["mean", "sd", "se", "ci_low", "ci_high"]


def hash_code(code: str) -> str:
    """SHA-256 hex of a link code (the only form in which codes are stored)."""
    return hashlib.sha256(code.strip().encode()).hexdigest()


def instrument_to_json(inst: Instrument) -> str:
    """The instrument as canonical JSON."""
    return json.dumps(asdict(inst), ensure_ascii=False, sort_keys=True)


def instrument_from_json(text: str) -> Instrument:
    """Inverse of :func:`instrument_to_json`."""
    d = json.loads(text)
    return Instrument(
        id=d["id"],
        version=int(d["version"]),
        audience=d["audience"],
        scales=tuple(Scale(**s) for s in d["scales"]),
        questions=tuple(Question(**q) for q in d["questions"]),
    )


def parse_extra_questions(text: str) -> list[Question]:
    """An organisation's own questions, one per line: ``id | kind | scale | sv | en``.

    ``kind`` is ``likert`` (1-5), ``number`` (0-1000) or ``text``.
    """
    out: list[Question] = []
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) != 5 or not all(parts):
            raise DataError(
                "write id | kind | scale | Swedish text | English text",
                row=i,
                field="questions",
            )
        qid, kind, scale, sv, en = parts
        if not qid.replace("_", "").isalnum() or len(qid) > 40:
            raise DataError("a question id is letters, digits and _", row=i, field="id")
        high = 1000.0 if kind == "number" else 5.0
        low = 0.0 if kind == "number" else 1.0
        out.append(Question(qid, scale[:40], kind, sv[:500], en[:500], low, high))
    return out


@dataclass(frozen=True)
class Round:
    """A survey round as readers see it."""

    id: int
    code: str
    organisation_id: int
    organisation_code: str
    organisation_name: str
    period: str
    audience: str
    title: str
    threshold: int
    status: str
    is_demo: bool
    instrument: Instrument
    n_responses: int
    can_manage: bool

    def to_dict(self) -> dict[str, Any]:
        """Stable JSON keys (no respondent data)."""
        return {
            "code": self.code,
            "organisation": self.organisation_code,
            "organisation_name": self.organisation_name,
            "period": self.period,
            "audience": self.audience,
            "title": self.title,
            "threshold": self.threshold,
            "status": self.status,
            "is_demo": self.is_demo,
            "instrument": self.instrument.id,
            "instrument_version": self.instrument.version,
        }


def _round_rows(conn: Connection, *where: Any) -> list[Any]:
    n = (
        select(func.count())
        .where(survey_responses.c.round_id == survey_rounds.c.id)
        .scalar_subquery()
    )
    stmt = (
        select(
            survey_rounds,
            organisations.c.code.label("org_code"),
            organisations.c.name.label("org_name"),
            n.label("n_responses"),
        )
        .join(organisations)
        .where(*where)
        .order_by(survey_rounds.c.period, survey_rounds.c.id)
    )
    return list(conn.execute(stmt).all())


def _view(row: Any, actor: Actor) -> Round:
    return Round(
        id=row.id,
        code=row.code,
        organisation_id=row.organisation_id,
        organisation_code=row.org_code,
        organisation_name=row.org_name,
        period=row.period,
        audience=row.audience,
        title=row.title,
        threshold=int(row.threshold),
        status=row.status,
        is_demo=bool(row.is_demo),
        instrument=instrument_from_json(row.instrument),
        n_responses=int(row.n_responses),
        can_manage=actor.can_write_for(row.organisation_id),
    )


def list_rounds(engine: Engine, actor: Actor) -> list[Round]:
    """All rounds (their existence and response counts are public)."""
    with engine.connect() as conn:
        return [_view(r, actor) for r in _round_rows(conn)]


def _get(conn: Connection, code: str, actor: Actor) -> Round:
    rows = _round_rows(conn, survey_rounds.c.code == code.strip()[:40])
    if not rows:
        raise NotFound(f"no survey round {code!r}")
    return _view(rows[0], actor)


def get_round(engine: Engine, actor: Actor, code: str) -> Round:
    """One round."""
    with engine.connect() as conn:
        return _get(conn, code, actor)


def _require_manager(rnd: Round) -> None:
    if not rnd.can_manage:
        raise PermissionDenied(
            "only the organisation's members and administrators manage its survey rounds"
        )


def create_round(
    engine: Engine,
    actor: Actor,
    organisation_code: str,
    period: str,
    audience: str,
    *,
    title: str = "",
    extra_questions: str = "",
    is_demo: bool = False,
) -> str:
    """Create an open round; returns its code (``S-0001``...)."""
    if parse_period(period) is None:
        raise DataError("the period is YYYY or YYYY-MM", field="period")
    inst = instrument(audience)
    extra = parse_extra_questions(extra_questions)
    if extra:
        inst = inst.extend(
            extra, new_id=f"{inst.id}+{organisation_code.strip() or 'own'}"
        )
    with write_transaction(engine) as conn:
        oid: Any
        if not organisation_code.strip() and actor.organisation_id is not None:
            oid = actor.organisation_id
        else:
            oid = conn.execute(
                select(organisations.c.id).where(
                    organisations.c.code == organisation_code.strip()
                )
            ).scalar()
        if oid is None:
            raise NotFound(f"no organisation with code {organisation_code!r}")
        if not actor.can_write_for(int(oid)):
            raise PermissionDenied(
                "only the organisation's members and administrators create its rounds"
            )
        last = conn.execute(select(func.max(survey_rounds.c.id))).scalar() or 0
        code = f"S-{int(last) + 1:04d}"
        conn.execute(
            insert(survey_rounds).values(
                code=code,
                organisation_id=oid,
                period=period.strip(),
                audience=audience,
                title=title.strip()[:300],
                instrument=instrument_to_json(inst),
                threshold=DEFAULT_THRESHOLD,
                is_demo=is_demo,
                created_by=actor.user_id,
            )
        )
    return code


def set_threshold(engine: Engine, actor: Actor, code: str, k: int) -> None:
    """Set the disclosure threshold (administrators only; never below 5)."""
    if not actor.is_admin:
        raise PermissionDenied("only administrators change the disclosure threshold")
    if not DEFAULT_THRESHOLD <= k <= 1000:
        raise DataError(
            f"the threshold is at least {DEFAULT_THRESHOLD} respondents", field="k"
        )
    with write_transaction(engine) as conn:
        rnd = _get(conn, code, actor)
        conn.execute(
            update(survey_rounds)
            .where(survey_rounds.c.id == rnd.id)
            .values(threshold=max(k, DEFAULT_THRESHOLD))
        )


def close_round(engine: Engine, actor: Actor, code: str) -> None:
    """Close the round: no more answers, results are published."""
    with write_transaction(engine) as conn:
        rnd = _get(conn, code, actor)
        _require_manager(rnd)
        conn.execute(
            update(survey_rounds)
            .where(survey_rounds.c.id == rnd.id)
            .values(status="closed")
        )


def _unit_id(conn: Connection, rnd: Round, unit_code: str | None, **where: Any) -> Any:
    if not unit_code:
        return None
    uid = conn.execute(
        select(units.c.id).where(
            units.c.code == unit_code.strip(),
            units.c.organisation_id == rnd.organisation_id,
        )
    ).scalar()
    if uid is None:
        raise DataError(
            f"no unit {unit_code!r} in {rnd.organisation_code}", field="unit", **where
        )
    return uid


def issue_links(
    engine: Engine,
    actor: Actor,
    code: str,
    n: int,
    *,
    unit_code: str | None = None,
    staff_group: str = "",
) -> list[str]:
    """Make ``n`` single-use link codes (returned once, stored only hashed)."""
    if not 1 <= n <= MAX_LINKS:
        raise DataError(f"between 1 and {MAX_LINKS} links at a time", field="n")
    codes = [secrets.token_urlsafe(16) for _ in range(n)]
    with write_transaction(engine) as conn:
        rnd = _get(conn, code, actor)
        _require_manager(rnd)
        if rnd.status != "open":
            raise Conflict("the round is closed")
        uid = _unit_id(conn, rnd, unit_code)
        conn.execute(
            insert(survey_links),
            [
                {
                    "round_id": rnd.id,
                    "code_hash": hash_code(c),
                    "unit_id": uid,
                    "staff_group": staff_group.strip()[:60],
                }
                for c in codes
            ],
        )
    return codes


def _link(conn: Connection, link_code: str) -> Any:
    row = conn.execute(
        select(survey_links).where(survey_links.c.code_hash == hash_code(link_code))
    ).first()
    if row is None:
        raise NotFound("this survey link is not valid")
    return row


def link_info(engine: Engine, link_code: str) -> dict[str, Any]:
    """The round and state (new, answered, erased) of a link code."""
    with engine.connect() as conn:
        row = _link(conn, link_code)
        rnd = _get_by_id(conn, row.round_id)
    return {"round": rnd, "state": row.state}


def _get_by_id(conn: Connection, round_id: int) -> Round:
    return _view(_round_rows(conn, survey_rounds.c.id == round_id)[0], Actor())


def _clean_answers(
    inst: Instrument, raw: dict[str, Any], row: int | None = None
) -> dict[str, Any]:
    """Validated answers: Likert 1-5, numbers within bounds, text up to 2000 chars."""
    out: dict[str, Any] = {}
    for q in inst.questions:
        v = raw.get(q.id)
        text = "" if v is None else str(v).strip()
        if not text:
            continue
        if q.kind == "text":
            out[q.id] = text[:2000]
            continue
        try:
            x = float(text.replace(",", "."))
        except ValueError:
            raise DataError(
                f"'{text[:40]}' is not a number", row=row, field=q.id
            ) from None
        ok = (
            x == round(x) and 1 <= x <= 5
            if q.kind == "likert"
            else q.low <= x <= q.high
        )
        if not ok or not np.isfinite(x):
            rng = "an integer 1-5" if q.kind == "likert" else f"{q.low:g}-{q.high:g}"
            raise DataError(f"the answer must be {rng}", row=row, field=q.id)
        out[q.id] = int(x) if q.kind == "likert" else x
    return out


def submit_answers(engine: Engine, link_code: str, raw: dict[str, Any]) -> None:
    """Store one respondent's answers through a new link (then the link is used)."""
    with write_transaction(engine) as conn:
        link = _link(conn, link_code)
        rnd = _get_by_id(conn, link.round_id)
        if link.state != "new":
            raise Conflict("this link has already been used")
        if rnd.status != "open":
            raise Conflict("the survey round is closed")
        answers = _clean_answers(rnd.instrument, raw)
        conn.execute(
            insert(survey_responses).values(
                round_id=rnd.id,
                link_hash=link.code_hash,
                unit_id=link.unit_id,
                staff_group=link.staff_group,
                answers=json.dumps(answers, ensure_ascii=False, sort_keys=True),
                source="web",
            )
        )
        conn.execute(
            update(survey_links)
            .where(survey_links.c.id == link.id)
            .values(state="answered")
        )


def erase_answers(engine: Engine, link_code: str) -> bool:
    """Erase the answers given through ``link_code``; True if there were any."""
    with write_transaction(engine) as conn:
        link = _link(conn, link_code)
        n = conn.execute(
            delete(survey_responses).where(
                survey_responses.c.link_hash == link.code_hash
            )
        ).rowcount
        conn.execute(
            update(survey_links)
            .where(survey_links.c.id == link.id)
            .values(state="erased")
        )
    return bool(n)


def import_csv(
    engine: Engine, actor: Actor, code: str, data: bytes | str, filename: str = ""
) -> int:
    """Import answers exported from another survey tool (one transaction).

    Columns: optional ``unit`` (unit code) and ``staff_group``, then question ids of the
    round's instrument; unknown columns are refused. Returns the number of rows.
    """
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    sample = text[:4096]
    delim = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delim)
    with write_transaction(engine) as conn:
        rnd = _get(conn, code, actor)
        _require_manager(rnd)
        if rnd.status != "open":
            raise Conflict("the round is closed")
        known = {q.id for q in rnd.instrument.questions} | {"unit", "staff_group"}
        for col in reader.fieldnames or []:
            if col.strip() not in known:
                raise DataError("unknown column", file=filename or None, field=col)
        rows = []
        for i, rec in enumerate(reader, start=1):
            rec = {(k or "").strip(): v for k, v in rec.items()}
            uid = _unit_id(
                conn, rnd, (rec.get("unit") or "").strip() or None, row=i,
                file=filename or None,
            )  # fmt: skip
            try:
                answers = _clean_answers(rnd.instrument, rec, row=i)
            except DataError as err:
                raise DataError(
                    err.detail, file=filename or None, row=i, field=err.field
                ) from None
            rows.append(
                {
                    "round_id": rnd.id,
                    "unit_id": uid,
                    "staff_group": (rec.get("staff_group") or "").strip()[:60],
                    "answers": json.dumps(answers, ensure_ascii=False, sort_keys=True),
                    "source": "import",
                }
            )
        if not rows:
            raise DataError("no answers in the file", file=filename or None)
        conn.execute(insert(survey_responses), rows)
    return len(rows)


# --- results ---------------------------------------------------------------------------


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


def _closed_totals(conn: Connection, audience: str, actor: Actor) -> pd.DataFrame:
    """Released organisation totals of every closed round of ``audience``."""
    frames = []
    for row in _round_rows(
        conn, survey_rounds.c.status == "closed", survey_rounds.c.audience == audience
    ):
        rnd = _view(row, actor)
        t = _standard(conn, rnd, levels=())["total"]
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
