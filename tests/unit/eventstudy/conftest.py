"""Small staggered panels for the event-study unit tests."""

from __future__ import annotations

import numpy as np
import pandas as pd


def staggered(
    n: int = 40,
    periods: int = 7,
    k: int = 2,
    seed: int = 0,
    never: bool = True,
    unbalanced: bool = False,
) -> pd.DataFrame:
    """Staggered adoption with dynamic effects, weights, states and k outcomes."""
    rng = np.random.default_rng(seed)
    years = np.arange(2001, 2001 + periods)
    cohorts = [2003, 2005, 2006] + ([0] if never else [])
    g = rng.choice(cohorts, size=n)
    rows = pd.DataFrame(
        {
            "id": np.repeat(np.arange(n), periods),
            "year": np.tile(years, n),
            "g": np.repeat(g, periods),
            "state": np.repeat(np.arange(n) % 9, periods),
            "pop": np.repeat(rng.integers(1, 5, n), periods).astype(float),
        }
    )
    rel = np.where(rows.g > 0, rows.year - rows.g, -99)
    ui = np.repeat(rng.normal(size=n), periods)
    for j in range(k):
        eff = np.where(
            rel >= 0, (j + 1) * (0.5 + 0.2 * rel) * (1 + (rows.g == 2005)), 0
        )
        rows[f"y{j}"] = (
            ui + 0.3 * rows.year.to_numpy() + rng.normal(size=len(rows)) + eff
        )
    if unbalanced:
        rows = rows.drop(rng.choice(len(rows), size=len(rows) // 10, replace=False))
    return rows.reset_index(drop=True)
