"""Result building blocks shared by every estimator.

Every estimator returns a frozen result object with ``to_dict()`` (JSON-ready, stable keys),
``tidy()`` (a pandas DataFrame, one row per estimate) and ``summary()`` (text for people).
Every single estimate serialises with at least ``estimate``, ``se``, ``ci_low``, ``ci_high``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Estimate", "jsonable", "jsonable_dict"]


@dataclass(frozen=True)
class Estimate:
    """One point estimate with its uncertainty.

    ``ci_low``/``ci_high`` are the pointwise interval at ``level``; ``p_value`` is two-sided
    against zero where it is defined.
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float = math.nan
    level: float = 0.95

    def to_dict(self) -> dict[str, Any]:
        """Return the stable JSON shape of one estimate."""
        return jsonable_dict(
            {
                "estimate": self.estimate,
                "se": self.se,
                "ci_low": self.ci_low,
                "ci_high": self.ci_high,
                "p_value": self.p_value,
            }
        )


def jsonable_dict(obj: dict[str, Any]) -> dict[str, Any]:
    """:func:`jsonable` of a mapping, typed as the JSON object it returns."""
    out: dict[str, Any] = jsonable(obj)
    return out


def jsonable(obj: Any) -> Any:
    """Convert numpy scalars/arrays and non-finite floats into strict-JSON values.

    NaN and infinities become ``None`` so that the output is valid JSON everywhere.
    """
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [jsonable(v) for v in obj.tolist()]
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        f = float(obj)
        return f if math.isfinite(f) else None
    return obj
