"""Concluding a pilot: publish its evaluation and assemble the report (sv/en, PDF).

* :func:`publish` - a researcher attached to the pilot (or an administrator) publishes the
  evaluation of the latest result snapshot with a summary in Swedish and English; a pilot
  that is still ``registered`` is concluded in the registry at the same time (its
  conclusion entry carries the summary);
* :func:`report` - everything a report shows: the pilot, the published summary, estimates
  with intervals and series per outcome (from the published snapshot), deviations from the
  registration (amendments with their reasons and field-by-field differences) and the data
  used (indicator ids, import batches with source and date, periods);
* :func:`report_pdf` - a simple multi-page PDF of the report (matplotlib's PDF backend, no
  network). The self-contained HTML export is rendered by the web layer
  (``/pilots/<code>/report.html``), which owns the SVG charts.
"""

from __future__ import annotations

import io
import itertools
import json
import textwrap
from typing import Any

from sqlalchemy import Engine, select

from tillit.core.errors import Conflict, DataError, NotFound, PermissionDenied
from tillit.domain import access
from tillit.domain.records import Actor
from tillit.domain.registry import diff_content
from tillit.services import evaluation as ev
from tillit.services import pilots as ps
from tillit.services.network import researchers_of
from tillit.store.db import write_transaction
from tillit.store.pilots_tables import pilots
from tillit.store.results_tables import eval_snapshots, evaluations
from tillit.store.tables import import_batches, users

__all__ = ["get_evaluation", "publish", "report", "report_pdf"]


def _may_publish(engine: Engine, actor: Actor, pilot_id: int) -> bool:
    with engine.connect() as conn:
        ids = {r["id"] for r in researchers_of(conn, pilot_id)}
    return access.may_publish(actor, ids)


def publish(
    engine: Engine, actor: Actor, code: str, summary_sv: str, summary_en: str
) -> int:
    """Publish the evaluation of ``code`` (latest snapshot); returns the evaluation id."""
    pilot = ps.get_pilot(engine, actor, code)
    if not _may_publish(engine, actor, pilot.id):
        raise PermissionDenied(
            "only a researcher attached to this pilot, or an administrator, may "
            "publish its evaluation"
        )
    summary_sv, summary_en = summary_sv.strip(), summary_en.strip()
    if not summary_sv or not summary_en or max(len(summary_sv), len(summary_en)) > 5000:
        raise DataError("a summary of 1-5000 characters in Swedish and in English",
                        field="summary")  # fmt: skip
    snap = ev.latest_snapshot(engine, code)
    if snap is None:
        raise Conflict(f"pilot {code} has no result yet: run its analysis first")
    if pilot.status == "draft":
        raise Conflict(f"pilot {code} is a draft")
    if pilot.status == "registered":
        ps.conclude(engine, actor, code, f"{summary_sv}\n\n{summary_en}")
    with write_transaction(engine) as conn:
        if conn.execute(
            select(evaluations.c.id).where(evaluations.c.pilot_id == pilot.id)
        ).first():
            raise Conflict(f"the evaluation of {code} is already published")
        return int(
            conn.execute(  # type: ignore[index]
                evaluations.insert().values(
                    pilot_id=pilot.id, snapshot_id=snap["id"], summary_sv=summary_sv,
                    summary_en=summary_en, published_by=actor.user_id)
            ).inserted_primary_key[0]
        )  # fmt: skip


def get_evaluation(engine: Engine, code: str) -> dict[str, Any] | None:
    """The published evaluation of a pilot (with its snapshot), or None."""
    with engine.connect() as conn:
        row = conn.execute(
            select(evaluations, users.c.display_name, users.c.username,
                   eval_snapshots.c.result, eval_snapshots.c.batch_ids,
                   eval_snapshots.c.created_at.label("computed_at"))
            .join(pilots, pilots.c.id == evaluations.c.pilot_id)
            .join(eval_snapshots, eval_snapshots.c.id == evaluations.c.snapshot_id)
            .outerjoin(users, users.c.id == evaluations.c.published_by)
            .where(pilots.c.code == code)
        ).first()  # fmt: skip
    if row is None:
        return None
    d = dict(row._mapping)
    d["result"] = json.loads(d["result"])
    d["batch_ids"] = json.loads(d["batch_ids"])
    return d


def _deviations(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    docs = [e for e in entries if e["kind"] != "conclusion"]
    out = []
    for prev, cur in itertools.pairwise(docs):
        changes = diff_content(prev["content"], cur["content"])
        out.append({"version": cur["version"], "reason": cur["reason"],
                    "registered_at": cur["registered_at"],
                    "changes": [{"path": c.path, "old": c.old, "new": c.new,
                                 "kind": c.kind} for c in changes]})  # fmt: skip
    return out


def _batches(engine: Engine, ids: list[int]) -> list[dict[str, Any]]:
    if not ids:
        return []
    b = import_batches.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(b.id, b.source, b.filename, b.n_rows, b.created_at)
            .where(b.id.in_(ids)).order_by(b.id)
        ).all()  # fmt: skip
    return [dict(r._mapping) for r in rows]


def report(engine: Engine, actor: Actor, code: str) -> dict[str, Any]:
    """Everything the report page shows (published evaluation, else NotFound)."""
    info = ps.pilot_versions(engine, actor, code)  # checks visibility
    published = get_evaluation(engine, code)
    if published is None:
        raise NotFound(f"pilot {code} has no published evaluation yet")
    result = published["result"]
    outs = result["outcomes"]
    return {
        "pilot": info["pilot"],
        "origins": info["origins"],
        "evaluation": published,
        "result": result,
        "deviations": _deviations(info["entries"]),
        "data": {
            "indicators": [o["indicator"] for o in outs],
            "batches": _batches(engine, published["batch_ids"]),
            "periods": {
                o["indicator"]: [o.get("first_year"), o.get("last_year")] for o in outs
            },
            "registry_version": result.get("registry_version"),
        },
    }


def _text_page(pdf: Any, plt: Any, title: str, lines: list[str]) -> None:
    fig = plt.figure(figsize=(8.27, 11.69))
    fig.text(0.08, 0.95, title, fontsize=14, weight="bold", va="top")
    wrapped = [w for ln in lines for w in (textwrap.wrap(ln, 95) or [""])]
    fig.text(0.08, 0.91, "\n".join(wrapped[:70]), fontsize=8.5, va="top",
             family="DejaVu Sans")  # fmt: skip
    pdf.savefig(fig)
    plt.close(fig)


def report_pdf(engine: Engine, actor: Actor, code: str, lang: str = "sv") -> bytes:
    """A simple multi-page PDF: text page, then one chart page per outcome."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    r = report(engine, actor, code)
    sv = lang == "sv"
    ev_ = r["evaluation"]
    lines = [ev_["summary_sv"] if sv else ev_["summary_en"], ""]
    for o in r["result"]["outcomes"]:
        if o.get("estimate") is None:
            lines.append(f"{o['indicator']}: {o.get('error', '')}")
            continue
        lines += [f"{o['indicator']} {o['title']} ({o['role']})",
                  f"  {o['estimate']:.4g} [{o['ci_low']:.4g}, {o['ci_high']:.4g}]",
                  "  " + o["verdict"]["sv" if sv else "en"], ""]  # fmt: skip
    lines.append(
        "Avvikelser från registreringen:" if sv else "Deviations from the registration:"
    )
    for d in r["deviations"]:
        lines.append(f"  v{d['version']}: {d['reason']}")
        lines += [f"    {c['kind']} {c['path']}" for c in d["changes"]]
    lines.append("Data:")
    lines += [
        f"  batch {b['id']} {b['source']} {b['filename']}" for b in r["data"]["batches"]
    ]
    buf = io.BytesIO()
    with PdfPages(buf, metadata={"Title": f"{code} evaluation"}) as pdf:
        _text_page(pdf, plt, f"{code} {r['pilot'].title}", lines)
        for o in r["result"]["outcomes"]:
            s = o.get("series")
            if not s:
                continue
            fig, ax = plt.subplots(figsize=(8.27, 5))
            if s["kind"] == "event_study":
                ax.fill_between(s["x"], s["ci_low"], s["ci_high"], alpha=0.3)
                ax.plot(s["x"], s["estimate"], marker="o")
                ax.axhline(0, color="grey", lw=0.8)
            else:
                ax.plot(s["x"], s["treated"], marker="o", label="treated")
                other = s.get("synthetic") or s.get("control")
                ax.plot(s["x"], other, ls="--", label="comparison")
                ax.axvline(s["start"], color="grey", lw=0.8)
                ax.legend()
            ax.set_title(f"{o['indicator']} {o['title']}"[:90])
            pdf.savefig(fig)
            plt.close(fig)
    return buf.getvalue()


def _publish_demo(engine: Engine) -> list[str]:
    """Publish the evaluation of concluded demo pilots as the demo researcher."""
    with engine.connect() as conn:
        rid = conn.execute(
            select(users.c.id).where(users.c.username == "researcher")
        ).scalar()
        rows = conn.execute(
            select(pilots.c.code).where(pilots.c.is_demo, pilots.c.status == "concluded")
        ).scalars().all()  # fmt: skip
    actor = (Actor(role="researcher", user_id=int(rid), username="researcher")
             if rid is not None else Actor(role="admin", username="demo"))  # fmt: skip
    done = []
    for code in rows:
        if (
            get_evaluation(engine, code) is not None
            or ev.latest_snapshot(engine, code) is None
        ):
            continue
        publish(engine, actor, code,
                "DEMO: Den nya ersättningsmodellen minskade dokumentationstiden och ökade "
                "brukarnas upplevelse av att ha tillräckligt med tid; någon tydlig effekt på "
                "kostnaden per brukare kunde inte visas.",
                "DEMO: The new compensation model reduced documentation time and raised "
                "users' sense of having enough time; no clear effect on the cost per "
                "recipient could be shown.")  # fmt: skip
        done.append(code)
    return done


def load_demo_evaluations(engine: Engine, *, wait: bool = False) -> dict[str, Any]:
    """Evaluate the registered demo pilots and publish the concluded one (idempotent).

    With ``wait=False`` (``tillit serve --demo``) the runs happen in the background worker
    thread, so the server starts at once and the pilot pages show the progress.
    """
    with engine.connect() as conn:
        codes = conn.execute(
            select(pilots.c.code).where(pilots.c.is_demo, pilots.c.status != "draft")
        ).scalars().all()  # fmt: skip
    jobs = [ev.enqueue(engine, c, "demo") for c in codes
            if ev.latest_snapshot(engine, c) is None]  # fmt: skip

    def work() -> None:
        ev.run_pending(engine)
        _publish_demo(engine)

    if wait:
        work()
    else:
        import threading

        threading.Thread(
            target=ev.guarded(work), name="tillit-demo-eval", daemon=True
        ).start()
    return {"jobs": jobs}


__all__ += ["load_demo_evaluations"]
