"""Benchmark of the compensation simulator (#15): 10 000 recipients x 8 models x 1 000 draws.

Times, side by side in one run (this VM's timings vary up to 2x, other processes load
it; the load average is recorded with every figure):

* ``core``      - the bare computation: :func:`tillit.core.compensation.simulate` with
                  1 000 draws of the eight demo models on 10 000 recipients;
* ``core+tornado`` - the same plus the tornado (what the CLI runs by default);
Wall-clock seconds (median, min, max) and CPU seconds (the process's own user + system
time, which other processes on the machine do not inflate) are both reported.

* ``cli``       - the whole command a user types, with the default options
                  (``tillit compensation simulate --spec demo.yaml --recipients
                  10k.csv --format json``: draws 1 000, tornado on), as a subprocess,
                  including interpreter start, imports, reading the files and writing
                  the JSON; its peak memory is the child's maximum resident set size.

No peer exists to run beside it (no open tool simulates home-care compensation
models), so there is no ratio to a peer.  Reports median, min and max of ``--repeat``
runs and appends them to ``benchmarks/results/compensation.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import yaml

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "compensation.md"


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def _machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, numpy {np.__version__}"


def _stats(xs: list[float]) -> tuple[float, float, float]:
    return statistics.median(xs), min(xs), max(xs)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--recipients", type=int, default=10_000)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--quick", action="store_true", help="2 repeats")
    args = ap.parse_args()
    repeat = 2 if args.quick else args.repeat

    from tillit.core.compensation import generate_population, simulate, tornado
    from tillit.domain.compensation import parse_spec
    from tillit.services.compensation import frame_of
    from tillit.services.demo.compensation import demo_spec

    spec = parse_spec(demo_spec())
    models = spec.to_arrays()
    pop = generate_population(
        args.recipients, mean_hours=33.0, share_heavy=0.05, private_share=0.25, seed=1
    )
    tmp = Path(tempfile.mkdtemp())
    spec_file, csv = tmp / "demo.yaml", tmp / "recipients.csv"
    spec_file.write_text(
        yaml.safe_dump(demo_spec(), allow_unicode=True), encoding="utf-8"
    )
    frame_of(pop).to_csv(csv, index=False)

    rows = []
    loads = [_load()]
    core, core_cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        simulate(pop, models, spec.priors(), draws=args.draws, seed=0)
        core.append(time.perf_counter() - t0)
        core_cpu.append(time.process_time() - c0)
    tracemalloc.start()
    simulate(pop, models, spec.priors(), draws=args.draws, seed=0)
    peak_core = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    rows.append(("core: simulate", core, core_cpu, f"{peak_core:.0f} (traced)"))
    both, both_cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        simulate(pop, models, spec.priors(), draws=args.draws, seed=0)
        tornado(pop, models, spec.priors())
        both.append(time.perf_counter() - t0)
        both_cpu.append(time.process_time() - c0)
    rows.append(("core: simulate + tornado", both, both_cpu, ""))
    loads.append(_load())
    exe = Path(sys.executable).with_name("tillit")
    cmd = [
        str(exe),
        "compensation",
        "simulate",
        "--spec",
        str(spec_file),
        "--recipients",
        str(csv),
        "--format",
        "json",
    ]
    cli, cli_cpu, rss = [], [], []
    for _ in range(repeat):
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, check=True)
        cli.append(time.perf_counter() - t0)
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cli_cpu.append(ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime)
        rss.append(ru1.ru_maxrss)
        assert b'"models"' in out.stdout
    rows.append(
        (
            "cli: tillit compensation simulate (defaults)",
            cli,
            cli_cpu,
            f"{max(rss) / 1024:.0f} (max RSS)",
        )
    )
    loads.append(_load())

    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    head = (f"## {stamp}, {_machine()}\n\n{args.recipients} recipients x {models.m} models x {args.draws} draws, "
            f"{repeat} repeats; load average before / after core / after CLI: {' | '.join(loads)}; "
            f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}\n")  # fmt: skip
    table = [
        "| what | median s | min s | max s | CPU s (median) | peak MB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, xs, cpu, mem in rows:
        med, lo, hi = _stats(xs)
        table.append(
            f"| {name} | {med:.2f} | {lo:.2f} | {hi:.2f} | {statistics.median(cpu):.2f} | {mem} |"
        )
    text = head + "\n" + "\n".join(table) + "\n"
    print(text)
    if not RESULTS.exists():
        RESULTS.write_text(
            "# Compensation simulator benchmark (benchmarks/bench_compensation.py)\n\n",
            encoding="utf-8",
        )
    with RESULTS.open("a", encoding="utf-8") as fh:
        fh.write("\n" + text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
