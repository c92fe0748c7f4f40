"""Placebo assignments of synthetic DiD that move whole clusters (synthdid #121).

With units inside clusters (municipalities in counties), a placebo replicate that
treats single controls ignores that treatment came to a cluster and that outcomes
co-move within it.  As Stata ``sdid``'s ``cluster()`` with ``vce(placebo)``
(Clarke, Pailañir, Athey & Imbens 2023), the clusters that contain a treated unit are
left out of the placebo pool, and each treated cluster's pattern is given to a
distinct never-treated cluster drawn at random: as many of its units as the treated
cluster has treated units, at each of their starts, the rest of the placebo cluster
staying a control.  Stata copies the pattern by position and needs clusters of equal
size; here the placebo cluster's treated units are drawn at random within it, so
clusters may differ in size (a draw is redrawn when a cluster is too small for the
pattern it drew).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tillit.core.errors import EstimationError

__all__ = ["ClusterPlacebo", "cluster_groups"]


def cluster_groups(codes: np.ndarray) -> list[np.ndarray]:
    """Positions of each cluster's members, clusters in order of first appearance."""
    _, first, inv = np.unique(codes, return_index=True, return_inverse=True)
    order = np.argsort(first)
    return [np.flatnonzero(inv == g) for g in order]


@dataclass(frozen=True, eq=False)
class ClusterPlacebo:
    """Random whole-cluster placebo assignments.

    Attributes
    ----------
    pool
        Panel rows of the never-treated clusters' units (the placebo pool).
    groups
        Each pool cluster's positions in ``pool``.
    patterns
        One row per treated cluster: how many treated units it has in each cohort.
    """

    pool: np.ndarray
    groups: list[np.ndarray]
    patterns: np.ndarray

    @classmethod
    def build(
        cls, codes: np.ndarray, controls: np.ndarray, cohorts: list[np.ndarray]
    ) -> ClusterPlacebo:
        """From every panel row's cluster code, the control rows and each cohort's rows."""
        treated = np.concatenate(cohorts)
        tclusters = list(dict.fromkeys(codes[treated].tolist()))
        pool = controls[~np.isin(codes[controls], tclusters)]
        groups = cluster_groups(codes[pool])
        patterns = np.array(
            [[int(np.sum(codes[rows] == c)) for rows in cohorts] for c in tclusters]
        )
        if len(groups) < len(patterns):
            raise EstimationError(
                f"cluster placebo needs at least as many never-treated clusters "
                f"({len(groups)}) as treated clusters ({len(patterns)})"
            )
        if len(pool) - int(patterns.sum()) < 2:
            raise EstimationError("cluster placebo leaves fewer than two controls")
        need = np.sort(patterns.sum(axis=1))[::-1]
        have = np.sort([len(g) for g in groups])[::-1][: len(need)]
        if np.any(have < need):
            raise EstimationError(
                "cluster placebo: the never-treated clusters are too small to take the "
                "treated clusters' numbers of treated units"
            )
        return cls(pool, groups, patterns)

    def draw(self, rng: np.random.Generator) -> tuple[np.ndarray, list[np.ndarray]]:
        """One assignment: the replicate's control rows and each cohort's placebo rows."""
        sizes = np.array([len(g) for g in self.groups])
        need = self.patterns.sum(axis=1)
        for _ in range(10_000):
            pick = rng.permutation(len(self.groups))[: len(need)]
            if np.all(sizes[pick] >= need):
                break
        else:  # pragma: no cover - build() checked that an assignment exists
            raise EstimationError("cluster placebo: no assignment fits the clusters")
        cohorts: list[list[int]] = [[] for _ in range(self.patterns.shape[1])]
        for g, counts in zip(pick, self.patterns, strict=True):
            members = rng.permutation(self.groups[g])
            at = 0
            for k, c in enumerate(counts):
                cohorts[k].extend(members[at : at + c].tolist())
                at += int(c)
        fake = [self.pool[np.sort(np.array(c, dtype=int))] for c in cohorts]
        controls = np.setdiff1d(self.pool, np.concatenate(fake))
        return controls, fake
