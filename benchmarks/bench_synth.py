"""Benchmark: synthetic control (nested V + placebo-in-space) and SDID (placebo se).

Runs Tillit and the peers (pysyncon, diff-diff, mlsynth; synthdid did not build here) on
California Prop 99 (39 units) and on a generated 290-unit municipal panel (20 years),
each job in its own subprocess with a timeout, and prints wall time, peak RSS, the
largest donor-weight difference from Tillit and the pre-period MSPE each package's
weights reach (computed here from the weights, the same way for everyone).

A peer whose full placebo run does not finish within the timeout is also timed on one
nested fit of the treated unit (no placebos); the full run is then extrapolated as
``(1 + number of placebos) x`` that time and marked ``~`` (every placebo refit is the
same nested problem with one donor fewer, so this is what the full run would cost).

Appends the table to benchmarks/results/synth.md with machine, date and load.

    .venv/bin/python benchmarks/bench_synth.py [--quick] [--timeout SECONDS] [--only sc]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
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


def run_tillit_sc(c: dict, placebo: bool = True) -> dict:
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
        placebo="space" if placebo else "none",
    )
    return {"weights": r.weights, "p_value": r.p_value, "pre_rmspe": r.pre_rmspe}


def run_mlsynth_sc(c: dict, placebo: bool = True) -> dict:
    """mlsynth VanillaSC, backend ``mscmt`` (global differential-evolution V search).

    Each ADH predictor becomes its own covariate column with its own window (mlsynth
    takes one window per covariate name); predictors are scaled to unit variance across
    units, as in Tillit and R Synth.  ``inference="placebo"`` refits every donor.
    """
    from mlsynth.estimators.vanillasc import VanillaSC

    df = c["df"].copy()
    covs, windows = [], {}
    for v, a, b in c["specs"]:
        name = f"{v}_{a}_{b}"
        df[name] = df[v]
        covs.append(name)
        windows[name] = (a, b)
    df["d"] = ((df[c["unit"]] == c["treated"]) & (df[c["time"]] >= c["start"])).astype(
        int
    )
    r = VanillaSC(
        {
            "df": df,
            "outcome": c["outcome"],
            "treat": "d",
            "unitid": c["unit"],
            "time": c["time"],
            "covariates": covs,
            "covariate_windows": windows,
            "backend": "mscmt",
            "inference": "placebo" if placebo else False,
            "display_graphs": False,
        }
    ).fit()
    out = {"weights": {str(k): float(v) for k, v in r.weights.donor_weights.items()}}
    if placebo:
        out["p_value"] = float(r.inference.p_value)
    return out


def run_diffdiff_sc(c: dict, placebo: bool = True) -> dict:
    from diff_diff import SyntheticControl

    df = c["df"].copy()
    df["d"] = ((df[c["unit"]] == c["treated"]) & (df[c["time"]] >= c["start"])).astype(
        int
    )
    sp = [(v, list(range(a, b + 1)), "mean") for v, a, b in c["specs"]]
    est = SyntheticControl(seed=1)
    r = est.fit(df, c["outcome"], "d", c["unit"], c["time"], special_predictors=sp)
    if placebo:
        r.in_space_placebo()
    w = r.get_weights_df()
    col = next(k for k in w.columns if "weight" in k.lower())
    ucol = next(k for k in w.columns if k != col)
    out = {"weights": dict(zip(w[ucol].astype(str), w[col].astype(float), strict=True))}
    if placebo:
        out["p_value"] = float(r.placebo_p_value)
    return out


def run_pysyncon_sc(c: dict, placebo: bool = True) -> dict:
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
    out = {"weights": dict(zip(map(str, s.W_names), map(float, s.W), strict=True))}
    if placebo:
        pt = PlaceboTest()
        pt.fit(dataprep=dp, scm=s, verbose=False)
        out["p_value"] = float(pt.pvalue(treatment_time=c["start"]))
    return out


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
    "mlsynth_sc": run_mlsynth_sc,
    "tillit_sdid": run_tillit_sdid,
    "diffdiff_sdid": run_diffdiff_sdid,
}


WARM_REPEATS = 5
"""SDID jobs: calls timed after the first (the best is reported as ``warm``)."""


def child(runner: str, case: str) -> None:
    """Run one job in this process and print a JSON line.

    ``<package>_sc1`` is one nested fit of the treated unit, without placebos.  SDID
    jobs are then called ``WARM_REPEATS`` more times: ``seconds`` is the first call
    (imports, numba's load of its compiled loop and any other first-use cost
    included), ``warm`` the best later call.
    """
    warnings.simplefilter("ignore")
    c = _case(case)
    single = runner.endswith("_sc1")
    fn = RUNNERS[runner[:-1] if single else runner]
    t = time.perf_counter()
    out = fn(c, placebo=False) if single else fn(c)
    out["seconds"] = time.perf_counter() - t
    if runner.endswith("_sdid"):
        warm = []
        for _ in range(WARM_REPEATS):
            t = time.perf_counter()
            fn(c)
            warm.append(time.perf_counter() - t)
        out["warm"] = min(warm)
        out["warm_median"] = float(np.median(warm))
    out["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out, default=float))


def job(runner: str, case: str, timeout: float) -> dict:
    """Run ``runner`` in a subprocess; ``<runner>@1`` runs it with one numba thread."""
    env = dict(os.environ)
    if runner.endswith("@1"):
        runner = runner[:-2]
        env["NUMBA_NUM_THREADS"] = "1"
    cmd = [sys.executable, __file__, "--child", runner, case]
    try:
        p = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env
        )
    except subprocess.TimeoutExpired:
        return {"status": f"timeout > {timeout:.0f}s", "seconds": float("inf")}
    if p.returncode != 0:
        return {
            "status": "error: " + (p.stderr.strip().splitlines() or ["?"])[-1][:80],
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


def pre_mspe(case: str, weights: dict) -> float:
    """Pre-period MSPE of the treated unit under ``weights`` (same for every package)."""
    if not weights:
        return float("nan")
    c = _case(case)
    W = c["df"].pivot(index=c["unit"], columns=c["time"], values=c["outcome"])
    W.index = W.index.astype(str)
    pre = W.loc[:, W.columns < c["start"]]
    synth = sum(pre.loc[k] * v for k, v in weights.items())
    return float(((pre.loc[str(c["treated"])] - synth) ** 2).mean())


def _fmt_seconds(d: dict) -> str:
    if d["status"] == "ok":
        return f"{d['seconds']:.2f}"
    return d["status"]


def sc_rows(case: str, runners: list[str], timeout: float) -> list[dict]:
    """SC jobs on one panel.

    Tillit runs in full.  Each peer first runs one nested fit; when that finishes and
    the full run could finish within the timeout (``n_fits x one fit <= 1.5 x
    timeout``), the full run follows; otherwise the full time is extrapolated from
    the single fit (``~``), or bounded below by ``n_fits x timeout`` when even the
    single fit did not finish.
    """
    n_fits = 1 + len(_donors(case))
    res = {runners[0]: job(runners[0], case, timeout)}
    for r in runners[1:]:
        one = job(r + "1", case, timeout)
        d = {"status": "not run", "seconds": float("inf"), "single": one}
        if one["status"] == "ok" and n_fits * one["seconds"] <= 1.5 * timeout:
            d = job(r, case, timeout) | {"single": one}
        if d["status"] != "ok" and one["status"] == "ok":
            d["extrapolated"] = n_fits * one["seconds"]
            d.setdefault("weights", one.get("weights", {}))
            d.setdefault("maxrss_mb", one.get("maxrss_mb", np.nan))
        res[r] = d
    ours = res[runners[0]]
    return [_sc_row(case, r, res[r], ours, n_fits, timeout) for r in runners]


def _sc_row(
    case: str, r: str, d: dict, ours: dict, n_fits: int, timeout: float
) -> dict:
    base = ours["seconds"] if ours.get("status") == "ok" else np.nan
    if d["status"] == "ok":
        secs, note, x = (
            d["seconds"],
            f"{d['seconds']:.2f}",
            f"{d['seconds'] / base:.1f}",
        )
    elif "extrapolated" in d:
        secs = d["extrapolated"]
        note = (
            f"~{secs:.0f} ({n_fits} x one fit of {d['single']['seconds']:.1f} s; "
            f"full run: {d['status']})"
        )
        x = f"~{secs / base:.0f}"
    else:
        low = n_fits * timeout
        note = f"> {low:.0f} (one fit: {d['single']['status']})"
        x = f"> {low / base:.0f}"
    row = {
        "task": "SC nested V + placebo in space",
        "panel": case,
        "package": r.split("_")[0],
        "seconds": note,
        "x_tillit": x,
        "peak_rss_mb": _mb(d),
        "max_weight_diff": f"{max_wdiff(ours.get('weights', {}), d.get('weights', {})):.1e}",
        "pre_mspe": round(pre_mspe(case, d.get("weights", {})), 4),
        "p_value": round(d.get("p_value", np.nan), 4),
    }
    print(row, flush=True)
    return row


def _mb(d: dict) -> str:
    mb = d.get("maxrss_mb", np.nan)
    return f"{mb:.0f}" if np.isfinite(mb) else ""


def _donors(case: str) -> list[str]:
    c = _case(case)
    return sorted(set(map(str, c["df"][c["unit"]])) - {str(c["treated"])})


def sdid_rows(case: str, runners: list[str], timeout: float) -> list[dict]:
    """SDID jobs on one panel: first call and best warm call, ratios to Tillit's."""
    res = {r: job(r, case, timeout) for r in runners}
    ours = res[runners[0]]
    ok = ours.get("status") == "ok"
    rows = []
    for r in runners:
        d = res[r]
        cold = d["seconds"] / ours["seconds"] if ok else np.nan
        warm = d.get("warm", np.nan) / ours["warm"] if ok else np.nan
        name = r.split("_")[0] + (" (1 thread)" if r.endswith("@1") else "")
        rows.append(
            {
                "task": "SDID + placebo se (200 draws)",
                "panel": case,
                "package": name,
                "seconds": (
                    f"first {_fmt_seconds(d)}, warm {d.get('warm', np.nan):.3f}"
                    f" (median {d.get('warm_median', np.nan):.3f})"
                ),
                "x_tillit": f"first {cold:.1f}, warm {warm:.1f}",
                "peak_rss_mb": _mb(d),
                "max_weight_diff": f"{max_wdiff(ours.get('weights', {}), d.get('weights', {})):.1e}",
                "pre_mspe": "",
                "p_value": f"se {d.get('se', np.nan):.4f}",
            }
        )
        print(rows[-1], flush=True)
    return rows


SC_RUNNERS = ["tillit_sc", "mlsynth_sc", "diffdiff_sc", "pysyncon_sc"]
SDID_RUNNERS = ["tillit_sdid", "tillit_sdid@1", "diffdiff_sdid"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="Prop 99 only, short timeouts")
    ap.add_argument("--timeout", type=float, default=None)
    ap.add_argument("--only", choices=["sc", "sdid"], default=None)
    ap.add_argument("--child", nargs=2)
    ap.add_argument("--no-save", action="store_true")
    a = ap.parse_args()
    if a.child:
        child(*a.child)
        return
    timeout = a.timeout or (60.0 if a.quick else 300.0)
    cases = ["prop99"] if a.quick else ["prop99", "municipal290"]
    load0 = os.getloadavg()
    start = dt.datetime.now(dt.UTC)
    rows = []
    for case in cases:
        if a.only in (None, "sc"):
            rows += sc_rows(case, SC_RUNNERS, timeout)
        if a.only in (None, "sdid"):
            rows += sdid_rows(case, SDID_RUNNERS, timeout)
    load1 = os.getloadavg()
    table = pd.DataFrame(rows).to_markdown(index=False)
    print(table)
    if not a.no_save:
        out = ROOT / "benchmarks" / "results" / "synth.md"
        head = (
            f"\n## {start:%Y-%m-%d %H:%M} UTC, {platform.node()}, "
            f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"load {load0[0]:.1f} at start / {load1[0]:.1f} at end, "
            f"{'quick' if a.quick else 'full'}, timeout {timeout:.0f}s per job\n\n"
        )
        with out.open("a") as f:
            f.write(head + table + "\n")


if __name__ == "__main__":
    main()
