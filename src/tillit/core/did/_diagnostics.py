"""Diagnostics a reviewer asks for: pre-trends, balance, honest bounds, a plain verdict.

The ``honest`` diagnostic computed for every outcome is a *quick, conservative screen*; the
exact Rambachan & Roth (2023) analysis, as R's HonestDiD computes it (optimal FLCI, ARP
conditional and hybrid confidence sets, breakdown values), is the explicit call
:func:`tillit.core.did.honest.honest_did` (CLI: ``tillit estimate did --honest ...``). The
screen stays here because it costs microseconds per outcome, where the exact sets cost
milliseconds to seconds (an SOCP-like optimisation or many LPs per value of ``M``). The
screen's two forms:

* **smoothness** ``Delta^SD(M)``: the effect at event time e is estimated by the event-study
  coefficient minus the linear extrapolation of the last pre-period slope,
  ``beta_e - (e+1) * s``; under ``|second difference of delta| <= M`` its bias is at most
  ``M (e+1)(e+2)/2``, and the interval is the fixed-length CI of Armstrong & Kolesar
  (folded-normal critical value ``cv_alpha(bias/se)``). This is a valid FLCI for one
  affine estimator, not RR's optimised FLCI, so it is wider or equal (the optimal one is
  :func:`tillit.core.did._honest_flci.optimal_flci`).
* **relative magnitudes** ``Delta^RM(Mbar)``: post-period changes in the trend gap are at
  most ``Mbar`` times the largest pre-period change ``D``, so
  ``|delta_e| <= (e+1) * Mbar * D``; the interval adds this bias, with ``D`` replaced by an
  upper confidence bound, to the usual interval, splitting ``alpha`` by Bonferroni. This is
  conservative (RR's conditional/hybrid test, in :mod:`tillit.core.did.honest`, is
  tighter) but never overstates.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import optimize, special

__all__ = ["balance", "honest_bounds", "pretrend_wald", "pretrend_wald_many", "verdict"]


def pretrend_wald(att: np.ndarray, vcov: np.ndarray) -> dict[str, Any]:
    """Joint Wald test that all pre-period ATT(g,t) are zero (R ``did``'s pre-test)."""
    q = att.shape[0]
    if q == 0:
        return {"statistic": None, "df": 0, "p_value": None, "note": "no pre-periods"}
    try:
        stat = float(att @ np.linalg.solve(vcov, att))
    except np.linalg.LinAlgError:
        return {
            "statistic": None,
            "df": q,
            "p_value": None,
            "note": "singular covariance",
        }
    if not math.isfinite(stat) or stat < 0:
        return {
            "statistic": None,
            "df": q,
            "p_value": None,
            "note": "singular covariance",
        }
    return {"statistic": stat, "df": q, "p_value": float(special.chdtrc(q, stat))}


def pretrend_wald_many(att: np.ndarray, vcov: np.ndarray) -> list[dict[str, Any]]:
    """:func:`pretrend_wald` for K outcomes: ``att`` (K, q), ``vcov`` (K, q, q)."""
    k, q = att.shape
    if q == 0:
        return [pretrend_wald(att[j], vcov[j]) for j in range(k)]
    try:
        stat = np.einsum(
            "kq,kq->k", att, np.linalg.solve(vcov, att[:, :, None])[..., 0]
        )
    except np.linalg.LinAlgError:
        return [pretrend_wald(att[j], vcov[j]) for j in range(k)]
    p = special.chdtrc(q, stat)
    return [
        {"statistic": float(stat[j]), "df": q, "p_value": float(p[j])}
        if math.isfinite(stat[j]) and stat[j] >= 0
        else pretrend_wald(att[j], vcov[j])
        for j in range(k)
    ]


def balance(
    values: np.ndarray, treated: np.ndarray, control: np.ndarray, names: list[str]
) -> list[dict[str, Any]]:
    """Standardised differences of baseline values, treated vs comparison units.

    ``values`` is (n, p) at the first period; the difference is scaled by
    ``sqrt((s1^2 + s0^2) / 2)`` (Austin 2009); |d| above 0.25 is commonly flagged.
    """
    a, b = values[treated], values[control]
    if a.shape[0] < 2 or b.shape[0] < 2:
        return []
    ma, mb = a.mean(0), b.mean(0)
    pooled = np.sqrt((a.var(0, ddof=1) + b.var(0, ddof=1)) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.where(pooled > 0, (ma - mb) / pooled, np.nan)
    return [
        {
            "variable": name,
            "mean_treated": float(ma[j]),
            "mean_control": float(mb[j]),
            "std_diff": float(d[j]),
            "flag": bool(np.isfinite(d[j]) and abs(d[j]) > 0.25),
        }
        for j, name in enumerate(names)
    ]


def _folded_cv(r: float, alpha: float) -> float:
    """1-alpha quantile of |N(r, 1)|."""
    if r == 0:
        return float(special.ndtri(1 - alpha / 2))
    f = lambda c: special.ndtr(c - r) - special.ndtr(-c - r) - (1 - alpha)  # noqa: E731
    return float(optimize.brentq(f, 0.0, r + 10.0))


def honest_bounds(
    event_time: np.ndarray,
    beta: np.ndarray,
    vcov: np.ndarray,
    *,
    base_period: str,
    anticipation: int = 0,
    level: float = 0.95,
    mbar: tuple[float, ...] = (0.0, 0.5, 1.0, 1.5, 2.0),
    m: tuple[float, ...] = (0.0, 0.01, 0.02, 0.05),
) -> dict[str, Any]:
    """Honest-DiD intervals for the average of the post-period event-study effects."""
    alpha = 1 - level
    ref = -1 - anticipation
    post = np.flatnonzero(event_time >= -anticipation)
    pre = np.flatnonzero(event_time < ref + (1 if base_period == "varying" else 0))
    if post.size == 0 or pre.size == 0:
        return {"note": "needs pre- and post-period event-study estimates"}
    # pre-period increments of the trend gap, as linear maps of beta
    k = beta.shape[0]
    incs: list[np.ndarray] = []
    if base_period == "varying":
        for j in pre:
            v = np.zeros(k)
            v[j] = 1.0
            incs.append(v)
    else:
        et = list(event_time)
        for j in pre:
            v = np.zeros(k)
            v[j] = -1.0
            if event_time[j] + 1 in et and event_time[j] + 1 != ref:
                v[et.index(event_time[j] + 1)] += 1.0
            incs.append(v)
    inc = np.array(incs)
    e_post = event_time[post] - ref - 1  # 0 on impact
    lin = np.zeros(k)
    lin[post] = 1.0 / post.size
    theta = float(lin @ beta)
    se = math.sqrt(max(float(lin @ vcov @ lin), 0.0))
    # relative magnitudes
    inc_est = inc @ beta
    inc_se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", inc, vcov, inc), 0.0))
    z_d = special.ndtri(1 - alpha / (4 * inc.shape[0]))
    d_hi = float(np.max(np.abs(inc_est) + z_d * inc_se))
    z = special.ndtri(1 - alpha / 4)
    steps = float(np.mean(e_post + 1))
    rm = []
    z0 = special.ndtri(1 - alpha / 2)  # no bias term at Mbar = 0: no split needed
    for mb in mbar:
        half = steps * mb * d_hi + (z if mb > 0 else z0) * se
        rm.append({"mbar": mb, "ci_low": theta - half, "ci_high": theta + half})
    # smoothness: extrapolate the last pre-period slope
    slope = inc[int(np.argmax(event_time[pre]))]
    lin_sd = lin - np.mean(e_post + 1) * slope
    theta_sd = float(lin_sd @ beta)
    se_sd = math.sqrt(max(float(lin_sd @ vcov @ lin_sd), 0.0))
    sd = []
    for mm in m:
        bias = mm * float(np.mean((e_post + 1) * (e_post + 2) / 2))
        cv = _folded_cv(bias / se_sd, alpha) if se_sd > 0 else math.nan
        sd.append(
            {
                "m": mm,
                "estimate": theta_sd,
                "ci_low": theta_sd - cv * se_sd,
                "ci_high": theta_sd + cv * se_sd,
            }
        )
    robust = [r["mbar"] for r in rm if r["ci_low"] > 0 or r["ci_high"] < 0]
    return {
        "target": "average of post-period event-study effects",
        "estimate": theta,
        "se": se,
        "max_pre_change": float(np.max(np.abs(inc_est))),
        "max_pre_change_upper": d_hi,
        "relative_magnitudes": rm,
        "smoothness": sd,
        "breakdown_mbar": max(robust) if robust else None,
        "method": "conservative: Bonferroni RM interval and single-slope FLCI",
    }


def verdict(
    outcome: str,
    est: float,
    lo: float,
    hi: float,
    level: float,
    pretrend_p: float | None,
    breakdown: float | None,
) -> dict[str, str]:
    """Plain-language verdict (English and Swedish) that never overstates."""
    pct = f"{round(level * 100)}"
    num = f"{est:.4g} ({pct}% CI {lo:.4g} to {hi:.4g})"
    sv_num = num.replace("% CI", " % KI").replace(" to ", " till ")
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return {
            "en": f"No interval could be computed for {outcome}; no conclusion is drawn.",
            "sv": f"Inget intervall kunde beräknas för {outcome}; ingen slutsats dras.",
        }
    if lo <= 0 <= hi:
        en = (
            f"The average effect on {outcome} is estimated at {num}. The interval "
            "includes zero: the data are consistent with no effect, and also with "
            "effects as large as the interval's ends."
        )
        sv = (
            f"Den genomsnittliga effekten på {outcome} skattas till {sv_num}. "
            "Intervallet innehåller noll: data är förenliga med ingen effekt, men också "
            "med effekter så stora som intervallets gränser."
        )
    else:
        sign_en = "an increase" if est > 0 else "a decrease"
        sign_sv = "en ökning" if est > 0 else "en minskning"
        en = (
            f"The average effect on {outcome} is estimated at {num}: {sign_en}, "
            "and the interval excludes zero."
        )
        sv = (
            f"Den genomsnittliga effekten på {outcome} skattas till {sv_num}: "
            f"{sign_sv}, och intervallet utesluter noll."
        )
    en += (
        " This rests on parallel trends: without the change, treated and comparison "
        "units would have developed alike."
    )
    sv += (
        " Slutsatsen vilar på antagandet om parallella trender: utan förändringen "
        "hade behandlade och jämförda enheter utvecklats likadant."
    )
    if pretrend_p is not None:
        if pretrend_p < 0.05:
            en += (
                f" Before treatment the groups already differed (pre-trend test "
                f"p = {pretrend_p:.3f}), which weakens that assumption."
            )
            sv += (
                f" Redan före behandlingen skilde sig grupperna åt (test av "
                f"förtrender p = {pretrend_p:.3f}), vilket försvagar antagandet."
            )
        else:
            en += (
                f" The pre-trend test finds no clear difference before treatment "
                f"(p = {pretrend_p:.3f}); that does not prove the assumption."
            )
            sv += (
                f" Testet av förtrender visar ingen tydlig skillnad före behandlingen "
                f"(p = {pretrend_p:.3f}); det bevisar inte antagandet."
            )
    if breakdown == 0:
        en += (
            " The event-study average holds under exact parallel trends but not if "
            "post-treatment departures may be half the largest pre-treatment one "
            "(honest-DiD relative magnitudes)."
        )
        sv += (
            " Händelsestudiens genomsnitt håller vid exakt parallella trender men inte "
            "om avvikelserna efter behandlingen kan vara hälften av den största före "
            "behandlingen (honest-DiD, relativa storlekar)."
        )
    elif breakdown is not None:
        en += (
            f" The event-study average stays away from zero if post-treatment "
            f"departures from parallel trends are at most {breakdown:g} times the "
            "largest pre-treatment one."
        )
        sv += (
            f" Händelsestudiens genomsnitt skiljer sig från noll så länge avvikelserna "
            f"från parallella trender efter behandlingen är högst {breakdown:g} gånger "
            "den största före behandlingen."
        )
    return {"en": en, "sv": sv}
