"""Closing the loop: a simulated model change becomes a pilot draft, and a model's
time registration becomes a reporting requirement in the burden ledger.

* :func:`pilot_from_run` drafts a pilot (through the pilot service's public functions)
  whose hypotheses state the simulator's predicted change in cost per recipient,
  delivered share and registration time with their 90 % intervals, whose primary
  outcome is cost per recipient (Kolada N21006) and whose smallest effect that matters
  is the end of the predicted interval nearest to zero (the central prediction when
  the interval includes zero); the pilot service's design help then adds the pilot's
  own minimum detectable effect to the hypotheses, so that the draft says whether the
  pilot could detect what the simulator predicts.
* :func:`burden_from_run` writes a model's registration (staff minutes per visit and
  per recipient-month, the purchaser's checking) as requirements of a new burden
  inventory (through the audit service's ``import_inventory``, one transaction), so
  that the burden audit counts it.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from tillit.core.errors import DataError, TillitError
from tillit.domain.compensation import Spec
from tillit.domain.records import Actor
from tillit.i18n import format_kr, format_number, tr
from tillit.services import audit, pilots
from tillit.store import compensation as repo
from tillit.store.db import Engine

__all__ = [
    "WORKED_HOURS_PER_YEAR",
    "burden_from_run",
    "pilot_from_run",
    "predicted_change",
]

WORKED_HOURS_PER_YEAR = 1700.0  # per full-time staff member (assumption, docs)
INTERVAL = (0.05, 0.95)


def predicted_change(
    run: Mapping[str, Any], candidate: int, metric: str
) -> dict[str, float]:
    """The candidate's paired change from the baseline (the run's first model): mean
    and 90 % interval, from a run's JSON (:meth:`Run.to_dict` or a saved run)."""
    d = run["models"][candidate]["vs_baseline"][metric]
    return {
        k: float(d[k]) if d.get(k) is not None else np.nan
        for k in ("mean", "ci_low", "ci_high")
    }


def _smallest_effect(ch: dict[str, float]) -> float:
    lo, hi, mid = ch["ci_low"], ch["ci_high"], ch["mean"]
    if np.isfinite(lo) and np.isfinite(hi) and lo * hi > 0:
        return float(min(abs(lo), abs(hi)))
    return float(abs(mid))


def _check(run: Mapping[str, Any], candidate: int) -> None:
    if not 0 < candidate < len(run["models"]):
        raise DataError(
            "choose one of the run's models other than the first (the baseline)",
            field="candidate",
        )
    if int(run["draws"]) < 2:
        raise DataError(
            "a pilot needs a prediction with uncertainty: run with more than one draw",
            field="draws",
        )


def pilot_from_run(
    engine: Engine, actor: Actor, run: Mapping[str, Any], *, candidate: int,
    organisation_code: str | None = None, start: str | None = None, lang: str = "sv",
) -> dict[str, Any]:  # fmt: skip
    """Draft a pilot of switching from the run's first model (the baseline) to model
    ``candidate``; ``run`` is a run's JSON.

    Returns ``{"code", "min_effect", "hypotheses", "design_help"}`` (design_help None
    when the pilot has no site or the store too little N21006 data).
    """
    _check(run, candidate)
    names = [m["name"] for m in run["models"]]
    bases = [m["basis"] for m in run["models"]]
    cost = predicted_change(run, candidate, "cost_per_recipient")
    share = predicted_change(run, candidate, "delivered_share")
    reg = predicted_change(run, candidate, "registration_hours")
    ref = f"#{run['run_id']}" if run.get("run_id") else ""
    hyp = [
        tr(lang, "Paying by {new} instead of {old} changes the cost per home-care recipient by {d} a year (90 % interval {lo} to {hi}), as predicted by Tillit's compensation simulator (run {run}, {draws} draws).",
           new=names[candidate], old=names[0], d=format_kr(cost["mean"], lang), lo=format_kr(cost["ci_low"], lang), hi=format_kr(cost["ci_high"], lang), run=ref, draws=run["draws"]),
        tr(lang, "The share of granted time that is delivered changes by {d} percentage points (90 % interval {lo} to {hi}).",
           d=format_number(100 * share["mean"], lang, 1), lo=format_number(100 * share["ci_low"], lang, 1), hi=format_number(100 * share["ci_high"], lang, 1)),
        tr(lang, "Staff and purchaser time spent registering time changes by {d} hours a year (90 % interval {lo} to {hi}).",
           d=format_number(reg["mean"], lang, 0), lo=format_number(reg["ci_low"], lang, 0), hi=format_number(reg["ci_high"], lang, 0)),
    ]  # fmt: skip
    tor = run.get("tornado")
    if tor:
        flips = tor["models"][candidate].get("difference_flips") or []
        if flips:
            hyp.append(
                tr(
                    lang,
                    "The sign of the predicted cost change does not survive the uncertainty of: {params}.",
                    params=", ".join(flips),
                )
            )
    with engine.connect() as conn:
        have = repo.existing_indicators(conn, ["N21006", "U21401", "U21461", "N21826"])
    if "N21006" not in have:
        raise DataError(
            "the indicator store has no N21006 (cost per recipient): import Kolada's home-care indicators first",
            field="primary_outcomes",
        )
    code = organisation_code or ""
    year = str(start or date.today().year + 1)
    min_effect = _smallest_effect(cost)
    raw: dict[str, Any] = {
        "title": tr(lang, "{new} instead of {old}", new=names[candidate], old=names[0])[:200],
        "change_kind": "new_compensation",
        "change": tr(lang, "The municipality changes how it pays its home-care providers from {old} ({b0}) to {new} ({b1}).",
                     old=names[0], new=names[candidate], b0=bases[0], b1=bases[candidate]),
        "sites": [{"org": code, "unit": "", "start": year}] if code else [],
        "hypotheses": hyp,
        "primary_outcomes": ["N21006"],
        "secondary_outcomes": [k for k in ("U21401", "U21461", "N21826") if k in have],
        "design": "matched_comparison",
        "analysis": {"estimator": "synth", "control_group": "", "covariates": [], "min_effect": min_effect},
    }  # fmt: skip
    pcode = pilots.create_draft(engine, actor, raw, organisation_code or None)
    out: dict[str, Any] = {
        "code": pcode,
        "min_effect": min_effect,
        "hypotheses": hyp,
        "design_help": None,
    }
    if code:
        try:
            dh = pilots.design_help(engine, actor, pcode)
        except TillitError:
            return out
        mde = dh.get("mde")
        if mde is not None and np.isfinite(mde):
            if abs(mde) <= min_effect:
                line = tr(
                    lang,
                    "With these sites the pilot's minimum detectable effect on N21006 is {mde}: it can detect the predicted change.",
                    mde=format_kr(mde, lang),
                )
            else:
                line = tr(
                    lang,
                    "With these sites the pilot's minimum detectable effect on N21006 is {mde}: it cannot detect the predicted change; more sites or more years are needed.",
                    mde=format_kr(mde, lang),
                )
            hyp.append(line)
            doc = {**raw, "hypotheses": hyp}
            pilots.save_draft(engine, actor, pcode, doc)
            out["design_help"] = dh
    return out


def _requirements(
    run: Mapping[str, Any], spec: Spec, i: int, lang: str
) -> pd.DataFrame:
    row, m = run["models"][i], spec.models[i]
    visits = float(row["visits_made"])
    reporters = max(1.0, round(float(row["staff_hours"]) / WORKED_HOURS_PER_YEAR, 1))
    cost = float(run["staff_cost"])
    n = int(run["n_recipients"])
    reg = m.registration
    rows = []
    if reg.minutes_per_visit > 0:
        rows.append(
            (
                "COMP-VISIT",
                tr(
                    lang,
                    "Time registration per visit for the purchaser ({model})",
                    model=m.name,
                ),
                "home care staff",
                visits / reporters,
                reg.minutes_per_visit,
                reporters,
            )
        )
    if reg.minutes_per_recipient_month > 0:
        rows.append(
            (
                "COMP-MONTH",
                tr(lang, "Monthly time report per recipient ({model})", model=m.name),
                "home care staff",
                12 * n / reporters,
                reg.minutes_per_recipient_month,
                reporters,
            )
        )
    if reg.purchaser_minutes_per_recipient_month > 0:
        rows.append(
            (
                "COMP-CHECK",
                tr(
                    lang,
                    "Checking providers' claims per recipient and month ({model})",
                    model=m.name,
                ),
                "purchaser administrators",
                12 * n,
                reg.purchaser_minutes_per_recipient_month,
                1.0,
            )
        )
    if not rows:
        raise DataError(
            f"the model {m.name!r} requires no time registration", field="model"
        )
    return pd.DataFrame(
        [{"requirement_id": rid, "title": t, "demanded_by": "purchaser", "staff_group": g, "unit": "all",
          "frequency_per_year": round(f, 4), "minutes_per_occurrence": mins, "reporters": rep,
          "hourly_cost_sek": round(cost, 2), "indicator_ids": "", "inventory": "", "dimension": "cost"}
         for rid, t, g, f, mins, rep in rows]
    )  # fmt: skip


def burden_from_run(
    engine: Engine, actor: Actor, run: Mapping[str, Any], spec: Spec, *, model: int,
    organisation_code: str, label: str | None = None, lang: str = "sv",
) -> audit.Inventory:  # fmt: skip
    """Write model ``model``'s registration as a new burden inventory (one transaction).

    The hours equal the run's: visits made a year x minutes per visit, recipients x 12
    x minutes per recipient-month, and the purchaser's checking, at the run's staff cost.
    """
    if not 0 <= model < len(spec.models):
        raise DataError("no such model in the run", field="model")
    table = _requirements(run, spec, model, lang)
    buf = io.StringIO()
    table.to_csv(buf, index=False)
    name = label or tr(
        lang,
        "Time registration under {model} (simulated)",
        model=spec.models[model].name,
    )
    return audit.import_inventory(
        engine, actor, organisation_code, name[:200], date.today().isoformat(),
        buf.getvalue().encode("utf-8"), f"compensation-run-{run.get('run_id') or 'unsaved'}.csv",
    )  # fmt: skip
