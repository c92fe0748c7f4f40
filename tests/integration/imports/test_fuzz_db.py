"""Property test against a real database: a refused import writes nothing at all."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from tillit.core.errors import DataError
from tillit.domain.records import Indicator
from tillit.services import catalog, imports
from tillit.store.tables import import_batches, observations

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROWS = ["N00945,0180,2020,T,1.5", "N00945,1480,2021,K,2", "N00945,0001,2022,M,"]
CELLS = [
    "",
    "0180",
    "9999",
    "X",
    "2020-13",
    "abc",
    "1,5",
    "N00945",
    "NOPE",
    "1e999",
    "ä",
]


def totals(engine: Engine) -> tuple[int, int, float]:
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(observations)).scalar() or 0
        b = conn.execute(select(func.count()).select_from(import_batches)).scalar() or 0
        s = conn.execute(
            select(func.coalesce(func.sum(observations.c.value), 0))
        ).scalar()
    return int(n), int(b), float(s or 0)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 4), st.sampled_from(CELLS)),
        min_size=1,
        max_size=3,
    ),
    st.floats(-1e6, 1e6, allow_nan=False),
)
def test_refused_imports_write_nothing(
    engine: Engine, edits: list[tuple[int, int, str]], new_value: float
) -> None:
    catalog.upsert_indicators(engine, [Indicator("N00945", "VAB")])
    rows = [r.split(",") for r in ROWS]
    rows[0][4] = repr(
        new_value
    )  # a valid change that must not leak when a later row fails
    for r, c, cell in edits:
        rows[r][c] = cell
    data = (
        "indicator,municipality,period,gender,value\n"
        + "\n".join(",".join(r) for r in rows)
        + "\n"
    ).encode()
    before = totals(engine)
    try:
        imports.import_bytes(engine, data, "fuzz.csv")
    except DataError:
        assert totals(engine) == before
