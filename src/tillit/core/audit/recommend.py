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
* **action**: ``not assessed`` when a measure the recommendation rests on cannot be
  computed (``not_assessed`` says which: ``reliability_one_year`` when no municipality
  has two years of values, ``reliability`` or ``redundancy`` otherwise); then nothing
  is recommended, no information or score is given and the indicator is not ranked.
  Else ``drop`` (unreliable or not valid), else ``slim`` (redundant and not the most
  informative of its cluster, which is kept), else ``review target`` (gamed), else
  ``keep``.

Gaps: quality dimensions (the ledger's ``dimension`` column) that carry hours but have no
linked indicator that is reliable and valid; and criteria no indicator is validly
associated with.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["INFO_FLOOR", "NOT_ASSESSED", "gaps", "recommend"]

INFO_FLOOR = 0.01


NOT_ASSESSED = {
    "reliability_one_year": "reliability needs two or more years of values per "
    "municipality (this indicator has {n_years})",
    "reliability": "reliability (ICC) cannot be computed from these values",
    "redundancy": "the unique share cannot be computed from these values",
}


def _evidence(r: Mapping[Any, Any]) -> str:
    """One line of evidence for one indicator."""
    if r["not_assessed"]:
        why = NOT_ASSESSED[r["not_assessed"]].format(n_years=int(r["n_years"]))
        return f"not assessed: {why}"
    parts = [
        f"ICC {r['icc']:.2f} [{r['icc_low']:.2f}, {r['icc_high']:.2f}]",
        f"unique {r['unique_share']:.2f} (nearest {r['nearest']} r={r['nearest_r']:.2f})",
    ]
    if r["validity_assessed"]:
        if r["validity"] > 0:
            parts.append(f"validity |r|={r['validity']:.2f} with {r['best_criterion']}")
        else:
            parts.append("no significant association with the criteria")
    if r["gaming_evidence"]:
        parts.append(r["gaming_evidence"])
    if r["hours_per_year"] > 0:
        parts.append(f"{r['hours_per_year']:,.0f} h/yr")
    return "; ".join(parts)


def _validity_scores(
    pos: dict[str, int], val: pd.DataFrame | None, alpha: float
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Largest significant |r| per indicator, the criterion (level) it is with, assessed."""
    n = len(pos)
    best_r, best_c = np.zeros(n), np.full(n, "", dtype=object)
    if val is None or val.empty:
        return np.ones(n), best_c, False
    sig = val[(val["p_adjusted"] < alpha).to_numpy()]
    absr = sig["r"].abs().to_numpy(float)
    idx = np.array([pos[i] for i in sig["indicator"]], dtype=int)
    label = (
        sig["criterion"].astype(str) + " (" + sig["level"].astype(str) + ")"
    ).to_numpy()
    for k in np.argsort(absr)[::-1]:  # strongest first; first hit per indicator wins
        if best_c[idx[k]] == "":
            best_r[idx[k]], best_c[idx[k]] = absr[k], label[k]
    return best_r, best_c, True


def _gaming_flags(gaming: pd.DataFrame, alpha: float) -> dict[str, str]:
    """Evidence text per indicator flagged as gamed (bunching or a favourable shift)."""
    out: dict[str, str] = {}
    for row in gaming.to_dict(orient="records"):
        fav = (
            row["shift_sd"] > 0 if row["direction"] == "above" else row["shift_sd"] < 0
        )
        txt = []
        if row["bunching_q"] < alpha and row["excess"] > 0:
            txt.append(
                f"excess mass {row['excess']:.0f} at target {row['threshold']:g} "
                f"(+{row['excess_rel']:.0%}, p={row['bunching_p']:.2g})"
            )
        if row["shift_q"] < alpha and fav:
            txt.append(
                f"level shift {row['shift_sd']:+.2f} SD at {row['target_year']:.0f} "
                f"(p={row['shift_p']:.2g})"
            )
        if txt:
            out[str(row["indicator"])] = "; ".join(txt)
    return out


def _keepers(
    cluster: np.ndarray, keep_val: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per indicator: position of its cluster's most informative member, cluster size."""
    order = np.lexsort((-keep_val, cluster))  # by cluster, best first
    first = np.r_[True, cluster[order][1:] != cluster[order][:-1]]
    best_of = dict(zip(cluster[order][first], order[first], strict=True))
    _, inv, size = np.unique(cluster, return_inverse=True, return_counts=True)
    return np.array([best_of[c] for c in cluster], dtype=int), size[inv]


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
    names = np.asarray(table.index, dtype=object)
    pos = {k: i for i, k in enumerate(names)}
    icc = table["icc"].to_numpy(float)
    uniq = table["unique_share"].to_numpy(float)
    validity, best_c, assessed = _validity_scores(pos, val, alpha)
    gam_ev = _gaming_flags(gaming, alpha)
    gam_txt = np.array([gam_ev.get(k, "") for k in names], dtype=object)
    hrs = hours.reindex(table.index).fillna(0.0).to_numpy(float)
    years = (
        table["n_years"].to_numpy(float)
        if "n_years" in table
        else np.full(len(names), np.nan)
    )
    missing = np.select(
        [~np.isfinite(icc) & (years < 2), ~np.isfinite(icc), ~np.isfinite(uniq)],
        ["reliability_one_year", "reliability", "redundancy"],
        "",
    ).astype(object)
    assessed_all = missing == ""
    rel = np.clip(np.nan_to_num(icc, nan=0.0), 0.0, 1.0)
    info = np.where(assessed_all, uniq * rel * validity, np.nan)
    score = np.where(assessed_all, hrs / np.maximum(info, INFO_FLOOR), np.nan)
    unreliable = np.isfinite(icc) & (np.nan_to_num(icc, nan=0.0) < min_icc)
    redundant = (uniq < min_unique) | (
        np.abs(table["nearest_r"].to_numpy(float)) > threshold
    )
    not_valid = assessed & (validity <= 0)
    # in each cluster of redundant indicators keep the most informative (before uniqueness)
    keeper, size = _keepers(table["cluster"].to_numpy(), rel * validity)
    slim = redundant & (size > 1) & (keeper != np.arange(len(names)))
    action = np.select(
        [~assessed_all, unreliable | not_valid, slim, gam_txt != ""],
        ["not assessed", "drop", "slim", "review target"],
        "keep",
    ).astype(object)
    t = table.copy()
    t["validity"], t["best_criterion"], t["validity_assessed"] = (
        validity,
        best_c,
        assessed,
    )
    t["gamed"], t["gaming_evidence"] = gam_txt != "", gam_txt
    t["hours_per_year"], t["information"], t["score"] = hrs, info, score
    t["unreliable"], t["redundant"], t["not_valid"] = unreliable, redundant, not_valid
    t["keep_instead"] = np.where(action == "slim", names[keeper], "")
    t["not_assessed"], t["n_years"] = missing, years
    t["action"] = action
    t["evidence"] = [_evidence(r) for r in t.to_dict(orient="records")]
    cand = np.flatnonzero((action == "drop") | (action == "slim"))
    rank = np.full(len(names), np.nan)
    rank[cand[np.lexsort((-hrs[cand], -score[cand]))]] = np.arange(1, cand.size + 1)
    t["rank"] = rank
    order = np.lexsort(
        (-np.nan_to_num(score, nan=-np.inf), np.nan_to_num(rank, nan=np.inf))
    )
    return t.iloc[order]


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
