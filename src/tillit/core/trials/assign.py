"""Randomisation designs: draw assignments that respect the design, from a seed.

One function, :func:`permute_within`, does all of it: given the values a design
assigns to its randomisation units (0/1 treatment, or a crossover period in a
stepped wedge) and optional blocks (strata), it returns ``B`` independent random
re-allocations that keep each block's multiset of values. That is complete
randomisation (one block), stratified randomisation (blocks = strata), cluster
randomisation (units = clusters) and a stepped-wedge rollout (values = crossover
periods), and it is what randomisation inference re-draws under.

Vectorised: one ``argsort`` of ``B x n`` random keys offset by block code.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tillit.core.errors import DataError

__all__ = ["enumerate_complete", "n_allocations", "permute_within", "rollout_values"]


def permute_within(
    values: ArrayLike,
    blocks: ArrayLike | None,
    size: int,
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    """Return ``size x n`` re-allocations of ``values`` permuted within ``blocks``.

    Example
    -------
    >>> rng = np.random.default_rng(1)
    >>> permute_within([1, 1, 0, 0], [0, 0, 1, 1], 2, rng).tolist()
    [[1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]]
    """
    vals = np.asarray(values, dtype=float)
    n = vals.size
    if blocks is None:
        codes = np.zeros(n, dtype=np.int64)
    else:
        _, codes = np.unique(np.asarray(blocks), return_inverse=True)
    by_block = np.argsort(codes, kind="stable")
    sorted_vals = vals[by_block]
    keys = rng.random((size, n)) + codes[None, :]
    slots = np.argsort(keys, axis=1)  # for each draw: units in block order, shuffled
    out = np.empty((size, n))
    np.put_along_axis(out, slots, np.broadcast_to(sorted_vals, (size, n)), axis=1)
    return out


def n_allocations(values: ArrayLike, blocks: ArrayLike | None = None) -> int:
    """Number of distinct allocations :func:`permute_within` can produce."""
    vals = np.asarray(values)
    codes = (
        np.zeros(vals.size, int)
        if blocks is None
        else np.unique(blocks, return_inverse=True)[1]
    )
    total = 1
    for b in np.unique(codes):
        v = vals[codes == b]
        _, counts = np.unique(v, return_counts=True)
        total *= math.factorial(v.size) // math.prod(math.factorial(c) for c in counts)
    return total


def enumerate_complete(values: ArrayLike) -> NDArray[np.float64]:
    """All distinct allocations of a 0/1 vector (complete randomisation), one per row."""
    vals = np.asarray(values, dtype=float)
    n, n1 = vals.size, int(vals.sum())
    if not np.all(np.isin(vals, (0.0, 1.0))):
        raise DataError("exact enumeration needs a 0/1 treatment")
    combos = list(itertools.combinations(range(n), n1))
    out = np.zeros((len(combos), n))
    rows = np.repeat(np.arange(len(combos)), n1)
    out[rows, np.asarray(combos, dtype=np.int64).ravel()] = 1.0
    return out


def rollout_values(
    n_clusters: int, periods: ArrayLike, per_step: ArrayLike | None = None
) -> NDArray[np.float64]:
    """Crossover periods of a stepped wedge: ``per_step[j]`` clusters start at ``periods[j]``.

    Without ``per_step`` the clusters are spread as evenly as possible over the steps.
    """
    steps = np.asarray(periods, dtype=float)
    if per_step is None:
        base, extra = divmod(n_clusters, steps.size)
        counts = np.full(steps.size, base) + (np.arange(steps.size) < extra)
    else:
        counts = np.asarray(per_step, dtype=int)
        if counts.sum() != n_clusters or np.any(counts < 0):
            raise DataError(
                f"per-step counts must be >= 0 and sum to {n_clusters} clusters"
            )
    return np.repeat(steps, counts)
