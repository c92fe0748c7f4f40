"""Evidence across pilots: meta-analysis, meta-regression, gap map and "what works".

The unit of evidence is one *pilot-outcome*: the latest result snapshot of a registered or
concluded pilot, for one of its outcomes (effect in the indicator's unit, its SE and
interval). Pilots are *comparable* when they try the same kind of change
(``change_kind``) and measure the same outcome indicator.

* :func:`meta_for` pools comparable pilots with :func:`tillit.core.meta.meta_analysis`
  (random effects, REML, Hartung-Knapp): pooled effect and CI, tau^2, I^2, Q, the
  prediction interval, and forest-plot rows (each pilot's estimate, CI and weight); with at
  least :data:`MIN_METAREG` pilots that all record their four preconditions, a
  meta-regression on them (otherwise the reason why not);
* :func:`gap_map` classifies kinds of change x outcome areas as ``strong``, ``mixed`` or
  ``missing`` (definition in ``docs/evidence.md`` and :func:`classify`);
* :func:`what_works` gathers one kind of change: pooled evidence per outcome, the good
  examples (primary effect's CI excludes zero in the good direction) and how their
  preconditions differ from the other pilots'.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, select

from tillit.core.errors import NotFound
from tillit.core.results import jsonable
from tillit.domain.pilots import CHANGE_KINDS, PRECONDITIONS
from tillit.store.pilots_tables import pilots
from tillit.store.results_tables import eval_snapshots
from tillit.store.tables import indicators

__all__ = [
    "MIN_METAREG",
    "classify",
    "gap_map",
    "meta_for",
    "pilot_effects",
    "what_works",
]

MIN_METAREG = len(PRECONDITIONS) + 3
"""Meta-regression on the four preconditions needs at least 7 pilots (k - p >= 2)."""

_COLS = ["code", "title", "change_kind", "status", "is_demo", "indicator",
         "indicator_title", "area", "higher_is_better", "role", "estimate", "se",
         "ci_low", "ci_high", "relative", *PRECONDITIONS]  # fmt: skip


def pilot_effects(engine: Engine) -> pd.DataFrame:
    """One row per pilot-outcome with an estimate (latest snapshot of public pilots)."""
    with engine.connect() as conn:
        latest = (
            select(eval_snapshots.c.pilot_id, eval_snapshots.c.id)
            .order_by(eval_snapshots.c.pilot_id, eval_snapshots.c.id)
        )  # fmt: skip
        last: dict[int, int] = dict(conn.execute(latest).all())  # keeps the max id
        rows = conn.execute(
            select(pilots.c.id, pilots.c.code, pilots.c.title, pilots.c.status,
                   pilots.c.is_demo, pilots.c.document, eval_snapshots.c.result)
            .join(eval_snapshots, eval_snapshots.c.pilot_id == pilots.c.id)
            .where(pilots.c.status != "draft", eval_snapshots.c.id.in_(list(last.values())))
        ).all()  # fmt: skip
        meta = {
            r.id: r for r in conn.execute(select(indicators.c.id, indicators.c.area))
        }
    out = []
    for r in rows:
        doc = json.loads(r.document)
        pre = doc.get("preconditions") or {}
        for o in json.loads(r.result)["outcomes"]:
            if o.get("estimate") is None or not o.get("se") or not np.isfinite(o["se"]):
                continue
            m = meta.get(o["indicator"])
            out.append([r.code, r.title, doc.get("change_kind", "other"), r.status,
                        bool(r.is_demo), o["indicator"], o.get("title", o["indicator"]),
                        o.get("area") or (m.area if m else ""), o.get("higher_is_better"),
                        o["role"], o["estimate"], o["se"], o["ci_low"], o["ci_high"],
                        o.get("relative"), *[pre.get(k) for k in PRECONDITIONS]])  # fmt: skip
    return pd.DataFrame(out, columns=_COLS).sort_values(["code", "indicator"])


def _direction(row: Any) -> int:
    """+1 improvement, -1 deterioration, 0 unclear (CI includes zero)."""
    if row.ci_low <= 0 <= row.ci_high:
        return 0
    up = row.estimate > 0
    hib = row.higher_is_better
    good = up if hib is None or pd.isna(hib) else up == bool(hib)
    return 1 if good else -1


def classify(rows: pd.DataFrame) -> str:
    """Status of a cell of pilot-outcomes: ``strong``, ``mixed`` or ``missing``.

    ``strong``: at least two different pilots show a clear effect (CI excludes zero) in
    the same direction (improvement, or deterioration) and no pilot shows a clear effect
    in the other direction. ``missing``: no pilot-outcome at all. ``mixed``: everything
    else (one pilot only, unclear intervals, or conflicting directions).
    """
    if rows.empty:
        return "missing"
    d = rows.assign(direction=[_direction(r) for r in rows.itertuples()])
    for sign in (1, -1):
        clear = d.loc[d["direction"] == sign, "code"].nunique()
        other = (d["direction"] == -sign).any()
        if clear >= 2 and not other:
            return "strong"
    return "mixed"


def _forest(rows: pd.DataFrame, weights: list[float] | None) -> list[dict[str, Any]]:
    w: list[float | None] = list(weights) if weights else [None] * len(rows)
    return [{"code": r.code, "title": r.title, "estimate": r.estimate, "ci_low": r.ci_low,
             "ci_high": r.ci_high, "weight": wi, "direction": _direction(r)}
            for r, wi in zip(rows.itertuples(), w, strict=True)]  # fmt: skip


def meta_for(
    engine: Engine,
    kind: str | None,
    indicator: str,
    effects: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Random-effects meta-analysis (REML, Hartung-Knapp) of comparable pilots.

    ``kind`` None pools every kind of change (a broader, explicitly heterogeneous view).
    """
    from tillit.core.meta import meta_analysis

    if kind is not None and kind not in CHANGE_KINDS:
        raise NotFound(f"no kind of change {kind!r}")
    eff = pilot_effects(engine) if effects is None else effects
    rows = eff[eff["indicator"] == indicator]
    if kind is not None:
        rows = rows[rows["change_kind"] == kind]
    out: dict[str, Any] = {"kind": kind, "indicator": indicator, "k": len(rows),
                           "pooled": None, "metareg": None}  # fmt: skip
    if rows.empty:
        raise NotFound(
            f"no pilot results for {indicator}" + (f" and {kind}" if kind else "")
        )
    out["indicator_title"] = rows["indicator_title"].iat[0]
    out["higher_is_better"] = rows["higher_is_better"].iat[0]
    if len(rows) < 2:
        out["forest"] = _forest(rows, None)
        out["note"] = "one pilot only: nothing to pool"
        return _as_dict(out)
    res = meta_analysis(rows["estimate"].to_numpy(float), se=rows["se"].to_numpy(float),
                        method="reml", hartung_knapp=True, labels=list(rows["code"]))  # fmt: skip
    e = res.estimate
    out["pooled"] = {**e.to_dict(), "tau2": res.tau2, "i2": res.i2, "q": res.q,
                     "q_df": res.q_df, "q_p": res.q_p, "prediction": list(res.prediction),
                     "method": "REML, Hartung-Knapp"}  # fmt: skip
    out["forest"] = _forest(rows, list(res.weights))
    out["metareg"] = _metareg(rows)
    return _as_dict(out)


def _metareg(rows: pd.DataFrame) -> dict[str, Any]:
    from tillit.core.meta import meta_analysis

    names = list(PRECONDITIONS)
    complete = rows.dropna(subset=names)
    if len(complete) < MIN_METAREG:
        return {"ok": False, "k": len(complete), "needed": MIN_METAREG,
                "reason": f"meta-regression on the {len(names)} preconditions needs at "
                          f"least {MIN_METAREG} pilots that record them; there are "
                          f"{len(complete)}"}  # fmt: skip
    X = complete[names].to_numpy(float)
    if np.linalg.matrix_rank(np.column_stack([np.ones(len(X)), X])) < len(names) + 1:
        return {"ok": False, "k": len(complete), "needed": MIN_METAREG,
                "reason": "the preconditions do not vary enough between the pilots"}  # fmt: skip
    res = meta_analysis(complete["estimate"].to_numpy(float),
                        se=complete["se"].to_numpy(float), moderators=X,
                        moderator_names=names, method="reml", hartung_knapp=True)  # fmt: skip
    return {"ok": True, "k": len(complete), "r2": res.r2, "qm": res.qm, "qm_p": res.qm_p,
            "coefficients": [{"term": t, **c.to_dict()}
                             for t, c in zip(res.terms, res.coefficients, strict=True)]}  # fmt: skip


def gap_map(engine: Engine, effects: pd.DataFrame | None = None) -> dict[str, Any]:
    """Kinds of change x outcome areas: status and number of pilots per cell."""
    eff = pilot_effects(engine) if effects is None else effects
    areas = sorted(a for a in set(eff["area"]) if a) if len(eff) else []
    with engine.connect() as conn:
        all_areas = sorted(
            {a for a in conn.execute(select(indicators.c.area)).scalars() if a}
        )
    areas = sorted(set(areas) | set(all_areas))
    cells = []
    for kind in CHANGE_KINDS:
        for area in areas:
            rows = eff[(eff["change_kind"] == kind) & (eff["area"] == area)]
            cells.append({"kind": kind, "area": area, "status": classify(rows),
                          "n_pilots": int(rows["code"].nunique()),
                          "outcomes": sorted(set(rows["indicator"]))})  # fmt: skip
    return {"kinds": list(CHANGE_KINDS), "areas": areas, "cells": cells}


def what_works(engine: Engine, kind: str) -> dict[str, Any]:
    """The public page of one kind of change: pooled evidence, good examples, factors."""
    if kind not in CHANGE_KINDS:
        raise NotFound(f"no kind of change {kind!r}")
    eff = pilot_effects(engine)
    mine = eff[eff["change_kind"] == kind]
    pooled = [
        meta_for(engine, kind, ind, eff) for ind in sorted(set(mine["indicator"]))
    ]
    prim = mine[mine["role"] == "primary"]
    good = sorted({str(r.code) for r in prim.itertuples() if _direction(r) == 1})
    pre = eff.drop_duplicates("code").set_index("code")[list(PRECONDITIONS)]
    codes = sorted(set(mine["code"]))
    others = [c for c in codes if c not in good] or [
        c for c in pre.index if c not in good
    ]
    factors = [{"precondition": k,
                "good": _mean(pre.loc[pre.index.isin(good), k]),
                "others": _mean(pre.loc[pre.index.isin(others), k])} for k in PRECONDITIONS]  # fmt: skip
    return _as_dict({
        "kind": kind, "pilots": codes, "pooled": pooled,
        "good_examples": [{"code": c, "title": mine.loc[mine["code"] == c, "title"].iat[0],
                           "outcomes": prim[(prim["code"] == c)].to_dict("records")}
                          for c in good],
        "factors": factors, "compared_with": others,
    })  # fmt: skip


def _mean(s: pd.Series) -> float | None:
    s = pd.to_numeric(s, errors="coerce").dropna()
    return None if s.empty else float(s.mean())


def outcomes_across(engine: Engine) -> list[dict[str, Any]]:
    """Outcomes measured by at least one pilot, with the number of pilots and kinds."""
    eff = pilot_effects(engine)
    if eff.empty:
        return []
    g = eff.groupby("indicator").agg(title=("indicator_title", "first"),
                                     k=("code", "nunique"), kinds=("change_kind", "nunique"))  # fmt: skip
    return [
        {"indicator": str(i), **{str(k): v for k, v in r.items()}}
        for i, r in g.to_dict("index").items()
    ]


__all__ += ["outcomes_across"]


def _as_dict(x: Any) -> dict[str, Any]:
    """:func:`jsonable` of a mapping, typed as a dict."""
    out: dict[str, Any] = jsonable(x)
    return out
