"""Deterministic generator of the demo workspace (290 municipalities, ~30 indicators).

Levels, spread, trends, persistence, K/M gaps and cross-indicator correlations come from
``params.json`` (derived from the real Kolada panel by ``validation/calibrate_demo.py``);
the planted pilots are in :mod:`tillit.domain.demo.pilots`; the planted audit facts
(a near-redundant pair, a very noisy indicator, bunching at a target) are here. Everything
is drawn from one ``numpy`` ``SeedSequence``, so a seed gives bit-identical output.

Example
-------
>>> from tillit.domain.demo import generate_demo
>>> ws = generate_demo(2016, scale=0.1, n_years=5)
>>> sorted(ws.observations.columns)
['gender', 'indicator', 'org_code', 'period', 'unit_code', 'value']
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from tillit.core.errors import DataError
from tillit.domain.demo.pilots import Assignment, assign_pilots, pilot_document
from tillit.domain.demo.planting import (
    PLANTED,
    Effects,
    national_path,
    plant_bunching,
    plant_pilots,
    plant_redundancy,
)
from tillit.domain.geography import municipalities
from tillit.domain.records import Indicator, Organisation, Unit

__all__ = [
    "PLANTED",
    "DemoWorkspace",
    "demo_pilots",
    "generate_demo",
    "load_params",
]

UNIT_NAMES = (
    "Norr",
    "Söder",
    "Öster",
    "Väster",
    "Centrum",
    "Natt",
    "Hemrehab",
    "Landsbygd",
)
BIG_GROUPS = {"Storstäder", "Större stad"}


@lru_cache(maxsize=1)
def _params_text() -> str:
    return (
        resources.files("tillit.domain.demo")
        .joinpath("params.json")
        .read_text(encoding="utf-8")
    )


def load_params() -> dict[str, Any]:
    """The calibrated parameters (a fresh copy)."""
    params: dict[str, Any] = json.loads(_params_text())
    return params


@dataclass(frozen=True)
class DemoWorkspace:
    """A generated demo workspace.

    Attributes
    ----------
    organisations
        ``code, name, kind, county_code, skr_group``.
    units
        Home-care units: ``code, name, org_code, kind``.
    indicators
        Indicator metadata (all ``is_demo``).
    observations
        ``indicator, org_code, unit_code ('' for the organisation), period ('YYYY'),
        gender (T/K/M), value``.
    pilots
        Planted pilots with true effects (JSON-ready dicts).
    planted
        Planted audit facts (near-redundant pair, noisy indicator, bunching).
    """

    seed: int
    years: tuple[int, ...]
    organisations: pd.DataFrame
    units: pd.DataFrame
    indicators: list[Indicator]
    observations: pd.DataFrame
    pilots: list[dict[str, Any]]
    planted: dict[str, Any] = field(default_factory=dict)
    titles_en: dict[str, str] = field(default_factory=dict)

    def organisation_records(self) -> list[Organisation]:
        """Organisations as domain records (flagged ``is_demo``)."""
        o = self.organisations
        return [
            Organisation(str(c), str(n), str(k), str(cc), str(g), is_demo=True)
            for c, n, k, cc, g in zip(
                o["code"],
                o["name"],
                o["kind"],
                o["county_code"],
                o["skr_group"],
                strict=True,
            )
        ]

    def unit_records(self) -> list[Unit]:
        """Units as domain records."""
        u = self.units
        return [
            Unit(str(c), str(n), str(o), str(k))
            for c, n, o, k in zip(
                u["code"], u["name"], u["org_code"], u["kind"], strict=True
            )
        ]


def _organisations(scale: float) -> pd.DataFrame:
    """The 290 municipalities, a spread subset (scale < 1) or extra clones (scale > 1).

    Clones get codes ``D00001``... (kind ``other``), the county and SKR group of the
    municipality they copy, and names ``Demokommun N``.
    """
    geo = municipalities()[["code", "name", "kind", "county_code", "skr_group"]]
    n = max(2, round(len(geo) * scale))
    if n <= len(geo):
        idx = np.unique(np.linspace(0, len(geo) - 1, n).round().astype(int))
        return geo.iloc[idx].reset_index(drop=True)
    extra = geo.iloc[np.arange(n - len(geo)) % len(geo)].reset_index(drop=True)
    k = np.arange(1, len(extra) + 1)
    extra = extra.assign(
        code=[f"D{i:05d}" for i in k], name=[f"Demokommun {i}" for i in k], kind="other"
    )
    return pd.concat([geo, extra], ignore_index=True)


def _units(
    rng: np.random.Generator, orgs: pd.DataFrame, per: tuple[int, int]
) -> pd.DataFrame:
    lo, hi = per
    if not 1 <= lo <= hi <= len(UNIT_NAMES):
        raise DataError(
            f"units_per_municipality must satisfy 1 <= lo <= hi <= {len(UNIT_NAMES)}"
        )
    n = rng.integers(lo, hi + 1, size=len(orgs))
    n = np.where(orgs["skr_group"].isin(BIG_GROUPS).to_numpy(), hi, n)
    names = np.argsort(rng.random((len(orgs), len(UNIT_NAMES))), axis=1)
    codes, labels, owners = [], [], []
    for i, org in enumerate(orgs["code"]):
        for k in range(n[i]):
            codes.append(f"V21E{org}{k + 1:05d}")
            labels.append(f"Hemtjänst {UNIT_NAMES[names[i, k]]}")
            owners.append(org)
    return pd.DataFrame(
        {"code": codes, "name": labels, "org_code": owners, "kind": "hemtjänst"}
    )


def _ar1(
    rng: np.random.Generator, shape: tuple[int, int], sd: float, rho: float
) -> np.ndarray:
    eps = rng.standard_normal(shape)
    out = np.empty(shape)
    out[:, 0] = sd * eps[:, 0]
    innov = sd * np.sqrt(1.0 - rho**2)
    for t in range(1, shape[1]):
        out[:, t] = rho * out[:, t - 1] + innov * eps[:, t]
    return out


def _factor(matrix: list[list[float]]) -> np.ndarray:
    """A square root of the correlation matrix (eigenvalues clipped at zero)."""
    vals, vecs = np.linalg.eigh(np.asarray(matrix, dtype=float))
    out: np.ndarray = vecs * np.sqrt(np.clip(vals, 0.0, None))
    return out


def _back(x: np.ndarray, transform: str) -> np.ndarray:
    return np.exp(x) if transform == "log" else x


_STREAMS = ("between", "within", "gender", "units", "pilots", "unit_values", "planted")


def _streams(seed: int) -> dict[str, np.random.Generator]:
    children = np.random.SeedSequence(seed).spawn(len(_STREAMS))
    return {
        k: np.random.default_rng(s) for k, s in zip(_STREAMS, children, strict=True)
    }


def _municipal_x(
    ind: dict[str, Any],
    z: np.ndarray,
    groups: np.ndarray,
    years: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Model-scale total (T) values, organisations x years, before planted effects."""
    g = np.array([ind["group_effects"].get(k, 0.0) for k in groups])
    base = national_path(ind, years)[None, :] + (g + ind["between_sd"] * z)[:, None]
    out: np.ndarray = base + _ar1(rng, base.shape, ind["within_sd"], ind["ar1"])
    return out


def _genders(
    ind: dict[str, Any], x: np.ndarray, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """T, and K/M around it where the indicator is divided by gender (T = w K + (1-w) M)."""
    tr = ind["transform"]
    out = {"T": _back(x, tr)}
    gm = ind.get("gender")
    if ind["divided_by_gender"] and gm:
        zb = rng.standard_normal((x.shape[0], 1))
        gap = (
            gm["gap_mean"]
            + gm["gap_between_sd"] * zb
            + gm["gap_within_sd"] * rng.standard_normal(x.shape)
        )
        w = gm["k_weight"]
        out["K"] = _back(x + (1.0 - w) * gap, tr)
        out["M"] = _back(x - w * gap, tr)
    return out


def _finish(ind: dict[str, Any], v: np.ndarray) -> np.ndarray:
    lo, hi = ind["bounds"]
    v = np.clip(v, -np.inf if lo is None else lo, np.inf if hi is None else hi)
    return np.round(v, ind["decimals"])


_Chunk = dict[str, np.ndarray]


def _long(
    ind_id: str,
    codes: np.ndarray,
    unit_codes: np.ndarray,
    gender: str,
    periods: np.ndarray,
    v: np.ndarray,
) -> _Chunk:
    """One indicator x gender block in long form (plain arrays; one DataFrame at the end)."""
    n, t = v.shape
    return {
        "indicator": np.full(n * t, ind_id, dtype=object),
        "org_code": np.repeat(codes.astype(object), t),
        "unit_code": np.repeat(unit_codes.astype(object), t),
        "period": np.tile(periods.astype(object), n),
        "gender": np.full(n * t, gender, dtype=object),
        "value": v.ravel(),
    }


def _frame(chunks: list[_Chunk]) -> pd.DataFrame:
    """Concatenate chunks column-wise into one sorted observations frame."""
    cols = {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}
    obs = pd.DataFrame(cols)
    return obs.sort_values(
        ["indicator", "org_code", "unit_code", "period", "gender"], kind="stable"
    ).reset_index(drop=True)


def _indicator_record(ind: dict[str, Any], seed: int) -> Indicator:
    origin = (
        "invented indicator (Kolada has no equivalent); parameters documented in docs/demo.md"
        if ind["invented"]
        else f"modelled on Kolada KPI {ind['source_kpi']}"
    )
    return Indicator(
        id=ind["id"],
        title=ind["title"],
        description=f"{ind['title_en']}. DEMO DATA generated by Tillit (seed {seed}), {origin}.",
        area=ind["area"],
        unit_of_measure=ind["unit_of_measure"],
        divided_by_gender=bool(ind["divided_by_gender"] and ind.get("gender")),
        higher_is_better=ind["higher_is_better"],
        source="Tillit demo"
        + ("" if ind["invented"] else f" (calibrated on Kolada {ind['id']})"),
        is_public=True,
        is_demo=True,
        direction_source="DEMO: the demo specification (docs/demo.md)",
    )


def _check_args(
    n_years: int, first_year: int, per: tuple[int, int], scale: float
) -> None:
    if not 2 <= n_years <= 200:
        raise DataError("n_years must be between 2 and 200", field="n_years")
    if first_year < 1900 or first_year + n_years - 1 > 2100:
        raise DataError("years must lie within 1900-2100", field="first_year")
    if not (np.isfinite(scale) and 0 < scale <= 1000):
        raise DataError("scale must be a positive number up to 1000", field="scale")
    if len(per) != 2:
        raise DataError(
            "units_per_municipality must be a pair (lo, hi)",
            field="units_per_municipality",
        )


def _skeleton(
    params: dict[str, Any],
    seed: int,
    first_year: int,
    per: tuple[int, int],
    scale: float,
) -> tuple[
    dict[str, np.random.Generator],
    pd.DataFrame,
    pd.DataFrame,
    dict[str, np.ndarray],
    list[Assignment],
]:
    """Streams, organisations, units, municipality effects and pilot assignment."""
    rng = _streams(seed)
    orgs = _organisations(scale)
    units = _units(rng["units"], orgs, per)
    corr_ids = params["correlation"]["ids"]
    z = (
        rng["between"].standard_normal((len(orgs), len(corr_ids)))
        @ _factor(params["correlation"]["matrix"]).T
    )
    zmap = {k: z[:, n] for n, k in enumerate(corr_ids)}
    assignments = assign_pilots(rng["pilots"], orgs, units, zmap["U21200"], first_year)
    return rng, orgs, units, zmap, assignments


def demo_pilots(
    seed: int = 2016,
    *,
    first_year: int = 2005,
    units_per_municipality: tuple[int, int] = (1, 4),
    scale: float = 1.0,
) -> list[dict[str, Any]]:
    """The planted pilots of :func:`generate_demo` with the same arguments, cheaply.

    Identical to ``generate_demo(...).pilots`` (the pilots depend only on the seed, the
    first year, the units and the scale; not on ``n_years``).
    """
    _check_args(2, first_year, units_per_municipality, scale)
    _, _, units, _, assignments = _skeleton(
        load_params(), seed, first_year, units_per_municipality, scale
    )
    return [pilot_document(a, units) for a in assignments]


def generate_demo(
    seed: int = 2016,
    *,
    n_years: int = 20,
    first_year: int = 2005,
    units_per_municipality: tuple[int, int] = (1, 4),
    scale: float = 1.0,
) -> DemoWorkspace:
    """Generate the demo workspace, bit-identical for a given seed and arguments.

    Parameters
    ----------
    seed
        Seed of the single ``numpy.random.SeedSequence`` all draws come from.
    n_years, first_year
        Yearly periods ``first_year .. first_year + n_years - 1`` (default 2005-2024).
    units_per_municipality
        Inclusive range of home-care units per municipality (big cities get the maximum).
    scale
        Multiplies the number of municipality-like entities: ``scale < 1`` keeps an evenly
        spread subset of the 290 municipalities, ``scale > 1`` adds clones ``D00001``...
        (for benchmarks; use ``n_years`` to scale time).
    """
    _check_args(n_years, first_year, units_per_municipality, scale)
    params = load_params()
    rng, orgs, units, zmap, assignments = _skeleton(
        params, seed, first_year, units_per_municipality, scale
    )
    years = np.arange(first_year, first_year + n_years)
    periods = years.astype(str)
    inds = params["indicators"]
    by_id = {i["id"]: i for i in inds}
    fx = plant_pilots(assignments, orgs, units, years)
    groups = orgs["skr_group"].to_numpy()
    base: dict[str, np.ndarray] = {}
    values: dict[str, dict[str, np.ndarray]] = {}
    for ind in inds:
        x = _municipal_x(ind, zmap[ind["id"]], groups, years, rng["within"])
        base[ind["id"]] = x
        values[ind["id"]] = {
            g: fx.apply((ind["id"], "org"), v)
            for g, v in _genders(ind, x, rng["gender"]).items()
        }
    plant_redundancy(values, by_id, years, rng["planted"])
    plant_bunching(values, years, first_year, rng["planted"])
    codes = orgs["code"].to_numpy()
    blank = np.full(len(codes), "", dtype=object)
    chunks = [
        _long(i, codes, blank, g, periods, _finish(by_id[i], v))
        for i, per_g in values.items()
        for g, v in per_g.items()
    ]
    chunks += _unit_frames(
        params, by_id, base, fx, orgs, units, periods, rng["unit_values"]
    )
    return DemoWorkspace(
        seed=seed,
        years=tuple(int(y) for y in years),
        organisations=orgs,
        units=units,
        indicators=[_indicator_record(i, seed) for i in inds],
        observations=_frame(chunks),
        pilots=[pilot_document(a, units) for a in assignments],
        planted=json.loads(json.dumps(PLANTED)),
        titles_en={i["id"]: i["title_en"] for i in inds},
    )


def _unit_frames(
    params: dict[str, Any],
    by_id: dict[str, dict[str, Any]],
    base: dict[str, np.ndarray],
    fx: Effects,
    orgs: pd.DataFrame,
    units: pd.DataFrame,
    periods: np.ndarray,
    rng: np.random.Generator,
) -> list[_Chunk]:
    """Unit-level values drawn around their municipality's value (T only)."""
    pos = {c: i for i, c in enumerate(orgs["code"])}
    owner = units["org_code"].map(pos).to_numpy()
    frames: list[_Chunk] = []
    for iid, m in params["units"].items():
        ind = by_id[iid]
        x = base[iid][owner]
        x = x + m["between_mult"] * ind["between_sd"] * rng.standard_normal(
            (len(units), 1)
        )
        x = x + _ar1(rng, x.shape, m["within_mult"] * ind["within_sd"], ind["ar1"])
        v = fx.apply((iid, "unit"), _back(x, ind["transform"]))
        frames.append(
            _long(
                iid,
                units["org_code"].to_numpy(),
                units["code"].to_numpy(),
                "T",
                periods,
                _finish(ind, v),
            )
        )
    return frames
