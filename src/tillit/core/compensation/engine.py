"""The vectorised year: every recipient under every model for a block of draws.

For each draw ``d`` of the behaviour parameters and each recipient ``r`` (monthly
quantities; the year is twelve equal months; ``c`` is the draw's cancellation rate):

* selection (flat pay only): a recipient with a private provider and complexity in the
  top fifth moves to the in-house provider with probability ``selection[k] x w(basis)``
  (``w`` is :data:`~tillit.core.compensation.codes.SELECTION_WEIGHT`);
* delivered share ``s = clip(mu[k, class] + need_slope (g - 30) / 10 + individual_sd
  eps_r, 0.2, 1)`` where ``class`` is prospective, retrospective or per visit (then
  ``mu = rush``);
* time in the home ``h = g (1 - c) s exp(complexity z_r)``;
* payment: granted ``g x rate``; performed ``v (1 - c) ceil(max(L s e^{kz} (1 +
  inflation), min) / round) round / 60 x rate`` (capped at ``g`` if asked) plus the paid
  share ``p`` of cancelled visits ``c g p x rate``; per visit ``v (1 - c + c p) x
  visit_rate``; level, capitation and budget their fixed amounts; plus the fixed monthly
  part and travel (``v (1 - c)`` times a rate per visit, or travel hours times a rate);
* staff hours ``(1 + overhead[k]) (h + travel + registration) + c g / 2`` (half the
  planned time of cancelled visits cannot be reused); provider cost the same with ``h``
  weighted by the evening and night supplements ``ob``, times ``staff_cost``;
* continuity: a recipient with ``n`` visits in 14 days drawn from a pool of ``T`` staff
  meets ``T (1 - (1 - 1/T)^n)`` different staff, averaged over recipients with at least
  two visits a day (as Kolada U21401 is);
* goal-related parts pay (deduct) a share of each provider's payments when the
  provider's indicator meets (misses) its target.

Sums over a provider's recipients are taken once per block and shared by all models
of the same incentive class (matrix-vector products); only performed-time billing is
computed per recipient and model.  Totals are sums of the per-recipient amounts, so
the accounting identities hold by construction; the tests check them by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from tillit.core.compensation.behaviour import Draws
from tillit.core.compensation.codes import (
    GOAL_INDICATORS,
    INCENTIVE,
    PROVIDERS,
    SELECTION_WEIGHT,
    TRAVEL_MODES,
)
from tillit.core.compensation.models import ModelArrays
from tillit.core.compensation.population import Population

__all__ = ["OUTPUTS", "PER_PROVIDER_OUTPUTS", "empty_outputs", "run_block"]

HARD_Z = 0.8416212335729143  # the top fifth of a standard normal
OB_EVENING, OB_NIGHT = 0.20, 0.50  # staff cost supplements (assumption, docs)
CANCEL_UNRECOVERED = 0.5  # share of a cancelled visit's time the staff cannot reuse
DAYS_14 = 14.0 / (365.0 / 12.0)
TWO_A_DAY = 2.0 * 365.0 / 12.0
S_MIN, S_MAX = 0.2, 1.0
K = len(PROVIDERS)

OUTPUTS = (
    "cost_total",
    "provider_cost",
    "staff_hours",
    "delivered_hours",
    "paid_hours",
    "travel_hours",
    "registration_hours_staff",
    "registration_hours_purchaser",
    "visits_made",
    "continuity",
    "moved",
    "goal_payments",
)
"""Yearly totals per model and draw (``continuity`` is a mean; ``moved`` a count)."""

PER_PROVIDER_OUTPUTS = (
    "payments_by_provider",
    "cost_by_provider",
    "granted_by_provider",
)


def empty_outputs(m: int, d: int) -> dict[str, np.ndarray]:
    """Output arrays for ``m`` models and ``d`` draws (NaN until filled)."""
    out = {k: np.full((m, d), np.nan) for k in OUTPUTS}
    out.update({k: np.full((m, d, K), np.nan) for k in PER_PROVIDER_OUTPUTS})
    return out


@dataclass
class _Pop:
    """Per-recipient constants and each provider's slice."""

    pop: Population
    slices: list[slice]
    start: int  # first private recipient
    ob: np.ndarray
    x: np.ndarray  # (g - 30) / 10
    group: np.ndarray  # recipients with two or more visits a day (or all)

    @classmethod
    def of(cls, pop: Population) -> _Pop:
        p = pop
        ob = (
            1.0
            + OB_EVENING * p.personal_share * p.evening_share
            + OB_NIGHT * p.personal_share * p.night_share
        )
        group = p.visits >= TWO_A_DAY
        if not group.any():
            group = p.visits > 0
        sl = p.slices()
        return cls(p, sl, sl[0].stop, ob, (p.granted_hours - 30.0) / 10.0, group)

    def sums(self, w: np.ndarray, moved: np.ndarray | None, c: int) -> np.ndarray:
        """(c, K) sums of a per-recipient constant ``w`` over each provider's recipients."""
        base = np.array([w[s].sum() for s in self.slices])
        out = np.array(np.broadcast_to(base, (c, K)))
        if moved is not None:
            self._move(out, moved, w[self.start :], None)
        return out

    def _move(
        self,
        out: np.ndarray,
        moved: np.ndarray,
        w_priv: np.ndarray,
        alt: np.ndarray | None,
    ) -> None:
        """Move the moved recipients' ``w`` (``alt``: their value as in-house) to in-house."""
        for k in range(1, K):
            a, b = self.slices[k].start - self.start, self.slices[k].stop - self.start
            mk = moved[:, a:b] @ w_priv[a:b]
            out[:, k] -= mk
            if alt is None:
                out[:, 0] += mk
        if alt is not None:
            out[:, 0] += alt @ w_priv


@dataclass
class _Block:
    """Per-draw quantities shared by all models of one block."""

    c: np.ndarray  # (n,) cancellation rate
    kz: np.ndarray  # (n, R) exp(complexity z)
    skz: dict[str, np.ndarray] = field(default_factory=dict)  # class -> s * kz
    alt: np.ndarray | None = None  # (n, R_priv) prospective s * kz with in-house mu
    gsum: dict[str, np.ndarray] = field(
        default_factory=dict
    )  # class -> (n, K) sum g skz
    gobsum: dict[str, np.ndarray] = field(default_factory=dict)  # sum g ob skz
    continuity: dict[bool, np.ndarray] = field(default_factory=dict)


def _share(
    v: Draws, ctx: _Pop, klass: str, sl: slice | None = None, mu_k: int | None = None
) -> np.ndarray:
    """(n, R) delivered share (or of the recipients in ``sl``, with provider ``mu_k``)."""
    p = ctx.pop
    vals = v.values
    n = vals["rush"].shape[0]
    cols = slice(0, p.n) if sl is None else sl
    width = cols.stop - cols.start
    s = np.empty((n, width))
    if klass == "per_visit":
        s[:] = vals["rush"][:, None]
    else:
        mu = vals[f"delivered_{klass}"]
        for k, ks in enumerate(ctx.slices):
            a, b = (
                max(ks.start, cols.start) - cols.start,
                min(ks.stop, cols.stop) - cols.start,
            )
            if b > a:
                s[:, a:b] = mu[
                    :, (k if mu_k is None else mu_k) : (k if mu_k is None else mu_k) + 1
                ]
    s += vals["need_slope"][:, None] * ctx.x[None, cols]
    s += vals["individual_sd"][:, None] * p.noise[None, cols]
    np.clip(s, S_MIN, S_MAX, out=s)
    return s


def _matsums(x: np.ndarray, w: np.ndarray, ctx: _Pop) -> np.ndarray:
    """(n, K) ``sum_r x[:, r] w[r]`` over each provider's slice (BLAS matvecs)."""
    return np.stack(
        [
            x[:, s] @ w[s] if s.stop > s.start else np.zeros(x.shape[0])
            for s in ctx.slices
        ],
        axis=1,
    )


def _prepare(draws: Draws, ctx: _Pop, models: ModelArrays) -> _Block:
    v, p = draws.values, ctx.pop
    blk = _Block(
        c=v["cancel_rate"], kz=np.exp(v["complexity"][:, None] * p.complexity[None, :])
    )
    classes = {INCENTIVE[models.basis_code(i)] for i in range(models.m)}
    for klass in sorted(classes):
        skz = _share(draws, ctx, klass)
        skz *= blk.kz
        blk.skz[klass] = skz
        blk.gsum[klass] = _matsums(skz, p.granted_hours, ctx)
        blk.gobsum[klass] = _matsums(skz, p.granted_hours * ctx.ob, ctx)
    if (
        any(SELECTION_WEIGHT[models.basis_code(i)] > 0 for i in range(models.m))
        and ctx.start < p.n
    ):
        priv = slice(ctx.start, p.n)
        blk.alt = _share(draws, ctx, "prospective", priv, mu_k=0) * blk.kz[:, priv]
    return blk


def _moved(draws: Draws, ctx: _Pop, weight: float) -> np.ndarray | None:
    """(n, R_private) 1.0 where a private recipient is passed to the in-house provider."""
    p, start = ctx.pop, ctx.start
    if weight <= 0 or start == p.n:
        return None
    sel = draws.values["selection"][:, p.provider[start:]] * weight
    hard = p.complexity[start:] > HARD_Z
    out = (p.uniform[start:][None, :] < sel) & hard[None, :]
    return out.astype(float) if out.any() else None


def _class_sums(
    blk: _Block, ctx: _Pop, klass: str, moved: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """(n, K) sums of ``g skz`` and ``g ob skz`` with the moved recipients in-house."""
    gs, gobs = blk.gsum[klass], blk.gobsum[klass]
    if moved is None or blk.alt is None:
        return gs, gobs
    p = ctx.pop
    priv = slice(ctx.start, p.n)
    mine = moved * blk.skz[klass][:, priv]
    alt = moved * blk.alt
    out = []
    for base, w in ((gs, p.granted_hours), (gobs, p.granted_hours * ctx.ob)):
        o = base.copy()
        ctx._move(o, mine, w[priv], alt)
        out.append(o)
    return out[0], out[1]


def _fixed_pay(
    models: ModelArrays, i: int, p: Population, rate: np.ndarray
) -> np.ndarray:
    """(R,) monthly pay that does not depend on the draw."""
    basis = models.basis_code(i)
    g = p.granted_hours
    fixed = np.full(p.n, float(models.fixed_monthly[i]))
    if basis == "granted_time":
        fixed += g * rate
    elif basis == "per_service_level":
        thr, amt = models.level_threshold[i], models.level_amount[i]
        level = np.searchsorted(thr, g, side="right") - 1
        fixed += np.where(level >= 0, amt[np.clip(level, 0, None)], 0.0)
    elif basis == "capitation":
        fixed += float(models.capitation[i])
    elif basis == "fixed_budget":
        total = g.sum()
        share = g / total if total > 0 else np.full(p.n, 1.0 / p.n)
        fixed += float(models.budget[i]) / 12.0 * share
    return fixed


def _rate(models: ModelArrays, i: int, p: Population) -> np.ndarray:
    pp, e, n = p.personal_share, p.evening_share, p.night_share
    return np.asarray(
        pp * (1 - e - n) * models.rate_day_personal[i]
        + pp * e * models.rate_evening[i]
        + pp * n * models.rate_night[i]
        + (1 - pp) * models.rate_day_service[i]
    )


def _performed(
    models: ModelArrays, i: int, ctx: _Pop, blk: _Block, rate: np.ndarray, draws: Draws
) -> tuple[np.ndarray, np.ndarray]:
    """(n, K) performed-time pay for delivered visits and (n,) paid hours."""
    p = ctx.pop
    planned = np.divide(
        60.0 * p.granted_hours, p.visits, out=np.zeros(p.n), where=p.visits > 0
    )
    minutes = blk.skz["retrospective"] * planned[None, :]
    if models.basis_code(i) == "performed_time_self_reported":
        minutes *= 1.0 + draws.values["self_report_inflation"][:, None]
    np.maximum(minutes, float(models.min_visit_minutes[i]), out=minutes)
    rnd = float(models.rounding_minutes[i])
    if rnd > 0:
        minutes /= rnd
        np.ceil(minutes - 1e-9, out=minutes)
        minutes *= rnd
    minutes *= (1.0 - blk.c)[:, None] * (p.visits / 60.0)[None, :]  # paid hours
    if bool(models.cap_at_granted[i]):
        np.minimum(minutes, p.granted_hours[None, :], out=minutes)
    return _matsums(minutes, rate, ctx), minutes.sum(axis=1)


def _continuity(
    ctx: _Pop,
    blk: _Block,
    team: np.ndarray,
    by_provider: bool,
    moved: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Mean staff met in 14 days (n,), and per provider (n, K) when asked."""
    p, gr = ctx.pop, ctx.group
    t = np.maximum(team, 1.0 + 1e-9)[:, None]
    lg = np.log1p(-1.0 / t) * (1.0 - blk.c)[:, None] * DAYS_14
    if not by_provider:
        met = t * (1.0 - np.exp(lg * p.visits[gr][None, :]))
        return met.mean(axis=1), None
    met = np.where(gr[None, :], t * (1.0 - np.exp(lg * p.visits[None, :])), 0.0)
    cnt = ctx.sums(gr.astype(float), moved, met.shape[0])
    tot = _matsums(met, np.ones(p.n), ctx)
    if moved is not None:
        priv = slice(ctx.start, p.n)
        ctx._move(tot, moved * met[:, priv], np.ones(p.n - ctx.start), None)
    by_k = np.divide(tot, cnt, out=np.full_like(tot, np.nan), where=cnt > 0)
    return tot.sum(axis=1) / cnt.sum(axis=1), by_k


def _goals(
    models: ModelArrays,
    i: int,
    pay_k: np.ndarray,
    deliv_k: np.ndarray,
    granted_k: np.ndarray,
    cont_k: np.ndarray | None,
) -> np.ndarray:
    """(n, K) goal-related payments (bonus positive, penalty negative)."""
    out = np.zeros_like(pay_k)
    for j in range(models.goal_indicator.shape[1]):
        code = int(models.goal_indicator[i, j])
        if code < 0:
            continue
        target = float(models.goal_target[i, j])
        if GOAL_INDICATORS[code] == "continuity" and cont_k is not None:
            met = cont_k <= target
        else:
            share = np.divide(
                deliv_k, granted_k, out=np.zeros_like(deliv_k), where=granted_k > 0
            )
            met = share >= target
        bonus = np.where(met, models.goal_bonus[i, j], -models.goal_penalty[i, j])
        out += np.where(granted_k > 0, bonus * pay_k, 0.0)
    return out


def _one_model(
    models: ModelArrays,
    i: int,
    ctx: _Pop,
    draws: Draws,
    blk: _Block,
    out: dict[str, np.ndarray],
    rows: slice,
) -> None:
    p, v = ctx.pop, draws.values
    n = blk.c.size
    basis = models.basis_code(i)
    klass = INCENTIVE[basis]
    moved = _moved(draws, ctx, SELECTION_WEIGHT[basis])
    keep, c = (1.0 - blk.c)[:, None], blk.c[:, None]
    rate = _rate(models, i, p)

    def sums(w: np.ndarray) -> np.ndarray:
        return ctx.sums(w, moved, n)

    g_k = sums(p.granted_hours)
    gs_k, gobs_k = _class_sums(blk, ctx, klass, moved)
    deliv_k = keep * gs_k
    pay_k = sums(_fixed_pay(models, i, p, rate))
    paid_h = np.full(n, np.nan)
    cps = float(models.cancel_paid_share[i])
    if klass == "retrospective":
        perf_k, paid_h = _performed(models, i, ctx, blk, rate, draws)
        pay_k = pay_k + perf_k + c * cps * sums(p.granted_hours * rate)
    elif basis == "per_visit":
        pay_k = pay_k + (keep + c * cps) * sums(p.visits) * float(models.visit_rate[i])
    mode = TRAVEL_MODES[int(models.travel_mode[i])]
    travel_planned_k = keep * sums(p.visits * p.travel_minutes / 60.0)
    if mode == "per_hour":
        travel_k = travel_planned_k
        pay_k = pay_k + travel_k * float(models.travel_rate[i])
    else:
        travel_k = travel_planned_k * v["travel_factor"]
        if mode == "per_visit":
            pay_k = pay_k + keep * sums(p.visits) * float(models.travel_rate[i])
    reg_k = (
        keep * sums(p.visits) * float(models.reg_minutes_visit[i]) / 60.0
        + sums(np.ones(p.n)) * float(models.reg_minutes_month[i]) / 60.0
    )
    lost_k = c * CANCEL_UNRECOVERED * g_k
    staff_k = (1.0 + v["overhead"]) * (keep * gobs_k + travel_k + reg_k) + lost_k
    cost_k = staff_k * v["staff_cost"][:, None]
    hours_k = (1.0 + v["overhead"]) * (keep * gs_k + travel_k + reg_k) + lost_k
    team = v["team_size"] * (v["fragmentation"] if klass != "prospective" else 1.0)
    wants_k = bool(
        np.any(models.goal_indicator[i] == GOAL_INDICATORS.index("continuity"))
    )
    key = klass != "prospective"
    if wants_k:
        cont, cont_k = _continuity(ctx, blk, team, True, moved)
    else:
        if key not in blk.continuity:
            blk.continuity[key] = _continuity(ctx, blk, team, False, None)[0]
        cont, cont_k = blk.continuity[key], None
    goal_k = _goals(models, i, pay_k, deliv_k, g_k, cont_k)
    pay_k = pay_k + goal_k
    out["payments_by_provider"][i, rows] = 12.0 * pay_k
    out["cost_by_provider"][i, rows] = 12.0 * cost_k
    out["granted_by_provider"][i, rows] = 12.0 * g_k
    out["cost_total"][i, rows] = out["payments_by_provider"][i, rows].sum(axis=1)
    out["provider_cost"][i, rows] = out["cost_by_provider"][i, rows].sum(axis=1)
    out["staff_hours"][i, rows] = 12.0 * hours_k.sum(axis=1)
    out["delivered_hours"][i, rows] = 12.0 * deliv_k.sum(axis=1)
    out["paid_hours"][i, rows] = 12.0 * paid_h
    out["travel_hours"][i, rows] = 12.0 * travel_k.sum(axis=1)
    out["registration_hours_staff"][i, rows] = 12.0 * reg_k.sum(axis=1)
    out["registration_hours_purchaser"][i, rows] = (
        12.0 * p.n * float(models.purchaser_minutes_month[i]) / 60.0
    )
    out["visits_made"][i, rows] = 12.0 * keep[:, 0] * p.visits.sum()
    out["continuity"][i, rows] = cont
    out["moved"][i, rows] = 0.0 if moved is None else moved.sum(axis=1)
    out["goal_payments"][i, rows] = 12.0 * goal_k.sum(axis=1)


def run_block(
    pop: Population,
    models: ModelArrays,
    draws: Draws,
    out: dict[str, np.ndarray],
    rows: slice,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Simulate every model for the draws of one block into ``out[..., rows]``."""
    ctx = _Pop.of(pop)
    blk = _prepare(draws, ctx, models)
    for i in range(models.m):
        _one_model(models, i, ctx, draws, blk, out, rows)
        if progress is not None:
            progress(1)
