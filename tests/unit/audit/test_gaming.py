"""Gaming: bunching and level shifts find what was planted, and not what was not."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tillit.core.audit import Target, bunching, level_shift, parse_target, random_panel
from tillit.core.errors import DataError

BOUND = 0.05 + 2.33 * math.sqrt(0.05 * 0.95 / 200)  # 5% + one-sided 99% binomial margin


def test_parse_target() -> None:
    assert parse_target("U21468=90:2015") == Target("U21468", 90.0, 2015, "above")
    assert parse_target("X>=1.5") == Target("X", 1.5, None, "above")
    assert parse_target("W<=30:2012") == Target("W", 30.0, 2012, "below")
    for bad in ("nothing", "=5", "X=high", "X=5:soon", "X=nan"):
        with pytest.raises(DataError) as exc:
            parse_target(bad)
        assert exc.value.field == "target"


def _gamed(
    x: np.ndarray, threshold: float, below: float, share: float, seed: int
) -> np.ndarray:
    """Report values within ``below`` short of the threshold as the threshold."""
    rng = np.random.default_rng(seed)
    y = x.copy()
    short = (y >= threshold - below) & (y < threshold) & (rng.random(y.shape) < share)
    y[short] = threshold
    return y


def test_bunching_finds_planted_excess_mass() -> None:
    x = np.round(random_panel(1, 290, 10, seed=1).values[0])
    y = _gamed(x, 60.0, 3.0, 0.5, seed=2)
    b = bunching(y, 60.0)
    planted = float(((y == 60) & (x != 60)).sum())
    assert b["p_value"] < 1e-6
    # the estimate is close to the planted number of moved values
    assert b["excess"] == pytest.approx(planted, rel=0.35)
    assert b["bin_width"] == float(round(b["bin_width"]))  # integer data, integer bins
    assert b["counts"].sum() <= np.isfinite(y).sum()
    assert len(b["edges"]) == len(b["counts"]) + 1


def test_bunching_below_direction() -> None:
    x = np.round(random_panel(1, 290, 10, seed=3).values[0])
    rng = np.random.default_rng(4)
    y = x.copy()
    over = (y > 40) & (y <= 43) & (rng.random(y.shape) < 0.5)  # "at most 40" target
    y[over] = 40
    b = bunching(y, 40.0, direction="below")
    assert b["p_value"] < 1e-6 and b["excess"] > 0
    assert bunching(y, 40.0, direction="above")["excess"] < b["excess"]
    assert np.all(np.diff(b["edges"]) > 0)
    with pytest.raises(DataError):
        bunching(y, 40.0, direction="sideways")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("rounded", "threshold"), [(False, 50.0), (False, 58.0), (True, 50.0), (True, 63.0)]
)
def test_bunching_false_positive_rate_over_200_seeds(
    rounded: bool, threshold: float
) -> None:
    """200 clean indicators (one per seed): the excess-mass test rejects at <= 5% + margin."""
    vals = random_panel(200, 290, 20, icc=0.5, seed=int(threshold) + rounded).values
    if rounded:
        vals = np.round(vals)
    p = np.array([bunching(v, threshold)["p_value"] for v in vals])
    assert np.isfinite(p).all()
    assert (p < 0.05).mean() <= BOUND


@pytest.mark.slow
def test_level_shift_null_rate_and_power() -> None:
    p = random_panel(210, 290, 20, icc=0.5, seed=9)
    controls = list(range(200, 210))
    null = np.array(
        [
            level_shift(p.values, p.years, i, controls, 2010)["p_value"]
            for i in range(200)
        ]
    )
    assert (null < 0.05).mean() <= BOUND
    x = p.values.copy()
    x[:200, :, 10:] += 4.0  # a 0.4 within-SD (~0.3 total SD) jump at 2010
    hit = np.array(
        [level_shift(x, p.years, i, controls, 2010) for i in range(20)], dtype=object
    )
    assert np.mean([h["p_value"] < 0.05 for h in hit]) > 0.8
    sd = np.nanstd(x[:20].reshape(20, -1), axis=1)
    est = np.array([h["shift_sd"] for h in hit], float)
    assert np.mean(est * sd) == pytest.approx(
        4.0, rel=0.25
    )  # back in the indicator's units


def test_level_shift_needs_years_on_both_sides() -> None:
    p = random_panel(3, 30, 6, seed=1)
    r = level_shift(p.values, p.years, 0, [1, 2], p.years[1])
    assert math.isnan(r["p_value"]) and r["n_years"] == 0


def test_too_few_values_give_nan() -> None:
    b = bunching(np.full((3, 4), 5.0), 5.0)
    assert math.isnan(b["p_value"]) and b["n"] == 12


def test_bunching_matches_explicit_polynomial_fit_and_unit_loop() -> None:
    x = np.round(random_panel(1, 80, 6, seed=5).values[0], 1)
    c, h, nb, deg = 52.0, 1.5, 10, 4
    b = bunching(x, c, bin_width=h, bins_each_side=nb, degree=deg)
    edges = c + h * np.arange(-nb, nb + 1)
    counts, _ = np.histogram(x[np.isfinite(x)], bins=edges)
    assert np.array_equal(b["counts"], counts)
    k = np.arange(-nb, nb)
    xs = (k + 0.5) / nb
    out = (k < -1) | (k >= 1)
    coef = np.polyfit(xs[out], counts[out], deg)
    assert b["excess"] == pytest.approx(
        counts[k == 0][0] - np.polyval(coef, xs[k == 0])[0]
    )
    # cluster-robust SE: excess recomputed from each municipality's own histogram
    contrib = []
    for row in x:
        cu, _ = np.histogram(row[np.isfinite(row)], bins=edges)
        cf = np.polyfit(xs[out], cu[out], deg)
        contrib.append(cu[k == 0][0] - np.polyval(cf, xs[k == 0])[0])
    contrib = np.asarray(contrib)
    g = len(contrib)
    se = math.sqrt(g / (g - 1) * ((contrib - contrib.mean()) ** 2).sum())
    assert contrib.sum() == pytest.approx(b["excess"])
    assert b["se"] == pytest.approx(se)
