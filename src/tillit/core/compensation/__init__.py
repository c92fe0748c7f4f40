"""Compensation models for home care: a vectorised simulator of purchaser -> provider pay.

How a municipality pays its home-care providers (granted time, performed time measured
or self-reported, per visit, per need level, capitation, a fixed budget, with or
without a goal-related part) changes what providers deliver, what the municipality
pays and how much time staff spend registering time.  This package simulates a year
of any number of models on the same recipients with an explicit provider-behaviour
model whose parameters carry priors (Monte Carlo, tornado sensitivity), and calibrates
the payment level against observed cost per recipient (Kolada N21006).

Modules: :mod:`.codes` (bases, providers, flags), :mod:`.population` (recipients),
:mod:`.models` (model arrays), :mod:`.behaviour` (priors), :mod:`.engine` (the year),
:mod:`.montecarlo` (Monte Carlo, tornado), :mod:`.result`, :mod:`.calibrate`.
The spec with its validation and the sources of every default live in
:mod:`tillit.domain.compensation`; ``docs/compensation.md`` documents the model.
"""

from __future__ import annotations

from tillit.core.compensation.behaviour import (
    DEFAULTS,
    PER_PROVIDER,
    Draws,
    Prior,
    Priors,
)
from tillit.core.compensation.codes import (
    BASES,
    FLAGS,
    GOAL_INDICATORS,
    PROVIDERS,
    TRAVEL_MODES,
)
from tillit.core.compensation.models import MAX_GOALS, MAX_LEVELS, ModelArrays, single
from tillit.core.compensation.montecarlo import MAX_DRAWS, simulate, tornado
from tillit.core.compensation.population import (
    MAX_RECIPIENTS,
    Population,
    gamma_shape_for_tail,
    generate_population,
    population_from_frame,
)
from tillit.core.compensation.result import (
    FLAG_RULES,
    METRICS,
    SimulationResult,
    Tornado,
)

__all__ = [
    "BASES",
    "DEFAULTS",
    "FLAGS",
    "FLAG_RULES",
    "GOAL_INDICATORS",
    "MAX_DRAWS",
    "MAX_GOALS",
    "MAX_LEVELS",
    "MAX_RECIPIENTS",
    "METRICS",
    "PER_PROVIDER",
    "PROVIDERS",
    "TRAVEL_MODES",
    "Draws",
    "ModelArrays",
    "Population",
    "Prior",
    "Priors",
    "SimulationResult",
    "Tornado",
    "gamma_shape_for_tail",
    "generate_population",
    "population_from_frame",
    "simulate",
    "single",
    "tornado",
]
