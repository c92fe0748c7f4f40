from __future__ import annotations

import itertools
import statistics

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tillit.core.errors import DataError
from tillit.core.survey import (
    STAFF,
    Question,
    ReleaseAuditor,
    group_indices,
    scale_scores,
    suppress,
)


def test_scale_scores_reverse_coding_and_half_rule() -> None:
    ans = pd.DataFrame(
        {
            "unit": ["a", "a", "b"],
            "tm1": [5, 4, np.nan],
            "tm2": [3, np.nan, np.nan],
            "tm3": [1, np.nan, 2],  # reverse coded: 1 -> 5
        }
    )
    s = scale_scores(ans, STAFF)
    assert s.loc[0, "trust_manager"] == pytest.approx((5 + 3 + 5) / 3)
    # respondent 1 answered 1 of 3 items: fewer than half -> no score
    assert np.isnan(s.loc[1, "trust_manager"])
    assert np.isnan(s.loc[2, "trust_manager"])
    assert "unit" in s.columns and "tm1" not in s.columns


def test_invalid_likert_names_row_and_question() -> None:
    ans = pd.DataFrame({"tm1": [5, 7], "tm2": [3, 3]})
    with pytest.raises(DataError, match=r"row 2.*tm1"):
        scale_scores(ans, STAFF)


def test_group_indices_match_slow_computation() -> None:
    rng = np.random.default_rng(1)
    df = pd.DataFrame(
        {
            "unit": rng.choice(["x", "y", "z"], 60),
            "s1": rng.normal(3, 1, 60),
            "s2": rng.normal(4, 0.5, 60),
        }
    )
    df.loc[3, "s1"] = np.nan
    res = group_indices(df, ["unit"], ["s1", "s2"]).set_index(["unit", "scale"])
    for (u, sc), row in res.iterrows():
        vals = df.loc[df.unit == u, sc].dropna().tolist()
        m, sd = statistics.fmean(vals), statistics.stdev(vals)
        half = stats.t.ppf(0.975, len(vals) - 1) * sd / len(vals) ** 0.5
        assert row["n"] == len(vals)
        assert row["mean"] == pytest.approx(m, rel=1e-12)
        assert row["ci_low"] == pytest.approx(m - half, rel=1e-12)
        assert row["ci_high"] == pytest.approx(m + half, rel=1e-12)


def test_suppress_threshold_and_complementary() -> None:
    t = pd.DataFrame(
        {
            "org": ["A"] * 4 + ["B"] * 2,
            "unit": ["u1", "u2", "u3", "u4", "v1", "v2"],
            "n": [3, 12, 8, 20, 6, 7],
            "mean": [4.1, 3.2, 3.9, 3.0, 2.5, 2.8],
        }
    )
    plain = suppress(t)
    assert plain["suppressed"].tolist() == [True, False, False, False, False, False]
    assert plain["mean"].isna().tolist() == [True, False, False, False, False, False]
    comp = suppress(t, parent=["org"], child="unit")
    # u1 alone would be recoverable from the org total: the smallest other (u3) goes too
    assert comp["suppressed"].tolist() == [True, False, True, False, False, False]
    assert "subtraction" in comp.loc[2, "reason"]
    with pytest.raises(DataError):
        suppress(t, k=0)


def test_auditor_refuses_differencing_by_one_person() -> None:
    aud = ReleaseAuditor(k=5)
    staff = [f"r{i}" for i in range(12)]
    assert aud.release(staff[:10]).allowed
    # the same group plus one person would reveal that person by subtraction
    d = aud.release(staff[:11])
    assert not d.allowed and "fewer than 5" in d.reason
    assert not aud.release(staff[:4]).allowed
    assert aud.release(staff[:10]).allowed  # re-asking the same group is fine


def _exposed_bruteforce(sets: list[frozenset[int]], universe: list[int]) -> set[int]:
    m = np.array([[1.0 if u in s else 0.0 for u in universe] for s in sets])
    r = np.linalg.matrix_rank(m)
    out = set()
    for i, u in enumerate(universe):
        e = np.zeros(len(universe))
        e[i] = 1
        if np.linalg.matrix_rank(np.vstack([m, e])) == r:
            out.add(u)
    return out


@pytest.mark.parametrize("seed", range(25))
def test_no_sequence_of_allowed_releases_reveals_anyone(seed: int) -> None:
    """An attacker asks for many random overlapping groups; whatever the auditor lets
    through, no single respondent's answer is a linear combination of the released sums."""
    rng = np.random.default_rng(seed)
    universe = list(range(14))
    aud = ReleaseAuditor(k=3)
    allowed: list[frozenset[int]] = []
    for _ in range(40):
        size = int(rng.integers(3, 12))
        s = frozenset(rng.choice(universe, size, replace=False).tolist())
        if aud.release(s).allowed and s not in allowed:
            allowed.append(s)
    assert allowed, "the auditor should allow some groups"
    assert _exposed_bruteforce(allowed, universe) == set()


def test_exhaustive_attack_on_tiny_population() -> None:
    universe = list(range(7))
    aud = ReleaseAuditor(k=3)
    allowed = [
        frozenset(c)
        for r in range(1, 8)
        for c in itertools.combinations(universe, r)
        if aud.release(c).allowed
    ]
    assert _exposed_bruteforce(allowed, universe) == set()


def test_instrument_extension_is_versioned() -> None:
    ext = STAFF.extend(
        [Question("own1", "own", "likert", "Egen fråga", "Own question")]
    )
    assert ext.version == STAFF.version + 1
    assert ext.question("own1").sv == "Egen fråga"
    with pytest.raises(DataError):
        STAFF.extend([Question("tm1", "x", "likert", "a", "b")])


def test_auditor_refuses_exposure_by_combining_three_groups() -> None:
    """Each pair differs by >= k people, yet C - A - B is one person: refused."""
    aud = ReleaseAuditor(k=3)
    assert aud.release({0, 1, 2}).allowed
    assert aud.release({3, 4, 5}).allowed
    d = aud.release({0, 1, 2, 3, 4, 5, 6})
    assert not d.allowed and "reveal an individual" in d.reason
    assert _exposed_bruteforce(
        [frozenset({0, 1, 2}), frozenset({3, 4, 5}), frozenset(range(7))],
        list(range(7)),
    ) == {6}
