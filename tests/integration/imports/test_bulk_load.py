"""Large loads into a small table rebuild indexes and foreign keys (its own database)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, inspect

from tillit.domain.records import Indicator
from tillit.services import catalog, imports
from tillit.store import bulk
from tillit.store import followup as repo

pytestmark = pytest.mark.integration


def schema(engine: Engine) -> tuple[list[tuple[str, bool]], list[str]]:
    insp = inspect(engine)
    ix = sorted(
        (i["name"], bool(i["unique"])) for i in insp.get_indexes("observations")
    )
    fks = sorted(
        str(f["name"] or f["referred_table"])
        for f in insp.get_foreign_keys("observations")
    )
    return ix, fks


def frame(engine: Engine, ind: str, n_orgs: int = 100) -> pd.DataFrame:
    codes = catalog.organisation_codes(engine)[:n_orgs]
    years = np.arange(2001, 2021)
    return pd.DataFrame(
        {
            "indicator": ind,
            "org_code": np.repeat(codes, len(years)),
            "period": np.tile(years, len(codes)).astype(str),
            "value": np.arange(len(codes) * len(years), dtype=float),
        }
    )


def test_bulk_mode_rebuilds_everything(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = schema(engine)
    assert ("uq_observations_key", True) in before[0] and len(before[1]) == 3
    catalog.upsert_indicators(
        engine, [Indicator("BULK1", "x"), Indicator("BULK2", "y")]
    )
    monkeypatch.setattr(bulk, "BULK_MIN", 1000)
    used: list[bool] = []
    real = bulk.bulk_load

    def spy(conn, n):  # type: ignore[no-untyped-def]
        cm = real(conn, n)
        used.append(n >= 1000)
        return cm

    monkeypatch.setattr(bulk, "bulk_load", spy)
    rep = imports.import_frame(engine, frame(engine, "BULK1"), source="t")
    assert rep.n_new == 2000 and used == [True]
    assert schema(engine) == before
    with engine.connect() as conn:
        assert repo.indicator_series(conn, "BULK1")["value"].sum() == sum(range(2000))
    # a failure inside bulk mode rolls the index drop back too
    monkeypatch.setattr(bulk, "update_observations", lambda *a: 1 / 0)
    df2 = pd.concat(
        [frame(engine, "BULK2", 150), frame(engine, "BULK1").assign(value=-1.0)]
    )
    with pytest.raises(ZeroDivisionError):
        imports.import_frame(engine, df2, source="t")
    assert schema(engine) == before
    with engine.connect() as conn:
        assert len(repo.indicator_series(conn, "BULK2")) == 0
