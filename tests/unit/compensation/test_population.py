"""Recipients: reading a table with row/field errors, and generating from indicators."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tillit.core.compensation import (
    gamma_shape_for_tail,
    generate_population,
    population_from_frame,
)
from tillit.core.errors import DataError


def test_a_table_is_read_with_defaults_and_sorted_by_provider() -> None:
    df = pd.DataFrame(
        {
            "granted_hours": ["12,5", "40", "3"],
            "provider": ["for_profit", "in_house", ""],
        }
    )
    pop = population_from_frame(df, source="r.csv")
    assert pop.n == 3 and pop.provider.tolist() == [0, 0, 1]
    assert pop.ids == ("2", "3", "1")
    assert pop.granted_hours.tolist() == [40.0, 3.0, 12.5]
    assert pop.visits.tolist() == [80.0, 6.0, 25.0]  # 30-minute visits


@pytest.mark.parametrize(
    ("column", "value", "msg"),
    [
        ("granted_hours", "-1", "between 0 and 744"),
        ("personal_care_share", "1.2", "between 0 and 1"),
        ("provider", "municipal", "unknown provider"),
        ("visits_per_month", "x", "not a number"),
    ],
)
def test_a_bad_cell_names_file_row_and_column(
    column: str, value: str, msg: str
) -> None:
    df = pd.DataFrame(
        {
            "granted_hours": ["10", "20"],
            column: ["1" if column != "provider" else "in_house", value],
        }
    )
    if column == "granted_hours":
        df = pd.DataFrame({"granted_hours": ["10", value]})
    with pytest.raises(DataError) as err:
        population_from_frame(df, source="r.csv")
    assert (
        err.value.file == "r.csv" and err.value.row == 2 and err.value.field == column
    )
    assert msg in err.value.message


def test_missing_column_and_shares_that_add_up_to_more_than_one() -> None:
    with pytest.raises(DataError, match="granted_hours"):
        population_from_frame(pd.DataFrame({"hours": [1]}), source="r.csv")
    df = pd.DataFrame(
        {"granted_hours": [10], "evening_share": [0.7], "night_share": [0.4]}
    )
    with pytest.raises(DataError) as err:
        population_from_frame(df, source="r.csv")
    assert err.value.field == "night_share"


def test_the_gamma_shape_reproduces_the_share_with_120_hours_or_more() -> None:
    for mean, tail in [
        (25.0, 0.03),
        (40.0, 0.06),
        (60.0, 0.15),
        (34.0, 0.002),
        (40.0, 0.08),
    ]:
        k = gamma_shape_for_tail(mean, tail)
        assert stats.gamma.sf(120.0, k, scale=mean / k) == pytest.approx(tail, rel=1e-8)
    # 30 % is more than any gamma with mean 40 puts above 120 hours: the closest is used
    k = gamma_shape_for_tail(40.0, 0.30)
    grid = np.exp(np.linspace(np.log(0.05), np.log(200), 4000))
    assert stats.gamma.sf(120.0, k, scale=40.0 / k) == pytest.approx(
        stats.gamma.sf(120.0, grid, scale=40.0 / grid).max(), rel=1e-4
    )


def test_generated_population_matches_its_indicators() -> None:
    pop = generate_population(
        40_000, mean_hours=32.0, share_heavy=0.06, private_share=0.3, seed=4
    )
    assert pop.granted_hours.mean() == pytest.approx(32.0, rel=1e-12)
    assert np.mean(pop.granted_hours >= 120) == pytest.approx(0.06, abs=0.006)
    assert np.mean(pop.provider > 0) == pytest.approx(0.3, abs=0.01)
    assert np.all(np.diff(pop.provider) >= 0)
    with pytest.raises(DataError):
        generate_population(0, mean_hours=30.0)


def test_prior_quantiles_equal_scipys_truncated_normal() -> None:
    from tillit.core.compensation import Prior

    q = np.linspace(0.0005, 0.9995, 200)
    for mean, sd, lo, hi in [
        (0.3, 0.12, 0.0, 1.0),
        (0.93, 0.04, 0.5, 1.0),
        (283.0, 20.0, 100.0, 1000.0),
    ]:
        a, b = (lo - mean) / sd, (hi - mean) / sd
        want = stats.truncnorm.ppf(q, a, b, loc=mean, scale=sd)
        np.testing.assert_allclose(
            Prior(mean, sd, lo, hi).ppf(q), want, rtol=1e-10, atol=1e-12
        )


def test_gamma_tail_equals_scipys() -> None:
    from tillit.core.compensation.population import gamma_tail

    for k in (0.3, 1.1, 4.0):
        assert gamma_tail(120.0, k, 33.0) == pytest.approx(
            stats.gamma.sf(120.0, k, scale=33.0 / k), rel=1e-12
        )


def test_the_documented_recipients_template_reads() -> None:
    from pathlib import Path

    from tillit.sources.compensation import read_recipients

    path = (
        Path(__file__).resolve().parents[3]
        / "docs"
        / "templates"
        / "compensation_recipients.csv"
    )
    pop = read_recipients(path.read_bytes(), str(path))
    assert pop.n == 3 and sorted(pop.provider.tolist()) == [0, 0, 1]
