"""Benchmark: power by simulation on a 290 x 20 panel, Tillit vs a per-draw TWFE loop.

Tillit draws ``--simulations`` placebo pilots (random start, random treated units) and
tests each at once (vectorised). The peers fit the same placebo pilots one at a time as
a two-way fixed-effects regression with unit-clustered SEs (linearmodels ``PanelOLS``,
pyfixest ``feols``); ``--peer-draws`` of them are timed and extrapolated to the full run.
The estimates are compared draw by draw (the TWFE coefficient equals Tillit's estimate).

    .venv/bin/python benchmarks/bench_power.py            # 1000 simulations, 30 peer draws
    .venv/bin/python benchmarks/bench_power.py --quick    # 200 simulations, 5 peer draws

Panels: a synthetic AR(1) panel and the real Kolada KPI N15428 (share of year-9 pupils
eligible for vocational programmes, 2003-2022) from ../shared/data when present.
Appends the table with machine and date to benchmarks/results/meta.md (design section).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from tillit.core.power import power_analysis, wide_panel

HERE = Path(__file__).parent
SHARED = Path(
    os.environ.get("TILLIT_SHARED_DATA", HERE.parent.parent / "shared" / "data")
)
TREATED, PRE, POST = 10, 4, 2


def synthetic(n: int = 290, t: int = 20, seed: int = 0) -> pd.DataFrame:
    """AR(1) errors (rho 0.6), unit and period effects."""
    rng = np.random.default_rng(seed)
    e = np.empty((n, t))
    e[:, 0] = rng.normal(size=n)
    for j in range(1, t):
        e[:, j] = 0.6 * e[:, j - 1] + 0.8 * rng.normal(size=n)
    y = e + rng.normal(size=(n, 1)) * 2 + np.linspace(0, 1, t)
    return pd.DataFrame(
        {
            "unit": np.repeat(np.arange(n), t),
            "period": np.tile(np.arange(2003, 2003 + t), n),
            "y": y.ravel(),
        }
    )


def kolada() -> pd.DataFrame | None:
    path = SHARED / "kolada_panel_2024" / "kolada_selected_long.csv"
    if not path.exists():
        return None
    d = pd.read_csv(path, dtype={"municipality": str})
    k = d[
        (d.kpi == "N15428") & (d.gender == "T") & ~d.municipality.str.startswith("00")
    ]
    k = k[(k.period >= 2003) & (k.period <= 2022)]
    return k.rename(columns={"municipality": "unit", "value": "y"})[
        ["unit", "period", "y"]
    ]


def tillit_run(df: pd.DataFrame, sims: int):  # type: ignore[no-untyped-def]
    return power_analysis(
        df,
        "unit",
        "period",
        "y",
        treated=TREATED,
        pre_periods=PRE,
        post_periods=POST,
        simulations=sims,
        seed=1,
    )


def _window_frame(y: np.ndarray, start: int, treated: np.ndarray) -> pd.DataFrame:
    win = y[:, start : start + PRE + POST]
    ok = np.isfinite(win).all(1)
    n, t = win.shape
    d = np.zeros(n)
    d[treated] = 1
    frame = pd.DataFrame(
        {
            "unit": np.repeat(np.arange(n), t),
            "t": np.tile(np.arange(t), n),
            "y": win.ravel(),
            "d": np.outer(d, np.arange(t) >= PRE).ravel().astype(float),
        }
    )
    return frame[np.repeat(ok, t)]


def peer_linearmodels(y: np.ndarray, res, draws: int) -> tuple[float, np.ndarray]:  # type: ignore[no-untyped-def]
    from linearmodels.panel import PanelOLS

    est = []
    t0 = time.perf_counter()
    for b in range(draws):
        f = _window_frame(y, int(res.draws.start[b]), res.draws.treated[b]).set_index(
            ["unit", "t"]
        )
        m = PanelOLS(f.y, f[["d"]], entity_effects=True, time_effects=True)
        est.append(m.fit(cov_type="clustered", cluster_entity=True).params["d"])
    return (time.perf_counter() - t0) / draws, np.array(est)


def peer_pyfixest(y: np.ndarray, res, draws: int) -> tuple[float, np.ndarray]:  # type: ignore[no-untyped-def]
    import pyfixest as pf

    est = []
    t0 = time.perf_counter()
    for b in range(draws):
        f = _window_frame(y, int(res.draws.start[b]), res.draws.treated[b])
        fit = pf.feols("y ~ d | unit + t", data=f, vcov={"CRV1": "unit"})
        est.append(fit.coef()["d"])
    return (time.perf_counter() - t0) / draws, np.array(est)


def run(sims: int, peer_draws: int) -> pd.DataFrame:
    rows = []
    panels = [("synthetic 290x20", synthetic())]
    real = kolada()
    if real is not None:
        panels.append(("Kolada N15428 2003-2022", real))
    for name, df in panels:
        tillit_run(df, 50)  # warm-up
        t0 = time.perf_counter()
        res = tillit_run(df, sims)
        sec = time.perf_counter() - t0
        tracemalloc.start()
        tillit_run(df, sims)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        y, _, _ = wide_panel(df, "unit", "period", "y")
        rows.append(
            {
                "panel": name,
                "tool": f"tillit ({sims} draws, vectorised)",
                "seconds_total": sec,
                "seconds_per_draw": sec / sims,
                "ratio_to_tillit": 1.0,
                "peak_MB": peak,
                "max_diff_estimate": 0.0,
                "mde": res.mde,
                "sim_mde": res.sim_mde,
                "sim_size": res.sim_size,
            }
        )
        for tool, fn in (
            ("linearmodels PanelOLS loop", peer_linearmodels),
            ("pyfixest feols loop", peer_pyfixest),
        ):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fn(y, res, 1)  # warm-up
                    per, est = fn(y, res, peer_draws)
            except ImportError:
                continue
            rows.append(
                {
                    "panel": name,
                    "tool": f"{tool} ({peer_draws} draws, extrapolated)",
                    "seconds_total": per * sims,
                    "seconds_per_draw": per,
                    "ratio_to_tillit": per * sims / sec,
                    "peak_MB": np.nan,
                    "max_diff_estimate": float(
                        np.max(np.abs(est - res.draws.est[:peer_draws]))
                    ),
                    "mde": np.nan,
                    "sim_mde": np.nan,
                    "sim_size": np.nan,
                }
            )
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args()
    sims, peer = (200, 5) if args.quick else (1000, 30)
    table = run(sims, peer)
    text = table.to_markdown(index=False, floatfmt=".4g")
    print(text)
    if args.no_save:
        return
    out = HERE / "results" / "meta.md"
    out.parent.mkdir(exist_ok=True)
    if not out.exists():
        out.write_text("# Meta-analysis benchmark results\n")
    head = (
        f"\n## Design: power by simulation. {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, "
        f"{platform.node()}, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, numpy {np.__version__}"
        f"{' (--quick)' if args.quick else ''}\n\n"
        f"`.venv/bin/python benchmarks/bench_power.py{' --quick' if args.quick else ''}`: "
        f"{TREATED} treated, {PRE} pre + {POST} post periods\n\n"
    )
    with out.open("a") as fh:
        fh.write(head + text + "\n")


if __name__ == "__main__":
    main()
