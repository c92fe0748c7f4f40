"""What to remove and what to add: flags, information, hours saved and evidence.

Per audited indicator (criteria are the yardstick, not audited):

* **flags**: ``unreliable`` (ICC(1) below ``min_icc``), ``redundant`` (unique share
  below ``min_unique`` or ``|r_between|`` above the threshold with another indicator),
  ``not_valid`` (criteria given and no association significant after multiple-testing
  adjustment), ``gamed`` (significant excess mass at the target, or a significant level
  shift in the favourable direction at its introduction);
* **information** = ``unique_share x reliability x validity``, each in [0, 1]:
  ``unique_share`` is ``1 - R^2`` on the other indicators, ``reliability`` is ICC(1)
  clipped to [0, 1] (how much of one year's value is stable signal), ``validity`` is the
  largest ``|r|`` among the significant associations with the criteria (0 if none; 1 if
  no criteria were given, i.e. validity not assessed);
* **hours saved**: the yearly hours of the ledger's requirements that feed the
  indicator (shared equally among the indicators one requirement feeds);
* **score** = hours saved / max(information, 0.01): hours saved per unit of information
  lost; candidates are ranked by it, largest first;
* **action**: ``drop`` (unreliable or not valid), else ``slim`` (redundant and not the
  most informative of its cluster, which is kept), else ``review target`` (gamed), else
  ``keep``.

Gaps: quality dimensions (the ledger's ``dimension`` column) that carry hours but have no
linked indicator that is reliable and valid; and criteria no indicator is validly
associated with.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["INFO_FLOOR", "gaps", "recommend"]

INFO_FLOOR = 0.01


def _evidence(r: pd.Series) -> str:
    """One line of evidence for one indicator row."""
    parts = [
        f"ICC {r['icc']:.2f} [{r['icc_low']:.2f}, {r['icc_high']:.2f}]",
        f"unique {r['unique_share']:.2f} (nearest {r['nearest']} r={r['nearest_r']:.2f})",
    ]
    if np.isfinite(r["validity"]) and r["validity_assessed"]:
        if r["validity"] > 0:
            parts.append(f"validity |r|={r['validity']:.2f} with {r['best_criterion']}")
        else:
            parts.append("no significant association with the criteria")
    if isinstance(r.get("gaming_evidence"), str) and r["gaming_evidence"]:
        parts.append(r["gaming_evidence"])
    if r["hours_per_year"] > 0:
        parts.append(f"{r['hours_per_year']:,.0f} h/yr")
    return "; ".join(parts)


def _validity_scores(
    indicators: tuple[str, ...], val: pd.DataFrame | None, alpha: float
) -> pd.DataFrame:
    """Largest significant |r| per indicator and the criterion it is with."""
    out = pd.DataFrame(index=pd.Index(indicators, name="indicator"))
    if val is None or val.empty:
        out["validity"], out["best_criterion"], out["validity_assessed"] = (
            1.0,
            "",
            False,
        )
        return out
    sig = val[val["p_adjusted"] < alpha].assign(absr=lambda d: d["r"].abs())
    best = sig.sort_values("absr", ascending=False).drop_duplicates("indicator")
    best = best.set_index("indicator")
    out["validity"] = best["absr"].reindex(out.index).fillna(0.0)
    out["best_criterion"] = (
        (best["criterion"] + " (" + best["level"] + ")").reindex(out.index).fillna("")
    )
    out["validity_assessed"] = True
    return out


def _gaming_flags(gaming: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """Per gamed indicator: flag and evidence text."""
    if gaming.empty:
        return pd.DataFrame(columns=["gamed", "gaming_evidence"])
    g = gaming.set_index("indicator")
    fav = np.where(g["direction"] == "above", g["shift_sd"] > 0, g["shift_sd"] < 0)
    bunch = (g["bunching_q"] < alpha) & (g["excess"] > 0)
    shift = (g["shift_q"] < alpha) & fav
    ev = []
    for ind, b, s in zip(g.index, bunch, shift, strict=True):
        row = g.loc[ind]
        txt = []
        if b:
            txt.append(
                f"excess mass {row['excess']:.0f} at target {row['threshold']:g} "
                f"(+{row['excess_rel']:.0%}, p={row['bunching_p']:.2g})"
            )
        if s:
            txt.append(
                f"level shift {row['shift_sd']:+.2f} SD at {row['target_year']:.0f} "
                f"(p={row['shift_p']:.2g})"
            )
        ev.append("; ".join(txt))
    return pd.DataFrame(
        {"gamed": (bunch | shift).to_numpy(), "gaming_evidence": ev}, index=g.index
    )


def recommend(
    table: pd.DataFrame,
    val: pd.DataFrame | None,
    gaming: pd.DataFrame,
    hours: pd.Series,
    *,
    alpha: float,
    min_icc: float,
    min_unique: float,
    threshold: float,
) -> pd.DataFrame:
    """Combine reliability/redundancy rows (``table`` indexed by indicator) into actions."""
    t = table.copy()
    t = t.join(_validity_scores(tuple(t.index), val, alpha))
    gf = _gaming_flags(gaming, alpha)
    t["gamed"] = gf["gamed"].reindex(t.index).fillna(False).astype(bool)
    t["gaming_evidence"] = gf["gaming_evidence"].reindex(t.index).fillna("")
    t["hours_per_year"] = hours.reindex(t.index).fillna(0.0)
    rel = np.clip(t["icc"].fillna(0.0), 0.0, 1.0)
    t["information"] = t["unique_share"] * rel * t["validity"]
    t["score"] = t["hours_per_year"] / np.maximum(t["information"], INFO_FLOOR)
    t["unreliable"] = t["icc"].fillna(-1.0) < min_icc
    t["redundant"] = (t["unique_share"] < min_unique) | (
        t["nearest_r"].abs() > threshold
    )
    t["not_valid"] = t["validity_assessed"] & (t["validity"] <= 0)
    # in each cluster of redundant indicators, keep the most informative (before uniqueness)
    keep_val = rel * t["validity"]
    keeper = keep_val.groupby(t["cluster"]).idxmax()
    size = t.groupby("cluster")["cluster"].transform("size")
    their = t["cluster"].map(keeper).astype(str)
    slim = t["redundant"] & (size > 1) & (their != t.index.to_series().astype(str))
    t["keep_instead"] = np.where(slim, their, "")
    action = np.select(
        [t["unreliable"] | t["not_valid"], slim, t["gamed"]],
        ["drop", "slim", "review target"],
        "keep",
    )
    t["action"] = action
    t.loc[t["action"] != "slim", "keep_instead"] = ""
    t["evidence"] = [_evidence(r) for _, r in t.iterrows()]
    cand = t["action"].isin(["drop", "slim"])
    t["rank"] = np.nan
    order = t[cand].sort_values(["score", "hours_per_year"], ascending=False).index
    t.loc[order, "rank"] = np.arange(1, len(order) + 1)
    t = t.sort_values(["rank", "score"], ascending=[True, False], na_position="last")
    return t


def gaps(
    rec: pd.DataFrame,
    requirements: pd.DataFrame | None,
    val: pd.DataFrame | None,
    criteria: tuple[str, ...],
    alpha: float,
) -> pd.DataFrame:
    """Quality dimensions with burden but no good indicator, and uncovered criteria."""
    rows = []
    good = set(
        rec.index[(rec["action"].isin(["keep", "review target"])) & ~rec["unreliable"]]
    )
    if requirements is not None and not requirements.empty:
        req = requirements.assign(
            dimension=requirements["dimension"].replace("", "unspecified")
        )
        for dim, grp in req.groupby("dimension", sort=False):
            linked = sorted({i for ids in grp["indicator_ids"] for i in ids})
            audited = [i for i in linked if i in rec.index]
            ok = [i for i in audited if i in good]
            if ok:
                continue
            hrs = float(grp["hours_per_year"].sum())
            if not linked:
                why = "its requirements feed no indicator"
            elif not audited:
                why = "its indicators (" + ", ".join(linked) + ") were not audited"
            else:
                why = "no linked indicator is reliable and valid: " + "; ".join(
                    f"{i}: {rec.loc[i, 'action']}" for i in audited
                )
            rows.append(
                {
                    "gap": "dimension",
                    "name": dim,
                    "hours_per_year": hrs,
                    "linked_indicators": ";".join(linked),
                    "evidence": why,
                    "suggestion": f"add a reliable, valid indicator for {dim} "
                    "or cut the requirements",
                }
            )
    if val is not None and not val.empty:
        for c in criteria:
            v = val[(val["criterion"] == c) & (val["p_adjusted"] < alpha)]
            if v.empty:
                rows.append(
                    {
                        "gap": "criterion",
                        "name": c,
                        "hours_per_year": 0.0,
                        "linked_indicators": "",
                        "evidence": "no audited indicator is significantly associated with it",
                        "suggestion": f"add an indicator that tracks {c}",
                    }
                )
    cols = [
        "gap",
        "name",
        "hours_per_year",
        "linked_indicators",
        "evidence",
        "suggestion",
    ]
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values("hours_per_year", ascending=False).reset_index(drop=True)
