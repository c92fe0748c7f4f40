"""Import speed: 1,000,000 generated observations from CSV and Kolada JSON.

Run ``.venv/bin/python benchmarks/bench_import.py [--rows 1000000] [--no-postgres]``.

For each backend (a fresh SQLite file; PostgreSQL too when ``TILLIT_TEST_PG_URL`` is set,
in a fresh database that is dropped afterwards) and each case, one child process runs the
case and reports its wall time and peak resident memory (``ru_maxrss``):

* ``tillit csv``       ``import_file`` of the long CSV (validation + one transaction)
* ``tillit csv again`` the same file a second time (idempotent: nothing is written)
* ``tillit json``      ``import_file`` of the same observations as Kolada JSON, into
                       a fresh database
* ``pandas baseline``  ``pandas.read_csv(path).to_sql("baseline", engine)`` on the same
                       CSV and the same database: no validation, no natural key, no
                       batch, and it reads ``0180`` as the number 180

Prints a table and appends it, with machine, load and date, to
``benchmarks/results/import.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS = Path(__file__).parent / "results" / "import.md"
YEARS = np.arange(2005, 2025)
GENDERS = np.array(["T", "K", "M"])


def generate(n_rows: int, seed: int = 1) -> pd.DataFrame:
    """``n_rows`` observations: indicators x 290 municipalities x 20 years x T/K/M."""
    from tillit.domain.geography import municipalities

    codes = municipalities()["code"].to_numpy()
    per_ind = len(codes) * len(YEARS) * len(GENDERS)
    n_ind = -(-n_rows // per_ind)
    rng = np.random.default_rng(seed)
    idx = np.arange(n_ind * per_ind)[:n_rows]
    g = idx % 3
    y = (idx // 3) % len(YEARS)
    m = (idx // (3 * len(YEARS))) % len(codes)
    k = idx // per_ind
    value = np.round(rng.normal(50, 15, n_rows), 4)
    value[rng.random(n_rows) < 0.02] = np.nan
    return pd.DataFrame(
        {
            "indicator": np.char.add("B", np.char.zfill(k.astype(str), 5)),
            "municipality": codes[m],
            "period": YEARS[y].astype(str),
            "gender": GENDERS[g],
            "value": value,
        }
    )


def write_kolada_json(df: pd.DataFrame, path: Path) -> None:
    """The same observations in the Kolada API ``data`` shape (one entry per kpi x
    municipality x year with its gender values)."""
    values = df["value"].to_numpy()
    kpi = df["indicator"].to_numpy()
    mun = df["municipality"].to_numpy()
    per = df["period"].astype(int).to_numpy()
    gen = df["gender"].to_numpy()
    entries = [
        {
            "kpi": kpi[start],
            "municipality": mun[start],
            "period": int(per[start]),
            "values": [
                {
                    "gender": gen[j],
                    "status": "",
                    "value": None if np.isnan(values[j]) else float(values[j]),
                    "count": 1,
                }
                for j in range(start, min(start + 3, len(df)))
            ],
        }
        for start in range(0, len(df), 3)
    ]
    path.write_text(json.dumps({"count": len(entries), "values": entries}), "utf-8")


def child(case: str, url: str, path: str) -> None:
    """Run one case in this process and print JSON with its time and peak memory."""
    import resource

    from sqlalchemy import create_engine

    from tillit.services import imports

    t0 = time.perf_counter()
    if case == "pandas":
        engine = create_engine(url)
        n = pd.read_csv(path).to_sql(
            "baseline", engine, if_exists="append", index=False
        )
        rows = n if isinstance(n, int) else -1
        detail = ""
    else:
        from tillit.store.db import make_engine

        engine = make_engine(url)
        rep = imports.import_file(engine, path)
        rows = rep.n_rows
        detail = f"{rep.n_new} new, {rep.n_unchanged} unchanged"
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {"seconds": seconds, "rows": rows, "peak_mb": peak, "detail": detail}
        )
    )


def run_child(case: str, url: str, path: Path) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", case, url, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def prepare(url: str, n_ind: int) -> None:
    """Migrate, seed the geography and register the benchmark indicators."""
    from tillit.domain.records import Indicator
    from tillit.services.catalog import seed_geography, upsert_indicators
    from tillit.store.db import make_engine, upgrade

    engine = make_engine(url)
    upgrade(engine)
    seed_geography(engine)
    upsert_indicators(
        engine, [Indicator(f"B{k:05d}", f"Bench {k}") for k in range(n_ind)]
    )
    engine.dispose()


class PgDatabases:
    """Fresh PostgreSQL databases on the server at TILLIT_TEST_PG_URL, dropped at exit."""

    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine

        self.url = url
        self.admin = create_engine(url, isolation_level="AUTOCOMMIT")
        self.names: list[str] = []

    def new(self) -> str:
        from sqlalchemy import text
        from sqlalchemy.engine import make_url

        name = f"tillit_bench_{uuid.uuid4().hex[:10]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self.names.append(name)
        return (
            make_url(self.url).set(database=name).render_as_string(hide_password=False)
        )

    def close(self) -> None:
        from sqlalchemy import text

        with self.admin.connect() as conn:
            for name in self.names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


def bench(n_rows: int, use_pg: bool) -> list[dict[str, object]]:
    tmp = Path(tempfile.mkdtemp(prefix="tillit-bench-"))
    df = generate(n_rows)
    n_ind = df["indicator"].nunique()
    csv_path, json_path = tmp / "obs.csv", tmp / "obs.json"
    df.to_csv(csv_path, index=False)
    write_kolada_json(df, json_path)
    sizes = {"csv": csv_path.stat().st_size, "json": json_path.stat().st_size}
    backends: list[tuple[str, object]] = [("sqlite", None)]
    pg_url = os.environ.get("TILLIT_TEST_PG_URL", "")
    pg = PgDatabases(pg_url) if use_pg and pg_url else None
    if pg:
        backends.append(("postgresql", pg))
    out = []
    try:
        counter = iter(range(100))
        for backend, _ in backends:

            def fresh(backend: str = backend) -> str:
                if backend == "sqlite":
                    url = f"sqlite:///{tmp / f'db{next(counter)}.sqlite'}"
                else:
                    url = pg.new()  # type: ignore[union-attr]
                prepare(url, n_ind)
                return url

            db1, db2 = fresh(), fresh()
            cases = [
                ("tillit csv", "tillit", db1, csv_path),
                ("tillit csv again", "tillit", db1, csv_path),
                ("pandas baseline (csv)", "pandas", db1, csv_path),
                ("tillit kolada-json", "tillit", db2, json_path),
            ]
            for label, case, url, path in cases:
                r = run_child(case, url, path)
                secs = float(r["seconds"])  # type: ignore[arg-type]
                out.append(
                    {
                        "backend": backend,
                        "case": label,
                        "rows": n_rows,
                        "seconds": round(secs, 2),
                        "rows_per_s": int(n_rows / secs),
                        "peak_mb": round(float(r["peak_mb"]), 0),  # type: ignore[arg-type]
                        "detail": r["detail"],
                    }
                )
                print(out[-1], flush=True)
    finally:
        if pg:
            pg.close()
    print(f"files: CSV {sizes['csv'] / 1e6:.0f} MB, JSON {sizes['json'] / 1e6:.0f} MB")
    return out


def report(rows: list[dict[str, object]], n_rows: int) -> str:
    table = pd.DataFrame(rows)
    lines = [
        f"## {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {n_rows:,} observations",
        "",
        f"Machine: {platform.node()}, {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load average "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} at the end (shared machine)",
        "",
        "| backend | case | seconds | rows/s | peak MB | detail |",
        "|---|---|---:|---:|---:|---|",
    ]
    for r in table.itertuples():
        lines.append(
            f"| {r.backend} | {r.case} | {r.seconds} | {r.rows_per_s:,} | "
            f"{r.peak_mb:.0f} | {r.detail} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4])
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args()
    rows = bench(args.rows, not args.no_postgres)
    text = report(rows, args.rows)
    print(text)
    if not args.no_save:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        new = not RESULTS.exists()
        with RESULTS.open("a", encoding="utf-8") as fh:
            if new:
                fh.write("# Import benchmark (benchmarks/bench_import.py)\n\n")
            fh.write(text + "\n")


if __name__ == "__main__":
    main()
