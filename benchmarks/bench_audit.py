"""Time and peak memory of the signal audit: 500 indicators x 290 municipalities x 20 years.

Run ``.venv/bin/python benchmarks/bench_audit.py [--indicators 500] [--units 290]
[--years 20] [--repeat 3]``. The panel is generated (:func:`random_panel`, 5% missing) with
3 criteria, 20 targets and a 300-requirement ledger linked to the indicators. Each stage is
timed (best of ``--repeat``) and the whole audit's peak traced memory (tracemalloc, which
counts numpy buffers) and process max RSS are recorded. Prints a table and appends it, with
machine and date, to ``benchmarks/results/audit.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tillit.core.audit import (
    Ledger,
    audit_signals,
    center_by_year,
    random_panel,
    redundancy,
    reliability,
    validity,
)
from tillit.core.audit.gaming import bunching

RESULTS = Path(__file__).parent / "results" / "audit.md"


def _ledger(indicators: tuple[str, ...], n: int, seed: int) -> Ledger:
    """A generated inventory of ``n`` requirements, each feeding 1-3 indicators."""
    rng = np.random.default_rng(seed)
    groups = ["assistant nurse", "nurse", "unit manager", "teacher", "social worker"]
    links = [
        ";".join(rng.choice(indicators, size=rng.integers(1, 4), replace=False))
        for _ in range(n)
    ]
    df = pd.DataFrame(
        {
            "requirement_id": [f"R{i:04d}" for i in range(n)],
            "title": [f"Requirement {i}" for i in range(n)],
            "demanded_by": rng.choice(
                ["state", "region", "municipal_board", "purchaser", "other"], n
            ),
            "staff_group": rng.choice(groups, n),
            "unit": "all",
            "frequency_per_year": rng.choice([1, 4, 12, 52, 220], n),
            "minutes_per_occurrence": rng.integers(5, 120, n),
            "reporters": rng.integers(1, 100, n),
            "hourly_cost_sek": rng.integers(350, 700, n),
            "indicator_ids": links,
        }
    )
    return Ledger.from_frame(df)


def _best(fn: Callable[[], Any], repeat: int) -> float:
    """Best wall time of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def run(n_ind: int, n_units: int, n_years: int, repeat: int) -> dict[str, float]:
    """Time each stage and the whole audit; trace the whole audit's peak memory."""
    t0 = time.perf_counter()
    panel = random_panel(n_ind, n_units, n_years, seed=1, missing=0.05)
    gen = time.perf_counter() - t0
    led = _ledger(panel.indicators, 300, seed=2)
    crit = list(panel.indicators[:3])
    targets = [
        f"{panel.indicators[i]}=55:{panel.years[n_years // 2]}" for i in range(3, 23)
    ]
    x = panel.values[3:]
    inds = panel.indicators[3:]
    y, c = center_by_year(x), center_by_year(panel.values[:3])
    out = {"indicators": n_ind, "units": n_units, "years": n_years, "generate_s": gen}
    out["reliability_s"] = _best(lambda: reliability(x), repeat)
    out["redundancy_s"] = _best(lambda: redundancy(x, inds), repeat)
    out["validity_s"] = _best(lambda: validity(y, inds, c, tuple(crit)), repeat)
    out["bunching_20_s"] = _best(
        lambda: [bunching(x[i], 55.0) for i in range(20)], repeat
    )

    def full() -> Any:
        return audit_signals(panel, criteria=crit, targets=targets, ledger=led)

    out["audit_s"] = _best(full, repeat)
    res = full()
    out["html_s"] = _best(res.to_html, 1)
    tracemalloc.start()
    full()
    out["peak_traced_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    out["data_mb"] = panel.values.nbytes / 2**20
    out["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main() -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--indicators", type=int, default=500)
    ap.add_argument("--units", type=int, default=290)
    ap.add_argument("--years", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    r = run(a.indicators, a.units, a.years, a.repeat)
    cols = [
        "indicators",
        "units",
        "years",
        "reliability_s",
        "redundancy_s",
        "validity_s",
        "bunching_20_s",
        "audit_s",
        "html_s",
        "peak_traced_mb",
        "data_mb",
        "max_rss_mb",
    ]
    head = "| " + " | ".join(cols) + " |"
    sep = "|" + "---:|" * len(cols)
    row = (
        "| "
        + " | ".join(
            f"{r[k]:.0f}" if k in ("indicators", "units", "years") else f"{r[k]:.2f}"
            for k in cols
        )
        + " |"
    )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    machine = (
        f"{platform.node()} {platform.machine()} {os.cpu_count()} cpu, "
        f"{platform.python_version()}, numpy {np.__version__}, load {load:.1f}, "
        f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}"
    )
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = f"\n## {when} — {machine}\n\n{head}\n{sep}\n{row}\n"
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    if not RESULTS.exists():
        RESULTS.write_text(
            "# Signal audit benchmark (benchmarks/bench_audit.py)\n\n"
            "Times in seconds (best of --repeat), memory in MiB. `audit_s` is the whole\n"
            "`audit_signals` call (3 criteria, 20 targets, 300-requirement ledger);\n"
            "`peak_traced_mb` its peak traced allocation; `data_mb` the panel array.\n"
        )
    with RESULTS.open("a") as fh:
        fh.write(text)


if __name__ == "__main__":
    main()
