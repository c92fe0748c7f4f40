"""Inference from influence functions: analytic and multiplier-bootstrap errors, uniform bands.

Conventions follow R's ``did`` (``getSE`` and ``mboot``):

* analytic: ``se = sqrt(sum_c (sum_{i in c} inf_i)^2) / n`` with clusters ``c`` (units by
  default, which gives R's ``sqrt(mean(inf^2) / n)``);
* bootstrap: ``b = V @ S / n`` with one multiplier per cluster (Mammen's two-point weights by
  default, as R; Rademacher optional), standard error from the interquartile range
  ``(q75 - q25) / (z75 - z25)`` and the uniform (sup-t) critical value as the ``level``
  quantile of ``max_j |b_j / se_j|`` over the estimates of one table.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy import special

__all__ = [
    "Draws",
    "adjust_pvalues",
    "analytic_se",
    "bootstrap_se",
    "cluster_sums",
    "multipliers",
    "romano_wolf",
    "uniform_crit",
]

_TINY = np.sqrt(np.finfo(float).eps) * 10


def cluster_sums(inf: np.ndarray, cluster: np.ndarray | None) -> np.ndarray:
    """Sum an (n, ...) influence array within clusters (identity when ``cluster`` is None)."""
    if cluster is None:
        return inf
    n_c = int(cluster.max()) + 1
    out = np.zeros((n_c, *inf.shape[1:]))
    np.add.at(out, cluster, inf)
    return out


def analytic_se(sums: np.ndarray, n: int) -> np.ndarray:
    """Standard errors from cluster sums of influence functions (first axis)."""
    se = np.sqrt(np.einsum("c...,c...->...", sums, sums)) / n
    return np.where(se <= _TINY, np.nan, se)


def multipliers(
    n_clusters: int,
    reps: int,
    rng: np.random.Generator,
    kind: str = "mammen",
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Draw a (reps, n_clusters) matrix of mean-zero, variance-one multipliers.

    Mammen's two-point weights (R ``did``'s default) or Rademacher signs, both from
    one uniform per entry in row-major order, so drawing the rows in consecutive
    chunks gives the same matrix as drawing them at once.
    """
    u = rng.random((reps, n_clusters), out=out)
    if kind == "rademacher":
        lo, hi, p_lo = -1.0, 1.0, 0.5
    else:
        s5 = np.sqrt(5.0)
        lo, hi = -(s5 - 1) / 2, (s5 + 1) / 2
        p_lo = (s5 + 1) / (2 * s5)
    np.less(u, p_lo, out=u)  # 1.0 where the low value is drawn, else 0.0
    u *= lo - hi
    u += hi  # exact: hi + (lo - hi) == lo for both weight pairs
    return u


_CHUNK_BYTES = 4 * 2**20


@dataclass(frozen=True, eq=False)
class Draws:
    """Multiplier-bootstrap draws, generated in cache-sized chunks of repetitions.

    The draws are never held whole: :meth:`chunks` regenerates them from the saved
    generator state, a block of repetitions at a time, identically on every call.
    Column ``j`` of a chunk is the multiplier of cluster ``order[j]`` (of unit
    ``order[j]`` when not clustered); clusters are ordered by the earliest cohort
    among their units (stably), so without clustering the units of one cohort own one
    contiguous block of columns and are read as a view.  The draws are iid, so the
    order only decides which seeded draw a cluster gets.
    """

    reps: int
    kind: str
    state: dict[str, object]  # bit-generator state at the first draw
    order: np.ndarray  # cluster of each column
    pos: np.ndarray  # column of each cluster
    key: np.ndarray  # cohort key of each column (sorted)

    @classmethod
    def build(
        cls,
        rng: np.random.Generator,
        reps: int,
        kind: str,
        cohort: np.ndarray,
        cluster: np.ndarray | None,
    ) -> Draws:
        """Draws for units of ``cohort`` nested in ``cluster`` (codes), from ``rng``."""
        if cluster is None:
            key = np.asarray(cohort, dtype=float)
        else:
            key = np.full(int(cluster.max()) + 1, np.inf)
            np.minimum.at(key, cluster, cohort)
        order = np.argsort(key, kind="stable")
        pos = np.empty_like(order)
        pos[order] = np.arange(order.size)
        return cls(reps, kind, dict(rng.bit_generator.state), order, pos, key[order])

    @property
    def n_clusters(self) -> int:
        """Number of columns (clusters or units)."""
        return int(self.order.size)

    def chunks(self) -> Iterator[tuple[slice, np.ndarray]]:
        """Yield ``(rows, v)``: a block of repetitions and its (rows, clusters) draws.

        ``v`` is a reused buffer, overwritten by the next chunk: copy what you keep.
        """
        bg = getattr(np.random, str(self.state["bit_generator"]))()
        bg.state = self.state
        rng = np.random.Generator(bg)
        step = max(1, _CHUNK_BYTES // (8 * max(self.n_clusters, 1)))
        buf = np.empty((min(step, self.reps), self.n_clusters))
        for s in range(0, self.reps, step):
            e = min(s + step, self.reps)
            v = multipliers(self.n_clusters, e - s, rng, self.kind, out=buf[: e - s])
            yield slice(s, e), v

    def by_cluster(self) -> np.ndarray:
        """All draws as one (B, n_clusters) matrix in cluster-code order."""
        out = np.empty((self.reps, self.n_clusters))
        for rows, v in self.chunks():
            out[rows] = v[:, self.pos]
        return out

    def block(self, cohort_value: float) -> tuple[slice, np.ndarray]:
        """Columns (a slice) and units of one cohort, for unit-level draws."""
        a = int(np.searchsorted(self.key, cohort_value, side="left"))
        b = int(np.searchsorted(self.key, cohort_value, side="right"))
        return slice(a, b), self.order[a:b]


_NORMAL_IQR = float(special.ndtri(0.75) - special.ndtri(0.25))


def _inverted_cdf_index(n: int, q: float) -> int:
    """Order statistic (0-based) of the ``q`` quantile, R's ``type = 1``."""
    return max(math.ceil(n * q) - 1, 0)


def bootstrap_se(draws: np.ndarray) -> np.ndarray:
    """Robust bootstrap standard error per column (R's ``mboot``: IQR / normal IQR).

    Quartiles are R's ``quantile(type = 1)`` (numpy's ``inverted_cdf``), read from one
    sort of the transposed draws (faster than two selections down strided columns);
    a column with a NaN draw gets NaN.
    """
    n = draws.shape[0]
    flat = draws.reshape(n, -1)
    srt = np.sort(flat.T, axis=1)
    iqr = srt[:, _inverted_cdf_index(n, 0.75)] - srt[:, _inverted_cdf_index(n, 0.25)]
    iqr[np.isnan(srt[:, -1])] = np.nan  # NaN sorts last
    se = (iqr / _NORMAL_IQR).reshape(draws.shape[1:])
    return np.where(se <= _TINY, np.nan, se)


def uniform_crit(draws: np.ndarray, se: np.ndarray, level: float) -> np.ndarray:
    """Sup-t critical values over the rows of a table.

    ``draws`` is (reps, m, ...) and ``se`` (m, ...); returns one value per trailing index
    (NaN where no row has a finite ``se``).
    """
    ok = np.isfinite(se)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(ok, np.abs(draws / np.where(ok, se, 1.0)), 0.0)
    crit = np.quantile(t.max(axis=1), level, axis=0, method="inverted_cdf")
    return np.where(ok.any(axis=0), crit, np.nan)


def adjust_pvalues(p: np.ndarray) -> dict[str, np.ndarray]:
    """Holm and Benjamini-Hochberg adjusted p-values (NaN entries are left out)."""
    holm = np.full(p.shape, np.nan)
    bh = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    m = ok.size
    if m:
        order = ok[np.argsort(p[ok], kind="stable")]
        ps = p[order]
        holm[order] = np.minimum(np.maximum.accumulate((m - np.arange(m)) * ps), 1.0)
        raw = ps * m / np.arange(1, m + 1)
        bh[order] = np.minimum(np.minimum.accumulate(raw[::-1])[::-1], 1.0)
    return {"holm": holm, "bh": bh}


def romano_wolf(t_obs: np.ndarray, t_boot: np.ndarray) -> np.ndarray:
    """Romano-Wolf stepdown p-values from bootstrap t-statistics.

    Parameters
    ----------
    t_obs
        Observed |t| statistics, shape (m,).
    t_boot
        Bootstrap t-statistics centred at zero, shape (reps, m), from the same draws for
        all hypotheses (so their dependence is kept).
    """
    p = np.full(t_obs.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(t_obs) & np.all(np.isfinite(t_boot), axis=0))
    if ok.size == 0:
        return p
    order = ok[np.argsort(-np.abs(t_obs[ok]), kind="stable")]
    a = np.abs(t_boot[:, order])
    # running max over the hypotheses not yet rejected: suffix maxima
    suffix_max = np.maximum.accumulate(a[:, ::-1], axis=1)[:, ::-1]
    raw = (suffix_max >= np.abs(t_obs[order])[None, :]).mean(axis=0)
    p[order] = np.maximum.accumulate(raw)
    return p
