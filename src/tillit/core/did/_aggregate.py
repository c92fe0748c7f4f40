"""Aggregations of ATT(g,t) as linear maps of the cell estimates (R ``did::aggte``).

Every aggregate ``a`` is ``theta_a = W[:, a] @ att`` and its influence function is
``IF @ W[:, a] + Wc[a, cohort_i, :] @ att``: the second term is the effect of estimating the
cohort shares ``P(G = g)`` used as weights (R's ``wif``), and it depends on a unit only
through its cohort, so it is stored per cohort (small) rather than per unit. Nothing here
depends on the outcomes, so one set of maps serves all K outcomes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["AggregationMaps", "build_maps"]


@dataclass(frozen=True)
class AggregationMaps:
    """Linear maps from cells to aggregates.

    ``kind`` names the table of each column (``simple``, ``group``, ``calendar``,
    ``dynamic``, and the overall rows ``group_overall``, ``calendar_overall``,
    ``dynamic_overall``); ``label`` holds the group, period or event time.
    """

    kind: np.ndarray
    label: np.ndarray
    w: np.ndarray  # (GT, A)
    wc: np.ndarray  # (A, n_cohort_codes, GT)
    cohort_codes: np.ndarray  # cohort value of each code (inf = never)


def _wif(
    keep: np.ndarray, pg: np.ndarray, group: np.ndarray, codes: np.ndarray
) -> np.ndarray:
    """R's ``wif`` per cohort code: (n_codes, GT), zero outside ``keep``."""
    out = np.zeros((codes.shape[0], pg.shape[0]))
    if keep.size == 0:
        return out
    s = pg[keep].sum()
    ind = (codes[:, None] == group[keep][None, :]).astype(float) - pg[keep][None, :]
    if1 = ind / s
    if2 = ind.sum(1, keepdims=True) * (pg[keep] / s**2)[None, :]
    out[:, keep] = if1 - if2
    return out


def build_maps(
    group: np.ndarray,
    time: np.ndarray,
    cohort: np.ndarray,
    *,
    min_e: float = -np.inf,
    max_e: float = np.inf,
) -> AggregationMaps:
    """Build the simple, group, calendar and dynamic maps for cells (group, time).

    ``cohort`` is the cohort of every unit (``inf`` never treated); the shares
    ``pg = P(G = g)`` are taken over all units, as in R.
    """
    GT = group.shape[0]
    codes = np.unique(cohort)
    pg_code = np.array([(cohort == c).mean() for c in codes])
    pg = pg_code[np.searchsorted(codes, group)]
    shape = (codes.shape[0], GT)
    e = time - group
    post = (group <= time) & (e <= max_e)
    cols_w: list[np.ndarray] = []
    cols_wc: list[np.ndarray] = []
    kinds: list[str] = []
    labels: list[float] = []

    def add(kind: str, label: float, w: np.ndarray, wc: np.ndarray) -> None:
        kinds.append(kind)
        labels.append(label)
        cols_w.append(w)
        cols_wc.append(wc)

    keep = np.flatnonzero(post)
    w = np.zeros(GT)
    w[keep] = pg[keep] / pg[keep].sum()
    add("simple", np.nan, w, _wif(keep, pg, group, codes))

    glist = np.unique(group)
    wg = np.zeros((GT, glist.shape[0]))
    for j, g in enumerate(glist):
        sel = np.flatnonzero((group == g) & post)
        wg[sel, j] = 1.0 / max(sel.size, 1)
        add("group", g, wg[:, j], np.zeros((codes.shape[0], GT)))
    pgg = pg_code[np.searchsorted(codes, glist)]
    wif_sel = _wif(np.arange(glist.shape[0]), pgg, glist, codes)
    add("group_overall", np.nan, wg @ (pgg / pgg.sum()), wif_sel @ wg.T)

    cal = np.unique(time[time >= group.min()])
    first = len(cols_w)
    for t1 in cal:
        sel = np.flatnonzero((time == t1) & (group <= time))
        w = np.zeros(GT)
        w[sel] = pg[sel] / pg[sel].sum()
        add("calendar", t1, w, _wif(sel, pg, group, codes))
    _overall(add, "calendar_overall", cols_w[first:], cols_wc[first:], shape)

    eseq = np.unique(e)
    eseq = eseq[(eseq >= min_e) & (eseq <= max_e)]
    first = len(cols_w)
    for ev in eseq:
        sel = np.flatnonzero(e == ev)
        w = np.zeros(GT)
        w[sel] = pg[sel] / pg[sel].sum()
        add("dynamic", ev, w, _wif(sel, pg, group, codes))
    pos = [i for i, ev in enumerate(eseq) if ev >= 0]
    _overall(
        add,
        "dynamic_overall",
        [cols_w[first + i] for i in pos],
        [cols_wc[first + i] for i in pos],
        shape,
    )
    return AggregationMaps(
        kind=np.array(kinds),
        label=np.array(labels, dtype=float),
        w=np.column_stack(cols_w),
        wc=np.stack(cols_wc),
        cohort_codes=codes,
    )


def _overall(
    add: Callable[[str, float, np.ndarray, np.ndarray], None],
    kind: str,
    ws: list[np.ndarray],
    wcs: list[np.ndarray],
    shape: tuple[int, int],
) -> None:
    """Equal-weight mean of aggregates (their own weight-IFs included, as in R)."""
    if not ws:  # e.g. no post-treatment event time in the window: undefined
        add(kind, np.nan, np.full(shape[1], np.nan), np.zeros(shape))
        return
    add(kind, np.nan, np.mean(ws, axis=0), np.mean(wcs, axis=0))
