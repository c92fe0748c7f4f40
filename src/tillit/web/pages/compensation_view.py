"""What the compensation pages show: results and register contexts, worded and charted.

Kept apart from the routes (:mod:`tillit.web.pages.compensation`) so that each stays
short; everything here reads a run's JSON or calls services, and words it with
:func:`tillit.i18n.tr` and the Swedish formats.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request

from tillit.core.compensation import PROVIDERS
from tillit.domain import access
from tillit.domain.compensation.labels import (
    BASIS_LABELS,
    FLAG_LABELS,
    PARAMETER_LABELS,
    PROVIDER_LABELS,
)
from tillit.domain.records import Actor
from tillit.i18n import format_int, format_kr, format_number, format_percent, tr
from tillit.services import compensation as cs
from tillit.web.charts.compensation import (
    bars,
    distribution_chart,
    strip_chart,
    tornado_chart,
)
from tillit.web.deps import lang_of

__all__ = [
    "BASIS_LABELS",
    "form_field",
    "organisation_for",
    "register_context",
    "results_context",
]

_FIELD_MAP = [
    (r"^rates\.(\w+)$", r"\1"), (r"^travel\.mode$", "travel_mode"), (r"^travel\.rate$", "travel_rate"),
    (r"^visits\.(min_minutes|rounding_minutes|cap_at_granted)$", r"\1"),
    (r"^cancellation\.paid_share$", "cancel_paid_pct"), (r"^goals\[\d+\]\.indicator$", "goal_indicator"),
    (r"^goals\[\d+\]\.target$", "goal_target"), (r"^goals\[\d+\]\.bonus_share$", "goal_bonus_pct"),
    (r"^goals\[\d+\]\.penalty_share$", "goal_penalty_pct"), (r"^registration\.minutes_per_visit$", "reg_visit"),
    (r"^registration\.minutes_per_recipient_month$", "reg_month"),
    (r"^registration\.purchaser_minutes_per_recipient_month$", "reg_purchaser"), (r"^levels.*$", "levels"),
    (r"^(name|basis|visit_rate|capitation|budget|fixed_monthly)$", r"\1"),
]  # fmt: skip


def form_field(path: str, slots: list[int]) -> str:
    """The form input behind a spec path (``models[1].rates.night`` -> ``m3_night``)."""
    m = re.match(r"^models\[(\d+)\]\.(.+)$", path)
    if not m:
        return path
    k, rest = int(m.group(1)), m.group(2)
    slot = slots[k] if k < len(slots) else k
    for pat, rep in _FIELD_MAP:
        if re.match(pat, rest):
            return f"m{slot}_" + re.sub(pat, rep, rest)
    return f"m{slot}_{rest}"


def organisation_for(
    engine: Any, actor: Actor, fields: dict[str, str], run: dict[str, Any]
) -> str | None:
    """Whose pilot or ledger: an administrator names it, a member gets their own."""
    if access.is_admin(actor):
        return (
            fields.get("organisation", "").strip()
            or run.get("organisation_code")
            or None
        )
    if actor.organisation_id is not None:
        return cs.organisation_code(engine, actor.organisation_id)
    return None


def _iv(m: dict[str, Any], key: str, f: Any) -> tuple[str, str]:
    lo, hi = (m.get("ci_low") or {}).get(key), (m.get("ci_high") or {}).get(key)
    return f(m[key]), (
        f"{f(lo)} – {f(hi)}" if lo is not None and hi is not None else ""
    )


def _table(run: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    rows = []
    for m in run["models"]:
        flags = [
            (tr(lang, FLAG_LABELS[k]), format_percent(v, lang, 0))
            for k, v in m["flags"].items()
            if v >= 0.1
        ]
        prov = [
            (tr(lang, PROVIDER_LABELS[p]), format_percent(v["margin"], lang))
            for p, v in m["by_provider"].items()
            if p in PROVIDER_LABELS
        ]
        rows.append({
            "name": m["name"], "basis": tr(lang, BASIS_LABELS.get(m["basis"], m["basis"])),
            "cost": _iv(m, "cost_per_recipient", lambda x: format_kr(x, lang)),
            "total": format_kr(m["cost_total"], lang),
            "margin": _iv(m, "provider_margin", lambda x: format_percent(x, lang)),
            "loss": format_percent(m["margin_loss_probability"], lang, 0),
            "delivered": _iv(m, "delivered_share", lambda x: format_percent(x, lang)),
            "paid": format_percent(m["paid_share"], lang) if m.get("paid_share") is not None else "–",
            "reg_hours": format_int(m["registration_hours"], lang), "reg_cost": format_kr(m["registration_cost"], lang),
            "continuity": format_number(m["continuity"], lang, 1), "flags": flags, "providers": prov,
        })  # fmt: skip
    return rows


def _survival(run: dict[str, Any], lang: str) -> list[str]:
    out = []
    tor = {
        t["name"]: t for t in (run.get("tornado_difference") or {}).get("models", [])
    }
    for m in run["models"][1:]:
        vb = m["vs_baseline"]["cost_per_recipient"]
        flips = [
            tr(lang, PARAMETER_LABELS.get(p, p))
            for p in tor.get(m["name"], {}).get("difference_flips", [])
        ]
        text = tr(
            lang,
            "{name}: {d} per recipient and year against {base}",
            name=m["name"],
            d=format_kr(vb["mean"], lang),
            base=run["baseline"],
        )
        if vb.get("ci_low") is not None:
            text += " " + tr(
                lang,
                "(90 % interval {lo} to {hi}; lower in {p} of draws)",
                lo=format_kr(vb["ci_low"], lang),
                hi=format_kr(vb["ci_high"], lang),
                p=format_percent(vb.get("probability_lower", 0), lang, 0),
            )
        text += ". " + (
            tr(lang, "The direction holds over every parameter's range.")
            if not flips
            else tr(
                lang, "The direction changes with: {params}.", params=", ".join(flips)
            )
        )
        out.append(text)
    return out


def _charts(run: dict[str, Any], lang: str) -> dict[str, Any]:
    ms = run["models"]
    kr0 = lambda v: format_number(v, lang, 0)  # noqa: E731
    pct = lambda v: format_percent(v, lang, 0)  # noqa: E731
    leg = (tr(lang, "5–95 % of draws"), tr(lang, "25–75 %"), tr(lang, "median"))

    def q(m: dict[str, Any], key: str) -> list[float]:
        d = (m.get("distribution") or {}).get(key)
        return list(d) if d else [m[key]] * 5

    out: dict[str, Any] = {
        "cost": distribution_chart([(m["name"], q(m, "cost_per_recipient")) for m in ms], title=tr(lang, "Cost to the municipality per recipient and year"), axis=tr(lang, "kronor per recipient and year"), fmt=kr0, legend=leg),
        "margin": distribution_chart([(m["name"], q(m, "provider_margin")) for m in ms], title=tr(lang, "Provider margin (share of payments)"), axis=tr(lang, "margin"), fmt=pct, legend=leg, reference=0.0),
        "delivered": bars([(m["name"], m["delivered_share"]) for m in ms], title=tr(lang, "Share of granted time delivered"), axis=tr(lang, "share of granted time"), fmt=pct),
        "registration": bars([(m["name"], m["registration_hours"]) for m in ms], title=tr(lang, "Staff and purchaser hours spent registering time, a year"), axis=tr(lang, "hours a year"), fmt=kr0),
    }  # fmt: skip
    tor = (run.get("tornado_difference") or {}).get("models") or []
    tornados = []
    for t in tor[1:]:
        rows = [
            (
                tr(lang, PARAMETER_LABELS.get(p["parameter"], p["parameter"])),
                p["low"],
                p["high"],
            )
            for p in t["parameters"]
            if p["swing"] and p["swing"] > 0
        ][:10]
        svg = tornado_chart(rows, centre=t["centre"], title=tr(lang, "What moves the difference in cost per recipient"), axis=tr(lang, "kronor per recipient and year, against the baseline"), fmt=kr0, legend=(tr(lang, "parameter at its 5th percentile"), tr(lang, "parameter at its 95th percentile")))  # fmt: skip
        tornados.append((t["name"], svg))
    out["tornados"] = tornados
    return out


def results_context(run: dict[str, Any], lang: str) -> dict[str, Any]:
    """The results part of the page for a run's JSON."""
    pop = run["population"]
    return {
        "run": run, "rows": _table(run, lang), "charts": _charts(run, lang), "survival": _survival(run, lang),
        "demo": bool(pop.get("is_demo")), "population": pop,
        "providers": [(tr(lang, PROVIDER_LABELS[p]), format_int(pop.get("providers", {}).get(p, 0), lang)) for p in PROVIDERS],
    }  # fmt: skip


def register_context(request: Request, engine: Any, actor: Actor) -> dict[str, Any]:
    """The register page: filters, descriptive comparison, rows, import form."""
    lang = lang_of(request)
    code = request.query_params.get("municipality", "").strip()[:4]
    code = code if code.isdigit() and len(code) == 4 else ""
    reg = cs.register_rows(engine)
    years = sorted({int(y) for y in reg["year"]}) if len(reg) else []
    try:
        year = int(request.query_params.get("year", "") or (years[-1] if years else 0))
    except ValueError:
        year = years[-1] if years else 0
    year = year if year in years else (years[-1] if years else 0)
    cmp: dict[str, Any] = (
        cs.compare(engine, year=year)
        if years
        else {"rows": [], "points": [], "n_register_rows": 0}
    )
    points: list[dict[str, Any]] = list(cmp.get("points", []))
    groups: dict[str, list[float]] = {}
    for p in points:
        groups.setdefault(
            tr(lang, BASIS_LABELS.get(p["basis"], p["basis"])), []
        ).append(p["N21006"])
    chart = strip_chart(sorted(groups.items()), title=tr(lang, "Cost per home-care recipient (N21006) by compensation model, {year}", year=year), axis=tr(lang, "kronor per recipient and year"), fmt=lambda v: format_number(v, lang, 0), median_label=tr(lang, "median")) if groups else ""  # fmt: skip
    rows = (
        reg[reg["municipality"] == code].sort_values(
            ["year", "name"], ascending=[False, True]
        )
        if code
        else reg.iloc[0:0]
    )
    counts = (
        reg.groupby(["year", "basis"]).size().unstack(fill_value=0)
        if len(reg)
        else None
    )
    try:
        imported = int(request.query_params.get("imported", "-1"))
    except ValueError:
        imported = -1
    return {
        "years": years, "year": year, "code": code, "compare": cmp, "chart": chart,
        "rows": rows.to_dict(orient="records"), "basis_labels": {k: tr(lang, v) for k, v in BASIS_LABELS.items()},
        "counts": [] if counts is None else [(int(str(y)), {str(b): int(c) for b, c in r.items()}) for y, r in counts.iterrows()],
        "count_bases": [] if counts is None else list(counts.columns),
        "can_import": access.is_writer(actor), "imported": imported, "demo": bool(len(reg) and reg["is_demo"].all()),
        "fmt_kr": lambda v: format_kr(v, lang), "fmt_num": lambda v, d=1: format_number(v, lang, d),
    }  # fmt: skip
