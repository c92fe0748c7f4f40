"""kill -9 in the middle of an import leaves no partial batch (SQLite, WAL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from tillit.domain.records import Indicator
from tillit.services.catalog import seed_geography, upsert_indicators
from tillit.store.db import make_engine, upgrade
from tillit.store.tables import import_batches, observations

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import numpy as np, pandas as pd
    from sqlalchemy import event
    from tillit.store.db import make_engine
    from tillit.services.imports import import_frame

    db, marker = sys.argv[1], Path(sys.argv[2])
    engine = make_engine(f"sqlite:///{db}")

    @event.listens_for(engine, "connect")
    def small_cache(dbapi_conn, _rec):  # force uncommitted pages out to the WAL file
        dbapi_conn.execute("PRAGMA cache_size=50")

    codes = ["0180", "1480", "1280", "0114", "0115"]
    n = 250_000
    df = pd.DataFrame({
        "indicator": "CRASH1",
        "org_code": np.array(codes)[np.arange(n) % 5],
        "unit_code": "",
        "period": (1900 + (np.arange(n) // 5) % 200).astype(str),
        "gender": np.array(["T", "K", "M"])[(np.arange(n) // 1000) % 3],
        "value": np.arange(n, dtype=float),
    }).drop_duplicates(["org_code", "period", "gender"])
    df = pd.concat([df.assign(indicator=f"CRASH{k}") for k in range(1, 45)])

    def progress(done, total):
        if done >= 100_000 and not marker.exists():
            marker.write_text(str(done))
            time.sleep(120)  # the parent kills us here, mid-transaction

    import_frame(engine, df, source="crash", progress=progress)
    """
)


def test_kill_9_mid_import_leaves_nothing(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    seed_geography(engine)
    upsert_indicators(engine, [Indicator(f"CRASH{k}", "x") for k in range(1, 45)])
    engine.dispose()
    marker = tmp_path / "marker"
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    proc = subprocess.Popen([sys.executable, str(script), str(db), str(marker)])
    try:
        deadline = time.monotonic() + 240
        while not marker.exists():
            assert proc.poll() is None, "the import finished or failed before the kill"
            assert time.monotonic() < deadline, "the import never reached 100,000 rows"
            time.sleep(0.1)
        wal = db.with_name(db.name + "-wal")
        assert (
            wal.exists() and wal.stat().st_size > 1_000_000
        )  # pages really were written
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    engine = make_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        assert (
            conn.execute(select(func.count()).select_from(observations)).scalar() == 0
        )
        assert (
            conn.execute(select(func.count()).select_from(import_batches)).scalar() == 0
        )
    engine.dispose()
