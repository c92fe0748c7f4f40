"""Benchmark: whole ``tillit`` processes beside the peers run as their users run them.

Every figure is one whole process (interpreter start, imports, reading the CSV, the
fit with the command's default options, writing JSON), started by this script,
``--repeats`` times, Tillit and the peer alternating so that both see the same load;
the table gives the median, min and max wall time and the peak RSS of the process
(``wait4``'s ``ru_maxrss``).  Jobs:

* ``--help`` of ``tillit estimate did`` and ``sdid`` beside ``python -c pass`` and
  ``python -c "import pandas"`` (what an import of the engine would cost);
* ``tillit estimate sdid`` (placebo se, 200 draws, seed 1) on Prop 99 and on a
  generated 290 x 20 municipal panel, beside a plain script fitting diff-diff's
  ``SyntheticDiD(variance_method="placebo", n_bootstrap=200, seed=1)``;
* ``tillit estimate synth`` (ADH predictors, nested V, placebo in space) on Prop 99
  beside the fastest peer that finishes (mlsynth's ``VanillaSC``, backend ``mscmt``,
  ``inference="placebo"``; diff-diff and pysyncon take many times longer, see
  ``results/synth.md``), the peer run once with a timeout.

Estimates are compared (``same``: estimate and se, or donor weights and p-value, equal
to the digits stated).  Appends to ``benchmarks/results/cli.md``.

    .venv/bin/python benchmarks/bench_cli.py [--repeats 3] [--timeout 400] [--only sdid]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
PY = sys.executable
TILLIT = str(Path(PY).with_name("tillit"))

SDID_PEER = """
import json, sys
import pandas as pd
from diff_diff import SyntheticDiD
unit, time, y, treated, start = sys.argv[2:7]
df = pd.read_csv(sys.argv[1], dtype={unit: str})
df["tr"] = (df[unit].astype(str) == treated).astype(int)
post = sorted(t for t in df[time].unique() if t >= int(start))
out = {}
for name in y.split(","):  # one fit per outcome, as a user's loop would
    r = SyntheticDiD(variance_method="placebo", n_bootstrap=200, seed=1).fit(
        df, name, "tr", unit, time, post_periods=post
    )
    out[name] = {"estimate": float(r.att), "se": float(r.se)}
print(json.dumps(next(iter(out.values())) if len(out) == 1 else {"outcomes": out}))
"""

SC_PEER = """
import json, sys
import pandas as pd
from mlsynth.estimators.vanillasc import VanillaSC
df = pd.read_csv(sys.argv[1])
specs = json.loads(sys.argv[2])
covs, windows = [], {}
for v, a, b in specs:
    name = f"{v}_{a}_{b}"
    df[name] = df[v]
    covs.append(name)
    windows[name] = (a, b)
df["d"] = ((df.state == "California") & (df.year >= 1989)).astype(int)
r = VanillaSC({"df": df, "outcome": "cigsale", "treat": "d", "unitid": "state",
               "time": "year", "covariates": covs, "covariate_windows": windows,
               "backend": "mscmt", "inference": "placebo",
               "display_graphs": False}).fit()
w = {str(k): float(v) for k, v in r.weights.donor_weights.items()}
print(json.dumps({"weights": w, "p_value": float(r.inference.p_value)}))
"""


def _rss(cmd: list[str], timeout: float) -> tuple[dict, float | None]:
    t = time.perf_counter()
    proc = subprocess.Popen(
        ["/usr/bin/time", "-f", "RSS_KB %M", *cmd],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return {"seconds": None, "out": "", "timeout": True}, None
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} failed: {err[-800:]}")
    kb = [ln for ln in err.splitlines() if ln.startswith("RSS_KB")]
    rss = int(kb[-1].split()[1]) / 1024 if kb else None
    return {"seconds": wall, "out": out, "timeout": False}, rss


def series(
    jobs: dict[str, list[str]], repeats: int, timeout: float, once: set[str]
) -> dict[str, dict]:
    """Run the jobs alternately ``repeats`` times (``once``: a single run)."""
    acc: dict[str, dict] = {
        k: {"t": [], "rss": [], "out": "", "timeout": False} for k in jobs
    }
    for i in range(repeats):
        for name, cmd in jobs.items():
            if name in once and i > 0:
                continue
            res, rss = _rss(cmd, timeout)
            a = acc[name]
            if res["timeout"]:
                a["timeout"] = True
                continue
            a["t"].append(res["seconds"])
            if rss is not None:
                a["rss"].append(rss)
            a["out"] = res["out"]
    return acc


def _fmt(a: dict, timeout: float) -> tuple[str, str, str, str]:
    if not a["t"]:
        return (f"> {timeout:.0f} (timeout)", "", "", "")
    t = a["t"]
    return (
        f"{statistics.median(t):.3f}",
        f"{min(t):.3f}",
        f"{max(t):.3f}",
        f"{max(a['rss']):.0f}" if a["rss"] else "",
    )


def _json(out: str) -> dict:
    out = out.strip()
    return json.loads(out[out.index("{") :]) if out else {}


def help_rows(repeats: int, timeout: float) -> list[dict]:
    jobs = {
        "python -c pass": [PY, "-c", "pass"],
        "python -c 'import pandas'": [PY, "-c", "import pandas"],
        "tillit estimate did --help": [TILLIT, "estimate", "did", "--help"],
        "tillit estimate sdid --help": [TILLIT, "estimate", "sdid", "--help"],
    }
    acc = series(jobs, max(repeats, 5), timeout, set())
    rows = []
    for name, a in acc.items():
        med, lo, hi, rss = _fmt(a, timeout)
        rows.append(
            {
                "job": name,
                "panel": "",
                "median_s": med,
                "min_s": lo,
                "max_s": hi,
                "peak_rss_mb": rss,
                "vs_tillit": "",
                "same": "",
            }
        )
    return rows


def sdid_rows(
    tmp: Path, repeats: int, timeout: float, only_case: str | None = None
) -> list[dict]:
    from bench_synth import municipal_panel

    muni = tmp / "municipal290.csv"
    municipal_panel().to_csv(muni, index=False)
    peer = tmp / "diffdiff_sdid.py"
    peer.write_text(SDID_PEER)
    prop = ROOT / "tests" / "reference" / "synth" / "data" / "california_prop99.csv"
    import numpy as np
    import pandas as pd

    many = tmp / "prop99_20.csv"
    df = pd.read_csv(prop)
    rng = np.random.default_rng(0)
    names = [f"y{k:02d}" for k in range(20)]
    for k in names:
        df[k] = df["cigsale"] + rng.normal(scale=2.0, size=len(df))
    df.to_csv(many, index=False)
    cases = {
        "prop99": (prop, "state", "year", "cigsale", "California", "1989"),
        "municipal290": (muni, "unit", "year", "y", "0000", "2015"),
        "prop99, 20 outcomes": (
            many,
            "state",
            "year",
            ",".join(names),
            "California",
            "1989",
        ),
    }
    rows = []
    for case, (path, unit, tm, y, tr, start) in cases.items():
        if only_case and case != only_case:
            continue
        outs = [a for o in y.split(",") for a in ("--outcome", o)]
        t_cmd = [
            TILLIT,
            "estimate",
            "sdid",
            "--data",
            str(path),
            *outs,
            "--unit",
            unit,
            "--time",
            tm,
            "--treated-unit",
            tr,
            "--treatment-start",
            start,
            "--seed",
            "1",
            "--format",
            "json",
        ]
        p_cmd = [PY, str(peer), str(path), unit, tm, y, tr, start]
        acc = series({"tillit": t_cmd, "diff-diff": p_cmd}, repeats, timeout, set())
        rows += _pair_rows(
            "tillit estimate sdid (placebo, 200 draws)", case, acc, timeout, _same_sdid
        )
    return rows


def _same_sdid(a: dict, b: dict) -> str:
    if not a or not b:
        return ""
    if "outcomes" in a:
        pairs = [(a["outcomes"][k], b["outcomes"][k]) for k in a["outcomes"]]
        de = max(abs(x["estimate"] - y["estimate"]) for x, y in pairs)
        ds = max(abs(x["se"] - y["se"]) for x, y in pairs)
        return (
            f"{len(pairs)} outcomes: max estimate diff {de:.1e}, max se diff {ds:.1e}"
        )
    if "outcomes" in a:
        pairs = [(a["outcomes"][k], b["outcomes"][k]) for k in a["outcomes"]]
        de = max(abs(x["estimate"] - y["estimate"]) for x, y in pairs)
        ds = max(abs(x["se"] - y["se"]) for x, y in pairs)
        return (
            f"{len(pairs)} outcomes: max estimate diff {de:.1e}, max se diff {ds:.1e}"
        )
    de = abs(a["estimate"] - b["estimate"])
    ds = abs(a["se"] - b["se"])
    return f"estimate diff {de:.1e}, se diff {ds:.1e} (se {a['se']:.4f})"


def _same_sc(a: dict, b: dict) -> str:
    if not a or not b:
        return ""
    wa, wb = a.get("weights", {}), b.get("weights", {})
    keys = set(wa) | set(wb)
    dw = max(abs(wa.get(k, 0.0) - wb.get(k, 0.0)) for k in keys)
    return f"max weight diff {dw:.1e}; p {a['p_value']:.4f} vs {b['p_value']:.4f}"


def _pair_rows(job: str, case: str, acc: dict, timeout: float, same) -> list[dict]:
    names = list(acc)
    base = acc[names[0]]
    outs = {k: _json(v["out"]) for k, v in acc.items()}
    rows = []
    for name in names:
        med, lo, hi, rss = _fmt(acc[name], timeout)
        ratio = ""
        if base["t"] and acc[name]["t"]:
            ratio = f"{statistics.median(acc[name]['t']) / statistics.median(base['t']):.1f}"
        elif base["t"]:
            ratio = f"> {timeout / statistics.median(base['t']):.0f}"
        rows.append(
            {
                "job": f"{job} [{name}]",
                "panel": case,
                "median_s": med,
                "min_s": lo,
                "max_s": hi,
                "peak_rss_mb": rss,
                "vs_tillit": ratio,
                "same": same(outs[names[0]], outs[name]) if name != names[0] else "",
            }
        )
    return rows


def synth_rows(tmp: Path, repeats: int, timeout: float) -> list[dict]:
    from bench_synth import ADH

    peer = tmp / "mlsynth_sc.py"
    peer.write_text(SC_PEER)
    prop = ROOT / "tests" / "reference" / "synth" / "data" / "california_prop99.csv"
    preds = [f"{v}@{a}-{b}" if a != b else f"{v}@{a}" for v, a, b in ADH]
    t_cmd = [
        TILLIT,
        "estimate",
        "synth",
        "--data",
        str(prop),
        "--outcome",
        "cigsale",
        "--unit",
        "state",
        "--time",
        "year",
        "--treated-unit",
        "California",
        "--treatment-start",
        "1989",
        "--format",
        "json",
    ]
    for p in preds:
        t_cmd += ["--predictor", p]
    p_cmd = [PY, str(peer), str(prop), json.dumps(ADH)]
    acc = series({"tillit": t_cmd, "mlsynth": p_cmd}, repeats, timeout, {"mlsynth"})
    return _pair_rows(
        "tillit estimate synth (ADH predictors, placebo in space)",
        "prop99",
        acc,
        timeout,
        _same_sc,
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=400.0)
    ap.add_argument("--only", choices=["help", "sdid", "synth"], default=None)
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument(
        "--case", default=None, help="one SDID case, e.g. 'prop99, 20 outcomes'"
    )
    a = ap.parse_args()
    load0 = os.getloadavg()
    start = dt.datetime.now(dt.UTC)
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if a.only in (None, "help"):
            rows += help_rows(a.repeats, a.timeout)
        if a.only in (None, "sdid"):
            rows += sdid_rows(tmp, a.repeats, a.timeout, a.case)
        if a.only in (None, "synth"):
            rows += synth_rows(tmp, a.repeats, a.timeout)
    load1 = os.getloadavg()
    import pandas as pd

    table = pd.DataFrame(rows).to_markdown(index=False)
    print(table)
    if not a.no_save:
        out = ROOT / "benchmarks" / "results" / "cli.md"
        head = (
            f"\n## {start:%Y-%m-%d %H:%M} UTC, {platform.node()}, "
            f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"load {load0[0]:.1f} at start / {load1[0]:.1f} at end, repeats "
            f"{a.repeats}, timeout {a.timeout:.0f} s\n\n"
            f"`.venv/bin/python benchmarks/bench_cli.py "
            f"{' '.join(sys.argv[1:])}`\n\n"
        )
        if not out.exists():
            out.write_text("# bench_cli results: whole processes, side by side\n")
        with out.open("a") as f:
            f.write(head + table + "\n")


if __name__ == "__main__":
    main()
