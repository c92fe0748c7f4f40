"""Benchmark: random-effects meta-analysis, Tillit vs PyMARE and statsmodels.

Runs K = 1 (the BCG data, 13 trials) and K outcomes at once (K x k simulated studies),
REML and DL, and reports seconds, the time ratio to Tillit, peak traced memory
(tracemalloc) and the largest difference in the pooled estimate and tau^2 from Tillit's.

    .venv/bin/python benchmarks/bench_meta.py            # K = 1000, k = 20
    .venv/bin/python benchmarks/bench_meta.py --quick    # K = 100

Appends a table with machine and date to benchmarks/results/meta.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import time
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tillit.core.meta import log_risk_ratio, meta_analysis, meta_analysis_many

HERE = Path(__file__).parent
BCG = HERE.parent / "tests" / "reference" / "meta" / "data" / "dat_bcg.csv"


def measure(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, float, Any]:
    """Best wall time of ``repeat`` runs, peak traced MB of one run, and the result."""
    out = fn()  # warm-up (imports, caches)
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return best, peak, out


def tillit_many(
    y: np.ndarray, v: np.ndarray, method: str, ci: bool
) -> tuple[np.ndarray, np.ndarray]:
    b = meta_analysis_many(y, v, method=method, tau2_ci=ci)
    return b.estimate, b.tau2


def tillit_loop(
    y: np.ndarray, v: np.ndarray, method: str
) -> tuple[np.ndarray, np.ndarray]:
    res = [meta_analysis(y[i], v[i], method=method) for i in range(len(y))]
    return np.array([r.estimate.estimate for r in res]), np.array([r.tau2 for r in res])


def pymare_parallel(
    y: np.ndarray, v: np.ndarray, method: str
) -> tuple[np.ndarray, np.ndarray]:
    from pymare import Dataset
    from pymare.estimators import DerSimonianLaird, VarianceBasedLikelihoodEstimator

    est = (
        DerSimonianLaird()
        if method == "dl"
        else VarianceBasedLikelihoodEstimator(
            method="REML", small_sample_correction="wald"
        )
    )
    s = est.fit_dataset(Dataset(y=y.T, v=v.T)).summary()
    return s.get_fe_stats()["est"].ravel(), np.ravel(s.tau2)


def pymare_loop(
    y: np.ndarray, v: np.ndarray, method: str
) -> tuple[np.ndarray, np.ndarray]:
    out = [pymare_parallel(y[i : i + 1], v[i : i + 1], method) for i in range(len(y))]
    return np.concatenate([o[0] for o in out]), np.concatenate([o[1] for o in out])


def statsmodels_loop(
    y: np.ndarray, v: np.ndarray, method: str
) -> tuple[np.ndarray, np.ndarray]:
    from statsmodels.stats.meta_analysis import combine_effects

    est, tau2 = [], []
    for i in range(len(y)):
        r = combine_effects(
            y[i], v[i], method_re="chi2" if method == "dl" else "iterated"
        )
        est.append(r.mean_effect_re)
        tau2.append(r.tau2)
    return np.array(est), np.array(tau2)


def run(k_out: int, k: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    v = rng.uniform(0.02, 0.5, size=(k_out, k))
    y = (
        0.2
        + rng.normal(size=(k_out, 1)) * 0.1
        + rng.normal(size=(k_out, k)) * np.sqrt(v + 0.05)
    )
    d = pd.read_csv(BCG)
    by, bv = log_risk_ratio(d.tpos, d.tneg, d.cpos, d.cneg)
    rows = []
    cases = [
        ("K=1 (BCG)", by[None, :], bv[None, :], 20),
        (f"K={k_out}, k={k}", y, v, 1),
    ]
    for label, yy, vv, rep in cases:
        for method in ("reml", "dl"):
            tools: list[tuple[str, Callable[[], Any]]] = [
                (
                    "tillit batch (no tau2 CI)",
                    lambda yy=yy, vv=vv, method=method: tillit_many(
                        yy, vv, method, False
                    ),
                ),
                (
                    "tillit batch (+ Q-profile CI)",
                    lambda yy=yy, vv=vv, method=method: tillit_many(
                        yy, vv, method, True
                    ),
                ),
                (
                    "tillit meta_analysis loop",
                    lambda yy=yy, vv=vv, method=method: tillit_loop(yy, vv, method),
                ),
                (
                    "pymare parallel",
                    lambda yy=yy, vv=vv, method=method: pymare_parallel(yy, vv, method),
                ),
                (
                    "pymare loop",
                    lambda yy=yy, vv=vv, method=method: pymare_loop(yy, vv, method),
                ),
            ]
            if (
                method == "dl"
            ):  # statsmodels has DL ("chi2") and PM ("iterated"), no REML
                tools.append(
                    (
                        "statsmodels loop",
                        lambda yy=yy, vv=vv, method=method: statsmodels_loop(
                            yy, vv, method
                        ),
                    )
                )
            base = None
            for name, fn in tools:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    sec, mb, (est, tau2) = measure(fn, rep)
                if base is None:
                    base = (sec, est, tau2)
                rows.append(
                    {
                        "case": label,
                        "method": method,
                        "tool": name,
                        "seconds": sec,
                        "ratio_to_tillit": sec / base[0],
                        "peak_MB": mb,
                        "max_diff_estimate": float(np.nanmax(np.abs(est - base[1]))),
                        "max_diff_tau2": float(np.nanmax(np.abs(tau2 - base[2]))),
                    }
                )
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="K = 100 instead of 1000")
    ap.add_argument("--k", type=int, default=20, help="studies per meta-analysis")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args()
    k_out = 100 if args.quick else 1000
    table = run(k_out, args.k, args.seed)
    text = (
        table.to_markdown(index=False, floatfmt=".4g")
        if _has_tabulate()
        else table.to_string(index=False)
    )
    print(text)
    if not args.no_save:
        head = (
            f"\n## {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
            f"{platform.processor() or platform.machine()}, {_cpus()} CPUs, "
            f"Python {platform.python_version()}, numpy {np.__version__}"
            f"{' (--quick)' if args.quick else ''}\n\n"
            "`.venv/bin/python benchmarks/bench_meta.py"
            f"{' --quick' if args.quick else ''}`\n\n"
        )
        out = HERE / "results" / "meta.md"
        out.parent.mkdir(exist_ok=True)
        if not out.exists():
            out.write_text("# Meta-analysis benchmark results\n")
        with out.open("a") as fh:
            fh.write(head + text + "\n")


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


def _cpus() -> int:
    import os

    return os.cpu_count() or 1


if __name__ == "__main__":
    main()
