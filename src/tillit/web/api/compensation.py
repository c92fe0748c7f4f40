"""Compensation-model API (#15): simulate a spec, read saved runs, the register, priors.

``POST /api/v1/compensation/simulate`` takes a spec (the YAML/JSON document as JSON),
a population (a municipality code, a list of recipients, or neither for the demo),
``draws`` and ``seed`` and answers with the CLI's JSON.  One request is bounded
(recipients x draws x models); larger runs belong to ``tillit compensation simulate``.
"""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from tillit.core.compensation import (
    DEFAULTS,
    PER_PROVIDER,
    PROVIDERS,
    population_from_frame,
)
from tillit.core.errors import DataError
from tillit.core.results import jsonable
from tillit.domain.compensation import parse_spec, sources
from tillit.services import compensation as cs
from tillit.services.demo.compensation import demo_spec
from tillit.web.api.models import ErrorOut
from tillit.web.deps import ActorDep, EngineDep

__all__ = ["API_WORK", "router"]

_ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorOut} for s in (400, 403, 404, 409, 422)
}
router = APIRouter(
    prefix="/api/v1/compensation", tags=["compensation"], responses=_ERRORS
)
API_WORK = 20_000_000  # recipients x draws x models per request


class Recipient(BaseModel):
    """One recipient (monthly figures); omitted fields take the documented defaults."""

    granted_hours: float = Field(ge=0, le=744)
    personal_care_share: float | None = Field(default=None, ge=0, le=1)
    evening_share: float | None = Field(default=None, ge=0, le=1)
    night_share: float | None = Field(default=None, ge=0, le=1)
    visits_per_month: float | None = Field(default=None, ge=0, le=3000)
    travel_minutes: float | None = Field(default=None, ge=0, le=240)
    provider: str | None = Field(
        default=None, pattern="^(in_house|for_profit|non_profit)$"
    )
    complexity: float | None = Field(default=None, ge=-10, le=10)


class SimulateIn(BaseModel):
    """A spec and a population."""

    spec: dict[str, Any] = Field(
        description="The spec (docs/compensation.md): version, title, models, behaviour."
    )
    municipality: str | None = Field(
        default=None,
        pattern="^[0-9]{4}$",
        description="Generate recipients from this municipality's Kolada indicators in the store.",
    )
    recipients: list[Recipient] | None = Field(default=None, max_length=20_000)
    draws: int = Field(default=200, ge=1, le=2000)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    tornado: bool = True


@router.post("/simulate", summary="Simulate a year of every model in a spec")
def simulate(body: SimulateIn, engine: EngineDep) -> dict[str, Any]:
    """The CLI's JSON: ``models`` with cost, margin, delivered share, registration and,
    with draws > 1, ``ci_low``/``ci_high``; ``tornado``; ``population``; ``notes``."""
    spec = parse_spec(body.spec)
    if body.recipients is not None and body.municipality:
        raise DataError("give municipality or recipients, not both", field="recipients")
    over: dict[str, Any] = {}
    if body.recipients is not None:
        if not body.recipients:
            raise DataError("no recipients", field="recipients")
        frame = pd.DataFrame([r.model_dump(exclude_none=True) for r in body.recipients])
        pop, src = (
            population_from_frame(frame, source="request", seed=body.seed),
            {"kind": "request", "is_demo": False},
        )
    elif body.municipality:
        pop, src, over = cs.population_for_municipality(
            engine, body.municipality, seed=body.seed
        )
    else:
        pop, src = cs.demo_population()
    if pop.n * body.draws * len(spec.models) > API_WORK:
        raise DataError(
            "too much work for one request (recipients x draws x models); use fewer draws or `tillit compensation simulate`",
            field="draws",
        )
    r = cs.run(
        spec,
        pop,
        src,
        draws=body.draws,
        seed=body.seed,
        overrides=over,
        with_tornado=body.tornado,
    )
    return jsonable(r.to_dict())  # type: ignore[no-any-return]


@router.get("/runs/{run_id}", summary="A saved simulation run")
def run(
    engine: EngineDep,
    actor: ActorDep,
    run_id: Annotated[int, Path(ge=1, le=2_147_483_647)],
) -> dict[str, Any]:
    """The run's spec, population and result (its owner, organisation, researchers, admins)."""
    row = cs.get_run(engine, actor, run_id)
    out: dict[str, Any] = jsonable(
        {
            k: row[k]
            for k in (
                "id",
                "title",
                "organisation_code",
                "draws",
                "seed",
                "spec",
                "population",
                "result",
            )
        }
    )
    return out


@router.get("/register", summary="The register of municipalities' compensation models")
def register(
    engine: EngineDep,
    municipality: Annotated[str | None, Query(pattern="^[0-9]{4}$")] = None,
    year_from: Annotated[int, Query(ge=1990, le=2100)] = 1990,
    year_to: Annotated[int, Query(ge=1990, le=2100)] = 2100,
) -> list[dict[str, Any]]:
    """One row per municipality, year and model (public)."""
    df = cs.register_rows(
        engine,
        codes=[municipality] if municipality else None,
        years=(year_from, year_to),
    )
    return jsonable(df.to_dict(orient="records"))  # type: ignore[no-any-return]


@router.get(
    "/compare",
    summary="Model types beside their municipalities' indicators (descriptive)",
)
def compare(
    engine: EngineDep, year: Annotated[int | None, Query(ge=1990, le=2100)] = None
) -> dict[str, Any]:
    """Medians of N21006, N21826, U21401, U21461 and U21477 by basis; ``causal`` is false."""
    return jsonable(cs.compare(engine, year=year))  # type: ignore[no-any-return]


@router.get(
    "/behaviour", summary="The default provider-behaviour priors and their sources"
)
def behaviour() -> dict[str, Any]:
    """Per parameter: the prior (mean, sd, lo, hi; per provider type where it varies),
    its source and whether the figure was verified."""
    src = sources()
    out = {}
    for name, rows in DEFAULTS.items():
        keys = PROVIDERS if name in PER_PROVIDER else ("all",)
        out[name] = {
            "priors": {
                k: dict(zip(("mean", "sd", "lo", "hi"), r, strict=True))
                for k, r in zip(keys, rows, strict=True)
            },
            **src[name],
        }
    return {"parameters": out}


@router.get("/example", summary="The demo spec (eight models)")
def example() -> dict[str, Any]:
    """A spec to start from (DEMO)."""
    return demo_spec()
