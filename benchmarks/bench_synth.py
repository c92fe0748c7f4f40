"""Benchmark: synthetic control (nested V + placebo-in-space) and SDID (placebo se).

Runs Tillit and the peers (pysyncon, diff-diff, mlsynth; synthdid did not build here) on
California Prop 99 (39 units) and on a generated 290-unit municipal panel (20 years),
each in its own subprocess with a timeout, and prints wall time, peak RSS and the
agreement of the donor weights.  Appends the table to benchmarks/results/synth.md.

    .venv/bin/python benchmarks/bench_synth.py [--quick] [--timeout SECONDS]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
PROP99 = ROOT / "tests" / "reference" / "synth" / "data" / "california_prop99.csv"
ADH = [
    ("lnincome", 1980, 1988),
    ("retprice", 1980, 1988),
    ("age15to24", 1980, 1988),
    ("beer", 1984, 1988),
    ("cigsale", 1975, 1975),
    ("cigsale", 1980, 1980),
    ("cigsale", 1988, 1988),
]


def municipal_panel(n: int = 290, years: int = 20, seed: int = 1) -> pd.DataFrame:
    """A factor-model panel shaped like Swedish municipal indicators (unit 0 treated)."""
    rng = np.random.default_rng(seed)
    t = np.arange(2003, 2003 + years)
    load = rng.normal(size=(n, 3))
    fac = rng.normal(size=(3, years)).cumsum(axis=1)
    y = 100 + 5 * load @ fac + rng.normal(scale=1.0, size=(n, years))
    x = load[:, :1] + rng.normal(scale=0.3, size=(n, years))
    units = [f"{i:04d}" for i in range(n)]
    df = pd.DataFrame(
        {
            "unit": np.repeat(units, years),
            "year": np.tile(t, n),
            "y": y.ravel(),
            "x": x.ravel(),
        }
    )
    df.loc[(df.unit == "0000") & (df.year >= 2015), "y"] -= 4.0
    return df


def _case(name: str) -> dict:
    if name == "prop99":
        df = pd.read_csv(PROP99)
        return {
            "df": df,
            "outcome": "cigsale",
            "unit": "state",
            "time": "year",
            "treated": "California",
            "start": 1989,
            "specs": ADH,
        }
    df = municipal_panel()
    return {
        "df": df,
        "outcome": "y",
        "unit": "unit",
        "time": "year",
        "treated": "0000",
        "start": 2015,
        "specs": [
            ("y", 2005, 2005),
            ("y", 2010, 2010),
            ("y", 2014, 2014),
            ("x", 2003, 2014),
        ],
    }


def run_tillit_sc(c: dict) -> dict:
    from tillit.core.synth import synth

    preds = [f"{v}@{a}-{b}" if a != b else f"{v}@{a}" for v, a, b in c["specs"]]
    r = synth(
        c["df"],
        outcome=c["outcome"],
        unit=c["unit"],
        time=c["time"],
        treated_units=[c["treated"]],
        treatment_start=c["start"],
        predictors=preds,
        placebo="space",
    )
    return {"weights": r.weights, "p_value": r.p_value, "pre_rmspe": r.pre_rmspe}


def run_diffdiff_sc(c: dict) -> dict:
    from diff_diff import SyntheticControl

    df = c["df"].copy()
    df["d"] = ((df[c["unit"]] == c["treated"]) & (df[c["time"]] >= c["start"])).astype(
        int
    )
    sp = [(v, list(range(a, b + 1)), "mean") for v, a, b in c["specs"]]
    est = SyntheticControl(seed=1)
    r = est.fit(df, c["outcome"], "d", c["unit"], c["time"], special_predictors=sp)
    r.in_space_placebo()
    w = r.get_weights_df()
    col = next(k for k in w.columns if "weight" in k.lower())
    ucol = next(k for k in w.columns if k != col)
    return {
        "weights": dict(zip(w[ucol].astype(str), w[col].astype(float), strict=True)),
        "p_value": float(r.placebo_p_value),
        "pre_rmspe": float(r.pre_rmspe),
    }


def run_pysyncon_sc(c: dict) -> dict:
    from pysyncon import Dataprep, Synth
    from pysyncon.utils import PlaceboTest

    df = c["df"]
    donors = sorted(set(df[c["unit"]]) - {c["treated"]})
    pre = range(int(df[c["time"]].min()), c["start"])
    sp = [(v, range(a, b + 1), "mean") for v, a, b in c["specs"]]
    dp = Dataprep(
        foo=df,
        predictors=[],
        predictors_op="mean",
        time_predictors_prior=pre,
        special_predictors=sp,
        dependent=c["outcome"],
        unit_variable=c["unit"],
        time_variable=c["time"],
        treatment_identifier=c["treated"],
        controls_identifier=donors,
        time_optimize_ssr=pre,
    )
    s = Synth()
    s.fit(dataprep=dp)
    pt = PlaceboTest()
    pt.fit(dataprep=dp, scm=s, verbose=False)
    return {
        "weights": dict(zip(map(str, s.W_names), map(float, s.W), strict=True)),
        "p_value": float(pt.pvalue(treatment_time=c["start"])),
    }


def run_tillit_sdid(c: dict) -> dict:
    from tillit.core.synth import sdid

    r = sdid(
        c["df"],
        outcome=c["outcome"],
        unit=c["unit"],
        time=c["time"],
        treated_units=[c["treated"]],
        treatment_start=c["start"],
        seed=1,
    )
    return {
        "weights": r.unit_weights,
        "estimate": r.estimate.estimate,
        "se": r.estimate.se,
    }


def run_diffdiff_sdid(c: dict) -> dict:
    from diff_diff import SyntheticDiD

    df = c["df"].copy()
    df["tr"] = (df[c["unit"]] == c["treated"]).astype(int)
    post = sorted(t for t in df[c["time"]].unique() if t >= c["start"])
    r = SyntheticDiD(variance_method="placebo", n_bootstrap=200, seed=1).fit(
        df, c["outcome"], "tr", c["unit"], c["time"], post_periods=post
    )
    w = getattr(r, "unit_weights", None) or {}
    return {
        "weights": {str(k): float(v) for k, v in dict(w).items()},
        "estimate": float(r.att),
        "se": float(r.se),
    }


RUNNERS = {
    "tillit_sc": run_tillit_sc,
    "diffdiff_sc": run_diffdiff_sc,
    "pysyncon_sc": run_pysyncon_sc,
    "tillit_sdid": run_tillit_sdid,
    "diffdiff_sdid": run_diffdiff_sdid,
}


def child(runner: str, case: str) -> None:
    """Run one job in this process and print a JSON line."""
    warnings.simplefilter("ignore")
    c = _case(case)
    t = time.perf_counter()
    out = RUNNERS[runner](c)
    out["seconds"] = time.perf_counter() - t
    out["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out, default=float))


def job(runner: str, case: str, timeout: float) -> dict:
    cmd = [sys.executable, __file__, "--child", runner, case]
    try:
        p = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT
        )
    except subprocess.TimeoutExpired:
        return {"status": f"timeout > {timeout:.0f}s", "seconds": float("inf")}
    if p.returncode != 0:
        return {
            "status": "error: " + p.stderr.strip().splitlines()[-1][:80],
            "seconds": float("nan"),
        }
    d = json.loads(p.stdout.strip().splitlines()[-1])
    d["status"] = "ok"
    return d


def max_wdiff(a: dict, b: dict) -> float:
    keys = set(a) | set(b)
    return (
        max(abs(a.get(k, 0.0) - b.get(k, 0.0)) for k in keys)
        if a and b
        else float("nan")
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="Prop 99 only, short timeouts")
    ap.add_argument("--timeout", type=float, default=None)
    ap.add_argument("--child", nargs=2)
    ap.add_argument("--no-save", action="store_true")
    a = ap.parse_args()
    if a.child:
        child(*a.child)
        return
    timeout = a.timeout or (120.0 if a.quick else 600.0)
    plan = [
        ("sc", "prop99", ["tillit_sc", "diffdiff_sc", "pysyncon_sc"]),
        ("sdid", "prop99", ["tillit_sdid", "diffdiff_sdid"]),
    ]
    if not a.quick:
        plan.append(("sc", "municipal290", ["tillit_sc", "diffdiff_sc", "pysyncon_sc"]))
        plan.append(("sdid", "municipal290", ["tillit_sdid", "diffdiff_sdid"]))
    rows = []
    for task, case, runners in plan:
        res = {r: job(r, case, timeout) for r in runners}
        ours = res[runners[0]]
        for r in runners:
            d = res[r]
            ratio = (
                d["seconds"] / ours["seconds"] if ours.get("status") == "ok" else np.nan
            )
            rows.append(
                {
                    "task": task,
                    "panel": case,
                    "package": r.split("_")[0],
                    "status": d["status"],
                    "seconds": round(d["seconds"], 2),
                    "x_tillit": round(ratio, 1),
                    "peak_rss_mb": round(d.get("maxrss_mb", np.nan)),
                    "max_weight_diff": round(
                        max_wdiff(ours.get("weights", {}), d.get("weights", {})), 4
                    ),
                    "p_or_se": round(d.get("p_value", d.get("se", np.nan)), 4),
                }
            )
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows).to_markdown(index=False)
    print(table)
    if not a.no_save:
        out = ROOT / "benchmarks" / "results" / "synth.md"
        head = (
            f"\n## {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
            f"{platform.processor() or platform.machine()}, "
            f"{'quick' if a.quick else 'full'}, timeout {timeout:.0f}s\n\n"
        )
        with out.open("a") as f:
            f.write(head + table + "\n")


if __name__ == "__main__":
    main()
