"""The trust barometer: survey rounds, single-use links, answers and imports.

Rules
-----
* a round belongs to one organisation and period; administrators and the organisation's
  members create it, issue links, import answers and close it; an organisation may add
  its own questions (stored as an extended instrument version in the round);
* a link code is 128 random bits shown once; only its SHA-256 is stored. Answering needs
  no account and stores no IP address, user agent, e-mail or time; the code lets its
  holder erase the answers at any time;
* results (disclosure-controlled) are in :mod:`tillit.services.survey_results`; an
  administrator may raise the round's threshold ``k``, never below 5.
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
from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from tillit.core.errors import Conflict, DataError, NotFound, PermissionDenied
from tillit.core.survey import (
    DEFAULT_THRESHOLD,
    Instrument,
    Question,
    instrument,
)
from tillit.core.survey.instruments import Scale
from tillit.domain.records import Actor, parse_period
from tillit.store.db import write_transaction
from tillit.store.survey_tables import (
    survey_links,
    survey_responses,
    survey_rounds,
)
from tillit.store.tables import organisations, units

__all__ = [
    "Round",
    "close_round",
    "create_round",
    "erase_answers",
    "get_round",
    "hash_code",
    "import_csv",
    "instrument_from_json",
    "instrument_to_json",
    "issue_links",
    "link_info",
    "list_rounds",
    "parse_extra_questions",
    "set_threshold",
    "submit_answers",
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
