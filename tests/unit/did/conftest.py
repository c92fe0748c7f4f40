"""Simulated staggered panels for the DiD unit tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest


def simulate(
    n: int = 120,
    periods: int = 8,
    k: int = 3,
    seed: int = 0,
    effect: float = 0.5,
    never_share: float = 0.3,
) -> pd.DataFrame:
    """Staggered adoption with unit/period effects, a covariate and k outcomes."""
    rng = np.random.default_rng(seed)
    years = np.arange(2001, 2001 + periods)
    cohorts = np.array([0, *years[2:-1:2]])
    probs = np.r_[
        never_share, np.full(cohorts.size - 1, (1 - never_share) / (cohorts.size - 1))
    ]
    g = rng.choice(cohorts, size=n, p=probs)
    x = rng.normal(size=n) + 0.5 * (g > 0)
    rows = {
        "id": np.repeat(np.arange(n), periods),
        "year": np.tile(years, n),
        "g": np.repeat(g, periods),
        "x": np.repeat(x, periods),
    }
    ui = np.repeat(rng.normal(size=n), periods)
    tt = np.tile(rng.normal(size=periods), n)
    treated = (rows["g"] > 0) & (rows["year"] >= rows["g"])
    for j in range(k):
        trend = 0.1 * rows["x"] * (rows["year"] - 2001)
        e = rng.normal(size=n * periods)
        rows[f"y{j}"] = ui + tt + trend + e + effect * (j + 1) * treated
    return pd.DataFrame(rows)


@pytest.fixture
def sim() -> Callable[..., pd.DataFrame]:
    return simulate
