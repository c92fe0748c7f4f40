"""Run a pilot's pre-registered estimator on its panel (used by :mod:`.evaluation`).

One function, :func:`evaluate_panel`, maps the analysis plan's estimator to the engine:

=============  ===========================================================================
``did``        :func:`tillit.core.did.att_gt` (Callaway-Sant'Anna, doubly robust,
               analytic SEs); the overall ATT (simple aggregation) is reported, the event
               study (dynamic aggregation) is the series. Comparison group ``notyet`` when
               the plan's control-group text says "not yet" / "senare" / "inte ännu",
               otherwise ``never``.
``event-study``  as ``did`` (the event study is the headline series)
``synth``      :func:`tillit.core.synth.sdid.sdid` with ``method="sc"`` (synthetic
               control), placebo variance (100 draws, seeded from the pilot code)
``sdid``       the same with ``method="sdid"``
``trial``      :func:`tillit.core.trials.analyse_trial`: one row per unit, outcome the
               mean over the post years, ANCOVA on the pre-period mean, CR2, blocks by
               organisation, 1,000 re-randomisations for the RI p-value
=============  ===========================================================================

Effects are in the indicator's own unit; ``relative`` divides by the treated units'
estimated counterfactual mean in the post period (observed mean minus effect).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from tillit.core.errors import DataError, EstimationError
from tillit.core.results import jsonable

__all__ = ["evaluate_panel", "plain_verdict"]

LEVEL = 0.95
_NOTYET = re.compile(r"not.?yet|senare|inte ännu|ännu inte", re.IGNORECASE)


def _balanced(d: pd.DataFrame, starts: dict[str, int]) -> pd.DataFrame:
    """Keep years where every treated unit has a value, then units complete in them."""
    wide = d.pivot_table(index="unit", columns="year", values="value", aggfunc="mean")
    treated = wide.index.intersection(list(starts))
    if treated.empty:
        raise DataError("no treated unit has data on this outcome")
    years = wide.columns[wide.loc[treated].notna().all(axis=0)]
    wide = wide[years].dropna(axis=0)
    stacked = pd.Series(wide.stack())
    long = stacked.reset_index()
    long.columns = ["unit", "year", "y"]
    long["cohort"] = long["unit"].map(starts).fillna(0).astype(int)
    return long


def plain_verdict(
    name: str, est: float, lo: float, hi: float, higher_is_better: bool | None,
    assumption: tuple[str, str],
) -> dict[str, str]:  # fmt: skip
    """A short verdict in Swedish and English that never overstates."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return {
            "en": f"No interval could be computed for {name}; no conclusion is drawn.",
            "sv": f"Inget intervall kunde beräknas för {name}; ingen slutsats dras.",
        }
    num = f"{est:.3g} (95% CI {lo:.3g} to {hi:.3g})"
    sv_num = num.replace("95% CI", "95 % KI").replace(" to ", " till ")
    if lo <= 0 <= hi:
        en = (
            f"The effect on {name} is estimated at {num}. The interval includes zero: "
            "the data are consistent with no effect."
        )
        sv = (f"Effekten på {name} skattas till {sv_num}. Intervallet innehåller noll: "
              "data är förenliga med ingen effekt.")  # fmt: skip
    else:
        up = est > 0
        en = (
            f"The effect on {name} is estimated at {num}: "
            f"{'an increase' if up else 'a decrease'}, and the interval excludes zero."
        )
        sv = (f"Effekten på {name} skattas till {sv_num}: "
              f"{'en ökning' if up else 'en minskning'}, och intervallet utesluter noll.")  # fmt: skip
        if higher_is_better is not None:
            good = up == bool(higher_is_better)
            en += " That is an improvement." if good else " That is a deterioration."
            sv += " Det är en förbättring." if good else " Det är en försämring."
    return {"en": f"{en} {assumption[1]}", "sv": f"{sv} {assumption[0]}"}


def _row(est: float, se: float, lo: float, hi: float, p: float) -> dict[str, Any]:
    return {"estimate": est, "se": se, "ci_low": lo, "ci_high": hi, "p_value": p}


def _relative(long: pd.DataFrame, est: float) -> float | None:
    post = long[(long["cohort"] > 0) & (long["year"] >= long["cohort"])]
    if post.empty:
        return None
    cf = float(post["y"].mean()) - est
    return est / cf if cf else None


def _did(long: pd.DataFrame, doc: dict[str, Any], name: str) -> dict[str, Any]:
    from tillit.core.did import att_gt

    ctrl = (
        "notyet"
        if _NOTYET.search(doc["analysis"].get("control_group", ""))
        else "never"
    )
    res = att_gt(long, outcomes=["y"], unit="unit", time="year", cohort="cohort",
                 control=ctrl, level=LEVEL, honest=False,
                 compare_controls=False)["y"]  # fmt: skip
    s = res.simple.row(0)
    dyn = res.dynamic.tidy()
    pt = (res.diagnostics.get("pretrend") or {}).get("p_value")
    return {
        **_row(s["estimate"], s["se"], s["ci_low"], s["ci_high"], s["p_value"]),
        "series": {
            "kind": "event_study",
            "x": dyn["event_time"].astype(float).tolist(),
            "estimate": dyn["estimate"].tolist(),
            "ci_low": dyn["ci_low"].tolist(),
            "ci_high": dyn["ci_high"].tolist(),
        },
        "diagnostics": {
            "comparison": ctrl,
            "pretrend_p": pt,
            "method": "Callaway-Sant'Anna (doubly robust)",
        },
        "verdict_core": res.verdict,
    }


def _synth(long: pd.DataFrame, method: str, seed: int) -> dict[str, Any]:
    from tillit.core.synth.sdid import sdid

    starts = long.loc[long["cohort"] > 0].groupby("unit")["cohort"].first().to_dict()
    res = sdid(long, outcome="y", unit="unit", time="year",
               treated_units=list(starts), treatment_start=starts, method=method,
               variance="placebo", replications=100, seed=seed, level=LEVEL)  # fmt: skip
    e = res.estimate
    c = res.cohorts[0]
    times = np.asarray(c.times, dtype=float)
    gap = np.asarray(c.treated_path) - np.asarray(c.synthetic_path)
    pre = times < float(c.start)
    top = sorted(c.unit_weights.items(), key=lambda kv: -kv[1])[:5]
    return {
        **_row(e.estimate, e.se, e.ci_low, e.ci_high, e.p_value),
        "series": {
            "kind": "synth",
            "x": times.tolist(),
            "treated": np.asarray(c.treated_path, dtype=float).tolist(),
            "synthetic": np.asarray(c.synthetic_path, dtype=float).tolist(),
            "start": float(c.start),
        },
        "diagnostics": {
            "method": "synthetic control" if method == "sc" else "synthetic DiD",
            "pre_rmspe": float(np.sqrt(np.mean(gap[pre] ** 2))) if pre.any() else None,
            "placebo_draws": res.replications,
            "top_donors": [{"unit": u, "weight": w} for u, w in top if w > 0.001],
        },
    }


def _trial(long: pd.DataFrame, seed: int, org_of: dict[str, str]) -> dict[str, Any]:
    from tillit.core.trials import analyse_trial

    start = int(long.loc[long["cohort"] > 0, "cohort"].min())
    long = long.assign(post=long["year"] >= start)
    unit = long.groupby(["unit", "post"])["y"].mean().unstack()
    if False not in unit or True not in unit:
        raise DataError("the trial needs data before and after the start")
    df = pd.DataFrame({"y": unit[True], "pre": unit[False]}).dropna().reset_index()
    df["treat"] = df["unit"].isin(set(long.loc[long["cohort"] > 0, "unit"])).astype(int)
    df["block"] = df["unit"].map(org_of).fillna("")
    # blocks (the organisation) only when every block holds both arms
    both = bool((df.groupby("block")["treat"].nunique() == 2).all())
    res = analyse_trial(df, "y", "treat", stratum="block" if both else None,
                        covariates=["pre"],
                        permutations=1000, seed=seed, level=LEVEL)  # fmt: skip
    e = res.estimate
    arms = long.assign(arm=long["cohort"] > 0).groupby(["arm", "year"])["y"].mean()
    years = sorted(long["year"].unique())
    return {
        **_row(e.estimate, e.se, e.ci_low, e.ci_high, e.p_value),
        "series": {
            "kind": "arms",
            "x": [float(y) for y in years],
            "treated": [float(arms.get((True, y), np.nan)) for y in years],
            "control": [float(arms.get((False, y), np.nan)) for y in years],
            "start": float(start),
        },
        "diagnostics": {
            "method": "randomised trial (ANCOVA, CR2)",
            "ri_p_value": res.ri_p_value,
            "df": res.df,
            "n_clusters": res.n_clusters,
        },
    }


_ASSUME = {
    "did": ("Slutsatsen vilar på antagandet om parallella trender.",
            "This rests on parallel trends between treated and comparison units."),
    "synth": ("Slutsatsen vilar på att den syntetiska kontrollen följer enheten före starten.",
              "This rests on the synthetic control tracking the unit before the start."),
    "trial": ("Slumpningen gör jämförelsen rättvis.",
              "Randomisation makes the comparison fair."),
}  # fmt: skip


def _one(long: pd.DataFrame, estimator: str, doc: dict[str, Any], seed: int,
         org_of: dict[str, str]) -> dict[str, Any]:  # fmt: skip
    if estimator in ("did", "event-study"):
        return _did(long, doc, "y")
    if estimator in ("synth", "sdid"):
        return _synth(long, "sc" if estimator == "synth" else "sdid", seed)
    if estimator == "trial":
        return _trial(long, seed, org_of)
    raise EstimationError(f"unknown estimator {estimator!r}")


def evaluate_panel(
    panel: dict[str, Any],
    doc: dict[str, Any],
    *,
    meta: dict[str, dict[str, Any]],
    seed: int = 2016,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Estimate every outcome of ``doc`` on ``panel`` (see :func:`.evaluation.build_panel`).

    Returns a JSON-ready document ``{estimator, level, level_of_analysis, n_treated,
    n_controls, outcomes: [...]}``; an outcome that cannot be estimated carries
    ``error`` instead of numbers (the others are still reported).
    """
    estimator = doc["analysis"]["estimator"]
    data: pd.DataFrame = panel["data"]
    org_of = {
        str(k): str(v)
        for k, v in data.drop_duplicates("unit")[["unit", "org"]].itertuples(
            index=False
        )
    }
    ids = list(doc["primary_outcomes"]) + list(doc["secondary_outcomes"])
    outs: list[dict[str, Any]] = []
    for k, ind in enumerate(ids):
        m = meta.get(ind, {})
        base = {"indicator": ind, "role": "primary" if k < len(doc["primary_outcomes"])
                else "secondary", "title": m.get("title", ind), "area": m.get("area", ""),
                "unit_of_measure": m.get("unit_of_measure", ""),
                "higher_is_better": m.get("higher_is_better")}  # fmt: skip
        try:
            long = _balanced(data[data["indicator"] == ind], panel["starts"])
            r = _one(long, estimator, doc, seed, org_of)
        except (DataError, EstimationError, ValueError, np.linalg.LinAlgError) as exc:
            outs.append({**base, "error": str(exc), "estimate": None})
        else:
            key = "did" if estimator in ("did", "event-study") else (
                "trial" if estimator == "trial" else "synth")  # fmt: skip
            verdict = plain_verdict(m.get("title", ind), r["estimate"], r["ci_low"],
                                    r["ci_high"], m.get("higher_is_better"), _ASSUME[key])  # fmt: skip
            r.pop("verdict_core", None)
            outs.append({**base, **r, "verdict": verdict,
                         "relative": _relative(long, r["estimate"]),
                         "n_treated": int(long.loc[long["cohort"] > 0, "unit"].nunique()),
                         "n_controls": int(long.loc[long["cohort"] == 0, "unit"].nunique()),
                         "first_year": int(long["year"].min()),
                         "last_year": int(long["year"].max())})  # fmt: skip
        if progress is not None:
            progress(k + 1, len(ids))
    return _as_dict({
        "estimator": estimator, "level": LEVEL, "level_of_analysis": panel["level"],
        "n_treated": len(panel["starts"]), "n_controls": len(panel["controls"]),
        "outcomes": outs,
    })  # fmt: skip


def _as_dict(x: Any) -> dict[str, Any]:
    """:func:`jsonable` of a mapping, typed as a dict."""
    out: dict[str, Any] = jsonable(x)
    return out
