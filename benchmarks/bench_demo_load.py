"""Time generating the demo workspace and loading it into a fresh SQLite database.

Run ``.venv/bin/python benchmarks/bench_demo_load.py [--scale 1 2] [--years 20]``. For each
scale: generation time, ``load_demo`` wall and CPU time (geography seed, catalog upserts and
the one validated import batch; CPU time shows the cost on a machine shared with other
work), rows, rows per second, and the time of a second, skipped call.
Prints a table and appends it, with machine and date, to ``benchmarks/results/demo_load.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import tempfile
import time
from pathlib import Path

from tillit.domain.demo import generate_demo
from tillit.services.demo import load_demo
from tillit.store.db import make_engine, upgrade

RESULTS = Path(__file__).parent / "results" / "demo_load.md"


def run(scale: float, years: int) -> dict[str, float]:
    """One measurement at ``scale`` x 290 municipalities and ``years`` years."""
    t0 = time.perf_counter()
    ws = generate_demo(scale=scale, n_years=years)
    gen = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(engine)
        t0, c0 = time.perf_counter(), time.process_time()
        report = load_demo(engine, scale=scale, n_years=years)
        load, cpu = time.perf_counter() - t0, time.process_time() - c0
        t0 = time.perf_counter()
        again = load_demo(engine, scale=scale, n_years=years)
        skip = time.perf_counter() - t0
        engine.dispose()
    assert again["skipped"] and report["n_observations"] == len(ws.observations)
    return {
        "scale": scale,
        "orgs": len(ws.organisations),
        "rows": len(ws.observations),
        "generate_s": gen,
        "load_s": load,
        "load_cpu_s": cpu,
        "rows_per_s": len(ws.observations) / load,
        "skip_s": skip,
    }


def main() -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, nargs="+", default=[1.0])
    ap.add_argument("--years", type=int, default=20)
    args = ap.parse_args()
    rows = [run(s, args.years) for s in args.scale]
    head = (
        "| scale | orgs | rows | generate s | load_demo s | load_demo CPU s | rows/s "
        "| 2nd call s |"
    )
    lines = [head, "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(
            f"| {r['scale']:g} | {r['orgs']} | {r['rows']:,} | {r['generate_s']:.2f} | "
            f"{r['load_s']:.2f} | {r['load_cpu_s']:.2f} | {r['rows_per_s']:,.0f} | "
            f"{r['skip_s']:.2f} |"
        )
    table = "\n".join(lines)
    print(table)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    stamp = (
        f"\n## {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"load average {load:.1f}, Python {platform.python_version()}, SQLite, "
        f"{args.years} years\n\n"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a", encoding="utf-8") as fh:
        if fh.tell() == 0:
            fh.write("# Demo workspace: generate and load into SQLite\n")
        fh.write(stamp + table + "\n")


if __name__ == "__main__":
    main()
