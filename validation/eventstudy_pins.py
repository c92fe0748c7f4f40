"""Rebuild tests/reference/eventstudy/peers.json from the peer packages (issue #18).

Run from the repository root with the dev extras installed::

    .venv/bin/python validation/eventstudy_pins.py

It writes the two synthetic panels under ``tests/reference/eventstudy/data/`` (seeded,
made by this script) and pins what the peers print for:

* ``df_het`` (shipped with pyfixest, the did2s/didimputation example panel):
  pyfixest ``did2s`` (static and event study), diff-diff ``ImputationDiD`` and
  ``SunAbraham``, pyfixest ``feols`` with the cohort x event-time interactions;
* ``favara_imbs`` (shipped with moderndid; the DIDmultiplegtDYN example):
  moderndid ``did_multiplegt`` with effects=8, placebo=3, with and without
  ``cluster="state_n"``;
* ``ddd_panel.csv``: moderndid ``ddd`` (never / not-yet) and ``agg_ddd``;
* ``cont_panel.csv``: diff-diff ``ContinuousDiD`` (never / not-yet).
"""

from __future__ import annotations

import importlib.metadata as md_meta
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parents[1] / "tests" / "reference" / "eventstudy"
warnings.filterwarnings("ignore")


def ddd_panel() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n, T = 600, 6
    s, q = rng.choice([0, 2003, 2004, 2005], n), rng.integers(0, 2, n)
    df = pd.DataFrame(
        {
            "id": np.repeat(np.arange(n), T),
            "year": np.tile(np.arange(2000, 2000 + T), n),
        }
    )
    df["s"], df["q"] = s[df.id], q[df.id]
    treated = (df.s > 0) & (df.year >= df.s) & (df.q == 1)
    df["y"] = (
        rng.normal(size=n)[df.id]
        + 0.3 * df.q * (df.year - 2000)
        + 0.2 * (df.s > 0) * (df.year - 2000)
        + rng.normal(size=len(df))
        + treated * (1 + 0.5 * (df.year - df.s))
    )
    return df.round(10)


def cont_panel() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n, T = 800, 5
    g = rng.choice([0, 2002, 2003, 2004], n)
    dose = np.where(g > 0, rng.uniform(0.5, 3, n), 0.0)
    df = pd.DataFrame(
        {
            "id": np.repeat(np.arange(n), T),
            "year": np.tile(np.arange(2000, 2000 + T), n),
        }
    )
    df["g"], df["d"] = g[df.id], dose[df.id]
    tr = (df.g > 0) & (df.year >= df.g)
    df["y"] = (
        rng.normal(size=n)[df.id]
        + 0.1 * (df.year - 2000)
        + rng.normal(size=len(df))
        + tr * (df.d + 0.3 * df.d**2)
    )
    return df.round(10)


def df_het() -> pd.DataFrame:
    import pyfixest

    return pd.read_csv(Path(pyfixest.__file__).parent / "did" / "data" / "df_het.csv")


def pin_df_het() -> dict:
    import pyfixest as pf
    from diff_diff import ImputationDiD, SunAbraham

    df = df_het()
    out: dict = {}
    st = pf.did2s(
        df,
        yname="dep_var",
        first_stage="~ 0 | unit + year",
        second_stage="~ i(treat)",
        treatment="treat",
        cluster="unit",
    ).tidy()
    out["did2s_static"] = {
        "estimate": float(st["Estimate"].iloc[0]),
        "se": float(st["Std. Error"].iloc[0]),
    }
    es = pf.did2s(
        df,
        yname="dep_var",
        first_stage="~ 0 | unit + year",
        second_stage="~ i(rel_year, ref=-1.0)",
        treatment="treat",
        cluster="unit",
    ).tidy()
    es = es[~es.index.str.contains("inf")]
    out["did2s_event"] = {
        "event_time": [float(i.split("::")[1]) for i in es.index],
        "estimate": es["Estimate"].tolist(),
        "se": es["Std. Error"].tolist(),
    }
    imp = ImputationDiD().fit(
        df, outcome="dep_var", unit="unit", time="year", first_treat="g"
    )
    out["imputation_overall"] = {
        "estimate": float(imp.overall_att),
        "se": float(imp.overall_se),
    }
    sa = SunAbraham().fit(
        df, outcome="dep_var", unit="unit", time="year", first_treat="g"
    )
    eff = sorted(sa.event_study_effects.items())
    out["sunab_event"] = {
        "event_time": [float(k) for k, _ in eff],
        "estimate": [float(v["effect"]) for _, v in eff],
        "se": [float(v["se"]) for _, v in eff],
    }
    out["sunab_overall"] = {
        "estimate": float(sa.overall_att),
        "se": float(sa.overall_se),
    }
    return out


def pin_favara() -> dict:
    import moderndid as md

    out = {}
    for label, cl in (("unclustered", None), ("cluster_state_n", "state_n")):
        r = md.did_multiplegt(
            data=md.load_favara_imbs(),
            yname="Dl_vloans_b",
            idname="county",
            tname="year",
            dname="inter_bra",
            effects=8,
            placebo=3,
            cluster=cl,
        )
        out[label] = {
            "effects": {
                "estimate": r.effects.estimates.tolist(),
                "se": r.effects.std_errors.tolist(),
                "n_switchers": r.effects.n_switchers.tolist(),
            },
            "placebos": {
                "estimate": r.placebos.estimates.tolist(),
                "se": r.placebos.std_errors.tolist(),
                "n_switchers": r.placebos.n_switchers.tolist(),
            },
            "av_tot_eff": {
                "estimate": float(r.ate.estimate),
                "se": float(r.ate.std_error),
            },
        }
    return out


def pin_ddd(df: pd.DataFrame) -> dict:
    import moderndid as md
    import polars as pl

    out = {}
    for control, mc in (("never", "nevertreated"), ("notyet", "notyettreated")):
        m = md.ddd(
            data=pl.from_pandas(df),
            yname="y",
            tname="year",
            idname="id",
            gname="s",
            pname="q",
            control_group=mc,
            base_period="universal",
            est_method="dr",
        )
        es = md.agg_ddd(m, type="eventstudy", boot=False, cband=False)
        keep = np.asarray(es.egt) != -1
        out[control] = {
            "cells": {
                "group": [float(g) for g in m.groups],
                "time": [float(t) for t in m.times],
                "estimate": [float(a) for a in m.att],
                "se": [float(s) for s in m.se],
            },
            "event_no_wif": {
                "event_time": np.asarray(es.egt)[keep].astype(float).tolist(),
                "estimate": np.asarray(es.att_egt)[keep].tolist(),
                "se": np.asarray(es.se_egt)[keep].tolist(),
            },
        }
    return out


def pin_cont(df: pd.DataFrame) -> dict:
    from diff_diff import ContinuousDiD

    grid = np.linspace(df.d[df.g > 0].min(), df.d[df.g > 0].max(), 50)
    out = {}
    for control, cg in (("never", "never_treated"), ("notyet", "not_yet_treated")):
        m = ContinuousDiD(control_group=cg, dvals=grid).fit(
            df, outcome="y", unit="id", time="year", first_treat="g", dose="d"
        )
        c = m.dose_response_att
        out[control] = {
            "att_overall": {
                "estimate": float(m.overall_att),
                "se": float(m.overall_att_se),
            },
            "acrt_overall": {
                "estimate": float(m.overall_acrt),
                "se": float(m.overall_acrt_se),
            },
            "att_d": {
                "estimate": np.asarray(c.effects).tolist(),
                "se": np.asarray(c.se).tolist(),
            },
        }
    return out


def main() -> None:
    (HERE / "data").mkdir(parents=True, exist_ok=True)
    ddd, cont = ddd_panel(), cont_panel()
    ddd.to_csv(HERE / "data" / "ddd_panel.csv", index=False)
    cont.to_csv(HERE / "data" / "cont_panel.csv", index=False)
    ddd = pd.read_csv(HERE / "data" / "ddd_panel.csv")
    cont = pd.read_csv(HERE / "data" / "cont_panel.csv")
    pins = {
        "source": "validation/eventstudy_pins.py",
        "versions": {
            p: md_meta.version(p)
            for p in ("pyfixest", "diff-diff", "moderndid", "polars")
        },
        "df_het": pin_df_het(),
        "favara_imbs": pin_favara(),
        "ddd_panel": pin_ddd(ddd),
        "cont_panel": pin_cont(cont),
    }
    (HERE / "peers.json").write_text(json.dumps(pins, indent=1) + "\n")
    print(f"wrote {HERE / 'peers.json'}")


if __name__ == "__main__":
    main()
