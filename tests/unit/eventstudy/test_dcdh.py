"""dCDH against the estimator written out group by group, and against CS-DiD where the
two coincide (binary staggered adoption)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tillit.core.did import att_gt
from tillit.core.did.dcdh import dcdh
from tillit.core.errors import EstimationError


def switching(n: int = 60, T: int = 7, seed: int = 0) -> pd.DataFrame:
    """Doses 0-4 that start at a random period, some switching back down."""
    rng = np.random.default_rng(seed)
    rows = []
    for g in range(n):
        base = int(rng.integers(0, 2))
        start = int(rng.choice([2, 3, 4, 5, 99]))
        up = int(rng.integers(1, 4))
        sign = 1 if base == 0 or rng.random() < 0.6 else -1
        for t in range(T):
            d = base + sign * up * (t >= start)
            rows.append((g, 2000 + t, max(d, 0), g % 7))
    df = pd.DataFrame(rows, columns=["g", "t", "d", "c"])
    ui = rng.normal(size=n)[df.g]
    df["y"] = ui + 0.1 * (df.t - 2000) + 0.4 * df.d + rng.normal(size=len(df))
    df["y2"] = 2 * df["y"] + rng.normal(size=len(df))
    return df


def loop_did(df: pd.DataFrame, ell: int, placebo: bool = False) -> float:
    """DID_l of dCDH (2024) eq. 3-4 by loops over switchers."""
    wide_y = df.pivot(index="g", columns="t", values="y")
    wide_d = df.pivot(index="g", columns="t", values="d").to_numpy()
    y = wide_y.to_numpy()
    T = y.shape[1]
    d1 = wide_d[:, 0]
    f = np.array(
        [next((t for t in range(T) if wide_d[i, t] != d1[i]), T) for i in range(len(y))]
    )
    both = [
        (wide_d[i] > d1[i]).any() and (wide_d[i] < d1[i]).any() for i in range(len(y))
    ]
    num, n_l = 0.0, 0
    for i in range(len(y)):
        if f[i] == T or both[i]:
            continue
        t = f[i] - 1 + ell
        base = f[i] - 1
        if t >= T or (placebo and base - ell < 0):
            continue
        ctrl = [j for j in range(len(y)) if f[j] > t and d1[j] == d1[i] and not both[j]]
        if not ctrl:
            continue
        s = np.sign(wide_d[i, f[i]] - d1[i])
        if placebo:
            dy = y[i, base - ell] - y[i, base]
            dc = np.mean([y[j, base - ell] - y[j, base] for j in ctrl])
        else:
            dy = y[i, t] - y[i, base]
            dc = np.mean([y[j, t] - y[j, base] for j in ctrl])
        num += s * (dy - dc)
        n_l += 1
    return num / n_l


def test_effects_and_placebos_equal_the_loop() -> None:
    df = switching()
    res = dcdh(
        df, outcomes=["y"], unit="g", time="t", treatment="d", effects=3, placebo=2
    )
    ev = res["y"].event
    for e, b in zip(ev.labels["event_time"], ev.estimate, strict=True):
        assert b == pytest.approx(loop_did(df, abs(int(e)), e < 0), abs=1e-12), e


def test_binary_staggered_equals_callaway_santanna_not_yet() -> None:
    rng = np.random.default_rng(4)
    n, T = 80, 7
    g = rng.choice([2003, 2004, 2005, 0], n)
    df = pd.DataFrame(
        {
            "id": np.repeat(np.arange(n), T),
            "year": np.tile(np.arange(2000, 2000 + T), n),
        }
    )
    df["g"] = g[df.id]
    df["d"] = ((df.g > 0) & (df.year >= df.g)).astype(float)
    df["y"] = (
        rng.normal(size=n)[df.id]
        + rng.normal(size=len(df))
        + df.d * (1 + 0.2 * (df.year - df.g))
    )
    dc = dcdh(df, outcomes=["y"], unit="id", time="year", treatment="d", effects=3)
    cs = att_gt(df, outcomes=["y"], unit="id", time="year", cohort="g", control="notyet",
                base_period="universal", honest=False, compare_controls=False)  # fmt: skip
    dyn = cs["y"].dynamic
    for ell, b in zip(
        dc["y"].event.labels["event_time"], dc["y"].event.estimate, strict=True
    ):
        i = int(np.flatnonzero(dyn.labels["event_time"] == ell - 1)[0])
        assert b == pytest.approx(dyn.estimate[i], abs=1e-12)


def test_many_outcomes_weights_normalised_and_honest() -> None:
    df = switching(seed=3)
    df["w"] = 1.0 + (df.g % 3)
    kw = {
        "unit": "g",
        "time": "t",
        "treatment": "d",
        "effects": 2,
        "placebo": 2,
        "weight": "w",
        "cluster": "c",
    }
    both = dcdh(df, outcomes=["y", "y2"], **kw)
    one = dcdh(df, outcomes=["y2"], **kw)
    np.testing.assert_allclose(
        both["y2"].event.estimate, one["y2"].event.estimate, atol=1e-12
    )
    np.testing.assert_allclose(both["y2"].vcov, one["y2"].vcov, atol=1e-12)
    assert both.n_clusters == 7
    norm = dcdh(df, outcomes=["y"], normalized=True, **kw)["y"]
    assert norm.event.estimate[-1] == pytest.approx(
        0.4, abs=0.25
    )  # 0.4 per unit of dose
    h = dcdh(df, outcomes=["y"], **kw).honest(m_grid=[0.0])
    assert h.num_pre_periods == 2 and h.num_post_periods == 2


def test_weights_scale_free_and_bad_input() -> None:
    df = switching(seed=5)
    df["w"] = 3.0
    a = dcdh(df, outcomes=["y"], unit="g", time="t", treatment="d", effects=2)["y"]
    b = dcdh(
        df, outcomes=["y"], unit="g", time="t", treatment="d", effects=2, weight="w"
    )["y"]
    np.testing.assert_allclose(a.event.estimate, b.event.estimate, atol=1e-12)
    np.testing.assert_allclose(a.event.se, b.event.se, rtol=1e-12)
    with pytest.raises(EstimationError, match="effects"):
        dcdh(df, outcomes=["y"], unit="g", time="t", treatment="d", effects=1000)
    df["d"] = 1.0
    with pytest.raises(EstimationError):
        dcdh(df, outcomes=["y"], unit="g", time="t", treatment="d")
