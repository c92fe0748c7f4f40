"""Indicator panels with planted truth, for tests, benchmarks and the demo.

:func:`random_panel` draws independent indicators from the one-way random-effects model
of :mod:`~tillit.core.audit.reliability` (plus an indicator-specific national trend).
:func:`planted_panel` builds a small audit problem where the right answer is known:
unreliable, redundant, valid and gamed indicators among clean ones, a criterion, and a
matching burden inventory.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tillit.core.audit.gaming import Target
from tillit.core.audit.panel import IndicatorPanel
from tillit.core.audit.template import REQUIRED_COLUMNS

__all__ = ["planted_inventory", "planted_panel", "random_panel"]


def random_panel(
    n_indicators: int,
    n_units: int = 290,
    n_years: int = 20,
    *,
    icc: float | np.ndarray = 0.5,
    seed: int | np.random.Generator | None = None,
    missing: float = 0.0,
    trend_sd: float = 0.2,
) -> IndicatorPanel:
    """Independent indicators ``y = 50 + 10 (sqrt(icc) b_u + sqrt(1 - icc) e_ut + g_t)``.

    ``g_t`` is a national trend per indicator: a linear slope (SD ``trend_sd`` per year)
    plus independent year shocks (SD 0.1); ``missing`` is the share of values set to
    NaN at random.
    """
    rng = np.random.default_rng(seed)
    rho = np.broadcast_to(np.asarray(icc, float), (n_indicators,))[:, None, None]
    b = rng.standard_normal((n_indicators, n_units, 1))
    e = rng.standard_normal((n_indicators, n_units, n_years))
    t = np.arange(n_years) - (n_years - 1) / 2
    slope = rng.standard_normal((n_indicators, 1, 1)) * trend_sd
    g = slope * t + 0.1 * rng.standard_normal((n_indicators, 1, n_years))
    x = 50.0 + 10.0 * (np.sqrt(rho) * b + np.sqrt(1 - rho) * e + g)
    if missing > 0:
        x[rng.random(x.shape) < missing] = np.nan
    return IndicatorPanel.from_array(x, years=list(range(2000, 2000 + n_years)))


def planted_panel(
    seed: int | None = 0,
    n_units: int = 290,
    n_years: int = 20,
    n_clean: int = 6,
    *,
    target_year: int = 2010,
    threshold: float = 90.0,
) -> tuple[IndicatorPanel, dict[str, Any]]:
    """A panel where the audit's answer is known.

    Indicators: ``clean_1..n`` (ICC 0.5, unrelated to anything), ``noise`` (ICC 0.02),
    ``dup_a``/``dup_b`` (the same signal, r about 0.97), ``valid`` (drives the criterion
    ``satisfaction`` between and within municipalities), ``gamed`` (a share indicator
    with a target of ``threshold`` from ``target_year``: values just short of it are
    reported as exactly the threshold). Returns the panel and the truth.
    """
    rng = np.random.default_rng(seed)
    years = list(range(2000, 2000 + n_years))
    shape = (n_units, n_years)

    def ind(icc: float, b: np.ndarray | None = None) -> np.ndarray:
        bb = rng.standard_normal((n_units, 1)) if b is None else b
        out: np.ndarray = np.sqrt(icc) * bb + np.sqrt(1 - icc) * rng.standard_normal(
            shape
        )
        return out

    series: dict[str, np.ndarray] = {}
    for k in range(1, n_clean + 1):
        series[f"clean_{k}"] = 50 + 10 * ind(0.5)
    series["noise"] = 50 + 10 * ind(0.02)
    base = ind(0.6)
    series["dup_a"] = 20 + 5 * base
    series["dup_b"] = 40 + 8 * (base + 0.25 * rng.standard_normal(shape))
    bv = rng.standard_normal((n_units, 1))
    ev = rng.standard_normal(shape)
    series["valid"] = 60 + 10 * (np.sqrt(0.5) * bv + np.sqrt(0.5) * ev)
    crit = 0.6 * bv + 0.4 * ev + 0.7 * rng.standard_normal(shape)
    series["satisfaction"] = 70 + 5 * crit
    gam = np.round(85 + 6 * ind(0.5))
    post = np.asarray(years)[None, :] >= target_year
    short = (gam >= threshold - 3) & (gam < threshold) & post
    gam[short & (rng.random(shape) < 0.7)] = threshold
    series["gamed"] = gam
    names = list(series)
    arr = np.stack([series[k] for k in names])
    panel = IndicatorPanel.from_array(
        arr, names, [f"{u:04d}" for u in range(1, n_units + 1)], years
    )
    truth = {
        "clean": [f"clean_{k}" for k in range(1, n_clean + 1)],
        "unreliable": ["noise"],
        "redundant": ["dup_a", "dup_b"],
        "valid": ["valid"],
        "gamed": ["gamed"],
        "criteria": ["satisfaction"],
        "targets": [Target("gamed", threshold, target_year, "above")],
    }
    return panel, truth


def planted_inventory() -> pd.DataFrame:
    """A burden inventory linked to :func:`planted_panel`'s indicators (raw strings)."""
    rows = [
        (
            "R01",
            "Noise log",
            "state",
            "assistant nurse",
            "all",
            52,
            15,
            40,
            420,
            "noise",
            "safety",
        ),
        (
            "R02",
            "Duplicate report A",
            "region",
            "nurse",
            "all",
            12,
            60,
            10,
            520,
            "dup_a",
            "continuity",
        ),
        (
            "R03",
            "Duplicate report B",
            "municipal_board",
            "nurse",
            "all",
            12,
            45,
            10,
            520,
            "dup_b",
            "continuity",
        ),
        (
            "R04",
            "Valid measure",
            "municipal_board",
            "unit manager",
            "all",
            4,
            120,
            5,
            650,
            "valid",
            "user experience",
        ),
        (
            "R05",
            "Target report",
            "purchaser",
            "unit manager",
            "all",
            12,
            30,
            5,
            650,
            "gamed",
            "timeliness",
        ),
        (
            "R06",
            "Clean measure",
            "state",
            "nurse",
            "all",
            1,
            60,
            10,
            520,
            "clean_1;clean_2",
            "clinical quality",
        ),
        (
            "R07",
            "Medication deviation log",
            "state",
            "nurse",
            "all",
            365,
            5,
            8,
            520,
            "",
            "medication safety",
        ),
    ]
    cols = [*REQUIRED_COLUMNS, "indicator_ids", "dimension"]
    return pd.DataFrame(rows, columns=cols).astype(str)
