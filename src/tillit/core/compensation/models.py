"""Compensation models as the engine sees them: one array entry per model.

:mod:`tillit.domain.compensation` validates a spec (with errors naming the field's
path) and converts it with ``to_arrays()``; the engine trusts these arrays.  Amounts
are kronor, times are hours or minutes as named, shares are 0-1.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from tillit.core.compensation.codes import BASES, GOAL_INDICATORS, TRAVEL_MODES

__all__ = ["MAX_GOALS", "MAX_LEVELS", "ModelArrays", "single"]

MAX_LEVELS = 8
MAX_GOALS = 3


@dataclass(frozen=True)
class ModelArrays:
    """``M`` models; every field is an array of length ``M`` (or ``M x L``, ``M x G``).

    Fields
    ------
    basis
        Index into :data:`~tillit.core.compensation.codes.BASES`.
    rate_day_personal, rate_day_service, rate_evening, rate_night
        Kronor per hour for time bases (evening and night apply to personal care).
    visit_rate
        Kronor per visit made (``per_visit``).
    level_threshold, level_amount
        ``M x L``: a recipient is in the highest level whose threshold (granted hours a
        month) they reach; the level pays ``level_amount`` kronor a month (unused
        levels: threshold ``inf``).
    capitation
        Kronor per recipient and month (``capitation``).
    budget
        Kronor a year for the population (``fixed_budget``), shared by granted hours.
    fixed_monthly
        A fixed part in kronor per recipient and month, paid on top under any basis.
    travel_mode, travel_rate
        Index into :data:`TRAVEL_MODES` and its rate (kr per visit or per hour).
    min_visit_minutes, rounding_minutes, cap_at_granted
        Performed-time billing: each visit counts at least ``min_visit_minutes``, is
        rounded up to whole ``rounding_minutes`` (0: none), and the month is capped at
        the granted hours when ``cap_at_granted``.
    cancel_paid_share
        Share of a visit cancelled at short notice that is still paid.
    goal_indicator, goal_target, goal_bonus, goal_penalty
        ``M x G``: index into :data:`GOAL_INDICATORS` (-1: no goal), the target, and
        the bonus (penalty) as a share of the provider's other payments when the
        target is (not) met.
    reg_minutes_visit, reg_minutes_month, purchaser_minutes_month
        Registration the basis requires: staff minutes per visit and per recipient
        and month; the purchaser's minutes per recipient and month (checking claims).
    """

    names: tuple[str, ...]
    basis: np.ndarray
    rate_day_personal: np.ndarray
    rate_day_service: np.ndarray
    rate_evening: np.ndarray
    rate_night: np.ndarray
    visit_rate: np.ndarray
    level_threshold: np.ndarray
    level_amount: np.ndarray
    capitation: np.ndarray
    budget: np.ndarray
    fixed_monthly: np.ndarray
    travel_mode: np.ndarray
    travel_rate: np.ndarray
    min_visit_minutes: np.ndarray
    rounding_minutes: np.ndarray
    cap_at_granted: np.ndarray
    cancel_paid_share: np.ndarray
    goal_indicator: np.ndarray
    goal_target: np.ndarray
    goal_bonus: np.ndarray
    goal_penalty: np.ndarray
    reg_minutes_visit: np.ndarray
    reg_minutes_month: np.ndarray
    purchaser_minutes_month: np.ndarray

    def __post_init__(self) -> None:
        m = len(self.names)
        for f in fields(self):
            if f.name == "names":
                continue
            v = getattr(self, f.name)
            if not isinstance(v, np.ndarray) or v.shape[:1] != (m,):
                raise ValueError(f"{f.name} must be an array with {m} rows")
        if self.basis.size and (self.basis.min() < 0 or self.basis.max() >= len(BASES)):
            raise ValueError("basis index out of range")
        if self.travel_mode.size and self.travel_mode.max() >= len(TRAVEL_MODES):
            raise ValueError("travel mode index out of range")
        if self.goal_indicator.size and self.goal_indicator.max() >= len(
            GOAL_INDICATORS
        ):
            raise ValueError("goal indicator index out of range")

    @property
    def m(self) -> int:
        """Number of models."""
        return len(self.names)

    def basis_code(self, i: int) -> str:
        """The basis code of model ``i``."""
        return BASES[int(self.basis[i])]


def single(name: str, basis: str, **values: float | bool) -> ModelArrays:
    """One model from keyword values (others zero); for examples and tests.

    Examples
    --------
    >>> m = single("A", "granted_time", rate_day_personal=400.0, rate_day_service=400.0)
    >>> m.m, m.basis_code(0)
    (1, 'granted_time')
    """
    scalars = {
        f.name: np.zeros(1) for f in fields(ModelArrays) if f.name not in ("names",)
    }
    scalars["basis"] = np.array([BASES.index(basis)])
    scalars["travel_mode"] = np.zeros(1, dtype=np.int64)
    scalars["cap_at_granted"] = np.zeros(1, dtype=bool)
    scalars["level_threshold"] = np.full((1, MAX_LEVELS), np.inf)
    scalars["level_amount"] = np.zeros((1, MAX_LEVELS))
    for key in ("goal_target", "goal_bonus", "goal_penalty"):
        scalars[key] = np.zeros((1, MAX_GOALS))
    scalars["goal_indicator"] = np.full((1, MAX_GOALS), -1, dtype=np.int64)
    for k, v in values.items():
        if k not in scalars:
            raise ValueError(f"unknown model field {k!r}")
        scalars[k] = np.array([v], dtype=scalars[k].dtype)
    return ModelArrays(names=(name,), **scalars)
