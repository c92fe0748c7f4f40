"""Compensation models (#15): the validated spec, its sources, and the model register.

* :mod:`.spec` - the spec of one or more payment models (frozen dataclasses, versioned
  ``to_dict``/``from_dict``, validation naming the field's path) and the sources of
  every behaviour default;
* :mod:`.reference` - SKR's reference rate and the staff cost of a year;
* :mod:`.register` - each municipality's model per year, and the CSV rules.
"""

from __future__ import annotations

from tillit.domain.compensation.reference import (
    reference_rate,
    staff_cost,
    travel_minutes_for_group,
)
from tillit.domain.compensation.register import (
    REGISTER_COLUMNS,
    RegisterEntry,
    parse_register,
)
from tillit.domain.compensation.spec import (
    MAX_MODELS,
    REGISTRATION_DEFAULTS,
    SPEC_VERSION,
    TIME_BASES,
    Goal,
    Level,
    Model,
    Registration,
    Spec,
    facts,
    parse_spec,
    sources,
)

__all__ = [
    "MAX_MODELS",
    "REGISTER_COLUMNS",
    "REGISTRATION_DEFAULTS",
    "SPEC_VERSION",
    "TIME_BASES",
    "Goal",
    "Level",
    "Model",
    "RegisterEntry",
    "Registration",
    "Spec",
    "facts",
    "parse_register",
    "parse_spec",
    "reference_rate",
    "sources",
    "staff_cost",
    "travel_minutes_for_group",
]
