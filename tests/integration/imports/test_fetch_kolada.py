"""fetch_kolada stores the units it brings in the import's own transaction."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from tillit.core.errors import DataError
from tillit.domain.records import Indicator
from tillit.services import catalog, imports
from tillit.store.tables import observations, units

pytestmark = pytest.mark.integration


class FakeKolada:
    """The few calls fetch_kolada makes, answering from memory."""

    def __init__(self, value: Any = 3.5) -> None:
        self.value = value

    def kpis(self, ids: list[str]) -> list[dict[str, Any]]:
        return [{"id": i, "title": f"KPI {i}"} for i in ids]

    def ou_metadata(self, ids: list[str]) -> list[dict[str, Any]]:
        return [{"id": i, "title": f"Unit {i}", "municipality": "0180"} for i in ids]

    def ou_values(self, kpis: list[str], ous: list[str], years: Any) -> Any:
        yield [
            {
                "kpi": kpis[0],
                "ou": ous[0],
                "period": 2020,
                "values": [{"gender": "T", "value": self.value}],
            }
        ]


def _n(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_units_and_values_land_together_or_not_at_all(engine: Engine) -> None:
    catalog.upsert_indicators(engine, [Indicator("U99001", "known")])
    before = _n(engine, units)
    with pytest.raises(DataError, match="not a number"):
        imports.fetch_kolada(
            engine,
            FakeKolada("abc"),
            kpis=["U99001"],
            ous=["V99X0180001"],
            years=[2020],
        )
    assert _n(engine, units) == before  # the failed import stored no unit
    rep = imports.fetch_kolada(
        engine, FakeKolada(), kpis=["U99001"], ous=["V99X0180001"], years=[2020]
    )
    assert rep.n_new == 1 and _n(engine, units) == before + 1
    with engine.connect() as conn:
        uid = conn.execute(
            select(units.c.id).where(units.c.code == "V99X0180001")
        ).scalar_one()
        assert (
            conn.execute(
                select(func.count()).where(observations.c.unit_id == uid)
            ).scalar_one()
            == 1
        )
