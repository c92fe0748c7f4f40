"""Benchmark the event-study and design estimators against the peers that implement them.

Run ``.venv/bin/python benchmarks/bench_eventstudy.py [--repeat N] [--outcomes K]``.
Prints one table and appends it, with machine, date and load, to
``benchmarks/results/eventstudy.md``.

For each estimator, in one run:

* **in-process**: the bare call, median/min/max over ``--repeat`` runs after one warm-up,
  and the peak traced memory of one run (tracemalloc: Python and numpy allocations);
* **whole process**: the command a user types (``tillit estimate ...`` with default
  options on a CSV, JSON out) against a script that runs the peer the way its users do
  (read the CSV, fit, print), median/min/max wall time and peak RSS of the child;
* **K outcomes**: ours in one call, the peer looping over the outcomes.

Peers: pyfixest ``did2s`` (two-stage), diff-diff ``ImputationDiD``, ``SunAbraham``,
``ContinuousDiD``, moderndid ``did_multiplegt`` (dCDH) and ``ddd`` (triple differences).
"""

# ruff: noqa: E402  (BLAS threads are pinned before numpy is imported)
from __future__ import annotations

import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse
import datetime as dt
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")
ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "eventstudy.md"
sys.path.insert(0, str(ROOT / "validation"))
from eventstudy_pins import cont_panel, ddd_panel


def staggered(n: int = 290, T: int = 20, k: int = 1, seed: int = 0) -> pd.DataFrame:
    """290 municipalities x 20 years, six cohorts and never treated, k outcomes."""
    rng = np.random.default_rng(seed)
    g = rng.choice([0, 2006, 2008, 2010, 2012, 2014, 2016], n)
    df = pd.DataFrame(
        {
            "id": np.repeat(np.arange(n), T),
            "year": np.tile(np.arange(2001, 2001 + T), n),
        }
    )
    df["g"] = g[df.id]
    df["treat"] = (df.g > 0) & (df.year >= df.g)
    ui = rng.normal(size=n)[df.id]
    for j in range(k):
        df[f"y{j}"] = (
            ui
            + 0.1 * (df.year - 2001)
            + rng.normal(size=len(df))
            + df.treat * (1 + 0.1 * j)
        )
    return df


def timed(fn: Callable[[], Any], repeat: int) -> dict[str, float]:
    fn()
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return {"med": statistics.median(ts), "min": min(ts), "max": max(ts), "mb": peak}


_WRAP = (
    "import resource, subprocess, sys\n"
    "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(r.returncode)\n"
)


def process(cmd: list[str], repeat: int) -> dict[str, float]:
    """Wall time and the child's own peak RSS (read by a small wrapper process, so that
    the fork of this large benchmark process is not counted)."""
    ts, rss = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        p = subprocess.run(
            [sys.executable, "-c", _WRAP, *cmd], capture_output=True, text=True
        )
        ts.append(time.perf_counter() - t0)
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[:4])} failed: {p.stderr[-400:]}")
        rss.append(int(p.stderr.strip().splitlines()[-1]) / 1024)
    return {
        "med": statistics.median(ts),
        "min": min(ts),
        "max": max(ts),
        "mb": max(rss),
    }


PEER_SCRIPTS = {
    "imputation": "from diff_diff import ImputationDiD as E\nr = E().fit(df, outcome='y0', unit='id', time='year', first_treat='g')\nprint(r.overall_att)",
    "sunab": "from diff_diff import SunAbraham as E\nr = E().fit(df, outcome='y0', unit='id', time='year', first_treat='g')\nprint(r.overall_att)",
    "two-stage": "import pyfixest as pf\nr = pf.did2s(df, yname='y0', first_stage='~ 0 | id + year', second_stage='~ i(treat)', treatment='treat', cluster='id')\nprint(r.tidy())",
    "dcdh": "import moderndid as md, polars as pl\nr = md.did_multiplegt(data=pl.from_pandas(df), yname='Dl_vloans_b', idname='county', tname='year', dname='inter_bra', effects=8, placebo=3, cluster='state_n')\nprint(r.effects.estimates)",
    "triple-diff": "import moderndid as md, polars as pl\nr = md.ddd(data=pl.from_pandas(df), yname='y', tname='year', idname='id', gname='s', pname='q', control_group='nevertreated', est_method='dr')\nprint(md.agg_ddd(r, type='eventstudy', boot=False, cband=False).overall_att)",
    "cont-did": "from diff_diff import ContinuousDiD as E\nr = E(control_group='not_yet_treated').fit(df, outcome='y', unit='id', time='year', first_treat='g', dose='d')\nprint(r.overall_acrt)",
}


def cases(k: int) -> list[dict[str, Any]]:
    import moderndid as md
    import polars as pl
    import pyfixest as pf
    from diff_diff import ContinuousDiD, ImputationDiD, SunAbraham

    from tillit.core.did import (
        cont_did,
        dcdh,
        imputation,
        sun_abraham,
        triple_diff,
        two_stage,
    )

    st = staggered(k=k)
    fav = pd.read_csv(
        Path(md.__file__).parent / "core" / "datasets" / "favara_imbs.csv.gz"
    )
    ddd, cont = ddd_panel(), cont_panel()
    ys = [f"y{j}" for j in range(k)]
    kw = {"unit": "id", "time": "year", "cohort": "g"}
    out = [
        {"name": "imputation", "data": st, "ours": lambda o: imputation(st, outcomes=o, **kw),
         "peer": lambda y: ImputationDiD().fit(st, outcome=y, unit="id", time="year", first_treat="g"),
         "peer_name": "diff-diff ImputationDiD", "cli": ["--unit", "id", "--time", "year", "--cohort", "g"]},
        {"name": "sunab", "data": st, "ours": lambda o: sun_abraham(st, outcomes=o, **kw),
         "peer": lambda y: SunAbraham().fit(st, outcome=y, unit="id", time="year", first_treat="g"),
         "peer_name": "diff-diff SunAbraham", "cli": ["--unit", "id", "--time", "year", "--cohort", "g"]},
        {"name": "two-stage", "data": st, "ours": lambda o: two_stage(st, outcomes=o, **kw),
         "peer": lambda y: pf.did2s(st, yname=y, first_stage="~ 0 | id + year", second_stage="~ i(treat)",
                                    treatment="treat", cluster="id"),
         "peer_name": "pyfixest did2s (static)", "cli": ["--unit", "id", "--time", "year", "--cohort", "g"]},
        {"name": "dcdh", "data": fav, "outcomes": ["Dl_vloans_b"],
         "ours": lambda o: dcdh(fav, outcomes=o, unit="county", time="year", treatment="inter_bra",
                                effects=8, placebo=3, cluster="state_n"),
         "peer": lambda y: md.did_multiplegt(data=pl.from_pandas(fav), yname=y, idname="county", tname="year",
                                             dname="inter_bra", effects=8, placebo=3, cluster="state_n"),
         "peer_name": "moderndid did_multiplegt (Favara-Imbs)",
         "cli": ["--unit", "county", "--time", "year", "--treatment", "inter_bra", "--effects", "8",
                 "--placebo", "3", "--cluster", "state_n"]},
        {"name": "triple-diff", "data": ddd, "outcomes": ["y"],
         "ours": lambda o: triple_diff(ddd, outcomes=o, unit="id", time="year", cohort="s", partition="q"),
         "peer": lambda y: md.agg_ddd(md.ddd(data=pl.from_pandas(ddd), yname=y, tname="year", idname="id",
                                             gname="s", pname="q", control_group="nevertreated", est_method="dr"),
                                      type="eventstudy", boot=False, cband=False),
         "peer_name": "moderndid ddd + agg_ddd",
         "cli": ["--unit", "id", "--time", "year", "--cohort", "s", "--partition", "q"]},
        {"name": "cont-did", "data": cont, "outcomes": ["y"],
         "ours": lambda o: cont_did(cont, outcomes=o, unit="id", time="year", cohort="g", dose="d"),
         "peer": lambda y: ContinuousDiD(control_group="not_yet_treated").fit(
             cont, outcome=y, unit="id", time="year", first_treat="g", dose="d"),
         "peer_name": "diff-diff ContinuousDiD",
         "cli": ["--unit", "id", "--time", "year", "--cohort", "g", "--dose", "d"]},
    ]  # fmt: skip
    for c in out:
        c.setdefault("outcomes", ys)
    return out


def run(repeat: int, k: int) -> list[str]:
    rows = []
    tmp = Path(tempfile.mkdtemp())
    exe = str(Path(sys.executable).parent / "tillit")
    for c in cases(k):
        one = c["outcomes"][:1]
        ours1 = timed(lambda c=c, one=one: c["ours"](one), repeat)
        peer1 = timed(lambda c=c, one=one: c["peer"](one[0]), max(1, repeat // 2))
        f = tmp / f"{c['name']}.csv"
        c["data"].to_csv(f, index=False)
        cli = [
            exe,
            "estimate",
            c["name"],
            "--data",
            str(f),
            "--outcome",
            one[0],
            *c["cli"],
            "--format",
            "json",
        ]
        script = (
            f"import pandas as pd, warnings\nwarnings.filterwarnings('ignore')\ndf = pd.read_csv({str(f)!r})\n"
            + PEER_SCRIPTS[c["name"]]
        )
        pw = process(cli, repeat)
        pp = process([sys.executable, "-c", script], max(1, repeat // 2))
        line = (
            f"| {c['name']} | {c['peer_name']} | {ours1['med']:.3f} ({ours1['min']:.3f}-{ours1['max']:.3f}) "
            f"| {peer1['med']:.3f} ({peer1['min']:.3f}-{peer1['max']:.3f}) | {peer1['med'] / ours1['med']:.1f}x "
            f"| {ours1['mb']:.0f} / {peer1['mb']:.0f} "
            f"| {pw['med']:.2f} ({pw['min']:.2f}-{pw['max']:.2f}) | {pp['med']:.2f} ({pp['min']:.2f}-{pp['max']:.2f}) "
            f"| {pp['med'] / pw['med']:.1f}x | {pw['mb']:.0f} / {pp['mb']:.0f} |"
        )
        if len(c["outcomes"]) > 1:
            ok = timed(lambda c=c: c["ours"](c["outcomes"]), 1)
            t0 = time.perf_counter()
            for y in c["outcomes"]:
                c["peer"](y)
            tp = time.perf_counter() - t0
            line += f" {k} outcomes: ours {ok['med']:.2f} s, peer loop {tp:.1f} s ({tp / ok['med']:.0f}x) |"
        else:
            line += " - |"
        print(line, flush=True)
        rows.append(line)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--outcomes", type=int, default=10)
    a = ap.parse_args()
    load_before = os.getloadavg()
    head = [
        f"## {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, load {load_before[0]:.2f} at start",
        "",
        f"Command: `.venv/bin/python benchmarks/bench_eventstudy.py --repeat {a.repeat} --outcomes {a.outcomes}`; "
        "one BLAS thread. In-process: median (min-max) seconds of the bare call, peak traced MB ours / peer. "
        "Whole process: `tillit estimate <cmd> ... --format json` against a script running the peer, "
        "wall seconds median (min-max), peak RSS MB ours / peer (tracemalloc does not see polars/Rust memory).",
        "",
        "| estimator | peer | ours s | peer s | peer/ours | MB | ours CLI s | peer script s | ratio | RSS MB | many outcomes |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for h in head:
        print(h)
    rows = run(a.repeat, a.outcomes)
    tail = f"\nLoad at end: {os.getloadavg()[0]:.2f}.\n"
    print(tail)
    RESULTS.parent.mkdir(exist_ok=True)
    with RESULTS.open("a") as fh:
        fh.write("\n".join([*head, *rows, tail]) + "\n")


if __name__ == "__main__":
    main()
