"""Benchmark Tillit's staggered DiD against the Python peers on the same generated panel.

Run ``.venv/bin/python benchmarks/bench_did.py [--quick]``. Prints a table (time, peak
memory, ratio to Tillit, agreement of estimates) and appends it, with machine and date, to
``benchmarks/results/did.md``.

Works: 290 x 20 staggered panel with 1 outcome (analytic SEs), 1 outcome with 999
multiplier-bootstrap draws, 100 outcomes (peers loop over outcomes as their users would;
Tillit takes them in one call), the same at 2,900 units, and the TWFE event study. Peers that
would take too long are timed on the first few outcomes and extrapolated (marked ``~``).
"""

# ruff: noqa: E402  (BLAS threads are pinned before numpy is imported)
from __future__ import annotations

import os

# one BLAS thread for every engine: on a shared, loaded machine threaded BLAS on small
# matrices mostly waits (measured 4x slower); set before numpy is imported
for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse
import contextlib
import datetime as dt
import io
import platform
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tillit.core.did import att_gt
from tillit.core.did.twfe import event_study

RESULTS = Path(__file__).parent / "results" / "did.md"


def make_panel(
    n_units: int, n_periods: int = 20, k: int = 1, seed: int = 0
) -> pd.DataFrame:
    """Staggered adoption: 30% never treated, six cohorts, dynamic effects, k outcomes."""
    rng = np.random.default_rng(seed)
    years = np.arange(2001, 2001 + n_periods)
    cohorts = np.array([0, 2006, 2008, 2010, 2012, 2014, 2016])
    p = np.r_[0.3, np.full(6, 0.7 / 6)]
    g = rng.choice(cohorts, size=n_units, p=p)
    df = pd.DataFrame(
        {
            "id": np.repeat(np.arange(n_units), n_periods),
            "year": np.tile(years, n_units),
            "g": np.repeat(g, n_periods),
        }
    )
    e = df.year - df.g
    on = (df.g > 0) & (e >= 0)
    base = np.repeat(rng.normal(size=n_units), n_periods) + 0.05 * (df.year - 2001)
    cols = {
        f"out{j}": base + rng.normal(size=len(df)) + on * (0.1 + 0.02 * e) * (j % 3)
        for j in range(k)
    }
    return pd.concat([df, pd.DataFrame(cols)], axis=1)


def _quiet(fn: Callable[[], Any]) -> Any:
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        return fn()


def timed(fn: Callable[[], Any], reps: int) -> tuple[float, Any]:
    """Best wall time of ``reps`` runs and the last result."""
    best, out = np.inf, None
    for _ in range(reps):
        t0 = time.perf_counter()
        out = _quiet(fn)
        best = min(best, time.perf_counter() - t0)
    return best, out


def peak_mb(fn: Callable[[], Any]) -> float:
    """Peak traced Python/numpy allocation of one run, in MB."""
    tracemalloc.start()
    _quiet(fn)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


# --- the contestants: each returns (ATT(g,t) array of the first outcome, simple ATT list)


def ours(df: pd.DataFrame, ys: list[str], boot: int = 0, lean: bool = True) -> Any:
    r = att_gt(
        df,
        outcomes=ys,
        unit="id",
        time="year",
        cohort="g",
        bootstrap=boot,
        seed=1,
        compare_controls=not lean,
        honest=not lean,
        keep_influence=False,
    )
    return r[ys[0]].att_gt.estimate, [r[y].simple.estimate[0] for y in ys]


def diff_diff(df: pd.DataFrame, ys: list[str], boot: int = 0) -> Any:
    from diff_diff import CallawaySantAnna

    simple, first = [], None
    for y in ys:
        # Mammen weights, as Tillit and R's did (diff-diff defaults to Rademacher)
        r = CallawaySantAnna(n_bootstrap=boot, seed=1, bootstrap_weights="mammen").fit(
            df, outcome=y, unit="id", time="year", first_treat="g"
        )
        if first is None:
            first = np.array([v["effect"] for v in r.group_time_effects.values()])
        simple.append(r.overall_att)
    return first, simple


def moderndid(df: pd.DataFrame, ys: list[str], boot: int = 0) -> Any:
    import moderndid as md

    simple, first = [], None
    for y in ys:
        m = md.att_gt(
            data=df,
            yname=y,
            tname="year",
            idname="id",
            gname="g",
            boot=bool(boot),
            biters=max(boot, 1),
            cband=bool(boot),
        )
        a = md.aggte(m, type="simple", boot=bool(boot), biters=max(boot, 1))
        if first is None:
            first = np.asarray(m.att_gt)
        simple.append(a.overall_att)
    return first, simple


def csdid(df: pd.DataFrame, ys: list[str], boot: int = 0) -> Any:
    from csdid.att_gt import ATTgt

    simple, first = [], None
    for y in ys:
        a = ATTgt(
            yname=y,
            gname="g",
            idname="id",
            tname="year",
            data=df,
            control_group="nevertreated",
            biters=max(boot, 1),
        ).fit(est_method="dr", bstrap=bool(boot))
        a.aggte("simple", bstrap=bool(boot), biters=max(boot, 1))
        if first is None:
            first = np.asarray(a.results["att"])
        simple.append(a.atte["overall_att"])
    return first, simple


def differences(df: pd.DataFrame, ys: list[str], boot: int = 0) -> Any:
    import differences as dfs

    d = df.assign(g=df.g.replace(0, np.nan)).set_index(["id", "year"])
    simple, first = [], None
    for y in ys:
        m = dfs.ATTgt(data=d, cohort_column="g")
        r = m.fit(
            formula=y,
            est_method="dr",
            progress_bar=False,
            boot_iterations=boot,
            random_state=1,
        )
        a = m.aggregate("simple", boot_iterations=boot, random_state=1)
        if first is None:
            first = r.to_pandas().iloc[:, 0].to_numpy()
        simple.append(float(a.to_numpy()[0, 0]))
    return first, simple


PEERS = {
    "diff-diff": diff_diff,
    "moderndid": moderndid,
    "csdid": csdid,
    "differences": differences,
}


def available(name: str) -> bool:
    mod = {"diff-diff": "diff_diff"}.get(name, name)
    try:
        __import__(mod)
    except ImportError:
        return False
    return True


def agree(a: Any, b: Any) -> float:
    """Largest absolute difference of the simple ATTs (and ATT(g,t) when aligned)."""
    d = float(np.max(np.abs(np.asarray(a[1]) - np.asarray(b[1][: len(a[1])]))))
    if a[0] is not None and b[0] is not None and np.shape(a[0]) == np.shape(b[0]):
        d = max(d, float(np.max(np.abs(np.sort(a[0]) - np.sort(b[0])))))
    return d


def run_work(
    name: str, df: pd.DataFrame, ys: list[str], boot: int, reps: int, budget: float
) -> list[dict[str, Any]]:
    rows = []
    t_ours, r_ours = timed(lambda: ours(df, ys, boot), reps)
    t_full, _ = timed(lambda: ours(df, ys, boot, lean=False), 1)
    mem = peak_mb(lambda: ours(df, ys, boot))
    rows.append(
        {
            "work": name,
            "engine": "tillit",
            "seconds": t_ours,
            "peak_mb": mem,
            "ratio": 1.0,
            "max_abs_diff": 0.0,
            "note": f"with diagnostics {t_full:.3f}s",
        }
    )
    for peer, fn in PEERS.items():
        if not available(peer):
            rows.append({"work": name, "engine": peer, "note": "not installed"})
            continue
        try:
            t1, _ = timed(lambda fn=fn: fn(df, ys[:1], boot), 1)  # one outcome, to size
        except Exception as exc:  # a peer failing is a finding, not a crash
            rows.append({"work": name, "engine": peer, "note": f"failed: {exc!s:.80}"})
            continue
        m = len(ys) if t1 * len(ys) <= budget else max(1, int(budget // max(t1, 1e-9)))
        sub = ys[:m]
        t, r = timed(
            lambda fn=fn, sub=sub: fn(df, sub, boot), reps if m == len(ys) else 1
        )
        t_all = t * len(ys) / m
        mem = peak_mb(lambda fn=fn: fn(df, ys[:1], boot))
        rows.append(
            {
                "work": name,
                "engine": peer,
                "seconds": t_all,
                "peak_mb": mem,
                "ratio": t_all / t_ours,
                "max_abs_diff": agree(r, r_ours),
                "note": "" if m == len(ys) else f"~ extrapolated from {m} outcomes",
            }
        )
    return rows


def run_event_study(df: pd.DataFrame, reps: int) -> list[dict[str, Any]]:
    t, es = timed(
        lambda: event_study(df, outcomes=["out0"], unit="id", time="year", cohort="g"),
        reps,
    )
    mem = peak_mb(
        lambda: event_study(df, outcomes=["out0"], unit="id", time="year", cohort="g")
    )
    rows = [
        {
            "work": "TWFE event study",
            "engine": "tillit",
            "seconds": t,
            "peak_mb": mem,
            "ratio": 1.0,
            "max_abs_diff": 0.0,
            "note": "",
        }
    ]
    ours_b = es.coefficients["out0"].estimate
    events = es.coefficients["out0"].labels["event_time"]
    d = df.copy()
    rel = np.where(d.g > 0, d.year - d.g, np.nan)
    names = []
    for e in events:
        names.append(f"e{int(e) + 100}")
        d[names[-1]] = (rel == e).astype(float)
    if available("pyfixest"):
        import pyfixest as pf

        fml = "out0 ~ " + "+".join(names) + " | id + year"
        tp, f = timed(lambda: pf.feols(fml, data=d, vcov={"CRV1": "id"}), reps)
        diff = float(np.max(np.abs(f.coef().to_numpy() - ours_b)))
        rows.append(
            {
                "work": "TWFE event study",
                "engine": "pyfixest",
                "seconds": tp,
                "peak_mb": peak_mb(lambda: pf.feols(fml, data=d, vcov={"CRV1": "id"})),
                "ratio": tp / t,
                "max_abs_diff": diff,
                "note": "",
            }
        )
    if available("linearmodels"):
        from linearmodels import PanelOLS

        p = d.set_index(["id", "year"])

        def lm() -> Any:
            return PanelOLS(
                p.out0, p[names], entity_effects=True, time_effects=True
            ).fit(cov_type="clustered", cluster_entity=True)

        tl, f = timed(lm, reps)
        diff = float(np.max(np.abs(f.params.to_numpy() - ours_b)))
        rows.append(
            {
                "work": "TWFE event study",
                "engine": "linearmodels",
                "seconds": tl,
                "peak_mb": peak_mb(lm),
                "ratio": tl / t,
                "max_abs_diff": diff,
                "note": "",
            }
        )
    return rows


def fmt(rows: list[dict[str, Any]]) -> str:
    head = "| work | engine | seconds | peak MB | x Tillit | max abs diff | note |"
    out = [head, "|---|---|---:|---:|---:|---:|---|"]
    for r in rows:
        if "seconds" not in r:
            out.append(f"| {r['work']} | {r['engine']} | | | | | {r['note']} |")
            continue
        out.append(
            f"| {r['work']} | {r['engine']} | {r['seconds']:.4f} | {r['peak_mb']:.1f} | "
            f"{r['ratio']:.1f} | {r['max_abs_diff']:.1e} | {r['note']} |"
        )
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small budget, fewer repeats")
    args = ap.parse_args()
    reps = 1 if args.quick else 3
    budget = 5.0 if args.quick else 30.0
    k_many = 10 if args.quick else 100
    rows: list[dict[str, Any]] = []
    small = make_panel(290, k=k_many)
    ys = [f"out{j}" for j in range(k_many)]
    rows += run_work("290x20, 1 outcome, analytic", small, ys[:1], 0, reps, budget)
    rows += run_work(
        "290x20, 1 outcome, 999 bootstrap", small, ys[:1], 999, reps, budget
    )
    rows += run_work(f"290x20, {k_many} outcomes, analytic", small, ys, 0, reps, budget)
    big = make_panel(2900, k=k_many, seed=1)
    rows += run_work("2900x20, 1 outcome, analytic", big, ys[:1], 0, reps, budget)
    rows += run_work(
        "2900x20, 1 outcome, 999 bootstrap", big, ys[:1], 999, reps, budget
    )
    rows += run_work(f"2900x20, {k_many} outcomes, analytic", big, ys, 0, reps, budget)
    rows += run_event_study(small, reps)
    table = fmt(rows)
    print(table)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python "
        f"{sys.version.split()[0]}, numpy {np.__version__}, load "
        f"{os.getloadavg()[0]:.2f}"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a") as fh:
        fh.write(
            f"\n## {stamp}{' (quick)' if args.quick else ''}\n\n{machine}\n\n{table}\n"
        )


if __name__ == "__main__":
    main()
