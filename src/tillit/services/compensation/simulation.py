"""Simulation runs: populations from a CSV, from Kolada indicators or the demo; runs saved.

A run is one spec simulated on one population (``draws`` Monte Carlo draws, a seed, and
the tornado).  Populations come from the municipality's own recipients (CSV), from its
Kolada home-care indicators (the store, or a Kolada long CSV), or from the demo; every
indicator used, and every default that stood in for a missing one, is listed in the
run's ``population`` notes.  A municipality's staff continuity (U21401) sets the mean of
the staff-pool prior (``team_size``) for its run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tillit.core.compensation import (
    DEFAULTS,
    MAX_RECIPIENTS,
    Population,
    Priors,
    SimulationResult,
    Tornado,
    generate_population,
    simulate,
    tornado,
)
from tillit.core.compensation.calibrate import team_size_for_continuity
from tillit.core.errors import DataError, NotFound, PermissionDenied
from tillit.domain import access
from tillit.domain.compensation import Spec, travel_minutes_for_group
from tillit.domain.records import Actor
from tillit.sources.compensation import HOMECARE_KPIS, municipality_indicators

if TYPE_CHECKING:
    from tillit.store.db import Engine

__all__ = [
    "DEMO_POPULATION",
    "Run",
    "demo_population",
    "frame_of",
    "get_run",
    "organisation_code",
    "population_for_municipality",
    "population_from_indicators",
    "run",
    "save_run",
]

Progress = Callable[[int, int], None]
DEMO_POPULATION = {
    "n": 2000,
    "mean_hours": 33.0,
    "share_heavy": 0.05,
    "private_share": 0.25,
}
"""The demo population (DEMO: not a real municipality): about the national medians."""


@dataclass(frozen=True)
class Run:
    """A spec simulated on a population, with its tornado and notes."""

    spec: Spec
    population: Population
    source: Mapping[str, Any]
    result: SimulationResult
    tornado: Tornado | None
    priors: Priors
    draws: int
    seed: int
    id: int | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """The CLI's and the API's JSON: the result plus source, tornado and notes."""
        out = self.result.to_dict()
        out["run_id"] = self.id
        out["title"] = self.spec.title
        out["population"] = {**out["population"], **dict(self.source)}
        if self.tornado is not None:
            out["tornado"] = self.tornado.to_dict()
            out["tornado_difference"] = self.tornado.to_dict(
                "difference_cost_per_recipient"
            )
        out["notes"] = list(self.notes) + list(self.population.notes)
        return out


def demo_population(seed: int = 2016) -> tuple[Population, dict[str, Any]]:
    """The deterministic demo population, labelled as demo."""
    d = DEMO_POPULATION
    pop = generate_population(
        int(d["n"]), mean_hours=d["mean_hours"], share_heavy=d["share_heavy"],
        private_share=d["private_share"], seed=seed, source="demo",
    )  # fmt: skip
    return pop, {"kind": "demo", "is_demo": True, **d}


def population_from_indicators(
    values: Mapping[str, Any], *, seed: int = 0, max_recipients: int = MAX_RECIPIENTS
) -> tuple[Population, dict[str, Any], dict[str, Any]]:
    """A generated population from one municipality's indicators.

    ``values`` has the column names of :data:`tillit.sources.compensation.HOMECARE_KPIS`
    (and ``travel_minutes`` or ``skr_group``).  Returns the population, its description
    (the indicators used, with their years) and prior overrides (``team_size`` from
    U21401).
    """
    code = str(values.get("municipality", ""))
    hours = values.get("granted_hours")
    if hours is None or not np.isfinite(hours) or hours <= 0:
        raise DataError(
            f"municipality {code} has no granted hours per recipient (N21826)",
            field="N21826",
        )
    n_raw = values.get("recipients_time_registered") or values.get("recipients")
    if n_raw is None or not np.isfinite(n_raw) or n_raw < 1:
        raise DataError(
            f"municipality {code} has no number of home-care recipients (N21827 or N21702)",
            field="N21702",
        )
    notes = []
    n = round(float(n_raw))
    if n > max_recipients:
        notes.append(f"{n} recipients simulated as {max_recipients}")
        n = max_recipients
    private = values.get("private_share")
    if private is None or not np.isfinite(private):
        notes.append("no share in private provision (N21804): all recipients in-house")
        private = 0.0
    heavy = values.get("share_heavy")
    heavy = (
        float(heavy)
        if heavy is not None and np.isfinite(heavy) and 0 < heavy < 1
        else None
    )
    travel = values.get("travel_minutes")
    if travel is None or not np.isfinite(travel):
        travel = travel_minutes_for_group(str(values.get("skr_group", "")))
    pop = generate_population(
        n, mean_hours=float(hours), share_heavy=heavy, private_share=float(private),
        travel_minutes=float(travel), seed=seed, source=f"kolada:{code}",
    )  # fmt: skip
    overrides: dict[str, Any] = {}
    cont = values.get("continuity")
    if cont is not None and np.isfinite(cont) and 1.0 <= cont < 26.0:
        t = team_size_for_continuity(float(cont))
        overrides["team_size"] = ((t, 3.0, 2.0, max(60.0, t + 10.0)),)
    else:
        notes.append("no staff continuity (U21401): the default staff pool")
    used = {
        k: values[k]
        for k in values
        if k in (*HOMECARE_KPIS.values(), "travel_minutes") or k.endswith("_year")
    }
    desc = {
        "kind": "municipality",
        "municipality": code,
        "indicators": used,
        "travel_minutes": float(travel),
        "is_demo": False,
    }
    return pop, {**desc, "notes": notes}, overrides


def population_for_municipality(
    engine: Engine, code: str, *, year: int | None = None, seed: int = 0
) -> tuple[Population, dict[str, Any], dict[str, Any]]:
    """A population from the municipality's Kolada home-care indicators in the store."""
    from tillit.store import compensation as repo

    with engine.connect() as conn:
        org = repo.organisation(conn, code.strip())
        if org["kind"] != "municipality":
            raise DataError(f"{code} is not a municipality", field="municipality")
        vals = repo.municipal_values(conn, list(HOMECARE_KPIS), codes=[org["code"]])
    if vals.empty:
        raise NotFound(
            f"no Kolada home-care indicators for {code} in the store: import them first "
            "(tillit import kolada_selected_long.csv), or pass --kolada FILE"
        )
    wide = vals.pivot_table(
        index=["municipality", "year"], columns="kpi", values="value"
    ).reset_index()
    wide = wide.rename(columns=HOMECARE_KPIS)
    for share in ("share_heavy", "private_share"):
        if share in wide.columns:
            wide[share] = wide[share] / 100.0
    values = municipality_indicators(wide, org["code"], year)
    values["skr_group"] = org["skr_group"]
    pop, desc, over = population_from_indicators(values, seed=seed)
    desc["municipality_name"] = org["name"]
    return pop, desc, over


def _priors(spec: Spec, overrides: Mapping[str, Any]) -> Priors:
    return Priors.from_numbers({**DEFAULTS, **dict(overrides), **dict(spec.behaviour)})


def run(
    spec: Spec,
    population: Population,
    source: Mapping[str, Any],
    *,
    draws: int = 1000,
    seed: int = 0,
    overrides: Mapping[str, Any] | None = None,
    with_tornado: bool = True,
    progress: Progress | None = None,
) -> Run:
    """Simulate ``spec`` on ``population`` (Monte Carlo and tornado)."""
    priors = _priors(spec, overrides or {})
    arrays = spec.to_arrays()
    res = simulate(
        population, arrays, priors, draws=draws, seed=seed, progress=progress
    )
    tor = tornado(population, arrays, priors) if with_tornado else None
    notes = tuple(str(n) for n in source.get("notes", ()))
    src = {k: v for k, v in source.items() if k != "notes"}
    return Run(spec, population, src, res, tor, priors, draws, seed, notes=notes)


def save_run(
    engine: Engine, actor: Actor, r: Run, *, organisation_code: str | None = None
) -> int:
    """Store a run for the actor (and an organisation); returns its id."""
    from tillit.store import compensation as repo
    from tillit.store.db import write_transaction

    if not access.can_save_compensation_run(actor):
        raise PermissionDenied("sign in to save a simulation run")
    with write_transaction(engine) as conn:
        org_id = None
        if organisation_code:
            org_id = repo.organisation(conn, organisation_code)["id"]
        elif actor.organisation_id is not None:
            org_id = actor.organisation_id
        return repo.save_run(
            conn, organisation_id=org_id, title=r.spec.title or "simulation",
            spec=r.spec.to_dict(), population=dict(r.source), result=r.to_dict(),
            draws=r.draws, seed=r.seed, user_id=actor.user_id,
        )  # fmt: skip


def organisation_code(engine: Engine, organisation_id: int) -> str:
    """The code of an organisation (e.g. the actor's own)."""
    from tillit.store import compensation as repo

    with engine.connect() as conn:
        return repo.organisation_code(conn, organisation_id)


def get_run(engine: Engine, actor: Actor, run_id: int) -> dict[str, Any]:
    """A saved run, if the actor may read it."""
    from tillit.store import compensation as repo

    with engine.connect() as conn:
        row = repo.get_run(conn, run_id)
    if not access.can_read_compensation_run(
        actor, row["user_id"], row["organisation_id"]
    ):
        raise PermissionDenied("you may not see this simulation run")
    return row


def frame_of(population: Population) -> pd.DataFrame:
    """The recipients as a table (for downloads)."""
    p = population
    return pd.DataFrame({
        "id": list(p.ids) if p.ids else np.arange(1, p.n + 1).astype(str),
        "granted_hours": p.granted_hours, "personal_care_share": p.personal_share,
        "evening_share": p.evening_share, "night_share": p.night_share,
        "visits_per_month": p.visits, "travel_minutes": p.travel_minutes,
        "provider": [("in_house", "for_profit", "non_profit")[k] for k in p.provider],
        "complexity": p.complexity,
    })  # fmt: skip
