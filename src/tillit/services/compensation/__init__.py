"""Compensation models (#15): simulation runs, calibration, the model register, and the
loop into pilots and the burden ledger.

Modules: :mod:`.simulation` (populations, runs, saved runs), :mod:`.calibration`,
:mod:`.register` (import, read, descriptive comparison), :mod:`.loop` (pilot drafts,
burden requirements).  The engine is :mod:`tillit.core.compensation`; the spec and its
sources :mod:`tillit.domain.compensation`.

Names load on first use (PEP 562), so that ``tillit compensation simulate`` does not
import the pilot and audit services it never calls.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "ImportReport",
    "Run",
    "burden_from_run",
    "calibrate_data",
    "compare",
    "demo_population",
    "frame_of",
    "get_run",
    "import_register",
    "municipality_register",
    "organisation_code",
    "pilot_from_run",
    "population_for_municipality",
    "population_from_indicators",
    "predicted_change",
    "register_rows",
    "run",
    "save_run",
]

_HOME = {
    "calibrate_data": "calibration",
    "burden_from_run": "loop",
    "pilot_from_run": "loop",
    "predicted_change": "loop",
    "ImportReport": "register",
    "compare": "register",
    "import_register": "register",
    "municipality_register": "register",
    "register_rows": "register",
}

if TYPE_CHECKING:
    from tillit.services.compensation.calibration import calibrate_data
    from tillit.services.compensation.loop import (
        burden_from_run,
        pilot_from_run,
        predicted_change,
    )
    from tillit.services.compensation.register import (
        ImportReport,
        compare,
        import_register,
        municipality_register,
        register_rows,
    )
    from tillit.services.compensation.simulation import (
        Run,
        demo_population,
        frame_of,
        get_run,
        organisation_code,
        population_for_municipality,
        population_from_indicators,
        run,
        save_run,
    )


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f"{__name__}.{_HOME.get(name, 'simulation')}")
    return getattr(module, name)
