"""Pilot life: drafts, registration, amendments and conclusions in the tamper-evident registry.

Rules
-----
* members of an organisation (and administrators) create and edit drafts for that
  organisation; drafts are visible only to that organisation, the researchers attached to
  the pilot and administrators; registered and concluded pilots are public;
* "register" freezes the draft into a registry entry (:func:`tillit.domain.registry.make_entry`,
  content = the canonical pilot document); after that the document changes only by an
  *amendment* (new version, required reason); old versions stay readable and the
  difference is shown;
* an attached researcher (or an administrator) concludes a registered pilot with a short
  verdict: a ``conclusion`` entry;
* the registry is append-only: this module never updates or deletes an entry. Appending
  happens in one transaction that first takes the registry lock (``BEGIN IMMEDIATE`` on
  SQLite, ``LOCK TABLE ... SHARE ROW EXCLUSIVE`` on PostgreSQL), so two registrations
  cannot both link to the same head; the unique ``seq`` and ``hash`` are a second guard.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.exc import IntegrityError

from tillit.core.errors import Conflict, DataError, NotFound, PermissionDenied
from tillit.domain import access
from tillit.domain.pilots import (
    check_registrable,
    empty_document,
    outcome_origins,
    parse_document,
)
from tillit.domain.records import Actor
from tillit.domain.registry import canonical_json, diff_content, make_entry
from tillit.services.network import researchers_of
from tillit.store.db import write_transaction
from tillit.store.pilots_tables import pilots, registry_entries
from tillit.store.tables import indicators, organisations, units

__all__ = [
    "Pilot",
    "amend",
    "conclude",
    "create_draft",
    "design_help",
    "get_pilot",
    "list_pilots",
    "load_demo_pilots",
    "pilot_versions",
    "randomise_draft",
    "register",
    "registry_entries_list",
    "registry_jsonl",
    "save_draft",
    "version_diff",
]


@dataclass(frozen=True)
class Pilot:
    """A pilot as one actor sees it (with what that actor may do)."""

    id: int
    code: str
    organisation_code: str
    organisation_name: str
    status: str
    title: str
    document: dict[str, Any]
    version: int
    verdict: str
    is_demo: bool
    researchers: list[dict[str, Any]] = field(default_factory=list)
    can_edit: bool = False
    can_conclude: bool = False
    can_attach: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Stable JSON shape (public fields only)."""
        return {
            "code": self.code,
            "organisation": self.organisation_code,
            "organisation_name": self.organisation_name,
            "status": self.status,
            "title": self.title,
            "version": self.version,
            "verdict": self.verdict,
            "is_demo": self.is_demo,
            "researchers": [r["username"] for r in self.researchers],
            "document": self.document,
        }


def _rows(conn: Connection, *where: Any) -> list[Any]:
    stmt = (
        select(
            pilots,
            organisations.c.code.label("organisation_code"),
            organisations.c.name.label("organisation_name"),
        )
        .join(organisations)
        .where(*where)
        .order_by(pilots.c.id)
    )
    return list(conn.execute(stmt).all())


def _registered_document(conn: Connection, row: Any) -> dict[str, Any]:
    """A draft's working document; for a registered pilot its latest registry version.

    Registered content is read from the registry itself, so that what readers see is
    what the hash chain covers (``pilots.document`` is only a working copy).
    """
    if row.status == "draft":
        return json.loads(row.document)  # type: ignore[no-any-return]
    content = conn.execute(
        select(registry_entries.c.content)
        .where(
            registry_entries.c.pilot_id == row.code,
            registry_entries.c.kind != "conclusion",
        )
        .order_by(registry_entries.c.seq.desc())
        .limit(1)
    ).scalar()
    return json.loads(content if content is not None else row.document)  # type: ignore[no-any-return]


def _view(conn: Connection, actor: Actor, row: Any) -> Pilot:
    res = researchers_of(conn, row.id)
    res_ids = {r["id"] for r in res}
    attached = access.is_attached_researcher(actor, res_ids)
    own = actor.can_write_for(row.organisation_id)
    if row.status == "draft" and not (own or attached):
        raise PermissionDenied(
            f"pilot {row.code} is a draft: only its organisation, its researchers and "
            "administrators can see it until it is registered"
        )
    return Pilot(
        id=row.id,
        code=row.code,
        organisation_code=row.organisation_code,
        organisation_name=row.organisation_name,
        status=row.status,
        title=row.title,
        document=_registered_document(conn, row),
        version=row.version,
        verdict=row.verdict,
        is_demo=bool(row.is_demo),
        researchers=res,
        can_edit=own and row.status != "concluded",
        can_conclude=row.status == "registered" and access.may_conclude(actor, res_ids),
        can_attach=own,
    )


def _one(conn: Connection, code: str) -> Any:
    rows = _rows(conn, pilots.c.code == code)
    if not rows:
        raise NotFound(f"no pilot {code!r}")
    return rows[0]


def get_pilot(engine: Engine, actor: Actor, code: str) -> Pilot:
    """One pilot, if ``actor`` may see it (PermissionDenied for others' drafts)."""
    with engine.connect() as conn:
        return _view(conn, actor, _one(conn, code))


def list_pilots(engine: Engine, actor: Actor) -> list[Pilot]:
    """All pilots ``actor`` may see, oldest first."""
    out = []
    with engine.connect() as conn:
        for row in _rows(conn):
            try:
                out.append(_view(conn, actor, row))
            except PermissionDenied:
                continue
    return out


def _check_refs(conn: Connection, doc: dict[str, Any]) -> None:
    """Sites and indicators must exist in the store."""
    codes = {s["org"] for s in doc["sites"]}
    found = dict(
        conn.execute(
            select(organisations.c.code, organisations.c.id).where(
                organisations.c.code.in_(codes)
            )
        ).all()
    )
    if missing := sorted(codes - set(found)):
        raise DataError(
            f"unknown organisation code(s): {', '.join(missing)}", field="sites"
        )
    ucodes = {s["unit"] for s in doc["sites"] if s["unit"]}
    owner = dict(
        conn.execute(
            select(units.c.code, units.c.organisation_id).where(
                units.c.code.in_(ucodes)
            )
        ).all()
    )
    for s in doc["sites"]:
        if s["unit"] and owner.get(s["unit"]) != found[s["org"]]:
            raise DataError(
                f"unit {s['unit']} is not a unit of organisation {s['org']}",
                field="sites",
            )
    ids = set(doc["primary_outcomes"]) | set(doc["secondary_outcomes"])
    ids |= set(doc["analysis"]["covariates"])
    have = set(
        conn.execute(select(indicators.c.id).where(indicators.c.id.in_(ids))).scalars()
    )
    if missing := sorted(ids - have):
        raise DataError(
            f"unknown indicator(s): {', '.join(missing)} (choose from the indicator store)",
            field="outcomes",
        )


def _require_writer(actor: Actor, organisation_id: int) -> None:
    if not actor.can_write_for(organisation_id):
        raise PermissionDenied(
            "only members of the pilot's organisation and administrators may change it"
        )


def create_draft(
    engine: Engine,
    actor: Actor,
    raw: dict[str, Any],
    organisation_code: str | None = None,
    *,
    is_demo: bool = False,
) -> str:
    """Create a draft for the actor's organisation (admins name one); returns its code."""
    doc = parse_document({**empty_document(), **raw})
    with write_transaction(engine) as conn:
        if organisation_code:
            oid = conn.execute(
                select(organisations.c.id).where(
                    organisations.c.code == organisation_code
                )
            ).scalar()
            if oid is None:
                raise NotFound(f"no organisation with code {organisation_code!r}")
        else:
            oid = actor.organisation_id
        if oid is None or access.is_researcher(actor):
            raise PermissionDenied(
                "sign in as a member of an organisation (or as an administrator and "
                "name the organisation) to create a pilot"
            )
        _require_writer(actor, int(oid))
        _check_refs(conn, doc)
        tmp = f"tmp-{datetime.now(UTC).timestamp()}-{actor.user_id}"
        pid = conn.execute(  # type: ignore[index]
            pilots.insert().values(
                code=tmp,
                organisation_id=oid,
                title=doc["title"],
                document=canonical_json(doc),
                created_by=actor.user_id,
                is_demo=is_demo,
            )
        ).inserted_primary_key[0]
        code = f"P-{int(pid):04d}"
        conn.execute(pilots.update().where(pilots.c.id == pid).values(code=code))
    return code


def save_draft(engine: Engine, actor: Actor, code: str, raw: dict[str, Any]) -> None:
    """Replace a draft's document (registered pilots change only by amendment)."""
    doc = parse_document(raw)
    with write_transaction(engine) as conn:
        row = _one(conn, code)
        _require_writer(actor, row.organisation_id)
        if row.status != "draft":
            raise Conflict(
                f"pilot {code} is registered: change it with an amendment and a reason"
            )
        _check_refs(conn, doc)
        conn.execute(
            pilots.update()
            .where(pilots.c.id == row.id)
            .values(
                title=doc["title"],
                document=canonical_json(doc),
                updated_at=datetime.now(UTC),
            )
        )


def _append(
    conn: Connection,
    *,
    pilot_code: str,
    version: int,
    kind: str,
    content: dict[str, Any],
    reason: str = "",
) -> dict[str, Any]:
    """Append one entry after the current head (the caller holds the transaction)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("LOCK TABLE registry_entries IN SHARE ROW EXCLUSIVE MODE"))
    head = conn.execute(
        select(
            registry_entries.c.seq,
            registry_entries.c.hash,
            registry_entries.c.registered_at,
        )
        .order_by(registry_entries.c.seq.desc())
        .limit(1)
    ).first()
    when = datetime.now(UTC)
    if head is not None:
        last = datetime.fromisoformat(head.registered_at.replace("Z", "+00:00"))
        when = max(when, last)  # never dated before the entry it follows
    entry = make_entry(
        None if head is None else {"seq": head.seq, "hash": head.hash},
        pilot_id=pilot_code,
        version=version,
        kind=kind,
        content=content,
        reason=reason,
        registered_at=when,
    )
    row = dict(entry)
    row["content"] = canonical_json(entry["content"])
    try:
        conn.execute(registry_entries.insert().values(**row))
    except IntegrityError as exc:  # pragma: no cover - the lock makes this unreachable
        raise Conflict("the registry changed meanwhile: try again") from exc
    return entry


def register(engine: Engine, actor: Actor, code: str) -> dict[str, Any]:
    """Freeze a draft as version 1 in the registry; returns the entry."""
    with write_transaction(engine) as conn:
        row = _one(conn, code)
        _require_writer(actor, row.organisation_id)
        if row.status != "draft":
            raise Conflict(f"pilot {code} is already registered")
        doc = parse_document(json.loads(row.document))
        check_registrable(doc)
        _check_refs(conn, doc)
        entry = _append(
            conn, pilot_code=code, version=1, kind="registration", content=doc
        )
        conn.execute(
            pilots.update()
            .where(pilots.c.id == row.id)
            .values(status="registered", version=1, updated_at=datetime.now(UTC))
        )
    return entry


def amend(
    engine: Engine, actor: Actor, code: str, raw: dict[str, Any], reason: str
) -> dict[str, Any]:
    """Register a new version of a registered pilot, with a required reason."""
    doc = parse_document(raw)
    reason = reason.strip()
    if not reason:
        raise DataError("an amendment needs a reason", field="reason")
    if len(reason) > 5000:
        raise DataError("at most 5000 characters", field="reason")
    with write_transaction(engine) as conn:
        row = _one(conn, code)
        _require_writer(actor, row.organisation_id)
        if row.status != "registered":
            raise Conflict(
                f"pilot {code} is {row.status}: only registered pilots are amended"
            )
        check_registrable(doc)
        _check_refs(conn, doc)
        if canonical_json(doc) == canonical_json(_registered_document(conn, row)):
            raise DataError("the amendment changes nothing", field="document")
        entry = _append(
            conn,
            pilot_code=code,
            version=row.version + 1,
            kind="amendment",
            content=doc,
            reason=reason,
        )
        conn.execute(
            pilots.update()
            .where(pilots.c.id == row.id)
            .values(
                title=doc["title"],
                document=canonical_json(doc),
                version=row.version + 1,
                updated_at=datetime.now(UTC),
            )
        )
    return entry


def conclude(engine: Engine, actor: Actor, code: str, verdict: str) -> dict[str, Any]:
    """An attached researcher (or an administrator) concludes a registered pilot."""
    verdict = verdict.strip()
    if not verdict or len(verdict) > 5000:
        raise DataError("a verdict of 1-5000 characters", field="verdict")
    with write_transaction(engine) as conn:
        row = _one(conn, code)
        attached = {r["id"] for r in researchers_of(conn, row.id)}
        if not access.may_conclude(actor, attached):
            raise PermissionDenied(
                "only a researcher attached to this pilot, or an administrator, may "
                "conclude it"
            )
        if row.status != "registered":
            raise Conflict(
                f"pilot {code} is {row.status}: only registered pilots conclude"
            )
        entry = _append(
            conn,
            pilot_code=code,
            version=row.version,
            kind="conclusion",
            content={"verdict": verdict, "of_version": row.version},
        )
        conn.execute(
            pilots.update()
            .where(pilots.c.id == row.id)
            .values(status="concluded", verdict=verdict, updated_at=datetime.now(UTC))
        )
    return entry


def _entry(row: Any) -> dict[str, Any]:
    d = dict(row._mapping)
    d["content"] = json.loads(d["content"])
    return d


def registry_entries_list(
    engine: Engine, pilot_code: str | None = None
) -> list[dict[str, Any]]:
    """Registry entries in chain order (all, or one pilot's)."""
    stmt = select(registry_entries).order_by(registry_entries.c.seq)
    if pilot_code is not None:
        stmt = stmt.where(registry_entries.c.pilot_id == pilot_code)
    with engine.connect() as conn:
        return [_entry(r) for r in conn.execute(stmt)]


def registry_jsonl(engine: Engine) -> str:
    """The whole registry as JSON Lines (public; verify with ``tillit registry verify``)."""
    lines = [
        json.dumps(e, ensure_ascii=False, sort_keys=True, allow_nan=False)
        for e in registry_entries_list(engine)
    ]
    return "".join(line + "\n" for line in lines)


def pilot_versions(engine: Engine, actor: Actor, code: str) -> dict[str, Any]:
    """Registered versions of a pilot, the conclusion, and where each outcome came from."""
    pilot = get_pilot(engine, actor, code)  # checks visibility
    entries = registry_entries_list(engine, pilot.code)
    docs = [e for e in entries if e["kind"] != "conclusion"]
    return {
        "pilot": pilot,
        "entries": entries,
        "origins": [o.to_dict() for o in outcome_origins([e["content"] for e in docs])],
    }


def version_diff(
    engine: Engine, actor: Actor, code: str, version: int
) -> dict[str, Any]:
    """One registered version and its differences from the version before it."""
    info = pilot_versions(engine, actor, code)
    docs = {e["version"]: e for e in info["entries"] if e["kind"] != "conclusion"}
    if version not in docs:
        raise NotFound(f"pilot {code} has no registered version {version}")
    prev = docs.get(version - 1)
    changes = (
        [] if prev is None else diff_content(prev["content"], docs[version]["content"])
    )
    return {**info, "entry": docs[version], "changes": changes}


# --- design help: power / minimum detectable effect and randomisation ----------------


def _panel(conn: Connection, indicator: str) -> pd.DataFrame:
    """Municipality-level yearly totals of ``indicator``: columns unit, year, value."""
    from tillit.store.tables import observations

    rows = conn.execute(
        select(organisations.c.code, observations.c.year, observations.c.value)
        .join(organisations, observations.c.organisation_id == organisations.c.id)
        .where(
            observations.c.indicator_id == indicator,
            observations.c.unit_id == 0,
            observations.c.month == 0,
            observations.c.gender == "T",
            organisations.c.kind == "municipality",
            observations.c.value.is_not(None),
        )
    ).all()
    return pd.DataFrame.from_records(rows, columns=["unit", "year", "value"])


def _simple_mde(
    panel: pd.DataFrame, treated: int, pre: int, post: int, alpha: float, power: float
) -> dict[str, Any]:
    """Two-group DiD MDE from the last ``pre + post`` years (used if core.power is absent)."""
    wide = panel.pivot(index="unit", columns="year", values="value").sort_index(axis=1)
    y = wide.to_numpy(dtype=float)[:, -(pre + post) :]
    d = y[:, pre:].mean(axis=1) - y[:, :pre].mean(axis=1)
    d = d[np.isfinite(d)]
    n = d.size
    if treated < 1 or treated > n - 2:
        raise DataError(f"treated must be between 1 and {n - 2} for {n} units")
    se = float(np.std(d, ddof=1) * math.sqrt(1 / treated + 1 / (n - treated)))
    mult = float(stats.t.ppf(1 - alpha / 2, n - 2) + stats.t.ppf(power, n - 2))
    return {"method": "two-group DiD on the last window", "mde": mult * se, "se": se,
            "units": n, "treated": treated, "pre_periods": pre, "post_periods": post}  # fmt: skip


def design_help(
    engine: Engine,
    actor: Actor,
    code: str,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
) -> dict[str, Any]:
    """Minimum detectable effect for the pilot's first primary outcome and its sites.

    Uses :func:`tillit.core.power.power_analysis` (analytic, serial-correlation robust)
    on the municipality panel of that indicator: as many treated municipalities as the
    pilot has site organisations, up to five baseline years and three follow-up years.
    """
    pilot = get_pilot(engine, actor, code)
    doc = pilot.document
    if not doc["primary_outcomes"]:
        raise DataError("choose a primary outcome first", field="primary_outcomes")
    outcome = doc["primary_outcomes"][0]
    with engine.connect() as conn:
        panel = _panel(conn, outcome)
    years = sorted(panel["year"].unique()) if len(panel) else []
    if len(years) < 4 or panel["unit"].nunique() < 4:
        raise DataError(
            f"too little municipality data for {outcome} to compute power",
            field="primary_outcomes",
        )
    post = min(3, len(years) - 2)
    pre = min(5, len(years) - post)
    treated = max(1, len({s["org"] for s in doc["sites"]}))
    try:
        from tillit.core.power import power_analysis
    except ImportError:  # pragma: no cover - older engine without core.power
        out = _simple_mde(panel, treated, pre, post, alpha, power)
    else:
        res = power_analysis(
            panel, "unit", "year", "value", treated=treated, pre_periods=pre,
            post_periods=post, alpha=alpha, power=power, simulations=0,
            effect=doc["analysis"]["min_effect"],
        )  # fmt: skip
        out = {"method": "analytic, serial-correlation robust (core.power)"}
        out.update(res.to_dict())
    out.update({"outcome": outcome, "alpha": alpha, "power": power})
    return out


def randomise_draft(
    engine: Engine, actor: Actor, code: str, *, seed: int | None = None
) -> dict[str, Any]:
    """Randomise half of a draft's sites to treatment and record the seed in the draft.

    Sites with units are randomised within their organisation (stratified), others
    completely. Uses :func:`tillit.core.power.randomise`; the same seed gives the same
    assignment.
    """
    from tillit.core.power import randomise

    pilot = get_pilot(engine, actor, code)
    doc = pilot.document
    keys = [f"{s['org']}/{s['unit']}" if s["unit"] else s["org"] for s in doc["sites"]]
    if len(keys) < 2:
        raise DataError("list at least two candidate sites to randomise", field="sites")
    frame = pd.DataFrame({"site": keys, "org": [s["org"] for s in doc["sites"]]})
    by_unit = any(s["unit"] for s in doc["sites"])
    a = randomise(
        frame,
        "site",
        design="stratified" if by_unit else "complete",
        stratum="org" if by_unit else None,
        share=0.5 if by_unit else None,
        treated=None if by_unit else len(keys) // 2,
        seed=seed,
    )
    t = a.table
    doc["randomisation"] = {
        "seed": int(a.seed),
        "design": a.design,
        "treated": sorted(t.loc[t["treatment"] == 1, "site"].astype(str)),
        "control": sorted(t.loc[t["treatment"] == 0, "site"].astype(str)),
    }
    save_draft(engine, actor, code, doc)
    return dict(doc["randomisation"])


# --- demo -------------------------------------------------------------------------------

_DEMO_DESIGN = {
    "P1": ("trust_based_care", "staggered_adoption", "did",
           "kommuner som inför senare eller aldrig (not yet and never treated)"),
    "P2": ("new_compensation", "matched_comparison", "synth",
           "syntetisk kontroll av kommuner utan förändringen (donor pool)"),
    "P3": ("removed_reporting", "randomised", "trial",
           "slumpade hemtjänstgrupper i samma kommuner som behåller kravet"),
}  # fmt: skip


def _demo_document(p: dict[str, Any], unit_org: dict[str, str]) -> dict[str, Any]:
    kind, design, est, control = _DEMO_DESIGN[p["id"]]
    pre = {
        k: [t["preconditions"][k] for t in p["treated"]]
        for k in p["treated"][0]["preconditions"]
    }
    outs = [o["indicator"] for o in p["outcomes"]]
    doc = {
        "title": p["title_sv"],
        "change_kind": kind,
        "change": f"{p['title_sv']} / {p['title_en']} (DEMO)",
        "sites": [
            {"org": t["org_code"], "unit": t["unit_code"], "start": str(t["start_year"])}
            for t in p["treated"]
        ],
        "hypotheses": [o["description"] for o in p["outcomes"] if o["true_effect"] != 0],
        "primary_outcomes": outs[:1],
        "secondary_outcomes": outs[1:-1],  # the planted null is added by an amendment
        "design": design,
        "analysis": {"estimator": est, "control_group": control, "covariates": [],
                     "min_effect": None},
        "preconditions": {k: round(float(np.mean(v))) for k, v in pre.items()},
        "randomisation": None,
    }  # fmt: skip
    if design == "randomised":
        treated = {f"{t['org_code']}/{t['unit_code']}" for t in p["treated"]}
        ctrl = [
            f"{unit_org[u]}/{u}" for u in p.get("control_units", []) if u in unit_org
        ]
        doc["randomisation"] = {
            "seed": 2016,
            "design": "stratified",
            "treated": sorted(treated),
            "control": sorted(ctrl),
        }
    return doc


def load_demo_pilots(
    engine: Engine, seed: int = 2016, scale: float = 1.0
) -> dict[str, Any]:
    """Put the demo workspace's planted pilots into the network and registry (idempotent).

    P1 is registered and amended (a secondary outcome added later), P2 registered and
    concluded, P3 registered (randomised), and two drafts exist (Stockholm and Uppsala).
    Needs the demo workspace (:func:`tillit.services.demo.load_demo`) loaded first.
    """
    from tillit.services.demo import demo_pilots
    from tillit.services.network import ensure_member
    from tillit.store.tables import users

    with engine.connect() as conn:
        if conn.execute(select(pilots.c.id).where(pilots.c.is_demo)).first():
            return {"skipped": True}
        org_ids = dict(
            conn.execute(select(organisations.c.code, organisations.c.id)).all()
        )
        unit_org = dict(
            conn.execute(
                select(units.c.code, organisations.c.code).join(organisations)
            ).all()
        )
        researcher = conn.execute(
            select(users.c.id).where(users.c.username == "researcher")
        ).scalar()
    admin = Actor(role="admin", username="demo")
    made: list[str] = []
    for p in demo_pilots(seed, scale):
        doc = _demo_document(p, unit_org)
        owner = (
            "0180"
            if any(s["org"] == "0180" for s in doc["sites"])
            else doc["sites"][0]["org"]
        )
        code = create_draft(engine, admin, doc, owner, is_demo=True)
        register(engine, admin, code)
        made.append(code)
        with write_transaction(engine) as conn:
            for c in {s["org"] for s in doc["sites"]}:
                ensure_member(conn, org_ids[c])
            if researcher is not None:
                from tillit.store.pilots_tables import pilot_researchers

                conn.execute(pilot_researchers.insert().values(
                    pilot_id=_one(conn, code).id, user_id=researcher))  # fmt: skip
        if p["id"] == "P1":
            doc2 = {**doc, "secondary_outcomes": doc["secondary_outcomes"] + ["N00090"]}
            amend(engine, admin, code, doc2,
                  "Sjukfrånvaro läggs till som sekundärt utfall efter önskemål från "
                  "personalorganisationerna / sick leave added as a secondary outcome")  # fmt: skip
        if p["id"] == "P2":
            conclude(engine, admin, code,
                     "DEMO: rapporteringstiden minskade och brukarnas upplevda tid ökade; "
                     "kostnaden per brukare förändrades inte tydligt.")  # fmt: skip
    for org, title in (("0180", "Tillitsbaserad styrning i LSS-verksamheten"),
                       ("0380", "Färre rapporteringskrav i äldreomsorgen")):  # fmt: skip
        if org in org_ids:
            made.append(create_draft(engine, admin, {
                "title": f"{title} (DEMO)", "change_kind": "trust_based_care",
                "change": "Utkast / draft", "sites": [{"org": org, "unit": "", "start": "2026"}],
                "primary_outcomes": ["DEMO_001"]}, org, is_demo=True))  # fmt: skip
            with write_transaction(engine) as conn:
                ensure_member(conn, org_ids[org])
    return {"skipped": False, "pilots": made}
