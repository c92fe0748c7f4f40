"""Server time per request of the follow-up views on the demo workspace.

One indicator across all 290 municipalities and 20 years (2005-2024): the follow-up page
(HTML with two SVG charts), the series API (JSON) with all municipalities and with the
SKR group as peers, the indicator ranking page and the municipality profile (all ~30
indicators). Requests go through the whole ASGI app (middleware, session, templates) in
process with Starlette's TestClient, so the figures are server time without network.

Run::

    .venv/bin/python benchmarks/bench_followup.py [--repeat 30] [--db var/bench.db]

Prints a table and appends it, with machine, load and date, to
``benchmarks/results/followup.md``. The demo workspace is generated into ``--db`` on
first use (about half a minute) and reused afterwards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from tillit.config import Settings
from tillit.services.demo import load_demo
from tillit.store.db import make_engine, upgrade
from tillit.web.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

RESULTS = Path(__file__).with_name("results") / "followup.md"
INDICATOR = (
    "U21461"  # user assessment: enough time (demo, 290 municipalities, 2005-2024)
)
ORG = "0180"


def _cases() -> list[tuple[str, str]]:
    return [
        ("follow-up page, all municipalities", f"/followup/{INDICATOR}/{ORG}"),
        ("follow-up page, SKR group", f"/followup/{INDICATOR}/{ORG}?peers=skr"),
        (
            "series API, all municipalities",
            f"/api/v1/series?indicator={INDICATOR}&org={ORG}",
        ),
        (
            "series API, SKR group",
            f"/api/v1/series?indicator={INDICATOR}&org={ORG}&peers=skr",
        ),
        ("indicator ranking page (290)", f"/indicators/{INDICATOR}?highlight={ORG}"),
        ("municipality profile (all indicators)", f"/municipalities/{ORG}"),
        (
            "series export CSV",
            f"/api/v1/export/series.csv?indicator={INDICATOR}&org={ORG}",
        ),
    ]


Row = tuple[str, float, float, float, int]


def run(repeat: int, db: Path) -> list[Row]:
    """Median and p95 wall ms, median CPU ms, bytes per case (after one warm-up).

    CPU time (this process, all threads) is given beside wall time because the
    benchmark machine is shared: on a loaded machine wall time mostly measures waiting.
    """
    url = f"sqlite:///{db}"
    engine = make_engine(url)
    upgrade(engine)
    info = load_demo(engine)
    print(f"demo workspace: {'reused' if info['skipped'] else 'generated'} ({db})")
    app = create_app(
        Settings(database_url=url, data_dir=db.parent, secret_key="b" * 32, demo=True),
        engine=engine,
    )
    rows = []
    with TestClient(app) as client:
        for name, path in _cases():
            assert client.get(path).status_code == 200, path
            times, cpu = [], []
            for _ in range(repeat):
                t0, c0 = time.perf_counter(), time.process_time()
                r = client.get(path)
                times.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
                assert r.status_code == 200
            rows.append(
                (
                    name,
                    statistics.median(times),
                    float(np.percentile(times, 95)),
                    statistics.median(cpu),
                    len(r.content),
                )
            )
    engine.dispose()
    return rows


def report(rows: list[Row], repeat: int) -> str:
    """The Markdown table with machine and date."""
    lines = [
        f"## {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {platform.node()}, {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load average "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} at the end (shared machine). "
        f"Demo workspace (SQLite), indicator {INDICATOR}, organisation {ORG}, "
        f"{repeat} requests per case after one warm-up, TestClient in process.",
        "",
        "| request | median ms | p95 ms | median CPU ms | response bytes |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {n} | {m:.1f} | {p:.1f} | {c:.1f} | {b:,} |" for n, m, p, c, b in rows
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the table and append it to the results file."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument(
        "--db",
        type=Path,
        default=Path(tempfile.gettempdir()) / "tillit-bench-followup.db",
    )
    ap.add_argument(
        "--no-save", action="store_true", help="do not append to the results file"
    )
    args = ap.parse_args(argv)
    rows = run(args.repeat, args.db)
    text = report(rows, args.repeat)
    print(text)
    if not args.no_save:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        new = not RESULTS.exists()
        with RESULTS.open("a", encoding="utf-8") as fh:
            if new:
                fh.write("# Follow-up views: server time per request\n\n")
                fh.write("Written by `benchmarks/bench_followup.py`.\n\n")
            fh.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
