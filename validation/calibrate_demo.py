"""Derive the demo workspace's parameters from the real Kolada panel.

Reads ``../shared/data/kolada_panel_2024/`` (real Kolada values, 290 municipalities) and
writes ``src/tillit/domain/demo/params.json``: per chosen indicator the national path and
linear trend, SKR-group offsets, between-municipality SD, within-municipality SD and AR(1)
persistence, the K/M gap, bounds, and the correlation matrix of municipality effects. The
SDs and the AR(1) are model parameters found by indirect inference so that the estimator,
applied to simulated panels with the real observation pattern, returns the estimates from
the real panel (kept under ``estimated``). Only summary moments are written, never data
rows. Each indicator records ``source_kpi`` (the
real KPI id it was derived from) or ``invented: true``.

Run::

    .venv/bin/python validation/calibrate_demo.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tillit.domain.demo.calibration import (
    disattenuated_correlation,
    gender_moments,
    indirect_inference,
    nearest_correlation,
    panel_moments,
)
from tillit.domain.demo.spec import (
    INVENTED,
    INVENTED_CORRELATIONS,
    INVENTED_GROUP_EFFECTS,
    REAL,
    UNIT_INDICATORS,
)
from tillit.domain.geography import municipalities

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "src" / "tillit" / "domain" / "demo" / "params.json"
REF_YEAR = 2015


def load_panel(data: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The real long panel restricted to the chosen KPIs and to the 290 municipalities."""
    folder = data / "kolada_panel_2024"
    long = pd.read_csv(
        folder / "kolada_selected_long.csv",
        dtype={"kpi": str, "municipality": str, "gender": str},
    )
    meta = pd.read_csv(folder / "kpi_selection.csv", dtype=str).set_index("kpi")
    codes = set(municipalities()["code"])
    long = long[long["kpi"].isin(REAL) & long["municipality"].isin(codes)]
    return long, meta


def to_model_scale(values: pd.DataFrame, transform: str) -> pd.DataFrame:
    """Log-transform positive values where the indicator is modelled on the log scale."""
    if transform == "log":
        return np.log(values.where(values > 0))
    return values


def real_indicator(
    kpi: str,
    long: pd.DataFrame,
    meta: pd.DataFrame,
    groups: pd.Series,
    refine: bool = True,
) -> tuple[dict[str, Any], pd.Series, float]:
    """Parameters of one real KPI and its municipality effects.

    ``estimated`` holds the estimator's moments on the real panel; ``between_sd``,
    ``within_sd`` and ``ar1`` are the model parameters that reproduce them
    (:func:`~tillit.domain.demo.calibration.indirect_inference`; skipped when
    ``refine`` is false, then they equal the estimates).
    """
    area, title_en, uom, transform, bounds, decimals, hib = REAL[kpi]
    sub = long[long["kpi"] == kpi]
    wide = {
        g: to_model_scale(
            sub[sub["gender"] == g].pivot(
                index="municipality", columns="period", values="value"
            ),
            transform,
        )
        for g in ("T", "K", "M")
    }
    mom = panel_moments(wide["T"], groups, ref_year=REF_YEAR)
    model = (
        indirect_inference(mom.mask, (mom.between_sd, mom.within_sd, mom.ar1))
        if refine
        else (mom.between_sd, mom.within_sd, mom.ar1)
    )
    divided = meta.loc[kpi, "is_divided_by_gender"] == "1" and not wide["K"].empty
    entry: dict[str, Any] = {
        "id": kpi,
        "title": meta.loc[kpi, "title"],
        "title_en": title_en,
        "area": area,
        "unit_of_measure": uom,
        "transform": transform,
        "bounds": list(bounds),
        "decimals": decimals,
        "higher_is_better": hib,
        "divided_by_gender": bool(divided),
        "source_kpi": kpi,
        "invented": False,
        "real_years": [int(min(mom.year_means)), int(max(mom.year_means))],
        "n_municipalities": mom.n_municipalities,
        "ref_year": REF_YEAR,
        "level": mom.level,
        "trend": mom.trend,
        "year_means": {str(k): v for k, v in mom.year_means.items()},
        "group_effects": mom.group_effects,
        "between_sd": model[0],
        "within_sd": model[1],
        "ar1": model[2],
        "estimated": {
            "between_sd": mom.between_sd,
            "within_sd": mom.within_sd,
            "ar1": mom.ar1,
        },
    }
    if divided:
        entry["gender"] = gender_moments(wide["T"], wide["K"], wide["M"])
    return entry, mom.effects, mom.reliability


def invented_indicator(iid: str, groups: list[str]) -> dict[str, Any]:
    """Parameters of an invented indicator (documented guesses, see docs/demo.md)."""
    spec = dict(INVENTED[iid])
    scale = spec.pop("group_scale")
    spec["bounds"] = list(spec["bounds"])
    return {
        "id": iid,
        **spec,
        "divided_by_gender": False,
        "source_kpi": None,
        "invented": True,
        "estimated": None,
        "real_years": None,
        "n_municipalities": None,
        "ref_year": REF_YEAR,
        "year_means": {},
        "group_effects": {
            g: scale * INVENTED_GROUP_EFFECTS.get(g, 0.0) for g in groups
        },
    }


def correlation(
    ids: list[str], effects: dict[str, pd.Series], reliability: dict[str, float]
) -> np.ndarray:
    """Noise-corrected correlations of municipality effects, invented pairs set, made PD."""
    c = disattenuated_correlation(effects, reliability)
    c = c.reindex(index=ids, columns=ids).to_numpy(copy=True)
    pos = {k: n for n, k in enumerate(ids)}
    for (a, b), r in INVENTED_CORRELATIONS.items():
        c[pos[a], pos[b]] = c[pos[b], pos[a]] = r
    return nearest_correlation(np.nan_to_num(c))


def _round(obj: Any) -> Any:
    if isinstance(obj, float):
        return float(f"{obj:.5g}")
    if isinstance(obj, dict):
        return {k: _round(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_round(v) for v in obj]
    return obj


def build(data: Path, refine: bool = True) -> dict[str, Any]:
    """All demo parameters as a JSON-ready dict (``refine``: run indirect inference)."""
    geo = municipalities()
    groups = geo.set_index("code")["skr_group"]
    group_names = sorted(groups.unique())
    long, meta = load_panel(data)
    indicators, effects, reliability = [], {}, {}
    for kpi in REAL:
        entry, eff, rel = real_indicator(kpi, long, meta, groups, refine)
        indicators.append(entry)
        effects[kpi] = eff
        reliability[kpi] = rel
    indicators += [invented_indicator(i, group_names) for i in INVENTED]
    ids = [e["id"] for e in indicators]
    corr = correlation(ids, effects, reliability)
    return _round(
        {
            "about": (
                "Demo workspace parameters derived by validation/calibrate_demo.py from the "
                "real Kolada panel (../shared/data/kolada_panel_2024, 'Källa: Kolada'); "
                "summary moments only, no data rows. Values are on each indicator's model "
                "scale (log for transform 'log'). Invented indicators (invented: true) have "
                "documented, plausible parameters; see docs/demo.md."
            ),
            "source": "kolada_panel_2024/kolada_selected_long.csv + kpi_selection.csv",
            "ref_year": REF_YEAR,
            "skr_groups": group_names,
            "indicators": indicators,
            "correlation": {"ids": ids, "matrix": corr.round(3).tolist()},
            "units": {
                iid: {"between_mult": b, "within_mult": w}
                for iid, (b, w) in UNIT_INDICATORS.items()
            },
        }
    )


def main() -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    params = build(args.data)
    args.out.write_text(
        json.dumps(params, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    print(
        f"wrote {args.out} ({args.out.stat().st_size / 1024:.1f} KB, {len(params['indicators'])} indicators)"
    )


if __name__ == "__main__":
    main()
